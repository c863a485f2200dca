"""Receiving a stream on loopback and judging it with Debian's ffprobe:
shared by the media tests here and the appliance-image tests in tests/e2e."""

import json
import socket
import subprocess
import threading
import time


class Receiver:
    """Collects every datagram sent to a loopback port, with arrival times."""

    def __init__(self, port=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.datagrams = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            self.take(data)

    def take(self, data):
        """Keeps one datagram (with its arrival time); a subclass may
        keep it elsewhere."""
        self.datagrams.append((time.monotonic(), data))

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()

    def ts(self):
        return b"".join(d for _, d in self.datagrams)


def ffprobe(path, *args):
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def video_kbps(path, fps):
    """The video stream's bitrate: bytes of its packets over their span."""
    packets = ffprobe(path, "-select_streams", "v", "-show_entries",
                      "packet=size,pts_time", "-show_packets")["packets"]
    seconds = float(packets[-1]["pts_time"]) - float(packets[0]["pts_time"]) + 1 / fps
    return sum(int(p["size"]) for p in packets) * 8 / seconds / 1000


def assert_gop_and_bitrate(path, fps, gop, kbps, min_frames):
    """At least ``min_frames`` pictures, a keyframe first and then exactly
    every ``gop`` pictures, and the video bitrate within 20 % of ``kbps``."""
    frames = ffprobe(path, "-select_streams", "v", "-show_entries",
                     "frame=key_frame", "-show_frames")["frames"]
    keys = [i for i, f in enumerate(frames) if f["key_frame"] == 1]
    assert len(frames) >= min_frames, len(frames)
    assert keys and keys[0] == 0, keys[:5]
    assert all(b - a == gop for a, b in zip(keys, keys[1:])), keys
    measured = video_kbps(path, fps)
    assert abs(measured - kbps) <= 0.2 * kbps, f"{measured:.0f} kbit/s for {kbps}"


def without_last_unit(ts, pid):
    """The transport stream cut before the last packet that starts a PES
    on ``pid``: what remains holds only whole access units of that PID."""
    starts = [i for i in range(0, len(ts) - 187, 188)
              if ts[i] == 0x47 and ts[i + 1] & 0x40
              and ((ts[i + 1] & 0x1F) << 8 | ts[i + 2]) == pid]
    assert starts, f"no PES starts on PID {pid:#x}"
    return ts[:starts[-1]]


def audio_onset(path, threshold=1000):
    """The PTS (90 kHz) of the first sample of the first audio stream whose
    left channel exceeds ``threshold``: the decoded PCM, placed from the
    first decoded frame's PTS on, as a player plays it. Checks that FFmpeg
    decoded exactly the samples its frames report, so the placement holds."""
    probe = ffprobe(path, "-select_streams", "a:0", "-show_entries",
                    "stream=sample_rate:frame=pts,nb_samples", "-show_frames")
    frames, rate = probe["frames"], int(probe["streams"][0]["sample_rate"])
    assert frames, "no audio frames"
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0",
                          "-f", "s16le", "-c:a", "pcm_s16le", "-"],
                         capture_output=True, check=True, timeout=120).stdout
    left = memoryview(pcm).cast("h")[::2]
    assert len(left) == sum(int(f["nb_samples"]) for f in frames), "FFmpeg padded or trimmed"
    onset = next((n for n, s in enumerate(left) if abs(s) > threshold), None)
    assert onset is not None, f"no sample above {threshold}"
    # Contiguous up to the onset: no gap a player would fill with silence.
    first, covered = int(frames[0]["pts"]), 0
    for f in frames:
        if covered > onset:
            break
        assert int(f["pts"]) == first + covered * 90_000 // rate, (f, covered)
        covered += int(f["nb_samples"])
    return first + onset * 90_000 / rate


# The test pattern's bars (firmware/capture/src/draw.rs): seven 75 % bars,
# pixel x of bar k when 7x / width == k, slid right MOTION px a frame.
MOTION_PX_PER_FRAME = 4
GREEN_TO_MAGENTA = 4


def pattern_frames(path, width, height, count):
    """(PTS, frame index) of the first ``count`` pictures of a test pattern
    stream, in presentation order. The index is read from where the bars
    stand: frame i shows them slid right by i · 4 px (mod the width), so
    it is known modulo width / 4 frames. Each reading must sit on the 4 px
    grid, or the picture is not the pattern."""
    pts = [int(f["pts"]) for f in ffprobe(
        path, "-select_streams", "v:0", "-show_entries", "frame=pts",
        "-show_frames")["frames"]][:count]
    return list(zip(pts, pattern_indices(path, [], width, height, len(pts))))


def pattern_indices(path, input_args, width, height, count):
    """The frame index of each of the first ``count`` decoded pictures of
    ``path`` (opened with ffmpeg's ``input_args``), read from the bars as
    ``pattern_frames`` says."""
    raw = subprocess.run(["ffmpeg", "-v", "error", *input_args, "-i", str(path), "-map",
                          "0:v:0", "-frames:v", str(count), "-fps_mode", "passthrough",
                          "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True, timeout=120).stdout
    size = width * height
    assert len(raw) == size * count, (len(raw), count)
    # The unslid green-to-magenta edge: the first pixel pair of bar 4.
    edge0 = next(x for x in range(0, width, 2) if x * 7 // width >= GREEN_TO_MAGENTA)
    out = []
    for i in range(count):
        picture = raw[i * size:(i + 1) * size]
        # Rows above the centred text box: bars only. Averaged over 8 rows.
        rows = [picture[y * width:(y + 1) * width] for y in range(2, 10)]
        luma = [sum(r[x] for r in rows) / len(rows) for x in range(width)]
        # Green (Y 133) to magenta (Y 63) is the one big fall in luma.
        x = min(range(1, width), key=lambda x: luma[x] - luma[x - 1])
        slide = (x - edge0) % width
        assert slide % MOTION_PX_PER_FRAME == 0, f"picture {i}: bars slid {slide} px"
        out.append(slide // MOTION_PX_PER_FRAME)
    return out


def last_pes(ts, pid):
    """The bytes of the last PES packet on ``pid`` that arrived: the
    payloads of its transport packets, from the one that starts it to the
    end of the stream."""
    out = None
    for i in range(0, len(ts) - 187, 188):
        packet = ts[i:i + 188]
        if packet[0] != 0x47 or ((packet[1] & 0x1F) << 8 | packet[2]) != pid:
            continue
        control = packet[3] >> 4 & 3
        if not control & 1:
            continue
        start = 4 + (1 + packet[4] if control & 2 else 0)
        if packet[1] & 0x40:
            out = bytearray()
        if out is not None:
            out += packet[start:]
    assert out is not None, f"no PES starts on PID {pid:#x}"
    return bytes(out)


def pes_is_whole(pes):
    """Whether a PES packet arrived whole. One that declares its length
    must have all of it. An unbounded one (video) must end on a whole NAL
    unit: x264's access units end with a slice or, in CBR, a filler NAL
    unit, all 0xFF but a final 0x80 (its trailing bits), which a cut one
    lacks; a cut slice is left to the decoder, which reports it."""
    assert pes[:3] == b"\0\0\1", pes[:8].hex()
    length = pes[4] << 8 | pes[5]
    if length:
        return len(pes) >= 6 + length
    es = pes[9 + pes[8]:]
    last = es[es.rfind(b"\0\0\1") + 3:]
    kind = last[0] & 0x1F if last else None
    if kind == 12:
        return last[-1] == 0x80 and set(last[1:-1]) <= {0xFF}
    return kind in (1, 5)
