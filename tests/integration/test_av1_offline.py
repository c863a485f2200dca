"""AV1 through rav1e, the offline quality mode (`makarad bench transcode
--codec av1 --av1-encoder rav1e --output FILE`), judged by tools we did not
write: an H.264 file made by ffmpeg goes in; what comes out must be AV1 of
the size asked, every picture of the input, a keyframe every 2 s (the
bench transcoder's GOP), the bitrate asked (±20 %), and decode with no
error. FFmpeg 5.1 reads AV1 in a TS only as data: av1ts.py turns it back
into OBUs, as in test_av1.py. Also: --av1-encoder with another codec is
refused as clap refuses a bad argument.
"""

import subprocess

import peers
from kraken import makarad
from mediacheck import ffprobe
from test_av1 import av1_of

WIDTH, HEIGHT, FPS = 320, 240, 30
SECONDS = 4
# The bench transcoder's GOP: two seconds.
GOP = 2 * FPS
KBPS = 600
TIMEOUT = 300


def bench_transcode(*args):
    return subprocess.run([makarad(), "--log-level", "warn", "bench", "transcode", *map(str, args)],
                          capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)


def test_rav1e_transcodes_a_file_to_av1_as_asked(tmp_path):
    source = peers.make_ts(tmp_path / "in.ts", seconds=SECONDS, size=f"{WIDTH}x{HEIGHT}",
                           rate=FPS)
    output = tmp_path / "out.ts"
    done = bench_transcode("--input", source, "--codec", "av1", "--av1-encoder", "rav1e",
                           "--width", WIDTH, "--height", HEIGHT, "--preset", "ultrafast",
                           "--bitrate", KBPS, "--output", output)
    assert done.returncode == 0, done.stderr[-2000:]
    pictures = SECONDS * FPS
    assert f"frames: {pictures}" in done.stdout, done.stdout
    assert "mux_late_units: 0 mux_dropped_units: 0 ring_dropped: 0" in done.stdout, done.stdout

    obu, summary, pts = av1_of(output, tmp_path)
    assert summary["temporal_units"] == len(pts) == pictures, (summary, len(pts))
    streams = ffprobe(obu, "-f", "obu", "-show_streams")["streams"]
    assert [(s["codec_name"], s["width"], s["height"]) for s in streams] == \
        [("av1", WIDTH, HEIGHT)], streams
    decode = subprocess.run(["ffmpeg", "-v", "error", "-f", "obu", "-i", str(obu), "-f", "null",
                             "-"], capture_output=True, text=True, timeout=TIMEOUT)
    assert decode.returncode == 0 and not decode.stderr.strip(), decode.stderr[-2000:]

    frames = ffprobe(obu, "-f", "obu", "-show_entries", "frame=key_frame",
                     "-show_frames")["frames"]
    assert len(frames) == pictures, len(frames)
    keys = [i for i, f in enumerate(frames) if f["key_frame"] == 1]
    assert keys == list(range(0, pictures, GOP)), keys
    # One picture per frame period, in presentation order: rav1e's hidden
    # frames stay inside its temporal units.
    assert {b - a for a, b in zip(pts, pts[1:])} == {90_000 // FPS}, sorted(set(pts))

    kbps = summary["bytes"] * 8 / SECONDS / 1000
    assert abs(kbps - KBPS) <= 0.2 * KBPS, f"{kbps:.0f} kbit/s for {KBPS}"


def test_av1_encoder_with_another_codec_is_refused_as_a_bad_argument(tmp_path):
    done = bench_transcode("--input", tmp_path / "none.ts", "--codec", "hevc",
                           "--av1-encoder", "rav1e", "--width", WIDTH, "--height", HEIGHT,
                           "--preset", "ultrafast", "--bitrate", KBPS)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "'--av1-encoder' is only valid with '--codec av1'" in done.stderr, done.stderr
    assert "Usage: makarad bench transcode" in done.stderr, done.stderr
