"""Network inputs decoded and transcoded (issue 9 §2-4, §6): UDP MPEG-TS
(unicast; multicast joined on an interface inside network namespaces),
RTSP from GStreamer's RTSP server over TCP and UDP, MJPEG over HTTP from
ffmpeg; and the bad inputs: garbage between packets, lost packets, a
codec the box does not decode, no sender, RTSP 404 and 401.

Senders are ffmpeg, GStreamer and the test's own paced TsSender (whose
bytes are known exactly); the output is received on loopback and judged
by ffprobe/ffmpeg.
"""

import os
import socket
import stat
import time

import pytest

import kraken
import peers
from kraken import get_one, text
from mediacheck import Receiver

W, H = 640, 360


def ts_stream(api, port, sink_port, width=W, height=H, host="127.0.0.1", audio="on",
              **input_extra):
    """A UDP MPEG-TS input on ``host:port`` transcoded to H.264 at
    ``width`` x ``height`` and sent to udp://127.0.0.1:``sink_port``.
    Returns (stream path, input id)."""
    input_id = peers.udp_ts_input(api, port, host, **input_extra)
    path = peers.make_stream(api, input_id, [peers.udp_output(api, sink_port)],
                             transcoder_id=peers.h264_transcoder(api, width, height,
                                                                 audio=audio))
    return path, input_id


def test_udp_mpeg2_input_is_transcoded_to_h264_at_another_resolution(fresh, tmp_path):
    api = fresh.client
    port = peers.free_udp_port()
    sink = Receiver()
    try:
        path, _ = ts_stream(api, port, sink.port)
        with peers.ffmpeg_ts_sender(peers.media("mpeg2"), port, tmp_path):
            peers.start(api, path)
            peers.wait_until(api, path, peers.receiving, "receiving")
            peers.wait_state(api, path, "active")
            time.sleep(6)
            el = peers.get_stream(api, path)
            peers.stop(api, path)
    finally:
        sink.close()
    stats = peers.input_stats(el)
    assert peers.number(stats, "packets") > 1000
    assert peers.number(stats, "bytes") == 188 * peers.number(stats, "packets")
    peers.judge_h264(sink.ts(), tmp_path / "from-mpeg2.ts", W, H, audio="aac", min_seconds=4)


def test_garbage_between_packets_is_resynced_and_counted(fresh, tmp_path):
    api = fresh.client
    port = peers.free_udp_port()
    sink = Receiver()
    try:
        path, _ = ts_stream(api, port, sink.port, 320, 240)
        with peers.TsSender(peers.media("h264").read_bytes(), port, peers.MEDIA_KBPS) as sender:
            peers.start(api, path)
            peers.wait_until(api, path, peers.receiving, "receiving")
            sender.garbage(30, size=77)
            time.sleep(6)
            el = peers.get_stream(api, path)
            assert text(el, "state") == "active", text(el, "lastError")
            peers.stop(api, path)
    finally:
        sink.close()
    assert sender.garbage_sent == 30
    stats = peers.input_stats(el)
    assert peers.number(stats, "syncLosses") > 0
    # The output is our own encode: whole, valid, decodable throughout.
    peers.judge_h264(sink.ts(), tmp_path / "after-garbage.ts", 320, 240, audio="aac",
                     min_seconds=4)


def test_lost_packets_are_counted_exactly_as_continuity_errors(fresh):
    api = fresh.client
    port = peers.free_udp_port()
    data = peers.media("h264").read_bytes()
    video = peers.video_pid(peers.packets(data))
    path, _ = ts_stream(api, port, peers.free_udp_port(), 320, 240)
    with peers.TsSender(data, port, peers.MEDIA_KBPS) as sender:
        peers.start(api, path)
        el = peers.wait_until(api, path, peers.receiving, "receiving")
        assert peers.number(peers.input_stats(el), "continuityErrors") == 0
        sender.drop(video, 7, every=60)
        deadline = time.monotonic() + 20
        while sender.dropped < 7 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sender.dropped == 7
        time.sleep(2)
        el = peers.get_stream(api, path)
        peers.stop(api, path)
    stats = peers.input_stats(el)
    assert peers.number(stats, "continuityErrors") == 7
    assert peers.number(stats, "syncLosses") == 0


def test_a_codec_the_box_does_not_decode_is_a_clear_error(fresh):
    """The video's stream type says AVS3 (0xD4), which the box does not
    decode (nor does Debian's FFmpeg): a lastError naming the codec, the
    stream waits, the daemon lives."""
    api = fresh.client
    port = peers.free_udp_port()
    data = peers.retype_stream(peers.media("h264").read_bytes(), 0x1B, 0xD4)
    path, input_id = ts_stream(api, port, peers.free_udp_port(), 320, 240)
    with peers.TsSender(data, port, peers.MEDIA_KBPS, loop=True):
        peers.start(api, path)
        el = peers.wait_until(api, path, lambda el: bool(text(el, "lastError")), "had a lastError")
        time.sleep(2)
        el = peers.get_stream(api, path)
        input_error = text(get_one(api, "input", input_id), "lastError") or ""
        peers.stop(api, path)
    print(f"unknown codec: lastError {text(el, 'lastError')!r}, input's {input_error!r}")
    error = text(el, "lastError").lower()
    assert any(w in error for w in ("codec", "avs", "stream type", "0xd4")), error
    assert text(el, "state") == "waiting"
    assert input_error, "the input's GET shows no lastError"
    assert fresh.server.alive()


def test_a_udp_input_with_no_sender_waits_with_a_clear_error(fresh):
    api = fresh.client
    port = peers.free_udp_port()
    path, input_id = ts_stream(api, port, peers.free_udp_port(), 320, 240)
    peers.start(api, path)
    el = peers.wait_until(api, path, peers.waiting_with(peers.says_nothing_arrives),
                          "waiting, saying nothing arrives")
    error = text(el, "lastError")
    print(f"no sender: lastError {error!r}")
    assert str(port) in error or text(get_one(api, "input", input_id), "name") in error, error
    assert not peers.receiving(el)
    assert text(get_one(api, "input", input_id), "lastError")
    peers.stop(api, path)
    assert fresh.server.alive()


@pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root (CI runs as root)")
def test_udp_multicast_input_joined_on_an_interface(appliance_factory, tmp_path, monkeypatch):
    """In namespace b, makarad joins 239.71.0.9 on veth vb; ffmpeg in
    namespace a sends to the group out of va. Namespace b routes the
    group to lo, so a join that ignores <interface> hears nothing."""
    group, port = "239.71.0.9", 5599
    real = kraken.makarad()
    with peers.NetNamespaces() as ns:
        wrapper = tmp_path / "makarad-in-b"
        wrapper.write_text(f'#!/bin/sh\nexec {peers.IN_NETNS} {ns.b} {real} "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
        peers.in_ns(ns.a, "ip", "route", "add", "239.0.0.0/8", "dev", ns.va)
        peers.in_ns(ns.b, "ip", "link", "set", "lo", "multicast", "on")
        peers.in_ns(ns.b, "ip", "route", "add", "239.0.0.0/8", "dev", "lo")
        monkeypatch.setattr(kraken, "MAKARAD", str(wrapper))
        app = appliance_factory(start=False)
        sender = peers.ffmpeg_ts_sender(peers.media("h264"), port, tmp_path, host=group,
                                        extra_url=f"&ttl=2&localaddr={ns.addr_a}",
                                        prefix=ns.exec_prefix(ns.a))
        with ns.entered(ns.b):
            api = app.start()
            sink = Receiver()
            try:
                path, _ = ts_stream(api, port, sink.port, 320, 240, host=group,
                                    interface=ns.vb)
                with sender:
                    peers.start(api, path)
                    el = peers.wait_until(api, path, peers.receiving, "receiving")
                    time.sleep(5)
                    peers.stop(api, path)
            finally:
                sink.close()
            app.close()
    assert peers.number(peers.input_stats(el), "packets") > 0
    peers.judge_h264(sink.ts(), tmp_path / "multicast.ts", 320, 240, audio="aac",
                     min_seconds=3)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_rtsp_input_from_a_local_rtsp_server_is_transcoded(fresh, tmp_path, transport):
    """GStreamer's RTSP server offers H.264 over RTP at /tcp (interleaved
    TCP only) and /udp (UDP only): the input must play whichever is
    offered. Video only: the transcoder's audio is off."""
    api = fresh.client
    sink = Receiver()
    try:
        with peers.RtspServer(peers.free_tcp_port(), tmp_path) as server:
            input_id = peers.make(api, "input", [("name", kraken.unique("rtsp")),
                                                 ("streamType", "RTSP"),
                                                 ("url", server.url(transport))])
            path = peers.make_stream(api, input_id, [peers.udp_output(api, sink.port)],
                                     transcoder_id=peers.h264_transcoder(api, 480, 270,
                                                                         audio="off"))
            peers.start(api, path)
            peers.wait_state(api, path, "active")
            time.sleep(5)
            peers.stop(api, path)
            setups = server.setups()
    finally:
        sink.close()
    # RTP/AVP/TCP;…;interleaved=… over TCP; RTP/AVP[/UDP];…;client_port=… over UDP.
    assert setups, "the RTSP server saw no SETUP"
    for mount, header in setups:
        assert mount.startswith(f"/{transport}/"), setups
        assert header.startswith("RTP/AVP"), setups
        if transport == "tcp":
            assert header.startswith("RTP/AVP/TCP") and "interleaved" in header, setups
        else:
            assert "/TCP" not in header and "client_port" in header, setups
    peers.judge_h264(sink.ts(), tmp_path / "rtsp.ts", 480, 270, audio=False, min_seconds=3)


@pytest.mark.parametrize("status, words", [
    ("404 Not Found", ("404", "not found")),
    ("401 Unauthorized", ("401", "unauthori", "authentication")),
])
def test_an_rtsp_url_that_is_refused_is_a_clear_error(fresh, status, words):
    api = fresh.client
    with peers.RtspRefuser(status) as refuser:
        input_id = peers.make(api, "input", [("name", kraken.unique("rtsp")),
                                             ("streamType", "RTSP"), ("url", refuser.url())])
        path = peers.make_stream(api, input_id, [peers.udp_output(api, peers.free_udp_port())],
                                 transcoder_id=peers.h264_transcoder(api, 320, 240, audio="off"))
        peers.start(api, path)
        # The first words are provisional ("waiting for the first picture");
        # wait for the server's answer to show.
        el = peers.wait_until(api, path, peers.waiting_with(
            lambda error: any(w in (error or "").lower() for w in words)),
            f"waiting, saying {status}")
        input_error = text(get_one(api, "input", input_id), "lastError") or ""
        peers.stop(api, path)
    assert refuser.requests, "the input never asked the RTSP server"
    print(f"RTSP {status}: lastError {text(el, 'lastError')!r}, input's {input_error!r}")
    error = text(el, "lastError").lower()
    assert any(w in error for w in words), error
    assert any(w in input_error.lower() for w in words), input_error
    assert fresh.server.alive()


@pytest.mark.parametrize("kind, url", [("RTSP", "rtsp://127.0.0.1:{}/camera"),
                                       ("MJPEGRAW", "http://127.0.0.1:{}/camera.mjpg")])
def test_a_server_that_accepts_and_never_answers_is_a_clear_error(fresh, kind, url):
    """A TCP server that takes the connection and says nothing: the input
    gives up on it with words saying so (not a parse error), keeps trying,
    and a stop is prompt."""
    api = fresh.client
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        input_id = peers.make(api, "input", [
            ("name", kraken.unique("silent")), ("streamType", kind),
            ("url", url.format(silent.getsockname()[1]))])
        path = peers.make_stream(api, input_id, [peers.udp_output(api, peers.free_udp_port())],
                                 transcoder_id=peers.h264_transcoder(api, 320, 240, audio="off"))
        peers.start(api, path)
        try:
            el = peers.wait_until(api, path, peers.waiting_with(peers.says_no_answer),
                                  "waiting, saying the server does not answer")
        finally:
            began = time.monotonic()
            peers.stop(api, path)
            stopped_in = time.monotonic() - began
    print(f"silent {kind} server: lastError {text(el, 'lastError')!r}, stop {stopped_in:.2f} s")
    assert text(peers.get_stream(api, path), "state") == "stopped"
    assert stopped_in < 2, f"stop took {stopped_in:.2f} s"
    assert fresh.server.alive()


def test_mjpeg_input_over_http_is_encoded_to_h264(fresh, tmp_path):
    api = fresh.client
    port = peers.free_tcp_port()
    sink = Receiver()
    try:
        with peers.ffmpeg_mjpeg_server(port, tmp_path):
            input_id = peers.make(api, "input", [
                ("name", kraken.unique("mjpeg")), ("streamType", "MJPEGRAW"),
                ("url", f"http://127.0.0.1:{port}/camera.mjpg")])
            path = peers.make_stream(api, input_id, [peers.udp_output(api, sink.port)],
                                     transcoder_id=peers.h264_transcoder(api, 480, 270,
                                                                         audio="off"))
            time.sleep(0.5)  # ffmpeg listening
            peers.start(api, path)
            peers.wait_state(api, path, "active")
            time.sleep(5)
            peers.stop(api, path)
    finally:
        sink.close()
    peers.judge_h264(sink.ts(), tmp_path / "mjpeg.ts", 480, 270, audio=False, min_seconds=3)
