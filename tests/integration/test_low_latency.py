"""The low-latency setting (docs/media-engine.md, "Low latency"): a VBV of
about one frame, no jitter buffer, no B-frames and intra refresh. Judged on
the received stream: ffprobe sees no B-frame and no keyframe after the
first, and the first picture is presented at most VBV + jitter buffer +
100 ms after the first PCR (the presentation delay the setting promises;
the stream's first PCR comes a few ms after the first capture, so this is
an upper bound that does not depend on timing). Its latency figures are in
docs/benchmarks.md (scripts/bench-latency), not in timed assertions.
"""

import time

from kraken import expect
from mediacheck import Receiver, ffprobe
from test_media import make_stream, wait_for_state

SECONDS = 4
LOW_LATENCY = [("bFrame", 0), ("jitterBufferMs", 0), ("shapingVbvSizeMs", 50),
               ("enableIntraRefresh", "on")]
PROMISED_DELAY_MS = 50 + 0 + 100


def first_pcr_and_video_pts(ts, video_pid):
    """The first PCR (27 MHz) and the PTS (90 kHz) of the first video PES."""
    pcr = pts = None
    for i in range(0, len(ts) - 187, 188):
        p = ts[i:i + 188]
        adaptation = p[3] & 0x20
        if pcr is None and adaptation and p[4] >= 7 and p[5] & 0x10:
            b = p[6:12]
            pcr = (b[0] << 25 | b[1] << 17 | b[2] << 9 | b[3] << 1 | b[4] >> 7) * 300 \
                + ((b[4] & 1) << 8 | b[5])
        if pts is None and (p[1] & 0x1F) << 8 | p[2] == video_pid and p[1] & 0x40:
            h = p[4 + (1 + p[4] if adaptation else 0):]
            assert h[:3] == b"\0\0\1" and h[7] & 0x80, "video PES without a PTS"
            q = h[9:14]
            pts = ((q[0] >> 1) & 7) << 30 | q[1] << 22 | (q[2] >> 1) << 15 | q[3] << 7 | q[4] >> 1
        if pcr is not None and pts is not None:
            return pcr, pts
    raise AssertionError("no PCR or no video PES")


def test_the_low_latency_setting_has_no_b_frames_no_idr_spikes_and_a_short_delay(fresh, tmp_path):
    api = fresh.client
    receiver = Receiver()
    try:
        path = make_stream(api, [(receiver.port, 1500)], transcoder=LOW_LATENCY)
        expect(api.put(path, "<stream><state>start</state></stream>"), 200)
        wait_for_state(api, path, "active")
        time.sleep(SECONDS)
        expect(api.put(path, "<stream><state>stop</state></stream>"), 200)
        time.sleep(1)
    finally:
        receiver.close()
    recording = tmp_path / "low-latency.ts"
    recording.write_bytes(receiver.ts())

    frames = ffprobe(recording, "-select_streams", "v:0", "-show_entries",
                     "frame=pict_type,key_frame", "-show_frames")["frames"]
    assert len(frames) >= (SECONDS - 1) * 30, len(frames)
    assert not [f for f in frames if f["pict_type"] == "B"], "B-frames with bFrame 0"
    keyframes = [i for i, f in enumerate(frames) if int(f["key_frame"])]
    # The stream's GOP is 30: without intra refresh every 30th picture is an IDR.
    assert keyframes == [0], f"keyframes at {keyframes[:10]}: intra refresh sends no IDR after the first"

    video_pid = int(ffprobe(recording, "-select_streams", "v:0", "-show_entries",
                            "stream=id")["streams"][0]["id"], 16)
    pcr, pts = first_pcr_and_video_pts(receiver.ts(), video_pid)
    delay_ms = (pts * 300 - pcr) / 27_000
    assert 0 < delay_ms <= PROMISED_DELAY_MS, f"first PTS {delay_ms:.1f} ms after the first PCR"
