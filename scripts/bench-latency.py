"""Latency of a live test-pattern stream, measured from the outside
(docs/benchmarks.md, "Media engine: latency"). Run by scripts/bench-latency.

One run: a fresh `makarad serve`, a TESTPATTERN input, a transcoder and a
UDP output to 127.0.0.1, started over the API; every datagram is recorded
with its arrival time on CLOCK_MONOTONIC (Python's time.monotonic), on the
same machine. Then, per picture:

* Which frame it is: decoded by ffmpeg, its index read from where the bars
  stand (tests/integration/mediacheck.py), unwrapped along the PTS.
* When it was captured, on the receiver's clock. The test pattern captures
  frame n at origin + n / fps on CLOCK_MONOTONIC, and the PCR counts the
  same clock from the same origin (27 MHz). A packet leaves no earlier than
  the PCR it carries, so min(arrival - PCR) over all PCRs is the offset of
  the PCR clock on the receiver's, late by at most the smallest send delay
  seen (tens of µs on loopback over hundreds of PCRs). Capture of frame n =
  offset + n / fps. Checked: no picture's first packet arrives before its
  capture.
* Capture to wire: the arrival of the last TS packet of its PES (and, to
  tell encoding from sending, of the first: "first").
* Glass to glass at the decoder: presentation at its PTS on the
  PCR-recovered clock (offset + PTS / 90 kHz) minus capture. The decoder's
  own display delay is not included.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "integration"))

from conftest import Appliance  # noqa: E402
from kraken import body, child, created_id, expect, text, unique  # noqa: E402
from mediacheck import GREEN_TO_MAGENTA, MOTION_PX_PER_FRAME, Receiver, ffprobe  # noqa: E402

BITRATE = 4000
GOP = 60


def make_stream(api, port, width, height, fps, transcoder):
    input_id = created_id(api.post("/apis/kraken/inputs", body("input", [
        ("name", unique("bars")), ("streamType", "TESTPATTERN"),
        ("width", width), ("height", height), ("frameRate", fps)])), "input")
    transcoder_id = created_id(api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("h264")), ("resolution", [("width", width), ("height", height)]),
        ("frameRate", fps), ("videoBitrate", BITRATE), ("gopSize", GOP), *transcoder])),
        "transcoder")
    output_id = created_id(api.post("/apis/kraken/outputs", body("output", [
        ("name", unique("udp")), ("url", f"udp://127.0.0.1:{port}")])), "output")
    stream_id = created_id(api.post("/apis/kraken/streams", body("stream", [
        ("name", unique("live")), ("input", input_id), ("transcoder", transcoder_id),
        ("outputs", [("output", output_id)])])), "stream")
    return f"/apis/kraken/streams/stream-{stream_id}"


def record(workdir, width, height, fps, seconds, transcoder):
    """Runs one stream for ``seconds``; returns the datagrams and the
    stream's stats."""
    app = Appliance(workdir)
    receiver = Receiver()
    try:
        api = app.client
        path = make_stream(api, receiver.port, width, height, fps, transcoder)
        expect(api.put(path, "<stream><state>start</state></stream>"), 200)
        time.sleep(seconds)
        stats = child(child(expect(api.get(path), 200), "stream"), "stats")
        expect(api.put(path, "<stream><state>stop</state></stream>"), 200)
        time.sleep(1)
    finally:
        receiver.close()
        app.close()
    return receiver.datagrams, {e.tag: e.text for e in stats}


def packets(datagrams):
    """(arrival, 188-byte packet) in arrival order."""
    for arrival, data in datagrams:
        for i in range(0, len(data) - 187, 188):
            yield arrival, data[i:i + 188]


def pcr_of(packet):
    if packet[3] & 0x20 and packet[4] >= 7 and packet[5] & 0x10:
        b = packet[6:12]
        base = b[0] << 25 | b[1] << 17 | b[2] << 9 | b[3] << 1 | b[4] >> 7
        return base * 300 + ((b[4] & 1) << 8 | b[5])
    return None


def pes_pts(packet):
    """The PTS of the PES that starts in ``packet``."""
    start = 4 + (1 + packet[4] if packet[3] & 0x20 else 0)
    pes = packet[start:]
    assert pes[:3] == b"\0\0\1" and pes[7] & 0x80, "a video PES without PTS"
    p = pes[9:14]
    return ((p[0] >> 1) & 7) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1


def wire_times(datagrams, video_pid):
    """The PCR clock's offset on the receiver's (s), how late the earliest
    PCRs came, and per video PTS the arrival of the PES's first and last
    packet. The last PES is left out: it may be cut."""
    lateness, pes = [], []
    for arrival, packet in packets(datagrams):
        pid = (packet[1] & 0x1F) << 8 | packet[2]
        pcr = pcr_of(packet)
        if pcr is not None:
            lateness.append(arrival - pcr / 27e6)
        if pid == video_pid:
            if packet[1] & 0x40:
                pes.append([pes_pts(packet), arrival, arrival])
            elif pes:
                pes[-1][2] = arrival
    lateness.sort()
    offset = lateness[0]
    spread = lateness[min(len(lateness) - 1, 9)] - offset
    return offset, spread, {pts: (first, last) for pts, first, last in pes[:-1]}


def pattern_frames(path, width, count):
    """(PTS, frame index modulo width / 4) of the first ``count`` pictures,
    in presentation order: mediacheck.pattern_frames's reading of the bars
    (the one big luma fall, green to magenta, in rows 2-9), on those rows
    alone (a whole 1080p recording would not fit in memory), with the edge
    found where the luma crosses the middle (x264 smears it over a few
    pixels) and circularly (slid by a multiple of the width, the edge is at
    pixel 0, which mediacheck's helper does not look at)."""
    pts = [int(f["pts"]) for f in ffprobe(
        path, "-select_streams", "v:0", "-show_entries", "frame=pts",
        "-show_frames")["frames"]][:count]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0",
                          "-frames:v", str(len(pts)), "-fps_mode", "passthrough",
                          "-vf", f"crop={width}:8:0:2", "-f", "rawvideo", "-pix_fmt", "gray",
                          "-"], capture_output=True, check=True, timeout=600).stdout
    size = width * 8
    assert len(raw) == size * len(pts), (len(raw), len(pts))
    edge0 = next(x for x in range(0, width, 2) if x * 7 // width >= GREEN_TO_MAGENTA)
    out = []
    for i, t in enumerate(pts):
        rows = [raw[i * size + y * width:i * size + (y + 1) * width] for y in range(8)]
        luma = [sum(r[x] for r in rows) for x in range(width)]
        slide = (falling_edge(luma) - edge0) % width
        out.append((t, round(slide / MOTION_PX_PER_FRAME) % (width // MOTION_PX_PER_FRAME)))
    return out


def falling_edge(luma):
    """Where the green-to-magenta fall sits in one row of the bars: the
    first pixel below the middle of the two levels, around the steepest
    2 px fall. Circular: slid far enough, the edge is at pixel 0."""
    width = len(luma)
    steepest = min(range(width), key=lambda x: luma[x] - luma[x - 2])
    middle = (luma[steepest - 4] + luma[(steepest + 3) % width]) / 2
    return next(x % width for x in range(steepest - 3, steepest + 3) if luma[x % width] < middle)


def absolute_indices(frames, width, fps):
    """The bars give a frame's index modulo width / 4; the PTS steps say
    how many frames passed. The receiver listens before the stream starts,
    so the first picture is within the first lap."""
    lap = width // MOTION_PX_PER_FRAME
    out, previous = [], None
    for pts, index in frames:
        if previous is None:
            absolute = index
        else:
            expected = previous[1] + round((pts - previous[0]) * fps / 90_000)
            absolute = expected + (index - expected) % lap
            if absolute - expected > lap // 2:
                absolute -= lap
        out.append((pts, absolute))
        previous = (pts, absolute)
    return out


def p99(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def measure(workdir, width, height, fps, seconds, transcoder):
    datagrams, stats = record(workdir, width, height, fps, seconds, transcoder)
    ts = workdir / "stream.ts"
    ts.write_bytes(b"".join(d for _, d in datagrams))
    video = ffprobe(ts, "-select_streams", "v:0", "-show_entries", "stream=id")["streams"][0]
    offset, spread, pes = wire_times(datagrams, int(video["id"], 16))
    frames = absolute_indices(pattern_frames(ts, width, len(pes)), width, fps)
    wire, glass, early = [], [], []
    for pts, index in frames:
        if pts not in pes:
            continue
        captured = offset + index / fps
        first, last = pes[pts]
        early.append(first - captured)
        wire.append(last - captured)
        glass.append(pts / 90_000 - index / fps)
    assert min(early) >= 0, f"a picture's first packet came {-min(early) * 1e3:.1f} ms before its capture"
    ms = lambda v: round(v * 1e3, 1)  # noqa: E731
    return {
        "size": f"{width}x{height}", "pictures": len(wire),
        "first_mean_ms": ms(statistics.mean(early)), "first_p99_ms": ms(p99(early)),
        "wire_mean_ms": ms(statistics.mean(wire)), "wire_p99_ms": ms(p99(wire)),
        "wire_max_ms": ms(max(wire)),
        "glass_mean_ms": ms(statistics.mean(glass)), "glass_p99_ms": ms(p99(glass)),
        "margin_min_ms": ms(min(g - w for g, w in zip(glass, wire))),
        "pcr_spread_ms": round(spread * 1e3, 3),
        "frames_dropped": stats.get("framesDropped"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--sizes", default="1280x720,1920x1080")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--set", action="append", default=[], metavar="ELEMENT=VALUE",
                        help="a transcoder element, e.g. jitterBufferMs=0 (repeatable)")
    args = parser.parse_args()
    transcoder = [tuple(s.split("=", 1)) for s in args.set]
    results = []
    for run in range(args.runs):
        for size in args.sizes.split(","):
            width, height = map(int, size.split("x"))
            with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
                r = measure(Path(tmp), width, height, args.fps, args.seconds, transcoder)
            r["run"] = run + 1
            print(json.dumps(r), flush=True)
            results.append(r)
    print(f"medians of {args.runs} runs, transcoder {dict(transcoder) or 'defaults'}:")
    for size in args.sizes.split(","):
        mine = [r for r in results if r["size"] == size]
        line = {k: round(statistics.median(r[k] for r in mine), 1)
                for k in ("first_mean_ms", "wire_mean_ms", "wire_p99_ms", "glass_mean_ms", "glass_p99_ms",
                          "margin_min_ms")}
        print(f"  {size}: {json.dumps(line)}")


if __name__ == "__main__":
    main()
