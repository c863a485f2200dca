"""Real peers for the network-transport tests (issue 9), and what judges
their traffic.

- Peer processes from Debian packages, each bounded in time (coreutils
  ``timeout``) and run in a process group of its own that leaving the
  ``with`` block ends: ``srt-live-transmit`` (srt-tools), ``ffmpeg`` as a
  sender and as an MJPEG-over-HTTP server, GStreamer's RTSP server.
- ``TsSender``: a transport stream paced onto UDP by the test itself, so
  that what was sent is known to the byte (garbage and dropped packets are
  injected there; ``retype_stream`` rewrites a PMT beforehand).
- ``RtspRefuser``: a tiny RTSP server that answers DESCRIBE and the rest
  with one status (404, 401), for the error paths.
- ``NetNamespaces``: two network namespaces joined by a veth pair, for
  multicast (root only; nothing leaves the namespaces).
- A small TS analyser: packets, PSI, continuity errors per PID, PCR steps,
  PES timestamps, a contiguous run of a source's packets.
- Stream helpers for the API: create resources, start, wait for a state,
  read the stream's ``<stats>``.

Traffic goes to 127.0.0.1 only, except inside the namespaces a test makes.
"""

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from kraken import body, child, created_id, expect, text, unique
from mediacheck import ffprobe

TS = 188
# Seconds any peer process may live; a test that needs longer says so.
PEER_LIMIT = 180
# Waits for states and counters; generous, since the machine is shared.
STATE_TIMEOUT = 30


def require_tools(*names):
    """The tools a test needs are installed by scripts/test: missing is a
    failure, not a skip."""
    missing = [n for n in names if shutil.which(n) is None]
    assert not missing, f"missing tools {missing}: run scripts/test's deps (makara_apt_deps)"


# --------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------

def free_udp_port():
    """A UDP port on 127.0.0.1 that nothing holds now (SRT is UDP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_ports(count):
    """``count`` distinct free UDP ports."""
    ports = set()
    while len(ports) < count:
        ports.add(free_udp_port())
    return sorted(ports)


# --------------------------------------------------------------------------
# Peer processes
# --------------------------------------------------------------------------

class Peer:
    """A process in its own process group, bounded by ``timeout``, its
    output in a log file. ``stop()`` (and leaving ``with``) ends the whole
    group: SIGTERM, then SIGKILL after 3 s."""

    def __init__(self, name, cmd, log_dir, *, limit=PEER_LIMIT, prefix=()):
        self.name = name
        self.cmd = [str(c) for c in cmd]
        self.prefix = [str(c) for c in prefix]
        self.limit = limit
        self.log_path = Path(log_dir) / f"peer-{name}-{uuid.uuid4().hex[:6]}.log"
        self.proc = None

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} runs"
        full = [*self.prefix, "timeout", "-k", "3", str(self.limit), *self.cmd]
        with open(self.log_path, "ab") as log:
            log.write(f"$ {' '.join(full)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(full, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers of the group
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def restart(self):
        self.stop()
        return self.start()

    def log(self, lines=40):
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_bytes().decode("utf-8", "replace")
                         .splitlines()[-lines:])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def srt_url(port, mode, host="127.0.0.1", *, passphrase=None, pbkeylen=None, latency=None,
            streamid=None):
    """An ``srt://`` URL as srt-live-transmit reads it; a listener binds
    ``host`` too, so it stays on loopback."""
    params = {"mode": mode}
    if passphrase is not None:
        params["passphrase"] = passphrase
    if pbkeylen is not None:
        params["pbkeylen"] = pbkeylen
    if latency is not None:
        params["latency"] = latency
    if streamid is not None:
        params["streamid"] = streamid
    return f"srt://{host}:{port}?{urlencode(params, safe='/:')}"


def srt_live_transmit(source, target, log_dir, *, limit=PEER_LIMIT, loglevel="error"):
    """srt-live-transmit from ``source`` to ``target`` (udp:// or srt://
    URLs), reconnecting by itself; libsrt logs at ``loglevel`` and up."""
    require_tools("srt-live-transmit")
    return Peer("srt-live-transmit",
                ["srt-live-transmit", "-a", "yes", "-ll", loglevel, source, target],
                log_dir, limit=limit)


def ffmpeg_ts_sender(path, port, log_dir, *, host="127.0.0.1", loop=True, extra_url="",
                     limit=PEER_LIMIT, prefix=()):
    """ffmpeg sending a TS file in real time (``-re``, copied, looped) to
    udp://host:port in datagrams of seven packets."""
    require_tools("ffmpeg")
    loop_args = ["-stream_loop", "-1"] if loop else []
    return Peer("ffmpeg-sender",
                ["ffmpeg", "-nostdin", "-v", "error", "-re", *loop_args, "-i", path,
                 "-map", "0", "-c", "copy", "-f", "mpegts",
                 f"udp://{host}:{port}?pkt_size=1316{extra_url}"],
                log_dir, limit=limit, prefix=prefix)


def ffmpeg_mjpeg_server(port, log_dir, *, size="320x240", rate=25, limit=PEER_LIMIT):
    """ffmpeg serving a live MJPEG test picture as multipart/x-mixed-replace
    over HTTP at http://127.0.0.1:port/camera.mjpg (one client)."""
    require_tools("ffmpeg")
    return Peer("ffmpeg-mjpeg",
                ["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi",
                 "-i", f"testsrc2=size={size}:rate={rate}", "-c:v", "mjpeg", "-q:v", "5",
                 "-f", "mpjpeg", "-listen", "1", f"http://127.0.0.1:{port}/camera.mjpg"],
                log_dir, limit=limit)


_RTSP_SERVER = r'''
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer

Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(sys.argv[1])
launch = ("( videotestsrc is-live=true pattern=ball "
          "! video/x-raw,width=%s,height=%s,framerate=25/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bitrate=500 "
          "! rtph264pay name=pay0 pt=96 config-interval=1 )" % (sys.argv[2], sys.argv[3]))
# One mount per lower transport: a client must use the one offered.
for path, proto in (("/tcp", GstRtsp.RTSPLowerTrans.TCP), ("/udp", GstRtsp.RTSPLowerTrans.UDP)):
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    factory.set_protocols(proto)
    server.get_mount_points().add_factory(path, factory)

def on_client(srv, client):
    def on_setup(c, ctx):
        transport = ctx.request.get_header(GstRtsp.RTSPHeaderField.TRANSPORT, 0)[1]
        print("SETUP", ctx.uri.abspath if ctx.uri else "?", transport, flush=True)
    client.connect("setup-request", on_setup)

server.connect("client-connected", on_client)
if server.attach(None) == 0:
    sys.exit("cannot listen on 127.0.0.1:" + sys.argv[1])
print("READY", flush=True)
GLib.MainLoop().run()
'''


class RtspServer(Peer):
    """GStreamer's RTSP server on 127.0.0.1:port serving a live H.264 test
    picture at ``/tcp`` (interleaved TCP only) and ``/udp`` (RTP over UDP
    only). Its log records each SETUP's accepted Transport header."""

    def __init__(self, port, log_dir, *, width=320, height=240, limit=PEER_LIMIT):
        script = Path(log_dir) / "rtsp_server.py"
        script.write_text(_RTSP_SERVER)
        super().__init__("rtsp-server", ["/usr/bin/python3", script, port, width, height],
                         log_dir, limit=limit)
        self.port = port

    def url(self, transport):
        return f"rtsp://127.0.0.1:{self.port}/{transport}"

    def start(self):
        super().start()
        deadline = time.monotonic() + 20
        while "READY" not in self.log():
            assert self.alive(), f"RTSP server exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"RTSP server not ready:\n{self.log()}"
            time.sleep(0.1)
        return self

    def setups(self):
        """The Transport headers of the SETUPs the server accepted."""
        return [line.split(" ", 2)[1:] for line in self.log(400).splitlines()
                if line.startswith("SETUP ")]


class RtspRefuser:
    """An RTSP server on 127.0.0.1 that answers OPTIONS with 200 and every
    other request (DESCRIBE …) with one status line (``404 Not Found``,
    ``401 Unauthorized`` …), echoing CSeq; a 401 carries a Basic
    challenge. Records the request lines it saw."""

    def __init__(self, status):
        self.status = status
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)

    def url(self, path="camera"):
        return f"rtsp://127.0.0.1:{self.port}/{path}"

    def _run(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                self._serve(conn)

    def _serve(self, conn):
        conn.settimeout(2)
        buf = b""
        deadline = time.monotonic() + 10
        while self.running and time.monotonic() < deadline:
            try:
                data = conn.recv(4096)
            except (socket.timeout, OSError):
                return
            if not data:
                return
            buf += data
            while b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                self.requests.append(lines[0])
                cseq = next((ln.split(":", 1)[1].strip() for ln in lines[1:]
                             if ln.lower().startswith("cseq:")), "0")
                status, extra = self.status, ""
                if lines[0].startswith("OPTIONS "):
                    status, extra = "200 OK", "Public: DESCRIBE, SETUP, PLAY, TEARDOWN\r\n"
                elif status.startswith("401"):
                    extra = 'WWW-Authenticate: Basic realm="makara-test"\r\n'
                reply = (f"RTSP/1.0 {status}\r\nCSeq: {cseq}\r\n{extra}"
                         "Content-Length: 0\r\n\r\n")
                try:
                    conn.sendall(reply.encode())
                except OSError:
                    return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


# --------------------------------------------------------------------------
# Test media
# --------------------------------------------------------------------------

def make_ts(path, *, seconds=20, size="320x240", rate=25, video="h264", audio="aac",
            muxrate_kbps=None):
    """A test transport stream made by ffmpeg: moving testsrc2 pictures and
    a 1 kHz tone, a keyframe every second. ``video`` h264 or mpeg2video,
    ``audio`` aac or mp2. With ``muxrate_kbps`` the TS is constant-rate."""
    require_tools("ffmpeg")
    vcodec = {"h264": ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "600k",
                       "-maxrate", "600k", "-bufsize", "300k", "-pix_fmt", "yuv420p"],
              "mpeg2video": ["-c:v", "mpeg2video", "-b:v", "1000k"]}[video]
    acodec = {"aac": ["-c:a", "aac", "-b:a", "96k"], "mp2": ["-c:a", "mp2", "-b:a", "128k"]}[audio]
    mux = ["-muxrate", f"{muxrate_kbps}k"] if muxrate_kbps else []
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}",
                    "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
                    "-t", str(seconds), *vcodec, "-g", str(rate), *acodec, *mux,
                    "-f", "mpegts", str(path)], check=True, timeout=120)
    return Path(path)


class TsSender:
    """Sends a transport stream's bytes to 127.0.0.1:port (or ``address``)
    at ``kbps``, seven packets a datagram, from a thread; stops at the end
    unless ``loop``. What goes out can be changed on the way:

    - ``drop(pid, count, every)``: leave out ``count`` packets of ``pid``,
      one in every ``every``, from now on; each drop is one continuity
      error at a receiver;
    - ``garbage(count, size)``: put ``size`` bytes that hold no 0x47 in
      front of each of the next ``count`` datagrams' second packet.

    ``sent_packets`` counts the packets sent; ``dropped`` and
    ``garbage_sent`` what was injected."""

    def __init__(self, data, port, kbps, *, address="127.0.0.1", loop=False):
        assert len(data) % TS == 0 and data[0] == 0x47
        self.data = bytes(data)
        self.target = (address, port)
        self.rate = kbps * 1000 / 8  # bytes per second
        self.loop = loop
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.lock = threading.Lock()
        self.running = True
        self.sent_packets = 0
        self.dropped = 0
        self.garbage_sent = 0
        self._drop = None  # [pid, remaining, every, seen]
        self._garbage = None  # [remaining, size]
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def drop(self, pid, count, every=40):
        with self.lock:
            self._drop = [pid, count, every, 0]

    def garbage(self, count, size=100):
        with self.lock:
            self._garbage = [count, size]

    def _next_datagram(self, offset):
        packets = [self.data[i:i + TS] for i in range(offset, min(offset + 7 * TS,
                                                                 len(self.data)), TS)]
        out = []
        with self.lock:
            for p in packets:
                d = self._drop
                if d and d[1] > 0 and pid_of(p) == d[0] and p[3] & 0x10:
                    d[3] += 1
                    if d[3] % d[2] == 0:
                        d[1] -= 1
                        self.dropped += 1
                        continue
                out.append(p)
            g = self._garbage
            if g and g[0] > 0 and len(out) >= 2:
                g[0] -= 1
                self.garbage_sent += 1
                junk = bytes((i * 7 + 1) % 256 or 1 for i in range(g[1])).replace(b"\x47", b"\x48")
                out.insert(1, junk)
        return b"".join(out), len(packets)

    def _run(self):
        offset = 0
        start = time.monotonic()
        sent_bytes = 0
        while self.running:
            if offset >= len(self.data):
                if not self.loop:
                    break
                offset = 0
            datagram, count = self._next_datagram(offset)
            offset += count * TS
            if datagram:
                try:
                    self.sock.sendto(datagram, self.target)
                except OSError:
                    pass
            self.sent_packets += count
            sent_bytes += count * TS
            delay = start + sent_bytes / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self.finished.set()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


# --------------------------------------------------------------------------
# The transport stream
# --------------------------------------------------------------------------

def packets(ts):
    """The 188-byte packets of ``ts``, which must be whole and in sync."""
    assert len(ts) % TS == 0, f"{len(ts)} bytes is not whole TS packets"
    out = [ts[i:i + TS] for i in range(0, len(ts), TS)]
    bad = [i for i, p in enumerate(out) if p[0] != 0x47]
    assert not bad, f"{len(bad)} packets out of sync, first at {bad[0]}"
    return out


def datagram_packets(datagrams):
    """[(arrival time, packet)] from a Receiver's datagrams."""
    out = []
    for t, d in datagrams:
        assert len(d) % TS == 0, f"a datagram of {len(d)} bytes is not whole TS packets"
        out.extend((t, d[i:i + TS]) for i in range(0, len(d), TS))
    return out


def pid_of(p):
    return (p[1] & 0x1F) << 8 | p[2]


def _payload(p):
    control = p[3] >> 4 & 3
    if not control & 1:
        return b""
    start = 4 + (1 + p[4] if control & 2 else 0)
    return p[start:]


def _section(p):
    """The section starting in a PSI packet with payload_unit_start."""
    payload = _payload(p)
    return payload[1 + payload[0]:] if payload else b""


def program(pkts):
    """The first program's PMT PID, PCR PID and {elementary PID: stream_type},
    from the first PAT and PMT in ``pkts``."""
    pmt_pid = None
    for p in pkts:
        if pid_of(p) == 0 and p[1] & 0x40:
            s = _section(p)
            length = (s[1] & 0x0F) << 8 | s[2]
            entries = s[8:3 + length - 4]
            for i in range(0, len(entries), 4):
                number = entries[i] << 8 | entries[i + 1]
                if number != 0:
                    pmt_pid = (entries[i + 2] & 0x1F) << 8 | entries[i + 3]
                    break
            break
    assert pmt_pid is not None, "no PAT with a program"
    for p in pkts:
        if pid_of(p) == pmt_pid and p[1] & 0x40:
            s = _section(p)
            length = (s[1] & 0x0F) << 8 | s[2]
            pcr_pid = (s[8] & 0x1F) << 8 | s[9]
            info = (s[10] & 0x0F) << 8 | s[11]
            i, end = 12 + info, 3 + length - 4
            streams = {}
            while i + 5 <= end:
                es_pid = (s[i + 1] & 0x1F) << 8 | s[i + 2]
                streams[es_pid] = s[i]
                i += 5 + ((s[i + 3] & 0x0F) << 8 | s[i + 4])
            return pmt_pid, pcr_pid, streams
    raise AssertionError(f"no PMT on PID {pmt_pid:#x}")


VIDEO_TYPES = {0x01, 0x02, 0x1B, 0x24, 0x10}
AUDIO_TYPES = {0x03, 0x04, 0x0F, 0x11, 0x81}


def video_pid(pkts):
    _, _, streams = program(pkts)
    pids = [pid for pid, kind in streams.items() if kind in VIDEO_TYPES]
    assert pids, f"no video stream in {streams}"
    return pids[0]


def discontinuous(p):
    """Whether a packet's adaptation field sets discontinuity_indicator
    (ISO/IEC 13818-1 2.4.3.4): its counter and clock may start again."""
    return bool(p[3] & 0x20 and p[4] > 0 and p[5] & 0x80)


def continuity_errors(pkts):
    """{pid: continuity-counter errors} (ISO/IEC 13818-1 §2.4.3.3): the
    counter steps by one on packets with payload, a packet may be repeated
    once, the discontinuity indicator resets it, null packets are not
    counted."""
    last = {}
    errors = {}
    for p in pkts:
        pid = pid_of(p)
        if pid == 0x1FFF:
            continue
        cc = p[3] & 0x0F
        has_payload = bool(p[3] & 0x10)
        prev = last.get(pid)
        last[pid] = (cc, p)
        if prev is None or discontinuous(p):
            continue
        prev_cc, prev_p = prev
        expected = (prev_cc + 1) & 0x0F if has_payload else prev_cc
        if cc == expected:
            continue
        if has_payload and cc == prev_cc and p == prev_p:
            continue  # a duplicate
        errors[pid] = errors.get(pid, 0) + 1
    return errors


def pcrs(pkts):
    """[(packet index, pid, PCR in 27 MHz ticks)]."""
    out = []
    for i, p in enumerate(pkts):
        if p[3] & 0x20 and p[4] >= 7 and p[5] & 0x10:
            base = p[6] << 25 | p[7] << 17 | p[8] << 9 | p[9] << 1 | p[10] >> 7
            ext = (p[10] & 1) << 8 | p[11]
            out.append((i, pid_of(p), base * 300 + ext))
    return out


def pcr_steps(pkts):
    """Seconds between consecutive PCRs of each PID (negative when the
    clock went back); the 33-bit base wrap is unwrapped."""
    last = {}
    steps = []
    wrap = (1 << 33) * 300
    for _, pid, value in pcrs(pkts):
        if pid in last:
            step = (value - last[pid]) % wrap
            if step > wrap // 2:
                step -= wrap
            steps.append(step / 27e6)
        last[pid] = value
    return steps


def unmarked_pcr_jumps(pkts, limit=0.1):
    """[(packet index, seconds)] of PCR steps back or over ``limit`` on
    packets not marked discontinuous: TR 101 290's PCR discontinuity
    errors."""
    last, out = {}, []
    for i, pid, value in pcrs(pkts):
        if pid in last and not discontinuous(pkts[i]):
            step = (value - last[pid]) / 27e6
            if not 0 < step <= limit:
                out.append((i, step))
        last[pid] = value
    return out


def pes_pts(pkts, pid):
    """[(packet index, PTS)] of the PES packets starting on ``pid``."""
    out = []
    for i, p in enumerate(pkts):
        if pid_of(p) != pid or not p[1] & 0x40:
            continue
        pes = _payload(p)
        if len(pes) >= 14 and pes[:3] == b"\0\0\1" and pes[7] & 0x80:
            b = pes[9:14]
            pts = ((b[0] >> 1) & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1
            out.append((i, pts))
    return out


def from_first_keyframe(ts):
    """``ts`` cut before the first H.264 PES on its video PID that holds an
    IDR slice: a receiver that joined mid-GOP decodes from there without
    the errors of pictures whose references it never got."""
    pkts = packets(ts)
    pid = video_pid(pkts)
    starts = [i for i, p in enumerate(pkts) if pid_of(p) == pid and p[1] & 0x40]
    for start, end in zip(starts, starts[1:] + [len(pkts)]):
        pes = b"".join(_payload(p) for p in pkts[start:end] if pid_of(p) == pid)
        if _has_idr(pes):
            return b"".join(pkts[start:])
    raise AssertionError("no H.264 IDR picture in the stream")


def without_cut_units(ts):
    """``ts`` less the last PES packet of each elementary stream: a
    receiver that stopped listening at an arbitrary moment holds the last
    unit of each stream cut short, which a decoder rightly reports."""
    pkts = packets(ts)
    _, _, streams = program(pkts)
    last = {pid: i for i, p in enumerate(pkts) if (pid := pid_of(p)) in streams and p[1] & 0x40}
    return b"".join(p for i, p in enumerate(pkts)
                    if pid_of(p) not in last or i < last[pid_of(p)])


def _has_idr(pes):
    if len(pes) < 9:
        return False
    es = pes[9 + pes[8]:]
    i = es.find(b"\0\0\1")
    while i >= 0 and i + 3 < len(es):
        if es[i + 3] & 0x1F == 5:
            return True
        i = es.find(b"\0\0\1", i + 3)
    return False


def contiguous_offset(captured, source):
    """The packet index in ``source`` where ``captured`` starts, asserting
    that ``captured`` is one run of ``source``'s packets, byte for byte."""
    assert captured, "nothing captured"
    assert len(captured) % TS == 0, f"{len(captured)} bytes captured: not whole packets"
    first = captured[:TS]
    at = source.find(first)
    while at >= 0 and at % TS:
        at = source.find(first, at + 1)
    assert at >= 0, "the first captured packet is not one of the source's"
    while True:
        if source[at:at + len(captured)] == captured:
            return at // TS
        nxt = source.find(first, at + TS)
        while nxt >= 0 and nxt % TS:
            nxt = source.find(first, nxt + 1)
        if nxt < 0:
            break
        at = nxt
    # Report where the first candidate run departs from the source.
    at = source.find(first)
    for k in range(0, len(captured), TS):
        if captured[k:k + TS] != source[at + k:at + k + TS]:
            raise AssertionError(
                f"captured packet {k // TS} (PID {pid_of(captured[k:k + TS]):#x}) differs from "
                f"source packet {(at + k) // TS} (PID {pid_of(source[at + k:at + k + TS]):#x})")
    raise AssertionError("captured runs past the end of the source")


def crc32_mpeg(data):
    """The CRC-32 of MPEG-2 sections (polynomial 0x04C11DB7, not
    reflected, initial all ones, no final xor) - not zlib's."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = (crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def retype_stream(ts, old_type, new_type):
    """``ts`` with every PMT entry of stream_type ``old_type`` changed to
    ``new_type`` (CRC recomputed); PMTs must fit one packet, as ffmpeg's do."""
    pkts = [bytearray(p) for p in packets(ts)]
    pmt_pid, _, _ = program([bytes(p) for p in pkts])
    changed = 0
    for p in pkts:
        if pid_of(p) != pmt_pid or not p[1] & 0x40:
            continue
        control = p[3] >> 4 & 3
        start = 4 + (1 + p[4] if control & 2 else 0)
        s = start + 1 + p[start]
        length = (p[s + 1] & 0x0F) << 8 | p[s + 2]
        info = (p[s + 10] & 0x0F) << 8 | p[s + 11]
        i, end = s + 12 + info, s + 3 + length - 4
        while i + 5 <= end:
            if p[i] == old_type:
                p[i] = new_type
                changed += 1
            i += 5 + ((p[i + 3] & 0x0F) << 8 | p[i + 4])
        crc = crc32_mpeg(bytes(p[s:end]))
        p[end:end + 4] = crc.to_bytes(4, "big")
    assert changed, f"no stream of type {old_type:#x}"
    return b"".join(bytes(p) for p in pkts)


def decode_errors(path):
    """What ffmpeg reports decoding every stream of ``path`` (empty: none)."""
    proc = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path),
                           "-f", "null", "-"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stderr.strip()


def streams_of(path):
    """{codec_type: [stream]} as ffprobe sees ``path``."""
    out = {}
    for s in ffprobe(path, "-show_streams")["streams"]:
        out.setdefault(s["codec_type"], []).append(s)
    return out


def gray_frames(path, width=64, height=36):
    """[(PTS, bytes)] of the video pictures of ``path``, scaled to a small
    gray picture, in presentation order."""
    pts = [int(f["pts"]) for f in ffprobe(path, "-select_streams", "v:0", "-show_entries",
                                          "frame=pts", "-show_frames")["frames"]
           if "pts" in f]
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0",
                          "-fps_mode", "passthrough", "-vf", f"scale={width}:{height}",
                          "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True, timeout=300).stdout
    size = width * height
    count = min(len(pts), len(raw) // size)
    return [(pts[i], raw[i * size:(i + 1) * size]) for i in range(count)]


def picture_change(a, b):
    """Mean absolute difference of two gray pictures, 0-255."""
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


# --------------------------------------------------------------------------
# Network namespaces (root)
# --------------------------------------------------------------------------

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def run(*cmd):
    subprocess.run([str(c) for c in cmd], check=True, timeout=30, capture_output=True)


# tests/support/in-netns: `ip netns exec` without its remount of /, which
# fails in a chroot (the fresh-machine test's).
IN_NETNS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "support", "in-netns"))


def in_ns(ns, *cmd):
    """Runs ``cmd`` in network namespace ``ns`` (checked, bounded)."""
    run(IN_NETNS, ns, *cmd)


class NetNamespaces:
    """Two namespaces, ``a`` (10.201.0.1 on veth ``va``) and ``b``
    (10.201.0.2 on ``vb``), joined by a veth pair; lo up in both. Removed
    on leaving ``with``. Nothing in them reaches the host's network."""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.a, self.b = f"makara-{tag}-a", f"makara-{tag}-b"
        self.va, self.vb = f"mk{tag}a", f"mk{tag}b"
        self.addr_a, self.addr_b = "10.201.0.1", "10.201.0.2"

    def __enter__(self):
        assert shutil.which("ip"), "iproute2's ip is missing: scripts/test installs it"
        run("ip", "netns", "add", self.a)
        run("ip", "netns", "add", self.b)
        try:
            run("ip", "link", "add", self.va, "netns", self.a, "type", "veth",
                "peer", "name", self.vb, "netns", self.b)
            for ns, dev, addr in ((self.a, self.va, self.addr_a), (self.b, self.vb, self.addr_b)):
                in_ns(ns, "ip", "link", "set", "lo", "up")
                in_ns(ns, "ip", "addr", "add", f"{addr}/24", "dev", dev)
                in_ns(ns, "ip", "link", "set", dev, "up")
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], timeout=30, capture_output=True)

    def exec_prefix(self, ns):
        return [IN_NETNS, ns]

    @contextmanager
    def entered(self, ns):
        """The calling thread (and what it starts: threads, processes,
        sockets) in namespace ``ns`` until the block ends."""
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(home)
        finally:
            os.close(target)
            os.close(home)


# --------------------------------------------------------------------------
# nginx with the RTMP module (Debian's libnginx-mod-rtmp): a CDN ingest
# --------------------------------------------------------------------------

NGINX_RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"


class Nginx(Peer):
    """nginx in one process, no daemon, its pid and logs under ``work``,
    loading ``module`` and serving ``block`` (an ``rtmp``/``stream``
    block) that listens on 127.0.0.1:``port``; ``start`` returns once it
    listens."""

    def __init__(self, name, work, port, module, block, *, limit=PEER_LIMIT):
        self.port = port
        self.work = Path(work)
        (self.work / "logs").mkdir(parents=True, exist_ok=True)
        conf = self.work / "nginx.conf"
        conf.write_text(f"""load_module {module};
pid {self.work}/nginx.pid;
error_log {self.work}/logs/error.log info;
daemon off;
master_process off;
events {{ worker_connections 64; }}
{block}""")
        super().__init__(name, ["nginx", "-p", self.work, "-c", conf], self.work, limit=limit)

    def start(self):
        super().start()
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if not self.alive() or time.monotonic() > deadline:
                    raise AssertionError(f"nginx did not listen on {self.port}: {self.log()}\n"
                                         f"{self.error_log()}")
                time.sleep(0.05)

    def error_log(self, lines=40):
        path = self.work / "logs" / "error.log"
        if not path.exists():
            return "(no error log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class NginxRtmp(Nginx):
    """nginx as an RTMP ingest on 127.0.0.1:``port``: application ``app``
    takes live publishes and records each to ``record_dir/<key>.flv``.
    ``on_publish`` (a URL) lets an HTTP server accept (2xx) or refuse the
    stream key, as a CDN's authorisation does."""

    def __init__(self, work, *, port=None, app="live", on_publish=None, limit=PEER_LIMIT):
        port = port or free_tcp_port()
        self.app = app
        work = Path(work) / f"nginx-{uuid.uuid4().hex[:6]}"
        self.record_dir = work / "records"
        for d in (work, self.record_dir, work / "tmp"):
            d.mkdir(parents=True, exist_ok=True)
        hook = f"on_publish {on_publish};" if on_publish else ""
        super().__init__("nginx-rtmp", work, port, NGINX_RTMP_MODULE, f"""rtmp {{
    server {{
        listen 127.0.0.1:{port};
        chunk_size 4096;
        application {app} {{
            live on;
            record all;
            record_path {self.record_dir};
            record_unique off;
            {hook}
        }}
    }}
}}
""", limit=limit)

    def url(self, key):
        return f"rtmp://127.0.0.1:{self.port}/{self.app}/{key}"

    def recording(self, key):
        return self.record_dir / f"{key}.flv"


# --------------------------------------------------------------------------
# Streams over the API
# --------------------------------------------------------------------------

def make(api, kind, fields):
    """Creates a resource from (tag, value) pairs; returns its id."""
    return created_id(api.post(f"/apis/kraken/{kind}s", body(kind, fields)), kind)


def udp_output(api, port, **extra):
    return make(api, "output", [("name", unique("udp")), ("url", f"udp://127.0.0.1:{port}"),
                                *extra.items()])


def srt_output(api, **srt):
    """An SRT output; ``srt`` are its srt* elements (srtMode=…)."""
    return make(api, "output", [("name", unique("srt")), ("streamType", "SRT"), *srt.items()])


def srt_input(api, **srt):
    return make(api, "input", [("name", unique("srt-in")), ("streamType", "SRT"), *srt.items()])


def udp_ts_input(api, port, host="127.0.0.1", **extra):
    return make(api, "input", [("name", unique("ts-in")), ("streamType", "MPEG2TS"),
                               ("url", f"udp://{host}:{port}"), *extra.items()])


def pattern_input(api, width=320, height=180, fps=25):
    return make(api, "input", [("name", unique("bars")), ("streamType", "TESTPATTERN"),
                               ("width", width), ("height", height), ("frameRate", fps)])


def h264_transcoder(api, width, height, fps=25, kbps=600, audio="on", **extra):
    return make(api, "transcoder", [
        ("name", unique("h264")), ("resolution", [("width", width), ("height", height)]),
        ("frameRate", fps), ("videoBitrate", kbps), ("gopSize", fps),
        ("encodingProfile", "cbr"), ("audio", audio), *extra.items()])


def make_stream(api, input_id, output_ids, *, transcoder_id=None, mode=None, passthru_id=None):
    """Creates a stream; returns its path."""
    fields = [("name", unique("st")), ("input", input_id)]
    if mode:
        fields.append(("mode", mode))
    if transcoder_id:
        fields.append(("transcoder", transcoder_id))
    if passthru_id:
        fields.append(("passthru", passthru_id))
    fields.append(("outputs", [("output", o) for o in output_ids]))
    sid = make(api, "stream", fields)
    return f"/apis/kraken/streams/stream-{sid}"


def get_stream(api, path):
    return child(expect(api.get(path), 200), "stream")


def start(api, path):
    expect(api.put(path, "<stream><state>start</state></stream>"), 200)


def stop(api, path):
    expect(api.put(path, "<stream><state>stop</state></stream>"), 200)


def wait_until(api, path, test, what, timeout=STATE_TIMEOUT):
    """Polls the stream until ``test(element)`` holds; returns the element.
    Fails with the state and lastError seen last."""
    deadline = time.monotonic() + timeout
    while True:
        el = get_stream(api, path)
        if test(el):
            return el
        if time.monotonic() > deadline:
            stats = el.find("stats")
            raise AssertionError(
                f"stream never {what} within {timeout} s: state {text(el, 'state')!r}, "
                f"lastError {text(el, 'lastError')!r}, stats "
                f"{'' if stats is None else _xml(stats)}")
        time.sleep(0.1)


def _xml(el):
    return ET.tostring(el, "unicode")[:1500]


# How a clear lastError says an input gets nothing, or a caller no answer.
NOTHING_ARRIVES = ("no packet", "no data", "nothing received", "not receiving", "no sender")
NO_ANSWER = ("no answer", "timed out", "unreachable", "refused", "no response")


def says_nothing_arrives(error):
    return any(w in (error or "").lower() for w in NOTHING_ARRIVES)


def says_no_answer(error):
    return any(w in (error or "").lower() for w in NO_ANSWER)


def waiting_with(test):
    """A wait_until test: waiting, with a lastError that passes ``test``
    (a stream's first words may be provisional: "connecting")."""
    return lambda el: text(el, "state") == "waiting" and test(text(el, "lastError"))


def wait_state(api, path, state, timeout=STATE_TIMEOUT):
    return wait_until(api, path, lambda el: text(el, "state") == state, f"became {state}",
                      timeout)


def input_stats(el):
    """The stream's ``<stats><input>``."""
    return child(child(el, "stats"), "input")


def output_stats(el, name):
    """The stream's ``<stats><outputs><output>`` named ``name``."""
    outs = child(child(el, "stats"), "outputs").findall("output")
    for o in outs:
        if text(o, "name") == name:
            return o
    raise AssertionError(f"no <stats><outputs><output> named {name!r}: {_xml(child(el, 'stats'))}")


def receiving(el):
    stats = el.find("stats")
    if stats is None or stats.find("input") is None:
        return False
    return text(stats.find("input"), "receiving") in ("true", "on", "yes", "1")


def number(el, tag):
    value = text(el, tag)
    assert value is not None, f"<{tag}> missing in {_xml(el)}"
    return float(value)


_MEDIA_DIR = None


def media(name):
    """A test TS made once per session: ``h264`` (20 s of 320x240 H.264 +
    AAC at a constant 1000 kbit/s) or ``mpeg2`` (MPEG-2 video + Layer II)."""
    global _MEDIA_DIR
    if _MEDIA_DIR is None:
        _MEDIA_DIR = Path(tempfile.mkdtemp(prefix="makara-media-"))
        atexit.register(shutil.rmtree, _MEDIA_DIR, True)
    path = _MEDIA_DIR / f"{name}.ts"
    if not path.exists():
        kind = {"h264": dict(video="h264", audio="aac", muxrate_kbps=MEDIA_KBPS),
                "mpeg2": dict(video="mpeg2video", audio="mp2", muxrate_kbps=2000)}[name]
        make_ts(path, **kind)
    return path


# The constant rate of media("h264"): TsSender sends it at this rate.
MEDIA_KBPS = 1000


def judge_h264(ts, path, width, height, *, audio=None, min_seconds=2.0):
    """Writes ``ts`` (from its first IDR picture on, less the last unit of
    each stream, which the end of the capture may have cut) to ``path``
    and checks it as a receiver would: one H.264 video stream of ``width``
    x ``height``, ``audio`` (a codec name, or False for none, or None: not
    looked at), at least ``min_seconds`` of pictures, and no decode
    errors. Returns
    the streams ffprobe saw."""
    assert len(ts) > 10 * TS, f"only {len(ts)} bytes received"
    path = Path(path)
    path.write_bytes(without_cut_units(from_first_keyframe(ts)))
    found = streams_of(path)
    video = found.get("video", [])
    assert len(video) == 1, found
    assert video[0]["codec_name"] == "h264", video[0]["codec_name"]
    assert (video[0]["width"], video[0]["height"]) == (width, height)
    if audio is False:
        assert "audio" not in found, found["audio"]
    elif audio is not None:
        assert [a["codec_name"] for a in found.get("audio", [])] == [audio], found.get("audio")
    frames = ffprobe(path, "-select_streams", "v:0", "-count_frames", "-show_entries",
                     "stream=nb_read_frames,r_frame_rate")["streams"][0]
    num, den = map(int, frames["r_frame_rate"].split("/"))
    seconds = int(frames["nb_read_frames"]) * den / num
    assert seconds >= min_seconds, f"{frames['nb_read_frames']} pictures"
    errors = decode_errors(path)
    assert not errors, errors[-2000:]
    return found
