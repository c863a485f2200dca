"""The front panel of the appliance image under QEMU (docs/front-panel.md):
the guest's second serial port (ttyS1, the board profile's front_panel)
carries the panel's line to a unix socket on the host, where the test is
the panel device. The home screen shows the address QEMU's DHCP leased
(10.0.2.15); keys load a preset, and the stream's screen reports it active.

x86_64 only for now: the aarch64 guest has its panel port too (the virt
machine's second PL011, ttyAMA1, with QEMU 10), but no test boots it with
the panel yet (docs/front-panel.md, Testing)."""

import re

import pytest

from kraken import body, created_id, expect, text, unique
from steps import wait_for_state

lit = re.escape
PRESET = "panel-e2e"
# QEMU user networking's first lease, and the image's host name.
LEASE = "10.0.2.15"
HOSTNAME = "makara"


@pytest.fixture(scope="module")
def box(appliance_of):
    app = appliance_of("x86_64")
    app.login()
    return app


def auto_started_stream(api):
    """TESTPATTERN 320x180 -> H.264 300 kbit/s -> UDP inside the guest."""
    def create(kind, fields):
        return created_id(api.post(f"/apis/kraken/{kind}s", body(kind, fields)), kind)
    source = create("input", [("name", unique("bars")), ("streamType", "TESTPATTERN"),
                              ("width", 320), ("height", 180), ("frameRate", 10)])
    encoder = create("transcoder", [("name", unique("h264")),
                                    ("resolution", [("width", 320), ("height", 180)]),
                                    ("frameRate", 10), ("videoBitrate", 300)])
    output = create("output", [("name", unique("udp")), ("url", "udp://127.0.0.1:5600")])
    stream = create("stream", [("name", unique("live")), ("auto_start", "true"),
                               ("input", source), ("transcoder", encoder),
                               ("outputs", [("output", output)])])
    return f"/apis/kraken/streams/stream-{stream}"


def test_the_panel_shows_the_lease_and_its_keys_load_a_preset_that_runs(box):
    api = box.client
    panel = box.guest.panel()
    # DHCP may finish after makarad starts: the view is rebuilt every second.
    panel.wait_for(lit(HOSTNAME) + r" +0 live", lit(f"IP {LEASE}"), timeout=120)

    # A test-pattern stream inside the guest (auto-started, so a preset
    # load starts it), saved as a preset, then stopped.
    path = auto_started_stream(api)
    name = text(wait_for_state(api, path, "active", timeout=90), "name")
    created_id(api.post("/apis/kraken/configurations",
                        body("configuration", [("name", PRESET)])), "configuration")
    expect(api.put(path, "<stream><state>stop</state></stream>"), 200)
    wait_for_state(api, path, "stopped", timeout=30)

    shown = name[:16]
    panel.walk([
        ("right", lit(f"1/1 {shown}"), r"stopped"),
        ("right", r"Preset 1/1", lit(PRESET)),
        ("enter", lit(f"Load {PRESET}?"), r">no   yes"),
        ("right", lit(f"Load {PRESET}?"), r" no  >yes"),
    ])
    panel.press("enter")
    panel.wait_for(r"Preset 1/1", lit(PRESET), timeout=120)
    panel.walk([("left", lit(f"1/1 {shown}"), r".*")])
    panel.wait_for(lit(f"1/1 {shown}"), r"active +\d+ kbit/s", timeout=120)
    wait_for_state(api, path, "active", timeout=30)
    panel.walk([("left", lit(HOSTNAME) + r" +1 live", lit(f"IP {LEASE}"))])
    # The panel is not the console: nothing of its line is on ttyS0.
    assert "LCD 0" not in box.guest.output
