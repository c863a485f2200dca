#!/usr/bin/python3
"""The output soak (docs/benchmarks.md, "Output soak"): one makarad
stream (test pattern -> H.264 + AAC) sends for SECS seconds to one output
of each kind at once, each read by a receiver this project did not write,
and each receiver's result is judged by tools we did not write either
(driven by scripts/bench-soak):

    UDP   -> this process's socket -> a file
    SRT   (listener) <- srt-live-transmit (caller) -> UDP -> a file
    RTMP  -> nginx-rtmp (libnginx-mod-rtmp), recording an FLV
    RTSP  <- ffmpeg (RTSP client, TCP interleaved) -> a TS file

Judged afterwards: the two transport streams packet by packet
(continuity errors per PID, the largest PCR step, tests/integration's
analyser), each recording decoded by ffmpeg (decode errors), its video
frames counted by ffprobe against SECS x fps with the largest gap between
timestamps, and the RTSP client's log for lost RTP packets. Also the
stream's own per-output counters (GET stream stats) at the end.
Everything runs on 127.0.0.1 and every peer under coreutils `timeout`.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

import kraken  # noqa: E402
import peers  # noqa: E402
from mediacheck import Receiver  # noqa: E402
from conftest import Appliance  # noqa: E402

# Seconds for the receivers to connect before the window starts.
SETTLE = 5.0


class FileReceiver(Receiver):
    """Writes the datagrams arriving on a loopback UDP port to a file
    while `recording` is set."""

    def __init__(self, path):
        self.file = open(path, "wb")
        self.path = path
        self.count = 0
        self.recording = False
        super().__init__()

    def take(self, data):
        if self.recording:
            self.file.write(data)
            self.count += 1

    def close(self):
        super().close()
        self.file.close()


def judge_ts(path):
    """Continuity errors and the largest PCR step of a received TS file,
    from its first whole packet on."""
    data = Path(path).read_bytes()
    start = data.find(b"\x47")
    pkts = list(peers.packets(data[start:]))
    errors = peers.continuity_errors(pkts)
    steps = peers.pcr_steps(pkts)
    return {"packets": len(pkts), "cc_errors": sum(errors.values()),
            "cc_errors_by_pid": errors,
            "pcr_step_max_ms": round(max(steps) * 1000, 1) if steps else None,
            "pcr_backwards": sum(1 for s in steps if s < 0)}


def judge_media(path, fps, secs):
    """ffmpeg's decode errors, ffprobe's video frame count and the largest
    gap between consecutive video timestamps of a recording."""
    decode = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-f", "null",
                             "-"], capture_output=True, text=True, timeout=900)
    errors = [line for line in decode.stderr.splitlines() if line.strip()]
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                            "packet=pts_time", "-of", "json", str(path)],
                           capture_output=True, text=True, timeout=900)
    times = sorted(float(p["pts_time"]) for p in json.loads(probe.stdout)["packets"]
                   if p.get("pts_time") not in (None, "N/A"))
    gaps = [(b - a, a - times[0]) for a, b in zip(times, times[1:])]
    gap, at = max(gaps) if gaps else (0.0, 0.0)
    return {"decode_errors": len(errors), "first_errors": errors[:3],
            "video_frames": len(times), "expected_frames": int(secs * fps),
            "largest_gap_ms": round(gap * 1000, 1), "largest_gap_at_s": round(at, 1)}


def stream_counters(api, path, names):
    """Our own view: each output's stats in the stream's GET."""
    el = peers.get_stream(api, path)
    out = {}
    for kind, name in names.items():
        stats = peers.output_stats(el, name)
        out[kind] = {c.tag: c.text for c in stats if len(c) == 0}
    return out


def run(args, work):
    fps = args.fps
    limit = int(SETTLE + args.secs + 120)
    udp = FileReceiver(work / "udp.ts")
    srt_rx = FileReceiver(work / "srt.ts")
    srt_port, rtsp_port = peers.free_udp_port(), peers.free_tcp_port()
    nginx = peers.NginxRtmp(work, limit=limit)
    app = Appliance(work / "box", extra_args=args.makarad_args)
    try:
        api = app.client
        names = {k: kraken.unique(k) for k in ("udp", "srt", "rtmp", "rtsp")}
        outputs = [
            peers.make(api, "output", [("name", names["udp"]),
                                       ("url", f"udp://127.0.0.1:{udp.port}")]),
            peers.make(api, "output", [("name", names["srt"]), ("streamType", "SRT"),
                                       ("srtMode", "listener"), ("srtLocalPort", srt_port),
                                       ("srtLatency", 200)]),
            peers.make(api, "output", [("name", names["rtmp"]), ("streamType", "RTMP"),
                                       ("url", nginx.url("soak"))]),
            peers.make(api, "output", [("name", names["rtsp"]), ("streamType", "RTSP"),
                                       ("url", f"rtsp://127.0.0.1:{rtsp_port}/soak")]),
        ]
        source = peers.pattern_input(api, args.width, args.height, fps)
        tc = peers.h264_transcoder(api, args.width, args.height, fps, args.kbps)
        path = peers.make_stream(api, source, outputs, transcoder_id=tc)
        srt_caller = peers.Peer("srt-caller", [
            "srt-live-transmit", "-a", "yes", "-ll", "error",
            peers.srt_url(srt_port, "caller", latency=200), f"udp://127.0.0.1:{srt_rx.port}"],
            work, limit=limit)
        rtsp_client = peers.Peer("rtsp-client", [
            "ffmpeg", "-nostdin", "-v", "warning", "-rtsp_transport", "tcp",
            "-i", f"rtsp://127.0.0.1:{rtsp_port}/soak", "-t", str(args.secs + SETTLE),
            "-c", "copy", "-f", "mpegts", "-y", work / "rtsp.ts"], work, limit=limit)
        with nginx:
            peers.start(api, path)
            # An SRT listener output without a caller keeps the stream
            # waiting; the RTSP client asks once the stream runs.
            with srt_caller:
                peers.wait_state(api, path, "active")
                rtsp_client.start()
                time.sleep(SETTLE)
                udp.recording = srt_rx.recording = True
                began = time.monotonic()
                time.sleep(args.secs)
                udp.recording = srt_rx.recording = False
                window = time.monotonic() - began
                counters = stream_counters(api, path, names)
                state = kraken.text(peers.get_stream(api, path), "state")
                peers.stop(api, path)
                rtsp_client.proc.wait(timeout=60)
                rtsp_client.stop()
            rtsp_log = rtsp_client.log_path.read_text(errors="replace")
        pushed = nginx.recording("soak")
    finally:
        app.close()
        udp.close()
        srt_rx.close()
    recorded_secs = args.secs + SETTLE
    return {
        "window_s": round(window, 1), "state_at_end": state,
        "udp": judge_ts(udp.path),
        "srt": judge_ts(srt_rx.path),
        "rtmp": judge_media(pushed, fps, recorded_secs),
        "rtsp": {**judge_media(work / "rtsp.ts", fps, recorded_secs),
                 "rtp_loss_lines": [line for line in rtsp_log.splitlines()
                                    if "missed" in line or "RTP" in line][:5]},
        "ours": counters,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=int, default=600)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--kbps", type=int, default=3000)
    ap.add_argument("--work", default=None)
    ap.add_argument("--makarad-args", nargs="*", default=[])
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="makara-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    result = run(args, work)
    print(json.dumps(result, indent=2, default=str))
    failed = [k for k in ("udp", "srt") if result[k]["cc_errors"]]
    failed += [k for k in ("rtmp", "rtsp") if result[k]["decode_errors"]]
    if failed:
        print(f"soak: errors on {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
