"""DeckLink capture end to end, without a card (issue 14): makarad loads a
fake libDeckLinkAPI.so, built here from drivers/decklink/tests/fake/
against the SDK headers the shim uses, through the real dlopen path. Its
"DeckLink Duo 2" captures moving bars with timecode and a 1 kHz tone in
real time, and two variables script the signal (see the fake's header):
a no-signal episode, and a change of format that the card reports.

The stream's UDP output is judged with ffprobe/ffmpeg and the TS checks of
peers: H.264 + AAC decoded without error, continuity counters and PCR.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import peers
from kraken import child, expect, text
from mediacheck import Receiver

REPO = Path(__file__).resolve().parents[2]
DECKLINK = REPO / "drivers" / "decklink"
# The fake's modes by index: NTSC, 1080i50, 1080p59.94, PAL, 720p50.
NTSC, PAL = 0, 3
W, H, FPS = 320, 240, 25


def build_fake(out, *defines):
    compiler = os.environ.get("CXX") or shutil.which("c++") or "g++"
    subprocess.run([compiler, "-std=c++14", "-shared", "-fPIC", "-Wall", "-Werror",
                    *[f"-D{d}" for d in defines], "-I", str(DECKLINK / "sdk" / "include"),
                    "-o", str(out), str(DECKLINK / "tests" / "fake" / "fake_decklink.cpp"),
                    "-pthread"], check=True, timeout=300)
    return out


@pytest.fixture(scope="module")
def fakes(tmp_path_factory):
    d = tmp_path_factory.mktemp("decklink")
    return {"duo": build_fake(d / "libDeckLinkAPI.so"),
            "none": build_fake(d / "libDeckLinkAPI-none.so", "FAKE_NO_DEVICES")}


def box(appliance_factory, library, **script):
    env = {"MAKARA_DECKLINK_LIBRARY": str(library)}
    env.update({f"MAKARA_FAKE_DECKLINK_{k.upper()}": v for k, v in script.items()})
    return appliance_factory(env=env)


def decklink_input(api, port=0, mode=PAL):
    return peers.make(api, "input", [("name", peers.unique("sdi")), ("streamType", "DECKLINK"),
                                     ("decklinkPort", port), ("decklinkMode", mode)])


def decklink_stream(api, sink_port, mode=PAL):
    """A stream from decklinkPort 0 in ``mode``, transcoded to W x H H.264
    with audio, to UDP ``sink_port``; returns its path."""
    return peers.make_stream(api, decklink_input(api, mode=mode),
                             [peers.udp_output(api, sink_port)],
                             transcoder_id=peers.h264_transcoder(api, W, H, FPS))


def system(api):
    return child(expect(api.get("/apis/kraken/system"), 200), "system")


def modes(port):
    return [(text(m, "width"), text(m, "height"), text(m, "framerate"), text(m, "interlaced"))
            for m in child(port, "available_modes").findall("mode")]


def test_the_system_lists_the_cards_port_and_its_modes(appliance_factory, fakes):
    api = box(appliance_factory, fakes["duo"]).client
    s = system(api)
    info = child(s, "decklinkInfo")
    assert text(info, "port_info_size") == "1"
    assert text(info, "running") == "0"
    ports = s.findall("decklinkPort")
    assert len(ports) == 1, "the output-only card is no port"
    port = ports[0]
    assert text(port, "port_number") == "0"
    assert text(port, "config_mode") == "-1"
    assert modes(port) == [("720", "486", "29.97", "true"), ("1920", "1080", "25.00", "true"),
                           ("1920", "1080", "59.94", "false"), ("720", "576", "25.00", "true"),
                           ("1280", "720", "50.00", "false")]


@pytest.mark.parametrize("variant", ["missing", "none"])
def test_without_a_driver_or_a_card_the_section_is_empty_and_a_start_says_why(
        appliance_factory, fakes, variant):
    library = fakes["none"] if variant == "none" else "/nonexistent/libDeckLinkAPI.so"
    api = box(appliance_factory, library).client
    s = system(api)
    assert s.find("decklinkInfo") is None and s.find("decklinkPort") is None
    sink = Receiver()
    try:
        path = decklink_stream(api, sink.port)
        message = refused_start(api, path)
        assert "no DeckLink device for decklinkPort 0" in message, message
        why = "not found" if variant == "missing" else "no card that captures"
        assert why in message, message
        # Nothing else broke: a test pattern stream runs beside it.
        other = peers.make_stream(api, peers.pattern_input(api), [peers.udp_output(api, sink.port)],
                                  transcoder_id=peers.h264_transcoder(api, W, H, FPS))
        peers.start(api, other)
        peers.wait_state(api, other, "active")
    finally:
        sink.close()


def refused_start(api, path):
    """A start the engine cannot carry out: 503 / 1016 with the reason;
    the stream stays stopped."""
    err = child(expect(api.put(path, "<stream><state>start</state></stream>"), 503), "error")
    assert text(err, "code") == "1016", text(err, "code")
    assert text(peers.get_stream(api, path), "state") != "active"
    return text(err, "message")


@pytest.mark.parametrize("mode, why", [
    (5, "decklinkMode 5 cannot be used on decklinkPort 0: it is not one of the port's modes: "
        "use -1 (automatic) or 0-4"),
])
def test_a_mode_the_port_does_not_have_is_refused_with_the_choices(
        appliance_factory, fakes, mode, why):
    api = box(appliance_factory, fakes["duo"]).client
    path = decklink_stream(api, 9, mode)
    message = refused_start(api, path)
    assert why in message, message
    # The port is free for the next start.
    assert text(system(api).find("decklinkPort"), "config_mode") == "-1"


def test_a_signal_lost_and_back_waits_with_a_slate_and_the_output_runs_on(
        appliance_factory, fakes, tmp_path):
    # PAL at 25 fps: frames 100-174, from 4 s to 7 s, carry no signal.
    api = box(appliance_factory, fakes["duo"], no_signal="100:75").client
    sink = Receiver()
    try:
        path = decklink_stream(api, sink.port, PAL)
        peers.start(api, path)
        peers.wait_state(api, path, "active")
        port = system(api).find("decklinkPort")
        assert (text(port, "config_mode"), text(port, "config_format")) == (str(PAL), "UYVY")
        lost = peers.wait_until(api, path, peers.waiting_with(
            lambda e: "no signal on decklinkPort 0" in (e or "")), "lost the signal", timeout=15)
        print("lastError during the loss:", text(lost, "lastError"))
        peers.wait_state(api, path, "active", timeout=15)
        back = peers.get_stream(api, path)
        assert not text(back, "lastError"), text(back, "lastError")
        time.sleep(2)
        peers.stop(api, path)
    finally:
        sink.close()

    pkts = [p for _, p in peers.datagram_packets(sink.datagrams)]
    assert peers.continuity_errors(pkts) == {}, peers.continuity_errors(pkts)
    steps = peers.pcr_steps(pkts)
    assert steps and max(steps) <= 0.1, max(steps)
    arrivals = [t for t, _ in sink.datagrams]
    assert max(b - a for a, b in zip(arrivals, arrivals[1:])) < 1.0, "the output paused"
    found = peers.judge_h264(b"".join(pkts), tmp_path / "decklink.ts", W, H, audio="aac",
                             min_seconds=6.0)
    print("streams:", found)


def test_automatic_mode_follows_the_cards_new_format(appliance_factory, fakes, tmp_path):
    # Detection starts in NTSC; at frame 60 (2 s) the signal becomes PAL.
    api = box(appliance_factory, fakes["duo"], format_change="60:PAL").client
    sink = Receiver()
    try:
        path = decklink_stream(api, sink.port, -1)
        peers.start(api, path)
        peers.wait_state(api, path, "active")

        def desc():
            port = system(api).find("decklinkPort")
            d = child(port, "current_video_desc")
            return text(port, "config_mode"), text(d, "width"), text(d, "height")

        assert desc() == ("-1", "720", "486")
        deadline = time.monotonic() + 20
        while desc() != ("-1", "720", "576") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert desc() == ("-1", "720", "576")
        peers.wait_state(api, path, "active", timeout=15)
        time.sleep(3)
        peers.stop(api, path)
    finally:
        sink.close()
    pkts = [p for _, p in peers.datagram_packets(sink.datagrams)]
    # The capture restarted in the new format: the output's counters and
    # clock start again, and its packets say so (no continuity error, and
    # the clock's one jump on a packet marked discontinuous).
    assert peers.continuity_errors(pkts) == {}, peers.continuity_errors(pkts)
    jumps = peers.unmarked_pcr_jumps(pkts)
    assert jumps == [], jumps
    found = peers.judge_h264(b"".join(pkts), tmp_path / "changed.ts", W, H, audio="aac",
                             min_seconds=3.0)
    print("streams:", found)
