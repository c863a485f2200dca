"""Input loss (issue 9 §7): when the input stops, the output goes on as a
valid, continuous stream (a slate picture and silence) until the input
comes back, and the stream takes the input's pictures again within 2 s
of its return, without a restart.

An ffmpeg sender (UDP), or the srt-live-transmit caller in front of our
SRT listener input, is stopped for about 3 s and started again. The whole
UDP output is captured with arrival times and judged: no continuity error
on any PID, no PCR step over 100 ms, no silence on the wire, pictures and
sound all through the cut, the cut's pictures still (the slate), the
input's moving pictures before and after.
"""

import time

import pytest

import peers
from kraken import text
from mediacheck import Receiver

W, H, FPS = 320, 240, 25
CUT_SECONDS = 3.0
RECOVERY_LIMIT = 2.0
# Mean absolute change between consecutive 64x36 gray pictures: testsrc2
# moves by 2-6 a picture; a still slate re-encoded changes by well under 1.
STILL, MOVING = 1.0, 1.5


def stream_with_cuttable_input(api, tmp_path, transport, sink_port):
    """The stream, the sender that always runs, and the peer the test
    cuts (the sender itself for UDP, the SRT caller for SRT)."""
    source = peers.media("h264")
    port = peers.free_udp_port()
    if transport == "udp":
        input_id = peers.udp_ts_input(api, port)
        sender = peers.ffmpeg_ts_sender(source, port, tmp_path)
        cut = sender
    else:
        feed = peers.free_udp_port()
        input_id = peers.srt_input(api, srtMode="listener", srtLocalPort=port)
        sender = peers.ffmpeg_ts_sender(source, feed, tmp_path)
        cut = peers.srt_live_transmit(f"udp://127.0.0.1:{feed}", peers.srt_url(port, "caller"),
                                      tmp_path)
    path = peers.make_stream(api, input_id, [peers.udp_output(api, sink_port)],
                             transcoder_id=peers.h264_transcoder(api, W, H, FPS, bFrame=0))
    return path, sender, cut


@pytest.mark.parametrize("transport", ["udp", "srt"])
def test_an_input_cut_and_restored_keeps_the_output_continuous(fresh, tmp_path, transport):
    api = fresh.client
    sink = Receiver()
    try:
        path, sender, cut = stream_with_cuttable_input(api, tmp_path, transport, sink.port)
        with sender:
            if cut is not sender:
                cut.start()
            try:
                peers.start(api, path)
                peers.wait_until(api, path, peers.receiving, "receiving")
                peers.wait_state(api, path, "active")
                time.sleep(4)
                cut.stop()
                cut_at = time.monotonic()
                lost = peers.wait_until(api, path, lambda el: not peers.receiving(el),
                                        "noticed the loss", timeout=10)
                noticed = time.monotonic() - cut_at
                print(f"{transport}: loss noticed after {noticed:.2f} s, state "
                      f"{text(lost, 'state')}, lastError {text(lost, 'lastError')!r}")
                time.sleep(max(0.0, cut_at + CUT_SECONDS - time.monotonic()))
                late = peers.get_stream(api, path)
                cut.start()
                back_at = time.monotonic()
                peers.wait_until(api, path, peers.receiving, "receiving again", timeout=15)
                receiving_after = time.monotonic() - back_at
                peers.wait_state(api, path, "active", timeout=15)
                active_after = time.monotonic() - back_at
                time.sleep(max(0.0, back_at + 5 - time.monotonic()))
                peers.stop(api, path)
            finally:
                cut.stop()
    finally:
        sink.close()

    # Three seconds into the cut, the stream says what is wrong: nothing
    # arrives (UDP), or the caller has gone (SRT).
    error = text(late, "lastError") or ""
    print(f"{transport}: lastError late in the cut {error!r}")
    assert text(late, "state") == "waiting", text(late, "state")
    gone = ("no caller", "waiting for a caller", "left")
    assert peers.says_nothing_arrives(error) or (
        transport == "srt" and any(w in error.lower() for w in gone)), error

    timed = peers.datagram_packets(sink.datagrams)
    pkts = [p for _, p in timed]
    assert len(pkts) > 1000, len(pkts)
    assert peers.continuity_errors(pkts) == {}, peers.continuity_errors(pkts)
    steps = peers.pcr_steps(pkts)
    assert steps and 0 < min(steps) and max(steps) <= 0.1, (min(steps), max(steps))
    arrivals = [t for t, _ in sink.datagrams]
    silence = max(b - a for a, b in zip(arrivals, arrivals[1:]))
    assert silence < 1.0, f"nothing arrived for {silence:.2f} s"

    _, _, streams = peers.program(pkts)
    video = peers.video_pid(pkts)
    audio = [pid for pid, kind in streams.items() if kind in peers.AUDIO_TYPES]
    assert len(audio) == 1, streams
    window = (cut_at + 1.5, back_at)
    sound = [i for i, _ in peers.pes_pts(pkts, audio[0]) if window[0] <= timed[i][0] < window[1]]
    assert len(sound) >= 5, f"{len(sound)} audio PES during the cut"

    # Pictures placed in time by the arrival of their PES.
    arrival_of = {pts: timed[i][0] for i, pts in peers.pes_pts(pkts, video)}
    ts_path = tmp_path / "output.ts"
    ts_path.write_bytes(b"".join(pkts))
    frames = [(arrival_of[pts], picture) for pts, picture in peers.gray_frames(ts_path)
              if pts in arrival_of]
    changes = [(t, peers.picture_change(a, b)) for (_, a), (t, b) in zip(frames, frames[1:])]
    before = [c for t, c in changes if t < cut_at]
    during = [c for t, c in changes if window[0] <= t < window[1]]
    after = [(t, c) for t, c in changes if t >= back_at]
    assert sum(c > MOVING for c in before) > len(before) // 2, "the input's pictures never moved"
    expected = (window[1] - window[0]) * FPS
    assert len(during) >= expected / 2, f"{len(during)} pictures in {expected:.0f} frame times"
    assert max(during) < STILL, f"the cut's pictures change by up to {max(during):.2f}: no slate"
    moving_again = next((t for t, c in after if c > MOVING), None)
    assert moving_again is not None, "the input's pictures never came back"

    print(f"{transport}: receiving {receiving_after:.2f} s, active {active_after:.2f} s, "
          f"moving pictures out {moving_again - back_at:.2f} s after the input returned")
    assert receiving_after < RECOVERY_LIMIT, f"input picked up after {receiving_after:.2f} s"
    assert active_after < RECOVERY_LIMIT, f"stream active after {active_after:.2f} s"
