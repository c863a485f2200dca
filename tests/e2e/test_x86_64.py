"""The x86-64 appliance image, end to end, as an operator meets it.

Boot the image under QEMU (TCG), take API credentials from the serial
console, configure vivid's HDMI input (a real V4L2 device in the guest) →
H.264 1280x720 → UDP to the host over HTTPS with OAuth, and judge what
arrives with ffprobe. Then save the configuration as the default preset,
reboot the guest, and check that the configuration and the auto-started
stream come back.

The encode runs in an emulated CPU, about ten times slower than the host:
the frame rate and bitrate are modest (``MAKARA_E2E_FPS``,
``MAKARA_E2E_KBPS``), the picture size is not.
"""

import os
import time

import pytest

from kraken import body, child, created_id, expect, text, unique
from mediacheck import Receiver, ffprobe, video_kbps

ARCH = "x86_64"
WIDTH, HEIGHT = 1280, 720
FPS = int(os.environ.get("MAKARA_E2E_FPS", "10"))
KBPS = int(os.environ.get("MAKARA_E2E_KBPS", "600"))
SECONDS = int(os.environ.get("MAKARA_E2E_SECONDS", "12"))
GUEST_HOST = "10.0.2.2"  # the host's loopback, seen from the guest


@pytest.fixture(scope="module")
def box(appliance_of):
    app = appliance_of(ARCH)
    app.login()
    app.state = {}
    return app


def children(el, tag):
    return el.findall(tag)


def system(api):
    return child(expect(api.get("/apis/kraken/system"), 200), "system")


def hdmi_port(api):
    """vivid's HDMI input: its port element."""
    ports = children(system(api), "capturePort")
    hdmi = [p for p in ports if "HDMI" in text(p, "name")]
    assert hdmi, [text(p, "name") for p in ports]
    return hdmi[0]


def mode_index(port, width, height, rate):
    modes = children(child(port, "available_modes"), "mode")
    for i, m in enumerate(modes):
        if (text(m, "width"), text(m, "height"), text(m, "framerate"), text(m, "interlaced")) == \
                (str(width), str(height), f"{rate:.2f}", "false"):
            return i
    raise AssertionError(f"no {width}x{height}p{rate} among {[text(m, 'mode_id') for m in modes]}")


def wait_for_state(api, path, wanted, timeout=60):
    deadline = time.monotonic() + timeout
    el = None
    while time.monotonic() < deadline:
        el = child(expect(api.get(path), 200), "stream")
        if text(el, "state") == wanted:
            return el
        time.sleep(0.5)
    raise AssertionError(f"stream never became {wanted}: {text(el, 'state')}; "
                         f"lastError {text(el, 'lastError')}")


def receive(seconds, tmp_path, name):
    rx = Receiver()
    try:
        time.sleep(seconds)
    finally:
        rx.close()
    path = tmp_path / name
    path.write_bytes(rx.ts())
    return path, rx


def test_the_console_gives_credentials_that_work_over_https(box):
    api = box.client
    el = system(api)
    assert text(el, "version")
    status = box.guest.console("status")
    assert "enabled" in status.lower(), status


def test_system_lists_vivid_inputs_as_capture_ports_with_their_modes(box):
    el = system(box.client)
    info = child(el, "captureInfo")
    ports = children(el, "capturePort")
    assert int(text(info, "port_info_size")) == len(ports) == 4
    assert [text(p, "port_number") for p in ports] == ["0", "1", "2", "3"]
    hdmi = hdmi_port(box.client)
    assert text(hdmi, "device") == "/dev/video0"
    mode_index(hdmi, 1280, 720, 60)
    mode_index(hdmi, 1920, 1080, 60)


def test_vivid_hdmi_is_encoded_and_reaches_the_host(box, tmp_path):
    api = box.client
    hdmi = hdmi_port(api)
    port = int(text(hdmi, "port_number"))
    # 720p30 from the source: half the frames of p60 for vivid to draw.
    mode = mode_index(hdmi, WIDTH, HEIGHT, 30)
    rx = Receiver()
    box.state["udp_port"] = rx.port
    rx.close()
    input_id = created_id(api.post("/apis/kraken/inputs", body("input", [
        ("name", unique("hdmi")), ("streamType", "V4L2"),
        ("capturePort", port), ("captureMode", mode)])), "input")
    transcoder_id = created_id(api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("h264")), ("resolution", [("width", WIDTH), ("height", HEIGHT)]),
        ("frameRate", FPS), ("videoBitrate", KBPS), ("gopSize", FPS * 2),
        ("encodingProfile", "cbr"), ("qualityLevel", 1), ("audio", "off")])), "transcoder")
    output_id = created_id(api.post("/apis/kraken/outputs", body("output", [
        ("name", unique("host")), ("url", f"udp://{GUEST_HOST}:{rx.port}")])), "output")
    stream_id = created_id(api.post("/apis/kraken/streams", body("stream", [
        ("name", unique("e2e")), ("auto_start", "true"),
        ("input", f"https://{box.client.host}/apis/kraken/inputs/input-{input_id}"),
        ("transcoder", f"https://{box.client.host}/apis/kraken/transcoders/transcoder-{transcoder_id}"),
        ("outputs", [("output", [f"https://{box.client.host}/apis/kraken/outputs/output-{output_id}"])]),
    ])), "stream")
    path = f"/apis/kraken/streams/stream-{stream_id}"
    box.state.update(stream=path, input=input_id)

    receiver = Receiver(port=box.state["udp_port"])
    try:
        expect(api.put(path, "<stream><state>start</state></stream>"), 200)
        wait_for_state(api, path, "active")
        time.sleep(SECONDS)
        stats = child(child(expect(api.get(path), 200), "stream"), "stats")
    finally:
        receiver.close()
    ts = tmp_path / "vivid.ts"
    ts.write_bytes(receiver.ts())
    assert len(receiver.datagrams) > 0, "nothing reached the host"

    # The capture reached the encoder without a copy (YU12 from vivid).
    assert int(text(stats, "bytesCopied")) == 0, text(stats, "bytesCopied")
    box.state["stats"] = {c.tag: c.text for c in stats}

    video = [s for s in ffprobe(ts, "-show_streams")["streams"] if s["codec_type"] == "video"]
    assert len(video) == 1, video
    assert video[0]["codec_name"] == "h264"
    assert (video[0]["width"], video[0]["height"]) == (WIDTH, HEIGHT)
    assert video[0]["r_frame_rate"] == f"{FPS}/1", video[0]["r_frame_rate"]
    frames = ffprobe(ts, "-select_streams", "v", "-show_entries", "frame=pts",
                     "-show_frames")["frames"]
    assert len(frames) >= (SECONDS - 2) * FPS * 0.8, len(frames)
    kbps = video_kbps(ts, FPS)
    assert abs(kbps - KBPS) <= 0.2 * KBPS, f"{kbps:.0f} kbit/s for {KBPS}"


def test_the_default_preset_and_its_stream_come_back_after_a_reboot(box, tmp_path):
    api = box.client
    assert "stream" in box.state, "the streaming test did not get far enough"
    preset = created_id(api.post("/apis/kraken/configurations", body("configuration", [
        ("name", "e2e-boot")])), "configuration")
    expect(api.put(f"/apis/kraken/configurations/configuration-{preset}",
                   "<configuration><default>1</default></configuration>"), 200)

    guest = box.guest
    mark = guest.mark()
    guest.send("reboot\n")
    guest.wait_for(r"makara-init: Makara ", mark, timeout=120)
    guest.wait_prompt()
    box.wait_for_api()

    names = [text(c, "name") for c in children(
        child(expect(api.get("/apis/kraken/configurations"), 200), "configurations"),
        "configuration")]
    assert "e2e-boot" in names, names
    wait_for_state(api, box.state["stream"], "active")
    el = child(expect(api.get(f"/apis/kraken/inputs/input-{box.state['input']}"), 200), "input")
    assert text(el, "streamType") == "V4L2"

    receiver = Receiver(port=box.state["udp_port"])
    try:
        time.sleep(4)
    finally:
        receiver.close()
    ts = tmp_path / "after-reboot.ts"
    ts.write_bytes(receiver.ts())
    video = [s for s in ffprobe(ts, "-show_streams")["streams"] if s["codec_type"] == "video"]
    assert [(v["codec_name"], v["width"], v["height"]) for v in video] == [("h264", WIDTH, HEIGHT)]
