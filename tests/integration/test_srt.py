"""SRT outputs and inputs against srt-live-transmit (Debian's srt-tools,
the reference libsrt), and between two streams of ours (issue 9 §1, §6).

A stream with an SRT output is `active` only while every output delivers
(an SRT output with at least one peer connected); otherwise it is
`waiting` and its lastError names the output. What a peer receives is
judged by ffprobe/ffmpeg; nothing leaves 127.0.0.1.
"""

import time

import pytest

import peers
from kraken import child, expect, get_one, id_from_href, text
from mediacheck import Receiver

W, H = 320, 180
PASSPHRASE = "makara-test-secret"
OTHER_PASSPHRASE = "someone-elses-secret"
KEY_BYTES = {"aes128": 16, "aes256": 32}


def pattern_to_srt(api, **srt):
    """A TESTPATTERN stream (H.264 + AAC) to one SRT output; returns the
    stream's path and the output's name."""
    out = peers.srt_output(api, **srt)
    path = peers.make_stream(api, peers.pattern_input(api, W, H),
                             [out], transcoder_id=peers.h264_transcoder(api, W, H))
    return path, text(get_one(api, "output", out), "name")


def caller_of(port, receiver, log_dir, loglevel="error", **params):
    """srt-live-transmit calling our listener on ``port``, writing what it
    receives to ``receiver``."""
    return peers.srt_live_transmit(peers.srt_url(port, "caller", **params),
                                   f"udp://127.0.0.1:{receiver.port}", log_dir,
                                   loglevel=loglevel)


def waiting_on(name):
    return lambda el: (text(el, "state") == "waiting" and name in (text(el, "lastError") or ""))


@pytest.mark.parametrize("encryption", ["aes128", "aes256"])
def test_listener_output_read_by_an_srt_live_transmit_caller(fresh, tmp_path, encryption):
    api = fresh.client
    port = peers.free_udp_port()
    path, name = pattern_to_srt(api, srtMode="listener", srtLocalPort=port,
                                srtPassphrase=PASSPHRASE, srtEncryption=encryption,
                                srtLatency=120)
    sink = Receiver()
    try:
        peers.start(api, path)
        # No caller yet: waiting, and the reason names the output.
        peers.wait_until(api, path, waiting_on(name), "waiting for a caller")
        with caller_of(port, sink, tmp_path, loglevel="warn", passphrase=PASSPHRASE,
                       pbkeylen=KEY_BYTES[encryption]) as caller:
            peers.wait_state(api, path, "active")
            time.sleep(5)
            assert caller.alive(), caller.log()
        peers.stop(api, path)
    finally:
        sink.close()
    # The caller asked for the key length configured; libsrt warns when
    # the sender's differs ("PBKEYLEN conflict - OVERRIDDEN 32 by 16").
    assert "PBKEYLEN" not in caller.log(400), caller.log(400)
    peers.judge_h264(sink.ts(), tmp_path / "srt.ts", W, H, audio="aac", min_seconds=3)


def test_a_caller_with_the_wrong_passphrase_receives_nothing(fresh, tmp_path):
    api = fresh.client
    port = peers.free_udp_port()
    path, name = pattern_to_srt(api, srtMode="listener", srtLocalPort=port,
                                srtPassphrase=PASSPHRASE, srtEncryption="aes128")
    sink = Receiver()
    try:
        peers.start(api, path)
        with caller_of(port, sink, tmp_path, passphrase=OTHER_PASSPHRASE, pbkeylen=16):
            time.sleep(6)
            el = peers.get_stream(api, path)
        peers.stop(api, path)
    finally:
        sink.close()
    assert not sink.datagrams, f"{len(sink.datagrams)} datagrams reached a wrong passphrase"
    assert text(el, "state") == "waiting", text(el, "state")
    assert name in (text(el, "lastError") or ""), text(el, "lastError")


def test_an_srt_input_calling_with_the_wrong_passphrase_says_so(fresh, tmp_path):
    """srt-live-transmit listens with one passphrase and sends a TS; our
    caller input has another: the stream waits, and the stream's and the
    input's lastError mention the passphrase."""
    api = fresh.client
    src, port = peers.free_udp_ports(2)
    input_id = peers.srt_input(api, srtMode="caller", srtAddress="127.0.0.1",
                               srtRemotePort=port, srtPassphrase=OTHER_PASSPHRASE)
    path = peers.make_stream(api, input_id, [peers.udp_output(api, peers.free_udp_port())],
                             transcoder_id=peers.h264_transcoder(api, W, H))
    listener = peers.srt_live_transmit(
        f"udp://127.0.0.1:{src}", peers.srt_url(port, "listener", passphrase=PASSPHRASE),
        tmp_path)
    with listener, peers.TsSender(peers.media("h264").read_bytes(), src, peers.MEDIA_KBPS,
                                  loop=True):
        peers.start(api, path)
        el = peers.wait_until(
            api, path, lambda el: "passphrase" in (text(el, "lastError") or "").lower(),
            "reported the passphrase")
        assert text(el, "state") == "waiting"
        input_error = text(get_one(api, "input", input_id), "lastError") or ""
        peers.stop(api, path)
    print(f"wrong passphrase: lastError {text(el, 'lastError')!r}, input's {input_error!r}")
    assert "passphrase" in input_error.lower(), input_error


def test_a_listener_output_with_a_stream_id_takes_only_callers_asking_for_it(fresh, tmp_path):
    api = fresh.client
    port = peers.free_udp_port()
    path, name = pattern_to_srt(api, srtMode="listener", srtLocalPort=port,
                                srtStreamId="studio-a/cam1")
    right, wrong = Receiver(), Receiver()
    try:
        peers.start(api, path)
        with caller_of(port, wrong, tmp_path, streamid="studio-b/cam9"):
            time.sleep(4)
            el = peers.get_stream(api, path)
            assert text(el, "state") == "waiting", text(el, "state")
            with caller_of(port, right, tmp_path, streamid="studio-a/cam1"):
                peers.wait_state(api, path, "active")
                time.sleep(4)
        peers.stop(api, path)
    finally:
        right.close()
        wrong.close()
    assert not wrong.datagrams, f"{len(wrong.datagrams)} datagrams for another stream id"
    peers.judge_h264(right.ts(), tmp_path / "right.ts", W, H, min_seconds=2)


def test_two_callers_on_one_listener_output_both_receive(fresh, tmp_path):
    api = fresh.client
    port = peers.free_udp_port()
    path, name = pattern_to_srt(api, srtMode="listener", srtLocalPort=port)
    a, b = Receiver(), Receiver()
    try:
        peers.start(api, path)
        with caller_of(port, a, tmp_path), caller_of(port, b, tmp_path):
            el = peers.wait_until(
                api, path,
                lambda el: peers.number(peers.output_stats(el, name), "connections") == 2,
                "had two connections")
            assert text(el, "state") == "active"
            time.sleep(5)
        peers.stop(api, path)
    finally:
        a.close()
        b.close()
    peers.judge_h264(a.ts(), tmp_path / "a.ts", W, H, min_seconds=3)
    peers.judge_h264(b.ts(), tmp_path / "b.ts", W, H, min_seconds=3)


def test_a_caller_output_waits_for_its_listener_and_reconnects(fresh, tmp_path):
    """Our caller output to an srt-live-transmit listener: active while it
    listens; stopped, the stream waits with a lastError; listening again,
    the stream is active again and data flows."""
    api = fresh.client
    port = peers.free_udp_port()
    path, name = pattern_to_srt(api, srtMode="caller", srtAddress="127.0.0.1",
                                srtRemotePort=port)
    first, second = Receiver(), Receiver()
    try:
        with peers.srt_live_transmit(peers.srt_url(port, "listener"),
                                     f"udp://127.0.0.1:{first.port}", tmp_path):
            peers.start(api, path)
            peers.wait_state(api, path, "active")
            time.sleep(3)
        peers.wait_until(api, path, waiting_on(name), "waiting after the listener left")
        with peers.srt_live_transmit(peers.srt_url(port, "listener"),
                                     f"udp://127.0.0.1:{second.port}", tmp_path):
            peers.wait_state(api, path, "active")
            el = peers.get_stream(api, path)
            time.sleep(4)
        peers.stop(api, path)
    finally:
        first.close()
        second.close()
    assert not text(el, "lastError"), text(el, "lastError")
    peers.judge_h264(first.ts(), tmp_path / "first.ts", W, H, min_seconds=1)
    peers.judge_h264(second.ts(), tmp_path / "second.ts", W, H, min_seconds=2)


def test_a_running_srt_output_shows_its_link_statistics(fresh, tmp_path):
    api = fresh.client
    port = peers.free_udp_port()
    path, name = pattern_to_srt(api, srtMode="listener", srtLocalPort=port, srtLatency=200)
    sink = Receiver()
    try:
        peers.start(api, path)
        with caller_of(port, sink, tmp_path):
            peers.wait_state(api, path, "active")
            time.sleep(4)
            out = peers.output_stats(peers.get_stream(api, path), name)
        peers.stop(api, path)
    finally:
        sink.close()
    assert peers.number(out, "connections") == 1
    assert not text(out, "lastError"), text(out, "lastError")
    links = out.findall("srt")
    assert len(links) == 1, [peers._xml(s) for s in links]
    link = links[0]
    rtt = peers.number(link, "rttMs")
    assert 0 <= rtt < 100, f"loopback RTT {rtt} ms"
    sent = peers.number(link, "packetsSent")
    # About 4 s of ~600 kbit/s in 1316-byte payloads is several hundred.
    assert sent >= 100, sent
    for tag in ("packetsLost", "packetsRetransmitted", "packetsDropped"):
        assert peers.number(link, tag) >= 0
    # The latency asked for is what the receiver buffers.
    assert peers.number(link, "bufferDelayMs") >= 200


def test_rendezvous_between_two_streams(fresh, tmp_path):
    """One stream sends its test pattern over SRT rendezvous, a second
    receives it as a rendezvous input, scales it and sends UDP here."""
    api = fresh.client
    port_a, port_b = peers.free_udp_ports(2)
    sender, _ = pattern_to_srt(api, srtMode="rendezvous", srtAddress="127.0.0.1",
                               srtRemotePort=port_b, srtLocalPort=port_a)
    sink = Receiver()
    try:
        receiver = peers.make_stream(
            api, peers.srt_input(api, srtMode="rendezvous", srtAddress="127.0.0.1",
                                 srtRemotePort=port_a, srtLocalPort=port_b),
            [peers.udp_output(api, sink.port)],
            transcoder_id=peers.h264_transcoder(api, 480, 270))
        peers.start(api, sender)
        peers.start(api, receiver)
        peers.wait_state(api, sender, "active")
        el = peers.wait_until(api, receiver, peers.receiving, "receiving")
        time.sleep(5)
        peers.stop(api, receiver)
        peers.stop(api, sender)
    finally:
        sink.close()
    srt = child(peers.input_stats(el), "srt")
    assert peers.number(srt, "rttMs") >= 0
    peers.judge_h264(sink.ts(), tmp_path / "rendezvous.ts", 480, 270, audio="aac",
                     min_seconds=3)


@pytest.mark.parametrize("side", ["output", "input"])
def test_an_unreachable_caller_target_waits_and_the_daemon_stays_responsive(fresh, side):
    api = fresh.client
    nobody = peers.free_udp_port()
    if side == "output":
        path, name = pattern_to_srt(api, srtMode="caller", srtAddress="127.0.0.1",
                                    srtRemotePort=nobody)
        check = peers.waiting_with(lambda e: name in (e or "") and peers.says_no_answer(e))
        resource = ("output", id_from_href(
            peers.get_stream(api, path).find("outputs/output/link").get("href")))
    else:
        resource = ("input", peers.srt_input(api, srtMode="caller", srtAddress="127.0.0.1",
                                             srtRemotePort=nobody))
        path = peers.make_stream(api, resource[1], [peers.udp_output(api, peers.free_udp_port())],
                                 transcoder_id=peers.h264_transcoder(api, W, H))
        check = peers.waiting_with(peers.says_no_answer)
    peers.start(api, path)
    el = peers.wait_until(api, path, check, "waiting, saying the target does not answer")
    error = text(el, "lastError")
    print(f"unreachable {side}: lastError {error!r}")
    assert str(nobody) in error or "127.0.0.1" in error, f"lastError names no target: {error!r}"
    # The input's or output's own GET shows its part while the stream runs.
    assert peers.says_no_answer(text(get_one(api, *resource), "lastError")), resource
    # The daemon answers while the caller keeps trying.
    began = time.monotonic()
    for _ in range(20):
        expect(api.get("/apis/kraken/streams"), 200)
        expect(api.get(path), 200)
    elapsed = time.monotonic() - began
    assert elapsed < 20, f"40 GETs took {elapsed:.1f} s"
    began = time.monotonic()
    peers.stop(api, path)
    assert text(peers.get_stream(api, path), "state") == "stopped"
    assert time.monotonic() - began < 10
    # Stopped, nothing runs that could report.
    assert text(get_one(api, *resource), "lastError") is None
    assert fresh.server.alive()
