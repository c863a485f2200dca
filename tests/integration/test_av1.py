"""AV1 (videoType av1, SVT-AV1), judged by tools we did not write.

FFmpeg 5.1 cannot demux AV1 from a transport stream (it has no reader of
AOM's carriage), so it reads the AV1 PID as a data stream; av1ts.py, written
from AOM's "Carriage of AV1 in MPEG-2 TS" alone, turns those PES payloads
back into the low-overhead OBU stream that ffprobe (`-f obu`) and libdav1d
read. What arrives must be AV1 of the size, rate, GOP and bitrate (±20 %)
configured, decode with no error, keep the tone's onset within ±5 ms of
picture 0, and meet the T-STD (`tsreport`); its PMT entry is stream_type
0x06 with the registration descriptor 'AV01'.
"""

import json
import subprocess
import sys
from pathlib import Path

from mediacheck import audio_onset, ffprobe, pattern_indices
from test_av_sync import TOLERANCE_TICKS, record
from test_transport import AUDIO_BSN, tsreport

WIDTH, HEIGHT, FPS = 320, 180, 30
GOP = 30
# What the pattern at this size needs from SVT-AV1 at its rate: live AV1 is
# constant bitrate without filler, so an easy picture takes less than a
# higher videoBitrate (docs/codecs.md); 150 kbit/s is the least allowed.
KBPS = 150
SECONDS = 6
AV1TS = Path(__file__).with_name("av1ts.py")


def av1_of(recording, tmp_path):
    """The AV1 PID's PES payloads (as FFmpeg reads them), turned into an
    OBU file by av1ts.py; returns (path, av1ts's summary, the payloads' PTS)."""
    payloads = tmp_path / "av1.pes"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(recording), "-map", "0:d:0", "-c", "copy",
                    "-f", "data", "-y", str(payloads)], check=True, timeout=120)
    obu = tmp_path / "av1.obu"
    out = subprocess.run([sys.executable, str(AV1TS), str(payloads), str(obu)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    pts = [int(p["pts"]) for p in ffprobe(recording, "-select_streams", "d:0", "-show_entries",
                                          "packet=pts", "-show_packets")["packets"]]
    return obu, json.loads(out.stdout), pts


def test_av1_arrives_as_configured(api, tmp_path):
    recording = tmp_path / "av1.ts"
    record(api, recording, SECONDS, [("videoType", "av1"), ("videoBitrate", KBPS),
                                     ("gopSize", GOP), ("encodingProfile", "cbr")])

    report = tsreport(recording)
    by_type = {s["stream_type"]: s for s in report["streams"]}
    assert set(by_type) >= {0x06, 0x0F}, report
    assert report["continuity_errors"] == 0, report
    for es in (by_type[0x06], by_type[0x0F]):
        assert es["max_wait_ms"] <= 1000, es
        assert es["late_units"] == 0, es
        assert es["t_std_ok"] is True, es
    assert by_type[0x0F]["max_occupancy"] <= AUDIO_BSN, by_type[0x0F]

    obu, summary, pts = av1_of(recording, tmp_path)
    # One temporal unit per PES packet.
    assert summary["temporal_units"] == len(pts), (summary, len(pts))
    streams = ffprobe(obu, "-f", "obu", "-show_streams")["streams"]
    assert [(s["codec_name"], s["width"], s["height"]) for s in streams] == \
        [("av1", WIDTH, HEIGHT)], streams
    decode = subprocess.run(["ffmpeg", "-v", "error", "-f", "obu", "-i", str(obu), "-f", "null",
                             "-"], capture_output=True, text=True, timeout=300)
    assert decode.returncode == 0 and not decode.stderr.strip(), decode.stderr[-2000:]

    frames = ffprobe(obu, "-f", "obu", "-show_entries", "frame=key_frame",
                     "-show_frames")["frames"]
    assert len(frames) == len(pts) >= (SECONDS - 1) * FPS, (len(frames), len(pts))
    keys = [i for i, f in enumerate(frames) if f["key_frame"] == 1]
    assert keys and keys[0] == 0, keys[:5]
    assert all(b - a == GOP for a, b in zip(keys, keys[1:])), keys
    # Every unit is one frame period after the last: the frame rate. (A
    # picture's capture time in whole nanoseconds, truncated to 90 kHz,
    # may fall one tick short.)
    steps = {b - a for a, b in zip(pts, pts[1:])}
    assert steps <= {90_000 // FPS - 1, 90_000 // FPS}, sorted(steps)

    # The bitrate: the temporal units' bytes (without the TS format's start
    # codes and escapes) over their span.
    kbps = summary["bytes"] * 8 / (len(pts) / FPS) / 1000
    assert abs(kbps - KBPS) <= 0.2 * KBPS, f"{kbps:.0f} kbit/s for {KBPS}"

    # The tone starts with picture 0: each picture's index from the bars,
    # its PTS from its PES packet (low delay: decoding order is
    # presentation order).
    onset = audio_onset(recording)
    indices = pattern_indices(obu, ["-f", "obu"], WIDTH, HEIGHT, 10)
    zeros = [t - i * 90_000 / FPS for t, i in zip(pts, indices)]
    assert max(zeros) - min(zeros) <= 1, list(zip(pts, indices))
    offset = onset - zeros[0]
    assert abs(offset) <= TOLERANCE_TICKS, f"the tone is {offset / 90:+.1f} ms off picture 0"
