"""Audio and video stay in sync whatever the encoding profile and B-frames.

The test pattern's tone and pictures come from one clock: the tone's
sample 0 and picture 0 are both captured at the stream's origin. So in
the received stream the tone's onset (the first loud decoded sample) and
the PTS picture 0 has, or would have had, must coincide. Picture 0 may be
lost at start-up (a late first wake-up); each picture says which one it is
by where the moving bars stand, and its PTS minus its index times the frame
period is picture 0's. Judged by FFmpeg's decode of what arrived.
"""

import time

import pytest

from kraken import body, created_id, expect, unique
from mediacheck import Receiver, audio_onset, pattern_frames
from test_media import wait_for_state

WIDTH, HEIGHT, FPS = 320, 180, 30
# The contract: within ±5 ms. The onset is read as the first sample above
# 1000, a quarter of the tone's peak, which the sine (from phase 0) reaches
# at its third sample, 2/48000 s late: those two samples are tolerated too.
TOLERANCE_TICKS = 5 * 90 + 2 * 90_000 / 48_000
# Enough for the quality profile's 1.35 s presentation delay and lookahead.
SECONDS = 4

# Every encodingProfile at its default B-frames (quality: 3), and each
# bFrame value on a low-latency profile and on quality.
CASES = [(profile, None) for profile in ("vbr", "cbr", "performance", "balanced", "quality")]
CASES += [("vbr", b) for b in (1, 2, 3)] + [("quality", 1)]


def pattern_stream(api, port, transcoder, width=WIDTH, height=HEIGHT, fps=FPS):
    """A TESTPATTERN stream with audio to udp://127.0.0.1:`port`, its
    transcoder given only the (tag, value) pairs of `transcoder` beyond the
    size, rate and audio; returns the stream's path."""
    input_id = created_id(api.post("/apis/kraken/inputs", body("input", [
        ("name", unique("bars")), ("streamType", "TESTPATTERN"),
        ("width", width), ("height", height), ("frameRate", fps)])), "input")
    transcoder_id = created_id(api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("h264")), ("resolution", [("width", width), ("height", height)]),
        ("frameRate", fps), ("audio", "on"), *transcoder])),
        "transcoder")
    output_id = created_id(api.post("/apis/kraken/outputs", body("output", [
        ("name", unique("udp")), ("url", f"udp://127.0.0.1:{port}")])), "output")
    stream_id = created_id(api.post("/apis/kraken/streams", body("stream", [
        ("name", unique("sync")), ("input", input_id), ("transcoder", transcoder_id),
        ("outputs", [("output", output_id)])])), "stream")
    return f"/apis/kraken/streams/stream-{stream_id}"


def record(api, path_ts, seconds, transcoder, **picture):
    """Runs a pattern stream (of `picture`: width, height, fps) for
    `seconds` once it is active, stops it, and writes everything that
    arrived to `path_ts`. Returns how long the stop request took, in
    seconds."""
    sink = Receiver()
    try:
        path = pattern_stream(api, sink.port, transcoder, **picture)
        expect(api.put(path, "<stream><state>start</state></stream>"), 200)
        wait_for_state(api, path, "active")
        time.sleep(seconds)
        asked = time.monotonic()
        expect(api.put(path, "<stream><state>stop</state></stream>"), 200)
        stop_took = time.monotonic() - asked
        # Loopback delivers at once; this only lets the receiver drain.
        time.sleep(0.3)
    finally:
        sink.close()
    path_ts.write_bytes(sink.ts())
    return stop_took


@pytest.mark.parametrize("profile,b_frames", CASES,
                         ids=[f"{p}-b{'default' if b is None else b}" for p, b in CASES])
def test_tone_onset_meets_picture_zero(api, tmp_path, profile, b_frames):
    extra = [("videoBitrate", 1500), ("encodingProfile", profile)]
    if b_frames is not None:
        extra.append(("bFrame", b_frames))
    recording = tmp_path / "sync.ts"
    record(api, recording, SECONDS, extra)

    onset = audio_onset(recording)
    pictures = pattern_frames(recording, WIDTH, HEIGHT, 10)
    # Frame i is captured at i/30 s in whole nanoseconds, then truncated
    # to 90 kHz ticks: picture 0's PTS read from each is exact to a tick.
    zeros = [pts - index * 90_000 / FPS for pts, index in pictures]
    assert max(zeros) - min(zeros) <= 1, f"pictures disagree on picture 0's PTS: {pictures}"
    offset = onset - zeros[0]
    assert abs(offset) <= TOLERANCE_TICKS, (
        f"{profile} bFrame {b_frames}: the tone starts {offset / 90:+.1f} ms from picture 0 "
        f"(audio onset {onset:.0f}, first pictures (PTS, index): {pictures[:3]})")
