"""The hardware watchdog, end to end (x86_64): QEMU's i6300esb
(scripts/qemu: -device i6300esb -action watchdog=reset) with the image's
heartbeat of 20 s (image.conf WATCHDOG_HEARTBEAT), fed by makarad while its
supervisor answers (docs/boards.md).

The guest boots with makara.makarad_debug=1, so makarad takes the
console's `debug hang SECONDS`. The supervisor thread then sleeps; makarad
stops feeding the watchdog 10 s after the last answer (PROBE_DEADLINE), and
the watchdog resets the guest 20 s after the last feed: the console shows
the boot again about 30 s after the hang, and the box comes back with its
configuration. aarch64's virt machine takes the same PCI watchdog, but this
test runs on x86_64 only (docs/boards.md says why).
"""

import re
import time

import pytest

from kraken import body, child, created_id, expect, text, unique

ARCH = "x86_64"
# PROBE_DEADLINE + WATCHDOG_HEARTBEAT, and what may come before or after.
EXPECTED_RESET_S = 10 + 20
EARLIEST_RESET_S = 20
LATEST_RESET_S = 75


@pytest.fixture(scope="module")
def box(appliance_of):
    app = appliance_of(ARCH, qemu_args=["--append", "makara.makarad_debug=1"])
    app.login()
    return app


def test_makarad_runs_the_qemu_board_and_arms_the_watchdog(box):
    status = box.guest.console("status")
    assert "board:    qemu-x86_64: QEMU q35 virtual machine" in status, status
    log = box.guest.console("log 300")
    assert "(recognised by DMI sys_vendor 'QEMU')" in log, log
    assert re.search(r"watchdog armed: .*device=/dev/watchdog identity=\"?i6300ESB timer", log), log
    assert "debug commands are on" in log, log


def test_a_fed_watchdog_does_not_reset_the_box(box):
    # Armed at boot with a 20 s timeout: unfed, it would have reset the
    # guest long before 50 s.
    guest = box.guest
    time.sleep(max(0.0, 50 - (time.monotonic() - guest.started_at)))
    assert guest.since(0).count("makara-init: Makara ") == 1, guest.tail()
    uptime = guest.console("status")
    assert re.search(r"uptime:   [1-9]m|uptime:   0m [4-5][0-9]s", uptime), uptime


def test_a_hung_supervisor_gets_the_box_reset_and_it_comes_back_configured(box):
    api, guest = box.client, box.guest
    name = unique("wd")
    input_id = created_id(api.post("/apis/kraken/inputs", body("input", [
        ("name", name), ("streamType", "TESTPATTERN"),
        ("width", 320), ("height", 180), ("frameRate", 5)])), "input")
    transcoder_id = created_id(api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", name), ("resolution", [("width", 320), ("height", 180)]),
        ("frameRate", 5), ("videoBitrate", 300)])), "transcoder")
    output_id = created_id(api.post("/apis/kraken/outputs", body("output", [
        ("name", name), ("url", "udp://127.0.0.1:5000")])), "output")
    stream_id = created_id(api.post("/apis/kraken/streams", body("stream", [
        ("name", name), ("input", input_id), ("transcoder", transcoder_id),
        ("outputs", [("output", output_id)])])), "stream")

    mark = guest.mark()
    answer = guest.console("debug hang 120")
    hung_at = time.monotonic()
    assert answer.startswith("the supervisor thread sleeps for 120 s"), answer
    guest.wait_for(r"makara-init: Makara ", mark, timeout=LATEST_RESET_S + 30)
    after = time.monotonic() - hung_at
    print(f"\n[e2e] {ARCH}: the guest booted again {after:.1f} s after the hang "
          f"(expected about {EXPECTED_RESET_S} s and a boot)")
    assert EARLIEST_RESET_S <= after <= LATEST_RESET_S, after
    # A reset, not a reboot: nothing was stopped before it.
    assert "stopping makarad" not in guest.since(mark)

    guest.wait_prompt()
    box.wait_for_api()
    stream = child(expect(api.get(f"/apis/kraken/streams/stream-{stream_id}"), 200), "stream")
    assert text(stream, "name") == name
    # makarad armed the watchdog again after the boot.
    guest.console_login("console-pass-1")
    log = guest.console("log 300")
    assert "watchdog armed" in log, log
