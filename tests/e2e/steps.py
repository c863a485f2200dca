"""What the end-to-end tests do with a booted appliance, shared by both
architectures: read the capture ports, pick a mode, wait for a stream's
state, run the capture benchmark in the guest, receive what it sends,
judge what each video codec made."""

import re
import subprocess
import sys
import time
from pathlib import Path

from kraken import body, child, created_id, expect, text, unique
from mediacheck import Receiver, ffprobe

AV1TS = Path(__file__).resolve().parents[1] / "integration" / "av1ts.py"


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


def video_of(ts_path, tmp_path):
    """The one video stream of a transport stream as ffprobe and FFmpeg's
    decoders see it: (codec name, width, height, pictures decoded, the
    decoder's complaints). AV1, which FFmpeg 5.1 reads from a transport
    stream only as a data stream, is turned back into OBUs by av1ts.py
    (written from AOM's carriage spec) and decoded by libdav1d."""
    streams = ffprobe(ts_path, "-show_streams")["streams"]
    video = [s for s in streams if s["codec_type"] == "video"]
    data = [s for s in streams if s["codec_type"] == "data"]
    source, input_args = ts_path, []
    if not video:
        # AV1's PMT entry: private data with the registration descriptor 'AV01'.
        assert [d.get("codec_tag_string") for d in data] == ["AV01"], streams
        payloads, source = tmp_path / "video.pes", tmp_path / "video.obu"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(ts_path), "-map", "0:d:0", "-c",
                        "copy", "-f", "data", "-y", str(payloads)], check=True, timeout=120)
        av1ts = subprocess.run([sys.executable, str(AV1TS), str(payloads), str(source)],
                               capture_output=True, text=True, timeout=120)
        assert av1ts.returncode == 0, av1ts.stderr
        input_args = ["-f", "obu"]
        video = ffprobe(source, *input_args, "-show_streams")["streams"]
    assert len(video) == 1, video
    frames = ffprobe(source, *input_args, "-select_streams", "v:0", "-count_frames",
                     "-show_entries", "stream=nb_read_frames", "-show_streams")["streams"]
    decode = subprocess.run(["ffmpeg", "-v", "error", *input_args, "-i", str(source), "-f",
                             "null", "-"], capture_output=True, text=True, timeout=120)
    return (video[0]["codec_name"], video[0]["width"], video[0]["height"],
            int(frames[0]["nb_read_frames"]), decode.stderr.strip())


def codec_stream_in_guest(api, *, video_type, width, height, fps, kbps, udp_port,
                          guest_host="10.0.2.2"):
    """A test-pattern stream (no capture port) → a ``video_type``
    transcoder (CBR, which every codec takes; a GOP a second; no audio) →
    UDP to the host; not started. Returns its path."""
    link = f"https://{api.host}/apis/kraken"
    input_id = created_id(api.post("/apis/kraken/inputs", body("input", [
        ("name", unique("bars")), ("streamType", "TESTPATTERN"),
        ("width", width), ("height", height), ("frameRate", fps)])), "input")
    transcoder_id = created_id(api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique(video_type)), ("videoType", video_type),
        ("resolution", [("width", width), ("height", height)]), ("frameRate", fps),
        ("videoBitrate", kbps), ("gopSize", fps), ("encodingProfile", "cbr"),
        ("audio", "off")])), "transcoder")
    output_id = created_id(api.post("/apis/kraken/outputs", body("output", [
        ("name", unique("host")), ("url", f"udp://{guest_host}:{udp_port}")])), "output")
    stream_id = created_id(api.post("/apis/kraken/streams", body("stream", [
        ("name", unique(video_type)), ("input", f"{link}/inputs/input-{input_id}"),
        ("transcoder", f"{link}/transcoders/transcoder-{transcoder_id}"),
        ("outputs", [("output", [f"{link}/outputs/output-{output_id}"])]),
    ])), "stream")
    return f"/apis/kraken/streams/stream-{stream_id}"


def pes_starts(ts):
    """Offsets of the transport packets that begin a PES packet."""
    starts = []
    for at in range(0, len(ts) - 187, 188):
        packet = ts[at:at + 188]
        control = packet[3] >> 4 & 3
        if packet[0] != 0x47 or not packet[1] & 0x40 or not control & 1:
            continue
        payload = 4 + (1 + packet[4] if control & 2 else 0)
        if packet[payload:payload + 3] == b"\0\0\1":
            starts.append(at)
    return starts


def record_pictures(api, path, port, pictures, timeout=90):
    """Runs the stream (video only: one picture a PES packet) until the
    host has ``pictures`` whole PES packets, then stops it. Returns the
    transport stream up to the start of the next one, and the stream's
    stats element."""
    receiver = Receiver(port=port)
    try:
        expect(api.put(path, "<stream><state>start</state></stream>"), 200)
        deadline = time.monotonic() + timeout
        while len(starts := pes_starts(receiver.ts())) <= pictures:
            assert time.monotonic() < deadline, \
                f"{len(starts)} of {pictures + 1} PES packets reached the host in {timeout} s"
            time.sleep(0.25)
        stats = child(child(expect(api.get(path), 200), "stream"), "stats")
    finally:
        receiver.close()
        api.put(path, "<stream><state>stop</state></stream>")
    return receiver.ts()[:starts[pictures]], stats


# The video codecs drivers/ffvideo opens in the image's own FFmpeg: the
# transcoder's videoType, ffprobe's name for it, and a frame rate. Tiny
# pictures at low rates, and few of them: under TCG (x86_64 guest,
# 2026-12-06) libx265 kept about 8 fps of 160x90 and SVT-AV1 about 7.
# MPEG-2 takes only its standard rates, and is fast.
VIDEO_CODECS = [("hevc", "hevc", 5), ("mpeg2video", "mpeg2video", 25), ("av1", "av1", 5)]
CODEC_WIDTH, CODEC_HEIGHT, CODEC_KBPS, CODEC_FRAMES = 160, 90, 200, 10


def assert_the_image_streams(box, arch, video_type, name, fps, tmp_path):
    """A ``video_type`` stream encoded in the guest with the image's own
    libraries reaches the host as that codec at that size, and its first
    pictures decode cleanly there."""
    api = box.client
    udp_port = free_udp_port()
    path = codec_stream_in_guest(api, video_type=video_type, width=CODEC_WIDTH,
                                 height=CODEC_HEIGHT, fps=fps, kbps=CODEC_KBPS,
                                 udp_port=udp_port)
    stream, stats = record_pictures(api, path, udp_port, CODEC_FRAMES)
    sys.stdout.write(f"\n[e2e] {arch} {video_type} stream stats: "
                     f"{ {c.tag: c.text for c in stats} }\n")
    ts = tmp_path / f"{video_type}.ts"
    ts.write_bytes(stream)
    codec, width, height, frames, errors = video_of(ts, tmp_path)
    assert (codec, width, height, errors) == (name, CODEC_WIDTH, CODEC_HEIGHT, "")
    assert frames == CODEC_FRAMES, f"{frames} {video_type} pictures decoded"
