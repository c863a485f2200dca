"""RTMP push outputs against nginx with Debian's RTMP module (issue 11 §1,
§3, §5): what nginx records is judged by ffprobe, what it relays live by
ffmpeg reading it back; refusals, a server that goes away, one that is
not there, and a retry limit each give a clear lastError; rtmps goes
through nginx's stream module terminating TLS in front of the RTMP
server.

Every peer listens on 127.0.0.1 only.
"""

import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

import peers
from kraken import get_one, text, unique
from mediacheck import Receiver, ffprobe

W, H = 320, 180


def rtmp_output(api, url, **extra):
    """An RTMP output; returns its id and name."""
    name = unique("rtmp")
    oid = peers.make(api, "output", [("name", name), ("streamType", "RTMP"), ("url", url),
                                     *extra.items()])
    return oid, name


def pattern_stream(api, output_ids):
    """A TESTPATTERN stream, H.264 + AAC at W x H, to the outputs."""
    return peers.make_stream(api, peers.pattern_input(api, W, H), output_ids,
                             transcoder_id=peers.h264_transcoder(api, W, H))


def output_error(api, path, name):
    """The output's lastError in the stream's stats ('' when none)."""
    return text(peers.output_stats(peers.get_stream(api, path), name), "lastError") or ""


def wait_output(api, path, name, test, what, timeout=peers.STATE_TIMEOUT):
    """Polls the output's lastError in the stream's stats until ``test``
    holds; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        error = output_error(api, path, name)
        if test(error):
            return error
        assert time.monotonic() < deadline, f"output {name} never {what}: lastError {error!r}"
        time.sleep(0.1)


def recording(nginx, key):
    """ffprobe's view of what nginx recorded for ``key``: streams and
    duration."""
    path = nginx.recording(key)
    assert path.exists(), f"nothing recorded at {path}: {nginx.error_log()}"
    probe = ffprobe(path, "-show_streams", "-show_format")
    return probe["streams"], float(probe["format"].get("duration") or 0)


class PublishHook:
    """nginx's on_publish target: an HTTP server on 127.0.0.1 answering
    403 for the keys in ``refused`` and 200 for the rest, and noting when
    each key asked."""

    def __init__(self, refused=()):
        self.refused = set(refused)
        self.calls = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                key = (form.get("name") or [""])[0]
                hook.calls.append((key, time.monotonic()))
                self.send_response(403 if key in hook.refused else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/publish"

    def times(self, key):
        return [t for k, t in self.calls if k == key]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_an_h264_aac_stream_is_pushed_recorded_and_relayed_live(fresh, tmp_path):
    api = fresh.client
    peers.require_tools("nginx", "ffmpeg", "ffprobe")
    with peers.NginxRtmp(tmp_path) as nginx:
        oid, name = rtmp_output(api, nginx.url("key1"))
        path = pattern_stream(api, [oid])
        peers.start(api, path)
        peers.wait_state(api, path, "active")
        started = time.monotonic()
        assert output_error(api, path, name) == ""
        # A player reading the stream from nginx while it is pushed.
        live = tmp_path / "live.flv"
        played = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", nginx.url("key1"),
             "-t", "4", "-c", "copy", str(live)], capture_output=True, timeout=40)
        assert played.returncode == 0, played.stderr.decode()[-2000:]
        time.sleep(max(0.0, 10 - (time.monotonic() - started)))
        pushed = time.monotonic() - started
        assert peers.get_stream(api, path).find("state").text == "active"
        peers.stop(api, path)
        time.sleep(1)  # nginx closes the recording when the publisher leaves
    streams, duration = recording(nginx, "key1")
    codecs = sorted(s["codec_name"] for s in streams)
    assert codecs == ["aac", "h264"], streams
    video = next(s for s in streams if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (W, H)
    # It was published from before `started` until the stop.
    assert pushed - 2 <= duration <= pushed + 6, f"{duration} s recorded of {pushed:.1f} s"
    assert not peers.decode_errors(nginx.recording("key1")), "decode errors in the recording"
    live_streams = ffprobe(live, "-show_streams")["streams"]
    assert sorted(s["codec_name"] for s in live_streams) == ["aac", "h264"], live_streams
    frames = ffprobe(live, "-select_streams", "v:0", "-count_frames", "-show_entries",
                     "stream=nb_read_frames")["streams"][0]
    assert int(frames["nb_read_frames"]) >= 50, frames


def test_a_refused_key_is_retried_with_backoff_while_the_stream_goes_on(fresh, tmp_path):
    api = fresh.client
    sink = Receiver()
    try:
        with PublishHook(refused={"badkey"}) as hook, \
                peers.NginxRtmp(tmp_path, on_publish=hook.url) as nginx:
            oid, name = rtmp_output(api, nginx.url("badkey"))
            udp = peers.udp_output(api, sink.port)
            path = pattern_stream(api, [oid, udp])
            peers.start(api, path)
            error = wait_output(api, path, name, lambda e: "retrying" in e, "retried")
            # Four attempts: 1, 2 and 4 s apart.
            deadline = time.monotonic() + 30
            while len(hook.times("badkey")) < 4 and time.monotonic() < deadline:
                time.sleep(0.2)
            times = hook.times("badkey")
            error = output_error(api, path, name)
            el = peers.get_stream(api, path)
            datagrams_mid = len(sink.datagrams)
            time.sleep(1)
            datagrams_later = len(sink.datagrams)
            listed = text(get_one(api, "output", oid), "lastError") or ""
            peers.stop(api, path)
    finally:
        sink.close()
    print(f"refused key: {error!r}; attempts at {[round(t - times[0], 1) for t in times]}")
    assert len(times) >= 4, f"{len(times)} attempts: {error!r}"
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[0] < gaps[1] < gaps[2], f"attempts not spaced further apart: {gaps}"
    assert gaps[2] >= 2 * gaps[0], gaps
    # The reason names the destination without the key, and the refusal.
    assert error.startswith(f"rtmp://127.0.0.1:{nginx.port}/live:"), error
    assert "badkey" not in error, error
    assert "after publish (a refused stream key?)" in error, error
    assert "retrying in" in error, error
    # GET output says the same (nginx refuses a key by closing the
    # connection right after publish).
    assert "after publish (a refused stream key?)" in listed, listed
    # The stream runs on, waiting on the RTMP output, and its UDP output
    # keeps delivering.
    assert text(el, "state") == "waiting", text(el, "state")
    assert name in (text(el, "lastError") or ""), text(el, "lastError")
    assert datagrams_later > datagrams_mid > 0


def test_a_server_that_goes_away_is_published_to_again_when_it_returns(fresh, tmp_path):
    api = fresh.client
    nginx = peers.NginxRtmp(tmp_path).start()
    port = nginx.port
    try:
        oid, name = rtmp_output(api, nginx.url("back"))
        path = pattern_stream(api, [oid])
        peers.start(api, path)
        peers.wait_state(api, path, "active")
        time.sleep(3)
        nginx.stop()
        error = wait_output(api, path, name, lambda e: "retrying" in e, "noticed the loss")
        assert any(w in error for w in ("closed the connection", "connection refused")), error
        first = recording(nginx, "back")[1]
        # The same port again, a new recording directory.
        nginx = peers.NginxRtmp(tmp_path, port=port).start()
        peers.wait_state(api, path, "active", timeout=60)
        time.sleep(4)
        assert output_error(api, path, name) == ""
        peers.stop(api, path)
        time.sleep(1)
    finally:
        nginx.stop()
    streams, second = recording(nginx, "back")
    print(f"before the loss {first:.1f} s recorded, after it {second:.1f} s")
    assert sorted(s["codec_name"] for s in streams) == ["aac", "h264"], streams
    assert second >= 2, second


def test_an_unreachable_server_says_connection_refused_and_retries(fresh, tmp_path):
    api = fresh.client
    port = peers.free_tcp_port()  # nothing listens there
    oid, name = rtmp_output(api, f"rtmp://127.0.0.1:{port}/live/key")
    path = pattern_stream(api, [oid])
    peers.start(api, path)
    error = wait_output(api, path, name, lambda e: "retrying" in e, "retried")
    assert error.startswith(f"rtmp://127.0.0.1:{port}/live: connection refused"), error
    el = peers.wait_until(api, path, lambda el: "attempt 3" in (text(el, "lastError") or ""),
                          "reached attempt 3")
    assert text(el, "state") == "waiting"
    peers.stop(api, path)


def test_the_retry_limit_gives_up_and_says_so(fresh, tmp_path):
    api = fresh.client
    port = peers.free_tcp_port()
    oid, name = rtmp_output(api, f"rtmp://127.0.0.1:{port}/live/key",
                            retryLimit=2, retryDelayMax=1)
    path = pattern_stream(api, [oid])
    peers.start(api, path)
    error = wait_output(api, path, name, lambda e: "gave up" in e, "gave up")
    assert error == (f"rtmp://127.0.0.1:{port}/live: gave up after 2 attempts; the last: "
                     "connection refused (nothing listens at that port)"), error
    # It stays given up: nginx appearing now changes nothing.
    with peers.NginxRtmp(tmp_path, port=port) as nginx:
        time.sleep(4)
        assert output_error(api, path, name) == error
        peers.stop(api, path)
    assert not nginx.recording("key").exists()


def test_of_two_rtmp_outputs_only_the_enabled_one_publishes(fresh, tmp_path):
    api = fresh.client
    with PublishHook() as hook, peers.NginxRtmp(tmp_path, on_publish=hook.url) as nginx:
        on, on_name = rtmp_output(api, nginx.url("keyon"))
        off, off_name = rtmp_output(api, nginx.url("keyoff"), enabled="false")
        assert text(get_one(api, "output", off), "enabled") in ("off", "false")
        path = pattern_stream(api, [on, off])
        peers.start(api, path)
        peers.wait_state(api, path, "active")
        time.sleep(5)
        peers.stop(api, path)
        time.sleep(1)
    assert [k for k, _ in hook.calls] == ["keyon"], hook.calls
    streams, duration = recording(nginx, "keyon")
    assert sorted(s["codec_name"] for s in streams) == ["aac", "h264"]
    assert duration >= 3, duration
    assert not nginx.recording("keyoff").exists()


def make_hevc_ts(path, seconds=12):
    """HEVC + AAC in a transport stream, a key frame every second."""
    peers.require_tools("ffmpeg")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
                    "-t", str(seconds), "-c:v", "libx265", "-preset", "ultrafast",
                    "-x265-params", "log-level=none:keyint=25", "-b:v", "400k",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k",
                    "-muxrate", "1000k", "-f", "mpegts", str(path)], check=True, timeout=120)
    return Path(path).read_bytes()


def test_hevc_in_bypass_is_refused_by_a_server_without_enhanced_rtmp(fresh, tmp_path):
    api = fresh.client
    data = make_hevc_ts(tmp_path / "hevc.ts")
    feed = peers.free_udp_port()
    with PublishHook() as hook, peers.NginxRtmp(tmp_path, on_publish=hook.url) as nginx:
        oid, name = rtmp_output(api, nginx.url("hevc"))
        path = peers.make_stream(api, peers.udp_ts_input(api, feed), [oid], mode="bypass")
        with peers.TsSender(data, feed, 1000, loop=True):
            peers.start(api, path)
            error = wait_output(api, path, name, lambda e: "Enhanced RTMP" in e, "refused HEVC")
            time.sleep(2)
            peers.stop(api, path)
    print(f"HEVC: {error!r}")
    assert error.startswith(f"rtmp://127.0.0.1:{nginx.port}/live: the RTMP server does not "
                            "announce Enhanced RTMP support for hvc1; nginx-rtmp and classic "
                            "FLV carry H.264 only"), error
    assert "retrying in" in error, error
    # Refused before publish: nginx was never asked to take the key.
    assert hook.calls == [], hook.calls
    assert not nginx.recording("hevc").exists()


# --------------------------------------------------------------------------
# rtmps: nginx's stream module terminating TLS in front of nginx-rtmp
# --------------------------------------------------------------------------

NGINX_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


def make_ca_and_server_cert(work):
    """A test CA, and a server certificate it signed for 127.0.0.1 (an IP
    subjectAltName, as the URL names the server by address)."""
    peers.require_tools("openssl")
    ca_key, ca_cert = work / "ca.key", work / "ca.pem"
    key, csr, cert = work / "server.key", work / "server.csr", work / "server.pem"
    ext = work / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")

    def run(*args):
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True,
                       timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_cert,
        "-days", "2", "-subj", "/CN=Makara test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return ca_cert, cert, key


class TlsFront(peers.Nginx):
    """nginx's stream module on 127.0.0.1:``port`` taking TLS with
    ``cert``/``key`` and passing the bytes to 127.0.0.1:``backend``."""

    def __init__(self, work, backend, cert, key):
        port = peers.free_tcp_port()
        super().__init__("nginx-tls", Path(work) / f"tls-front-{port}", port,
                         NGINX_STREAM_MODULE, f"""stream {{
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        proxy_pass 127.0.0.1:{backend};
    }}
}}
""")


def test_rtmps_through_a_tls_front_trusting_a_given_ca(appliance_factory, tmp_path,
                                                       monkeypatch):
    """makarad trusts the certificate authorities of SSL_CERT_FILE (here a
    test CA) instead of the system's; with the system's, the same server is
    refused as an unknown issuer."""
    ca, cert, key = make_ca_and_server_cert(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    trusting = appliance_factory()
    monkeypatch.delenv("SSL_CERT_FILE")
    distrusting = appliance_factory()
    with peers.NginxRtmp(tmp_path) as nginx, TlsFront(tmp_path, nginx.port, cert, key) as front:
        url = f"rtmps://127.0.0.1:{front.port}/live/secure"
        api = trusting.client
        oid, name = rtmp_output(api, url)
        path = pattern_stream(api, [oid])
        other = distrusting.client
        other_oid, other_name = rtmp_output(other, f"rtmps://127.0.0.1:{front.port}/live/nope")
        other_path = pattern_stream(other, [other_oid])
        peers.start(api, path)
        peers.start(other, other_path)
        peers.wait_state(api, path, "active")
        refused = wait_output(other, other_path, other_name, lambda e: "retrying" in e,
                              "was refused")
        time.sleep(5)
        peers.stop(api, path)
        peers.stop(other, other_path)
        time.sleep(1)
    print(f"untrusted: {refused!r}")
    assert refused.startswith(f"rtmps://127.0.0.1:{front.port}/live: TLS:"), refused
    assert "UnknownIssuer" in refused or "unknown" in refused.lower(), refused
    streams, duration = recording(nginx, "secure")
    assert sorted(s["codec_name"] for s in streams) == ["aac", "h264"], streams
    assert duration >= 3, duration
    assert not nginx.recording("nope").exists()
