"""A stop ends the transport stream after a whole access unit, promptly.

Each of ten runs of a small TESTPATTERN stream is stopped at a different
moment of its frame period and recorded to the last datagram. FFmpeg must
decode every recording to its end without an error and make a picture of
every video access unit that arrived (a cut last unit is a decode error,
or a unit without a picture); and the stop request must return within 2 s
(the contract says 1 s; the margin is for a loaded machine).
"""

import subprocess

from mediacheck import ffprobe, last_pes, pes_is_whole
from test_av_sync import record

RUNS = 10
# 720p at 8 Mbit/s CBR: each picture spans a few hundred packets, so a
# stop almost always falls inside one.
TRANSCODER = [("encodingProfile", "cbr"), ("videoBitrate", 8000)]
STOP_BOUND_S = 2.0


def decode_errors(path):
    decode = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
                            capture_output=True, text=True, timeout=120)
    assert decode.returncode == 0, decode.stderr[-2000:]
    return decode.stderr.strip()


def test_every_stop_ends_after_a_whole_access_unit(api, tmp_path):
    cut = []
    for run in range(RUNS):
        recording = tmp_path / f"run{run}.ts"
        # 1.5 s and a fraction of a frame more each run, so the stops fall
        # at different points of a picture's transmission.
        stop_took = record(api, recording, 1.5 + run * 0.0071, TRANSCODER,
                           width=1280, height=720, fps=30)
        assert stop_took < STOP_BOUND_S, f"run {run}: stop took {stop_took:.2f} s"
        video = ffprobe(recording, "-select_streams", "v:0", "-count_frames", "-count_packets",
                        "-show_entries", "stream=nb_read_frames,nb_read_packets")["streams"][0]
        errors = decode_errors(recording)
        packets, frames = int(video["nb_read_packets"]), int(video["nb_read_frames"])
        assert packets > 20, f"run {run}: only {packets} access units arrived"
        ts = recording.read_bytes()
        pids = {s["codec_type"]: int(s["id"], 16)
                for s in ffprobe(recording, "-show_streams")["streams"]}
        torn = [kind for kind, pid in pids.items() if not pes_is_whole(last_pes(ts, pid))]
        if errors or frames != packets or torn:
            cut.append(f"run {run}: last PES cut on {torn}; {frames} pictures of "
                       f"{packets} units; {errors[-300:]!r}")
    assert not cut, "stops that cut the last access unit:\n" + "\n".join(cut)
