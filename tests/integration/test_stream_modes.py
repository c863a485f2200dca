"""Stream modes (issue 9 §5): bypass sends the input's transport stream
out unchanged; passthru transcodes to the outputs and re-sends the
original to the passthru output.

The input TS is paced by the test itself (TsSender) so its bytes are
known: what comes out unchanged must be one contiguous run of them, packet
for packet, byte for byte.
"""

import time

import peers
from kraken import get_one, text
from mediacheck import Receiver


def test_srt_input_in_bypass_mode_gives_the_same_ts_out(fresh, tmp_path):
    """TsSender -> UDP -> srt-live-transmit (caller) -> our SRT listener
    input -> bypass -> UDP output -> here."""
    api = fresh.client
    data = peers.media("h264").read_bytes()[:188 * 7 * 900]  # ~12 s at 1000 kbit/s
    feed, port = peers.free_udp_ports(2)
    sink = Receiver()
    try:
        path = peers.make_stream(api, peers.srt_input(api, srtMode="listener", srtLocalPort=port),
                                 [peers.udp_output(api, sink.port)], mode="bypass")
        el = peers.get_stream(api, path)
        assert text(el, "mode") == "bypass"
        peers.start(api, path)
        caller = peers.srt_live_transmit(f"udp://127.0.0.1:{feed}",
                                         peers.srt_url(port, "caller"), tmp_path)
        with caller, peers.TsSender(data, feed, peers.MEDIA_KBPS) as sender:
            el = peers.wait_until(api, path, peers.receiving, "receiving")
            assert sender.finished.wait(40), "the sender did not finish"
            time.sleep(2)
            el = peers.get_stream(api, path)
        peers.stop(api, path)
    finally:
        sink.close()
    captured = sink.ts()
    # The stream started before the caller connected: all but the first
    # moments of the file came through.
    assert len(captured) >= len(data) // 2, f"{len(captured)} of {len(data)} bytes"
    offset = peers.contiguous_offset(captured, data)
    print(f"bypass: {len(captured) // 188} packets from packet {offset} of {len(data) // 188}")
    stats = peers.input_stats(el)
    assert peers.number(stats, "packets") >= len(captured) // 188
    assert peers.number(stats, "continuityErrors") == 0
    assert peers.number(peers.input_stats(el).find("srt"), "rttMs") >= 0


def test_passthru_gives_the_transcoded_and_the_original_output(fresh, tmp_path):
    api = fresh.client
    data = peers.media("h264").read_bytes()[:188 * 7 * 900]
    port = peers.free_udp_port()
    transcoded, original = Receiver(), Receiver()
    try:
        passthru = peers.udp_output(api, original.port)
        path = peers.make_stream(
            api, peers.udp_ts_input(api, port), [peers.udp_output(api, transcoded.port)],
            transcoder_id=peers.h264_transcoder(api, 480, 270), passthru_id=passthru)
        el = peers.get_stream(api, path)
        assert text(el, "mode") == "passthru"
        assert text(el.find("passthru"), "name") == text(get_one(api, "output", passthru), "name")
        peers.start(api, path)
        with peers.TsSender(data, port, peers.MEDIA_KBPS) as sender:
            peers.wait_until(api, path, peers.receiving, "receiving")
            assert sender.finished.wait(40), "the sender did not finish"
            time.sleep(2)
        peers.stop(api, path)
    finally:
        transcoded.close()
        original.close()
    copy = original.ts()
    assert len(copy) >= len(data) // 2, f"{len(copy)} of {len(data)} bytes"
    peers.contiguous_offset(copy, data)
    peers.judge_h264(transcoded.ts(), tmp_path / "transcoded.ts", 480, 270, audio="aac",
                     min_seconds=5)
