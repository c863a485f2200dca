"""RTSP outputs (issue 11 §2, §3): a stream served at
rtsp://127.0.0.1:PORT/NAME as a camera serves its stream, pulled by
FFmpeg (ffprobe, ffmpeg) over TCP-interleaved and UDP RTP, and by
GStreamer's rtspsrc as a second, independent client. Bad clients (an
unknown path, one killed mid-stream, one too many), a port in use, and
logins (``makarad serve --rtsp-login``) checked against the box's users.

Nothing leaves 127.0.0.1.
"""

import base64
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

import hmp
import peers
from conftest import Appliance
from kraken import error_of, text, unique
from mediacheck import ffprobe

W, H = 320, 180
# How long a client may take to connect and get its first key frame (a
# GOP is one second).
CONNECT_LIMIT = 30
RECORD_SECONDS = 10
MAX_CLIENTS = 16


def rtsp_output(api, port, name):
    return peers.make(api, "output", [("name", unique("rtsp")), ("streamType", "RTSP"),
                                      ("url", f"rtsp://127.0.0.1:{port}/{name}")])


class Served:
    """A running TESTPATTERN stream (H.264 + AAC) with one RTSP output."""

    def __init__(self, app):
        self.app = app
        self.api = app.client
        self.port = peers.free_tcp_port()
        self.name = unique("cam")
        self.url = f"rtsp://127.0.0.1:{self.port}/{self.name}"
        out = rtsp_output(self.api, self.port, self.name)
        self.path = peers.make_stream(self.api, peers.pattern_input(self.api, W, H), [out],
                                      transcoder_id=peers.h264_transcoder(self.api, W, H))
        peers.start(self.api, self.path)
        peers.wait_state(self.api, self.path, "active")

    def log(self, lines=400):
        return self.app.server.log_tail(lines)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    peers.require_tools("ffmpeg", "ffprobe")
    app = Appliance(tmp_path_factory.mktemp("rtsp"))
    try:
        yield Served(app)
    finally:
        app.close()


def probe(url, transport, *extra):
    """ffprobe's streams of ``url``; raises with ffprobe's words if it fails."""
    out = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", transport, *extra,
                          "-of", "json", "-show_streams", url],
                         capture_output=True, text=True, timeout=CONNECT_LIMIT)
    return out


def streams(out):
    import json
    assert out.returncode == 0, out.stderr[-2000:]
    found = {}
    for s in json.loads(out.stdout)["streams"]:
        found.setdefault(s["codec_type"], []).append(s)
    return found


def record(url, transport, path, seconds=RECORD_SECONDS):
    """ffmpeg copying ``seconds`` of the stream to a Matroska file."""
    return peers.Peer("ffmpeg-rtsp", [
        "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", transport, "-i", url,
        "-t", seconds, "-c", "copy", "-f", "matroska", "-y", path], path.parent,
        limit=seconds + CONNECT_LIMIT)


def wait_end(peer, limit):
    deadline = time.monotonic() + limit
    while peer.alive():
        assert time.monotonic() < deadline, f"{peer.name} still runs: {peer.log()}"
        time.sleep(0.2)


def start_times(path):
    return {s["codec_type"]: float(s["start_time"])
            for s in ffprobe(path, "-show_streams")["streams"]}


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_ffprobe_sees_h264_and_aac(served, transport):
    found = streams(probe(served.url, transport))
    video, audio = found["video"], found["audio"]
    assert [(v["codec_name"], v["width"], v["height"]) for v in video] == [("h264", W, H)]
    assert [(a["codec_name"], a["sample_rate"], a["channels"]) for a in audio] == \
        [("aac", "48000", 2)]


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_ffmpeg_records_ten_seconds_that_decode(served, tmp_path, transport):
    path = tmp_path / f"rtsp-{transport}.mkv"
    with record(served.url, transport, path) as peer:
        wait_end(peer, RECORD_SECONDS + CONNECT_LIMIT)
    assert path.exists() and path.stat().st_size > 0, peer.log()
    found = peers.streams_of(path)
    assert [v["codec_name"] for v in found["video"]] == ["h264"]
    assert [a["codec_name"] for a in found["audio"]] == ["aac"]
    duration = float(ffprobe(path, "-show_format")["format"]["duration"])
    assert duration >= RECORD_SECONDS - 1, duration
    assert peers.decode_errors(path) == ""
    # Audio and video begin together: RTCP sender reports from one clock.
    starts = start_times(path)
    assert abs(starts["video"] - starts["audio"]) <= 0.5, starts
    log = served.log()
    assert f"over RTP over {'TCP' if transport == 'tcp' else 'UDP'}" in log, log[-3000:]


def test_an_unknown_path_is_404(served):
    out = probe(f"rtsp://127.0.0.1:{served.port}/not-{served.name}", "tcp")
    assert out.returncode != 0
    assert "404" in out.stderr, out.stderr


def test_a_client_killed_mid_stream_leaves_the_output_serving(served, tmp_path):
    # A killed peer may leave unread data behind, so its kernel resets the
    # connection rather than closing it: either way the output sees it leave.
    left = " left: "
    for transport in ("tcp", "udp"):
        path = tmp_path / f"killed-{transport}.mkv"
        with record(served.url, transport, path, seconds=60) as peer:
            deadline = time.monotonic() + CONNECT_LIMIT
            while not (path.exists() and path.stat().st_size > 50_000):
                assert peer.alive() and time.monotonic() < deadline, peer.log()
                time.sleep(0.2)
            before = served.log(4000).count(left)
            os.killpg(peer.proc.pid, signal.SIGKILL)
            peer.proc.wait(timeout=10)
        # Its RTSP connection (TCP, whatever carries the RTP) closed with
        # it: the output saw it leave.
        deadline = time.monotonic() + 5
        while served.log(4000).count(left) == before:
            assert time.monotonic() < deadline, served.log()[-3000:]
            time.sleep(0.1)
        # The next client is served; the stream never stopped.
        found = streams(probe(served.url, "tcp"))
        assert found["video"][0]["codec_name"] == "h264"
        assert text(peers.get_stream(served.api, served.path), "state") == "active"


def test_one_client_too_many_is_refused_and_the_others_play_on(served, tmp_path):
    seconds = 12
    clients = [record(served.url, "tcp", tmp_path / f"c{i}.mkv", seconds=seconds)
               for i in range(MAX_CLIENTS)]
    try:
        for c in clients:
            c.start()
        deadline = time.monotonic() + CONNECT_LIMIT
        while not all(p.exists() and p.stat().st_size > 10_000
                      for p in (tmp_path / f"c{i}.mkv" for i in range(MAX_CLIENTS))):
            assert time.monotonic() < deadline, [c.log() for c in clients if not c.alive()]
            time.sleep(0.2)
        out = probe(served.url, "tcp")
        assert out.returncode != 0
        assert "503" in out.stderr, out.stderr
        assert f"{MAX_CLIENTS} clients are connected already" in served.log()
        for c in clients:
            wait_end(c, seconds + CONNECT_LIMIT)
    finally:
        for c in clients:
            c.stop()
    for i in range(MAX_CLIENTS):
        path = tmp_path / f"c{i}.mkv"
        duration = float(ffprobe(path, "-show_format")["format"]["duration"])
        assert duration >= seconds - 1, (i, duration)
        assert peers.decode_errors(path) == "", i


GST_CLIENT = r"""
import sys
import gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst
Gst.init(None)
url, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
pipeline = Gst.parse_launch(
    f"rtspsrc location={url} protocols=tcp latency=200 buffer-mode=none name=src "
    "src. ! application/x-rtp,media=video ! rtph264depay ! h264parse ! queue ! mux. "
    "src. ! application/x-rtp,media=audio ! rtpmp4gdepay ! aacparse ! queue ! mux. "
    f"matroskamux name=mux ! filesink location={out}")
pipeline.set_state(Gst.State.PLAYING)
bus = pipeline.get_bus()
msg = bus.timed_pop_filtered(int(seconds * Gst.SECOND), Gst.MessageType.ERROR | Gst.MessageType.EOS)
if msg is not None and msg.type == Gst.MessageType.ERROR:
    print("error:", msg.parse_error(), file=sys.stderr)
    sys.exit(1)
pipeline.send_event(Gst.Event.new_eos())
bus.timed_pop_filtered(10 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
pipeline.set_state(Gst.State.NULL)
"""


def test_gstreamer_rtspsrc_plays_it_too(served, tmp_path):
    out = tmp_path / "gst.mkv"
    # 12 s of wall time for at least 5 s of pictures: rtspsrc's start
    # (and a machine busy with the tests before) takes some of it.
    proc = subprocess.run(["/usr/bin/python3", "-c", GST_CLIENT, served.url, str(out), "12"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = peers.streams_of(out)
    assert [(v["codec_name"], v["width"], v["height"]) for v in found["video"]] == \
        [("h264", W, H)]
    assert [a["codec_name"] for a in found["audio"]] == ["aac"]
    duration = float(ffprobe(out, "-show_format")["format"]["duration"])
    assert duration >= 5, (duration, proc.stderr[-2000:], served.log(30))
    assert peers.decode_errors(out) == ""


def test_a_port_in_use_fails_the_start_with_a_clear_last_error(fresh):
    api = fresh.client
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        out = rtsp_output(api, port, "busy")
        path = peers.make_stream(api, peers.pattern_input(api, W, H), [out],
                                 transcoder_id=peers.h264_transcoder(api, W, H))
        # The output binds its port as the stream starts: the start fails,
        # and says why.
        resp = api.put(path, "<stream><state>start</state></stream>")
        assert resp.status_code == 500, resp.text
        code, message = error_of(resp)
        assert code == 1012, (code, message)
        assert f"port {port} is in use" in message and "rtsp://127.0.0.1" in message, message
        el = peers.get_stream(api, path)
        assert text(el, "state") != "active"
        assert f"port {port} is in use" in (text(el, "lastError") or ""), text(el, "lastError")
        # Once the port is free the same stream starts and serves.
    peers.start(api, path)
    peers.wait_state(api, path, "active")
    url = f"rtsp://127.0.0.1:{port}/busy"
    assert streams(probe(url, "tcp"))["video"][0]["codec_name"] == "h264"
    peers.stop(api, path)


# --- Other codecs, in bypass ----------------------------------------------------

def make_hevc_ts(path):
    """12 s of HEVC + AAC. Without B-frames: RTP carries no decoding
    time, and FFmpeg 5.1 copying HEVC with B-frames from RTSP into a file
    cannot time them ("unknown timestamp"), whoever serves it."""
    peers.require_tools("ffmpeg")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
                    "-t", "12", "-c:v", "libx265", "-preset", "ultrafast", "-b:v", "600k",
                    "-x265-params", "keyint=25:bframes=0:log-level=error", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "96k", "-muxrate", "1000k",
                    "-f", "mpegts", str(path)], check=True, timeout=120)
    return path


def bypass_to_rtsp(api, data):
    """A bypass stream from a UDP TS input to an RTSP output; returns the
    stream's path, the input's port and the RTSP URL."""
    feed, port = peers.free_udp_port(), peers.free_tcp_port()
    name = unique("by")
    path = peers.make_stream(api, peers.udp_ts_input(api, feed),
                             [rtsp_output(api, port, name)], mode="bypass")
    return path, feed, f"rtsp://127.0.0.1:{port}/{name}"


def test_hevc_is_served_in_bypass(fresh, tmp_path):
    api = fresh.client
    data = make_hevc_ts(tmp_path / "hevc.ts").read_bytes()
    path, feed, url = bypass_to_rtsp(api, data)
    with peers.TsSender(data, feed, 1000, loop=True):
        peers.start(api, path)
        peers.wait_state(api, path, "active")
        found = streams(probe(url, "tcp"))
        recording = tmp_path / "hevc.mkv"
        with record(url, "udp", recording, seconds=5) as peer:
            wait_end(peer, 5 + CONNECT_LIMIT)
        peers.stop(api, path)
    assert [(v["codec_name"], v["width"], v["height"]) for v in found["video"]] == \
        [("hevc", 320, 240)]
    assert [a["codec_name"] for a in found["audio"]] == ["aac"]
    assert peers.decode_errors(recording) == ""
    assert float(ffprobe(recording, "-show_format")["format"]["duration"]) >= 4


def test_mpeg_audio_is_left_out_and_said_so(fresh, tmp_path):
    """RTSP outputs serve AAC audio only: with MPEG-1 Layer II audio the
    clients get the video, and the log says why."""
    api = fresh.client
    data = peers.make_ts(tmp_path / "mp2.ts", seconds=8, video="h264", audio="mp2",
                         muxrate_kbps=1000).read_bytes()
    path, feed, url = bypass_to_rtsp(api, data)
    with peers.TsSender(data, feed, 1000, loop=True):
        peers.start(api, path)
        peers.wait_state(api, path, "active")
        found = streams(probe(url, "tcp"))
        peers.stop(api, path)
    assert [v["codec_name"] for v in found["video"]] == ["h264"]
    assert "audio" not in found, found
    assert "RTSP clients get its video only" in fresh.server.log_tail(400)


# --- Logins -------------------------------------------------------------------

VIEWER, DEVICE_PASSWORD = "vms", "vms-device-pass-1"
PLAIN_USER, PLAIN_PASSWORD = "plain", "plain-pass-12345"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    peers.require_tools("ffmpeg", "ffprobe")
    app = Appliance(tmp_path_factory.mktemp("rtsp-login"), extra_args=["--rtsp-login"],
                    start=False)
    hmp.user_cli(app.data_dir, "add", f"--username={VIEWER}", "--role", "viewer",
                 "--device-login", "--password-stdin", password=DEVICE_PASSWORD)
    hmp.add_user(app.data_dir, PLAIN_USER, "viewer", password=PLAIN_PASSWORD)
    app.start()
    try:
        yield Served(app)
    finally:
        app.close()


def with_login(url, user, password):
    return url.replace("rtsp://", f"rtsp://{user}:{password}@", 1)


def test_without_credentials_401(guarded):
    out = probe(guarded.url, "tcp")
    assert out.returncode != 0
    assert "401" in out.stderr, out.stderr


def test_wrong_password_401(guarded):
    out = probe(with_login(guarded.url, VIEWER, "not-the-password"), "tcp")
    assert out.returncode != 0
    assert "401" in out.stderr, out.stderr


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_a_device_login_plays_with_digest(guarded, transport):
    # FFmpeg answers the Digest challenge, offered first.
    before = guarded.log(2000).count(f"as {VIEWER} playing")
    found = streams(probe(with_login(guarded.url, VIEWER, DEVICE_PASSWORD), transport))
    assert found["video"][0]["codec_name"] == "h264"
    assert guarded.log(2000).count(f"as {VIEWER} playing") == before + 1, guarded.log()


def test_digest_needs_a_device_login(guarded):
    """A user without a device login has no password Digest could check:
    FFmpeg, which answers Digest, is refused (Basic would pass: below)."""
    out = probe(with_login(guarded.url, PLAIN_USER, PLAIN_PASSWORD), "tcp")
    assert out.returncode != 0
    assert "401" in out.stderr, out.stderr


def rtsp_describe(port, uri, authorization=None):
    """One DESCRIBE on a raw socket: (status, headers text)."""
    lines = [f"DESCRIBE {uri} RTSP/1.0", "CSeq: 1", "Accept: application/sdp"]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            assert chunk, data
            data += chunk
    head = data.split(b"\r\n\r\n")[0].decode()
    return int(head.split(" ")[1]), head


def test_basic_login_with_a_users_password(guarded):
    good = base64.b64encode(f"{PLAIN_USER}:{PLAIN_PASSWORD}".encode()).decode()
    bad = base64.b64encode(f"{PLAIN_USER}:wrong".encode()).decode()
    status, head = rtsp_describe(guarded.port, guarded.url)
    assert status == 401 and 'WWW-Authenticate: Digest realm="Makara"' in head, head
    assert 'WWW-Authenticate: Basic realm="Makara"' in head, head
    assert rtsp_describe(guarded.port, guarded.url, f"Basic {bad}")[0] == 401
    assert rtsp_describe(guarded.port, guarded.url, f"Basic {good}")[0] == 200


def test_an_open_output_needs_no_login(served):
    assert rtsp_describe(served.port, served.url)[0] == 200


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
