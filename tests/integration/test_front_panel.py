"""The front panel in ``makarad serve --panel unix:PATH`` (docs/front-panel.md):
the test listens on a Unix socket as the panel device, reads the LCD rows
makarad sends and presses keys. What the keys do is checked where it
happens: the stream's state through the API, the API switch by a signed
request, the network change in the file the apply command was given."""

import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import kraken
from panel_device import PanelDevice

lit = re.escape
SYSTEM = "/apis/kraken/system"
# The server polls the access file every 200 ms.
SEEN_WITHIN = 3.0


@pytest.fixture
def short_dir():
    """A directory with a short path: a Unix socket's path is at most 107
    bytes, and pytest's temporary directories can be longer."""
    path = Path(tempfile.mkdtemp(prefix="panel-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Box:
    """makarad with its panel on a socket the test listens on, its
    network.conf in a scratch directory and an apply command that records
    what it was given."""

    def __init__(self, factory, scratch, *, network_conf=None, demo=True):
        self.scratch = scratch
        self.conf = scratch / "network.conf"
        if network_conf is not None:
            self.conf.write_text(network_conf)
        self.applied = scratch / "applied"
        apply = scratch / "apply"
        apply.write_text(
            "#!/bin/sh\n"
            f'{{ echo "args: $*"; cat "{self.conf}"; }} > "{self.applied}.tmp"\n'
            f'mv "{self.applied}.tmp" "{self.applied}"\n')
        apply.chmod(0o755)
        self.listener = PanelDevice.listen(scratch / "panel.sock")
        args = ["--panel", f"unix:{scratch / 'panel.sock'}",
                "--network-conf", str(self.conf),
                "--network-apply", f"{apply} apply"]
        if demo:
            args.append("--demo")
        self.app = factory(extra_args=args)
        self.panel = self.listener.accept()
        self.panel.hello()

    def home(self):
        """The home screen: the box name (cut to 13) and N live; the address."""
        name = socket.gethostname()[:13]
        return self.panel.wait_for(lit(name) + r" +\d live", r"IP (\S+)")

    def stream_state(self, name="Demo"):
        for stream in kraken.items(self.app.client, "stream"):
            if kraken.text(stream, "name") == name:
                return kraken.text(stream, "state")
        raise AssertionError(f"no stream {name}")


def host_addresses():
    """The host's IPv4 addresses on interfaces that are up, loopback aside,
    as iproute2 lists them."""
    out = subprocess.run(["ip", "-o", "-4", "addr", "show", "up"], capture_output=True,
                         text=True, check=True).stdout
    found = set()
    for line in out.splitlines():
        m = re.search(r"\binet (\d+\.\d+\.\d+\.\d+)/\d+", line)
        if m and not m.group(1).startswith("127."):
            found.add(m.group(1))
    return found


def test_home_shows_the_box_name_and_its_address(appliance_factory, short_dir):
    box = Box(appliance_factory, short_dir)
    top, bottom = box.home()
    address = bottom.split(" ", 1)[1]
    expected = host_addresses()
    if expected:
        assert address in expected, f"{bottom!r}: not one of the host's {expected}"
    else:
        assert address == "none"
    # The demo stream runs: 1 live once it is active.
    box.panel.wait_for(r".* 1 live", lit(bottom))


def test_keys_stop_a_stream_and_load_the_demo_preset(appliance_factory, short_dir):
    box = Box(appliance_factory, short_dir)
    box.home()
    panel = box.panel
    panel.walk([("right", r"1/1 Demo", r"(active|waiting) .*")])
    panel.wait_for(r"1/1 Demo", r"active +\d+ kbit/s")
    panel.walk([
        ("enter", r"Stop Demo\?", r">no   yes"),
        ("right", r"Stop Demo\?", r" no  >yes"),
        ("enter", r"1/1 Demo", r"stopped"),
    ])
    assert box.stream_state() == "stopped"
    panel.walk([
        ("right", r"Preset 1/1", r"Demo"),
        ("enter", r"Load Demo\?", r">no   yes"),
        ("down", r"Load Demo\?", r" no  >yes"),
    ])
    panel.press("enter")
    panel.wait_for(r"Preset 1/1", r"Demo")
    # Loading starts the preset's auto-start stream: active on the
    # stream's screen, and through the API.
    panel.walk([("left", r"1/1 Demo", r"(active|waiting).*")])
    panel.wait_for(r"1/1 Demo", r"active +\d+ kbit/s", timeout=30)
    assert box.stream_state() == "active"
    panel.walk([("left", r".* 1 live", r"IP \S+")])


def test_keys_switch_the_api_off_and_on(appliance_factory, short_dir):
    box = Box(appliance_factory, short_dir, demo=False)
    client = box.app.client
    assert client.get(SYSTEM).status_code == 200
    box.home()
    panel = box.panel
    panel.walk([
        ("left", r"API +on", r"enter: turn off"),
        ("enter", r"Turn API off\?", r">no   yes"),
        ("right", r"Turn API off\?", r" no  >yes"),
        ("enter", r"API +off", r"enter: turn on"),
    ])
    deadline = time.monotonic() + SEEN_WITHIN
    while client.get(SYSTEM).status_code != 403:
        assert time.monotonic() < deadline, "the API still answers after the panel turned it off"
        time.sleep(0.1)
    panel.walk([
        ("enter", r"Turn API on\?", r">no   yes"),
        ("right", r"Turn API on\?", r" no  >yes"),
        ("enter", r"API +on", r"enter: turn off"),
    ])
    deadline = time.monotonic() + SEEN_WITHIN
    while client.get(SYSTEM).status_code != 200:
        assert time.monotonic() < deadline, "the API stays off after the panel turned it on"
        time.sleep(0.1)


def test_the_network_editor_refuses_a_bad_address_and_applies_a_good_one(
        appliance_factory, short_dir):
    box = Box(appliance_factory, short_dir, demo=False, network_conf=(
        "# set at the factory\n"
        "HOSTNAME=studio-b\n"
        "MODE=static\n"
        "ADDRESS=192.0.2.50/24\n"
        "GATEWAY=192.0.2.1\n"
        'DNS="192.0.2.53"\n'))
    box.home()
    panel = box.panel
    panel.walk([
        ("left", r"API +on", r".*"),
        ("left", r"Network +static", lit("192.0.2.50/24")),
        ("down", r"Network +static", lit("gw 192.0.2.1")),
        ("enter", r"Network mode", r" DHCP >static  back"),
        ("enter", lit("Addr 192.000.002.050"), r" {5}\^"),
        # 292 is no octet: refused, and the key after it only clears it.
        ("up", lit("Addr 292.000.002.050"), r" {5}\^"),
        ("enter", lit("Addr 292.000.002.050"), r"Octet over 255"),
        ("down", lit("Addr 292.000.002.050"), r" {5}\^"),
        ("down", lit("Addr 192.000.002.050"), r" {5}\^"),
    ])
    for _ in range(11):
        panel.press("right")
    panel.wait_for(lit("Addr 192.000.002.050"), r" {19}\^")
    panel.walk([
        ("up", lit("Addr 192.000.002.051"), r" {19}\^"),
        ("enter", lit("Prefix /24"), r" {8}\^\^"),
        ("enter", lit("Gw   192.000.002.001"), r" {5}\^"),
    ])
    assert not box.applied.exists(), "nothing is applied before yes"
    panel.walk([
        ("enter", lit("192.0.2.51/24?"), r">no   yes"),
        ("right", lit("192.0.2.51/24?"), r" no  >yes"),
    ])
    panel.press("enter")
    # The screen shows the gateway line, as it did before the editor.
    panel.wait_for(r"Network +static", lit("gw 192.0.2.1"))
    panel.walk([("up", r"Network +static", lit("192.0.2.51/24"))])
    assert box.applied.read_text() == (
        "args: apply\n"
        "# set at the factory\n"
        "HOSTNAME=studio-b\n"
        "MODE=static\n"
        "ADDRESS=192.0.2.51/24\n"
        "GATEWAY=192.0.2.1\n"
        'DNS="192.0.2.53"\n')
    assert box.conf.read_text() == box.applied.read_text().split("\n", 1)[1]
    log = box.app.server.log_path.read_text()
    assert "front panel: set the network to" in log and "192.0.2.51/24" in log


def test_a_gateway_off_the_subnet_is_refused_and_dhcp_is_applied(appliance_factory, short_dir):
    box = Box(appliance_factory, short_dir, demo=False,
              network_conf="MODE=static\nADDRESS=192.0.2.50/24\nGATEWAY=192.0.2.1\n")
    box.home()
    panel = box.panel
    panel.walk([
        ("left", r"API.*", r".*"),
        ("left", r"Network +static", r".*"),
        ("enter", r"Network mode", r" DHCP >static  back"),
        ("enter", lit("Addr 192.000.002.050"), r" {5}\^"),
        ("enter", lit("Prefix /24"), r" {8}\^\^"),
        ("up", lit("Prefix /25"), r" {8}\^\^"),
        ("enter", lit("Gw   192.000.002.001"), r" {5}\^"),
    ])
    # 192.0.2.50/25 is .0-.127: the gateway .201 is outside it.
    for _ in range(9):
        panel.press("right")
    panel.wait_for(lit("Gw   192.000.002.001"), r" {17}\^")
    panel.walk([
        ("up", lit("Gw   192.000.002.101"), r" {17}\^"),
        ("up", lit("Gw   192.000.002.201"), r" {17}\^"),
        ("enter", lit("Gw   192.000.002.201"), r"Gateway off subnet"),
        ("left", lit("Gw   192.000.002.201"), r" {17}\^"),
    ])
    assert not box.applied.exists()
    # Back to the mode (left through every step), and DHCP.
    for _ in range(9):
        panel.press("left")
    panel.wait_for(lit("Gw   192.000.002.201"), r" {5}\^")
    panel.walk([
        ("left", lit("Prefix /25"), r" {8}\^\^"),
        ("left", lit("Addr 192.000.002.050"), r" {19}\^"),
    ])
    for _ in range(11):
        panel.press("left")
    panel.wait_for(lit("Addr 192.000.002.050"), r" {5}\^")
    panel.walk([
        ("left", r"Network mode", r" DHCP >static  back"),
        ("left", r"Network mode", r">DHCP  static  back"),
        ("enter", r"Use DHCP\?", r">no   yes"),
        ("right", r"Use DHCP\?", r" no  >yes"),
    ])
    panel.press("enter")
    panel.wait_for(r"Network +DHCP", r".*")
    assert box.applied.read_text() == "args: apply\nMODE=dhcp\n"


def test_an_absent_panel_never_stops_serving_and_is_found_when_it_comes(
        appliance_factory, short_dir):
    path = short_dir / "later.sock"
    app = appliance_factory(extra_args=["--panel", f"unix:{path}"])
    assert app.client.get(SYSTEM).status_code == 200
    deadline = time.monotonic() + 10
    while "front panel: cannot open unix:" not in app.server.log_path.read_text():
        assert time.monotonic() < deadline, "the absent panel is not logged"
        time.sleep(0.1)
    listener = PanelDevice.listen(path)
    # Within the longest backoff (10 s) makarad connects.
    panel = listener.accept(timeout=15)
    panel.wait_for(r".* 0 live", r"IP \S+")
    # The device goes away; makarad connects again, and still serves.
    panel.close()
    panel = listener.accept(timeout=15)
    panel.hello()
    panel.wait_for(r".* 0 live", r"IP \S+")
    assert app.client.get(SYSTEM).status_code == 200


@pytest.mark.parametrize("value", ["", "unix:"])
def test_a_panel_option_without_a_path_is_a_usage_error(tmp_path, value):
    proc = subprocess.run([kraken.makarad(), "serve", "--data-dir", str(tmp_path),
                           "--panel", value], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert "unix:PATH" in proc.stderr
