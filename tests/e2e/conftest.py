"""Fixtures: the appliance image booted under QEMU (scripts/qemu, TCG),
with API credentials taken from its serial console as an operator would.

The images must exist: ``scripts/build-image --arch x86_64|aarch64``
(``scripts/test`` builds them first). Each guest gets a fresh data disk in
its own state directory, so these tests never touch a developer's disk.
"""

import sys
import time
import warnings
from pathlib import Path

import pytest
import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import kraken  # noqa: E402
from guest import REPO, Guest  # noqa: E402

# The password of the console's administrator, chosen at the first login.
CONSOLE_PASSWORD = "console-pass-1"

# The guest makes its own self-signed certificate on its own data disk; the
# host has no copy to verify against, so these clients do not verify
# (TLS itself is checked in tests/integration).
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)


class Forwarded:
    """The guest's HTTPS API as kraken.Client sees a server."""

    def __init__(self, guest):
        self.guest = guest

    @property
    def port(self):
        return self.guest.port

    @property
    def host(self):
        return f"127.0.0.1:{self.guest.port}"


class Appliance:
    """A booted guest, its console, and a signed API client."""

    def __init__(self, guest):
        self.guest = guest
        self.creds = None
        self.client = None

    def login(self):
        """``api-key create`` and ``api enable`` on the console, as the
        first thing an operator does with a new box."""
        self.guest.wait_prompt()
        self.guest.console_login(CONSOLE_PASSWORD)
        out = self.guest.console("api-key create")
        key = kraken._KEY_LINE.search(out)
        secret = kraken._SECRET_LINE.search(out)
        assert key and secret, f"no consumer_key/consumer_secret lines in:\n{out}"
        self.creds = kraken.Credentials(key.group(1), secret.group(1))
        self.guest.console("api enable")
        self.client = kraken.Client(Forwarded(self.guest), self.creds, verify=False)
        self.wait_for_api()
        return self.client

    def wait_for_api(self, timeout=120):
        """Until a signed GET of /system answers 200: the server is up and
        has seen the key (it re-reads the access file within 200 ms)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.client.get("/apis/kraken/system", timeout=5)
                if last.status_code == 200:
                    return
            except OSError as e:
                last = e
            time.sleep(0.25)
        raise AssertionError(f"the guest's API did not answer 200 within {timeout} s: {last}")


def image_or_fail(arch):
    image = REPO / "target" / "image" / arch
    if not (image / "initramfs.img").is_file():
        pytest.fail(f"no {arch} image in {image}: run scripts/build-image --arch {arch}")
    env = (image / "image.env").read_text()
    if "IMAGE_MAKARAD=no" in env:
        missing = image / "rootfs" / "etc" / "makara" / "makarad-missing"
        reason = missing.read_text().strip() if missing.is_file() else "see scripts/build-image"
        pytest.fail(f"the {arch} image was built without makarad: {reason}")


@pytest.fixture(scope="module")
def appliance_of(tmp_path_factory, request):
    """``appliance_of(arch)``: a booted guest of that image, stopped at the
    end of the module; its console log is kept next to its disk."""
    made = []

    def boot(arch, **kw):
        image_or_fail(arch)
        guest = Guest(arch, tmp_path_factory.mktemp(f"guest-{arch}"), **kw).start()
        made.append(guest)
        return Appliance(guest)

    yield boot
    for g in made:
        g.stop()
        ready = [line.strip() for line in (g.workdir / "qemu.log").read_text().splitlines()
                 if "API ready" in line]
        sys.stderr.write(f"\n[e2e] {g.arch}: {'; '.join(ready) or 'no API-ready line'}; "
                         f"console log {g.workdir / 'console.log'}\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report carries the end of every guest's console."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for guest in Guest.running:
            report.sections.append((f"{guest.arch} console (last 6000 characters)",
                                    guest.tail(6000)))
