"""The board profile in `makarad serve` (issue 13, docs/boards.md): the
`--board` name, the board's limits through the Kraken API, the LEDs in a
stand-in /sys/class/leds, the watchdog's feeding and magic close on a
regular file standing in for the device (the device itself is tested in
QEMU: tests/e2e/test_watchdog.py), and `debug hang` on the control socket,
refused without --debug-commands.

Every server runs with `--watchdog none` or a file of the test's: a host
with a /dev/watchdog must never have it armed by a test.
"""

import os
import signal
import socket
import subprocess
import time

from kraken import (assert_error, body, created_id, expect, free_port, makarad,
                    set_stream_state, unique)

DEBUG_OFF = "error: debug commands are off (makarad serve --debug-commands)"


def control(data_dir, line, timeout=10):
    """One request on the control socket; returns the answer's lines."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(data_dir / "control.sock"))
        s.sendall(line.encode() + b"\n")
        answer = b""
        while not answer.endswith(b"ok\n") and b"error: " not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.decode().splitlines()


def wait_until(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


def test_an_unknown_board_is_a_startup_error_naming_the_known_ones(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    run = subprocess.run(
        [makarad(), "serve", "--data-dir", str(data), "--listen", f"127.0.0.1:{free_port()}",
         "--board", "rpi5", "--watchdog", "none"],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert run.returncode == 1, run
    assert ("makarad: no board profile is named 'rpi5' (known: qemu-x86_64, qemu-aarch64, "
            "raspberrypi-5, generic-x86_64, generic-aarch64)") in run.stderr, run.stderr
    # Refused before anything was made in the data directory.
    assert not (data / "control.sock").exists()


def test_the_chosen_board_and_why_are_logged(appliance_factory):
    app = appliance_factory(extra_args=["--board", "qemu-x86_64", "--watchdog", "none"])
    log = app.server.log_tail(200)
    assert "board qemu-x86_64: QEMU q35 virtual machine, x86_64 (scripts/qemu) " \
           "(named by the operator)" in log, log
    assert "no hardware watchdog (--watchdog none)" in log, log


def test_a_picture_larger_than_the_boards_is_refused(appliance_factory):
    api = appliance_factory(extra_args=["--board", "qemu-x86_64", "--watchdog", "none"]).client
    uhd = body("transcoder", [("name", unique("uhd")),
                              ("resolution", [("width", 3840), ("height", 2160)])])
    assert_error(api.post("/apis/kraken/transcoders", uhd), 1000,
                 mentions=["3840x2160 is larger than this board's largest picture, 1920x1080"])
    hd = body("transcoder", [("name", unique("hd")),
                             ("resolution", [("width", 1920), ("height", 1080)])])
    tid = created_id(api.post("/apis/kraken/transcoders", hd), "transcoder")
    assert_error(api.put(f"/apis/kraken/transcoders/transcoder-{tid}", uhd), 1004,
                 mentions=["larger than this board's largest picture"])
    bars = body("input", [("name", unique("bars")), ("streamType", "TESTPATTERN"),
                          ("width", 2560), ("height", 1440), ("frameRate", 5)])
    assert_error(api.post("/apis/kraken/inputs", bars), 1000,
                 mentions=["2560x1440 is larger than this board's largest picture"])


def small_stream(api):
    """A test pattern of 64x64 at 5 fps to a loopback port: little CPU."""
    input_id = created_id(api.post("/apis/kraken/inputs", body("input", [
        ("name", unique("bars")), ("streamType", "TESTPATTERN"),
        ("width", 64), ("height", 64), ("frameRate", 5)])), "input")
    transcoder_id = created_id(api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("h264")), ("resolution", [("width", 64), ("height", 64)]),
        ("frameRate", 5), ("videoBitrate", 200), ("audio", "off")])), "transcoder")
    output_id = created_id(api.post("/apis/kraken/outputs", body("output", [
        ("name", unique("udp")), ("url", f"udp://127.0.0.1:{free_port()}")])), "output")
    stream_id = created_id(api.post("/apis/kraken/streams", body("stream", [
        ("name", unique("small")), ("input", input_id), ("transcoder", transcoder_id),
        ("outputs", [("output", output_id)])])), "stream")
    return f"/apis/kraken/streams/stream-{stream_id}"


def test_a_board_runs_at_most_its_streams_at_once(appliance_factory):
    # raspberrypi-5: two streams at once.
    api = appliance_factory(extra_args=["--board", "raspberrypi-5", "--watchdog", "none",
                                        "--leds-root", "/nonexistent"]).client
    streams = [small_stream(api) for _ in range(3)]
    for path in streams[:2]:
        set_stream_state(api, path, "start", "active", timeout=30)
    assert_error(api.put(streams[2], "<stream><state>start</state></stream>"), 1004,
                 mentions=["at most 2 streams run at once on this board; stop one first"])
    set_stream_state(api, streams[0], "stop", "stopped")
    set_stream_state(api, streams[2], "start", "active", timeout=30)
    for path in streams[1:]:
        set_stream_state(api, path, "stop", "stopped")


def fake_leds(root, *names):
    for name in names:
        led = root / name
        led.mkdir(parents=True)
        (led / "brightness").write_text("0\n")
        (led / "max_brightness").write_text("255\n")
        (led / "trigger").write_text("none timer [mmc0]\n")


def brightness(root, name):
    return (root / name / "brightness").read_text().strip()


def test_the_leds_show_power_and_streaming(appliance_factory, tmp_path):
    # raspberrypi-5: PWR is the power LED, ACT the stream LED, no alarm LED.
    leds = tmp_path / "leds"
    fake_leds(leds, "PWR", "ACT")
    app = appliance_factory(extra_args=["--board", "raspberrypi-5", "--watchdog", "none",
                                        "--leds-root", str(leds)])
    wait_until(lambda: brightness(leds, "PWR") == "255", 5, "the power LED did not light")
    # Taken over from its own trigger (the Pi's ACT shows the SD card).
    assert (leds / "PWR" / "trigger").read_text() == "none"
    assert brightness(leds, "ACT") == "0"
    path = small_stream(app.client)
    set_stream_state(app.client, path, "start", "active", timeout=30)
    wait_until(lambda: brightness(leds, "ACT") == "255", 5, "the stream LED did not light")
    set_stream_state(app.client, path, "stop", "stopped")
    wait_until(lambda: brightness(leds, "ACT") == "0", 5, "the stream LED did not go dark")
    code, in_time = app.server.stop()
    assert (code, in_time) == (0, True)
    assert brightness(leds, "PWR") == "0", "the power LED stayed lit after makarad stopped"


def test_the_watchdog_is_fed_and_disarmed_by_a_clean_stop(appliance_factory, tmp_path):
    device = tmp_path / "watchdog"
    device.write_bytes(b"")
    app = appliance_factory(extra_args=["--board", "qemu-x86_64", "--watchdog", str(device)])
    wait_until(lambda: device.stat().st_size >= 3, 10, "the watchdog was not fed")
    code, in_time = app.server.stop(signal.SIGTERM)
    assert (code, in_time) == (0, True)
    written = device.read_bytes()
    assert written.endswith(b"V") and set(written[:-1]) == {0}, written
    assert "watchdog disarmed (magic close)" in app.server.log_tail(40)


def test_a_killed_makarad_leaves_the_watchdog_armed(appliance_factory, tmp_path):
    device = tmp_path / "watchdog"
    device.write_bytes(b"")
    app = appliance_factory(extra_args=["--board", "qemu-x86_64", "--watchdog", str(device)])
    wait_until(lambda: device.stat().st_size >= 2, 10, "the watchdog was not fed")
    app.server.kill()
    written = device.read_bytes()
    assert b"V" not in written, written


def test_a_watchdog_that_cannot_be_opened_is_logged_and_serving_goes_on(appliance_factory,
                                                                       tmp_path):
    missing = tmp_path / "no-watchdog"
    app = appliance_factory(extra_args=["--board", "qemu-x86_64", "--watchdog", str(missing)])
    expect(app.client.get("/apis/kraken/system"), 200)
    log = app.server.log_tail(200)
    assert f"cannot open the watchdog {missing}" in log, log
    assert "serving without a hardware watchdog" in log, log
    assert not missing.exists()


def test_debug_hang_is_refused_without_debug_commands(appliance_factory):
    app = appliance_factory(extra_args=["--watchdog", "none"])
    assert control(app.data_dir, "debug hang 5") == [DEBUG_OFF]
    assert control(app.data_dir, "debug hang 0") == [
        "error: usage: debug hang SECONDS: SECONDS is 1-600"]
    # The supervisor did not sleep: a change is made at once.
    started = time.monotonic()
    created_id(app.client.post("/apis/kraken/outputs", body("output", [
        ("name", unique("out")), ("url", "udp://127.0.0.1:5000")])), "output")
    assert time.monotonic() - started < 2


def test_debug_hang_sleeps_the_supervisor_and_the_watchdog_starves(appliance_factory, tmp_path):
    """With --debug-commands: the hang answers at once, changes wait for
    it, and the watchdog is not fed from 10 s after the last answer."""
    device = tmp_path / "watchdog"
    device.write_bytes(b"")
    app = appliance_factory(extra_args=["--board", "qemu-x86_64", "--watchdog", str(device),
                                        "--debug-commands"])
    assert "debug commands are on" in app.server.log_tail(200)
    wait_until(lambda: device.stat().st_size >= 2, 10, "the watchdog was not fed")
    answer = control(app.data_dir, "debug hang 16")
    assert answer[-1] == "ok" and answer[0].startswith("the supervisor thread sleeps for 16 s")
    hung_at = time.monotonic()
    time.sleep(12.5)
    starved = device.stat().st_size
    time.sleep(2.5)
    assert device.stat().st_size == starved, "fed while the supervisor hung"
    # Reads are answered from the last snapshot meanwhile; a change waits.
    expect(app.client.get("/apis/kraken/system"), 200)
    created_id(app.client.post("/apis/kraken/outputs", body("output", [
        ("name", unique("out")), ("url", "udp://127.0.0.1:5000")])), "output")
    assert time.monotonic() - hung_at >= 15.5
    wait_until(lambda: device.stat().st_size > starved, 5, "not fed again after the hang")
    log = app.server.log_tail(200)
    assert "the watchdog is no longer fed" in log, log
    assert "the supervisor answers again; feeding again" in log, log
    assert os.path.getsize(device) > starved
