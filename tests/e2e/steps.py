"""What the end-to-end tests do with a booted appliance, shared by both
architectures: read the capture ports, pick a mode, wait for a stream's
state, run the capture benchmark in the guest, receive what it sends."""

import re
import time

from kraken import body, child, created_id, expect, text, unique
from mediacheck import Receiver


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


def create_capture_stream(api, *, port, mode, width, height, fps, kbps, udp_port,
                          guest_host="10.0.2.2"):
    """A V4L2 input on ``port``/``mode`` → H.264 (CBR, fastest preset, no
    audio) → UDP to the host, auto-started. Returns (stream path, input id)."""
    input_id = created_id(api.post("/apis/kraken/inputs", body("input", [
        ("name", unique("capture")), ("streamType", "V4L2"),
        ("capturePort", port), ("captureMode", mode)])), "input")
    transcoder_id = created_id(api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("h264")), ("resolution", [("width", width), ("height", height)]),
        ("frameRate", fps), ("videoBitrate", kbps), ("gopSize", fps * 2),
        ("encodingProfile", "cbr"), ("qualityLevel", 1), ("audio", "off")])), "transcoder")
    output_id = created_id(api.post("/apis/kraken/outputs", body("output", [
        ("name", unique("host")), ("url", f"udp://{guest_host}:{udp_port}")])), "output")
    link = f"https://{api.host}/apis/kraken"
    stream_id = created_id(api.post("/apis/kraken/streams", body("stream", [
        ("name", unique("e2e")), ("auto_start", "true"),
        ("input", f"{link}/inputs/input-{input_id}"),
        ("transcoder", f"{link}/transcoders/transcoder-{transcoder_id}"),
        ("outputs", [("output", [f"{link}/outputs/output-{output_id}"])]),
    ])), "stream")
    return f"/apis/kraken/streams/stream-{stream_id}", input_id


def record(api, path, port, seconds):
    """Starts the stream, keeps what reaches ``port`` for ``seconds`` once it
    is active; returns (the Receiver, the stream's stats element)."""
    receiver = Receiver(port=port)
    try:
        expect(api.put(path, "<stream><state>start</state></stream>"), 200)
        wait_for_state(api, path, "active")
        time.sleep(seconds)
        stats = child(child(expect(api.get(path), 200), "stream"), "stats")
    finally:
        receiver.close()
    return receiver, stats


def free_udp_port():
    rx = Receiver()
    rx.close()
    return rx.port


def capture_bench(box, port, mode, seconds=4):
    """``makarad bench capture`` in the guest: its numbers as a dict."""
    out = box.guest.shell(f"makarad bench capture --port {port} --mode {mode} --seconds {seconds}")
    numbers = dict(re.findall(r"\b(fps|copies_per_frame|frames|lost): ([0-9.]+)", out))
    assert numbers.get("frames"), out
    return {k: float(v) for k, v in numbers.items()}, out


def srt_relay_in_guest(api, *, width, height, fps, kbps, udp_port, srt_port=9000,
                       guest_host="10.0.2.2"):
    """Inside the guest, through libsrt both ways: a test-pattern stream
    (no capture port, so it runs beside whatever else holds vivid) sends
    H.264 to an SRT listener output on ``srt_port``; a second stream's SRT
    caller input takes it from 127.0.0.1 and relays it unchanged (bypass)
    over UDP to the host. Neither is started. Returns both stream paths."""
    link = f"https://{api.host}/apis/kraken"
    input_id = created_id(api.post("/apis/kraken/inputs", body("input", [
        ("name", unique("bars")), ("streamType", "TESTPATTERN"),
        ("width", width), ("height", height), ("frameRate", fps)])), "input")
    transcoder_id = created_id(api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("h264")), ("resolution", [("width", width), ("height", height)]),
        ("frameRate", fps), ("videoBitrate", kbps), ("gopSize", fps * 2),
        ("encodingProfile", "cbr"), ("qualityLevel", 1), ("audio", "off")])), "transcoder")
    srt_out = created_id(api.post("/apis/kraken/outputs", body("output", [
        ("name", unique("srt-out")), ("streamType", "SRT"), ("srtMode", "listener"),
        ("srtLocalPort", srt_port)])), "output")
    capture_id = created_id(api.post("/apis/kraken/streams", body("stream", [
        ("name", unique("e2e")), ("input", f"{link}/inputs/input-{input_id}"),
        ("transcoder", f"{link}/transcoders/transcoder-{transcoder_id}"),
        ("outputs", [("output", [f"{link}/outputs/output-{srt_out}"])]),
    ])), "stream")
    srt_in = created_id(api.post("/apis/kraken/inputs", body("input", [
        ("name", unique("srt-in")), ("streamType", "SRT"), ("srtMode", "caller"),
        ("srtAddress", "127.0.0.1"), ("srtRemotePort", srt_port)])), "input")
    udp_out = created_id(api.post("/apis/kraken/outputs", body("output", [
        ("name", unique("host")), ("url", f"udp://{guest_host}:{udp_port}")])), "output")
    relay_id = created_id(api.post("/apis/kraken/streams", body("stream", [
        ("name", unique("relay")), ("mode", "bypass"),
        ("input", f"{link}/inputs/input-{srt_in}"),
        ("outputs", [("output", [f"{link}/outputs/output-{udp_out}"])]),
    ])), "stream")
    return f"/apis/kraken/streams/stream-{capture_id}", f"/apis/kraken/streams/stream-{relay_id}"


def tls_mjpeg_stream_in_guest(api):
    """A stream (not started) from an MJPEGRAW input at an https:// URL,
    which the image's FFmpeg (no TLS) cannot open. Returns the stream's
    and the input's paths."""
    link = f"https://{api.host}/apis/kraken"
    input_id = created_id(api.post("/apis/kraken/inputs", body("input", [
        ("name", unique("https-cam")), ("streamType", "MJPEGRAW"),
        ("url", "https://127.0.0.1:9/video.mjpg")])), "input")
    transcoder_id = created_id(api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("mjpeg-h264")), ("audio", "off")])), "transcoder")
    output_id = created_id(api.post("/apis/kraken/outputs", body("output", [
        ("name", unique("nowhere")), ("url", "udp://127.0.0.1:9")])), "output")
    stream_id = created_id(api.post("/apis/kraken/streams", body("stream", [
        ("name", unique("https-in")), ("input", f"{link}/inputs/input-{input_id}"),
        ("transcoder", f"{link}/transcoders/transcoder-{transcoder_id}"),
        ("outputs", [("output", [f"{link}/outputs/output-{output_id}"])]),
    ])), "stream")
    return f"/apis/kraken/streams/stream-{stream_id}", f"/apis/kraken/inputs/input-{input_id}"


def wait_for_last_error(api, path, tag, part, timeout=30):
    """The ``lastError`` of the ``tag`` element at ``path`` once it
    contains ``part``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = text(child(expect(api.get(path), 200), tag), "lastError")
        if last and part in last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{path}: lastError never said {part!r}: {last!r}")
