"""The transport stream as a receiver's buffers and a link see it.

A TESTPATTERN stream is received on loopback and judged by the project's
own TS parser (`tsreport`, firmware/mpegts/examples/tsreport.rs, built on
first use) and by ffprobe:

- T-STD (ISO/IEC 13818-1 §2.4.2): no elementary stream waits more than
  1 s in its decoder buffer, no buffer overflows (audio: BSn 3584 bytes;
  video: the CPB of the level the SPS signals), no unit arrives after its
  decoding time, for every encoding profile and the extreme settings.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from kraken import assert_error, body, child, created_id, expect, text, unique
from mediacheck import Receiver, ffprobe

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT, FPS = 320, 180, 30
# ISO/IEC 13818-1 §2.4.2.6: BSn for MPEG-1/2 audio and for AAC with up to
# two channels.
AUDIO_BSN = 3584
# §2.4.2.3: the transport buffer in front of it, drained at 2 Mbit/s.
AUDIO_TBS = 512
# H.264 Table A-1, MaxCPB in 1000 bits (VCL, cpbBrVclFactor 1000 would be
# looser; the T-STD's 1200 × MaxCPB is used below as EBSn).
MAX_CPB_KBIT = {10: 175, 9: 350, 11: 500, 12: 1000, 13: 2000, 20: 2000, 21: 4000, 22: 4000,
                30: 10000, 31: 14000, 32: 20000, 40: 25000, 41: 62500, 42: 62500,
                50: 135000, 51: 240000, 52: 240000}
SECONDS = 6


def tsreport(path):
    """The project's T-STD analysis of a recorded stream, as a dict."""
    binary = os.environ.get("MAKARA_TSREPORT", str(ROOT / "target/debug/examples/tsreport"))
    if "MAKARA_TSREPORT" not in os.environ:
        subprocess.run(["cargo", "build", "-q", "-p", "makara-mpegts", "--example", "tsreport"],
                       cwd=ROOT, check=True, timeout=600)
    out = subprocess.run([binary, str(path)], capture_output=True, text=True, check=True,
                         timeout=120)
    return json.loads(out.stdout)


def pattern_stream(api, port, transcoder, name=None):
    """A TESTPATTERN stream with audio to udp://127.0.0.1:`port`; the
    transcoder gets the (tag, value) pairs of `transcoder` beyond size,
    rate and audio. Returns the stream's path."""
    input_id = created_id(api.post("/apis/kraken/inputs", body("input", [
        ("name", unique("bars")), ("streamType", "TESTPATTERN"),
        ("width", WIDTH), ("height", HEIGHT), ("frameRate", FPS)])), "input")
    transcoder_id = created_id(api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("h264")), ("resolution", [("width", WIDTH), ("height", HEIGHT)]),
        ("frameRate", FPS), ("audio", "on"), *transcoder])), "transcoder")
    output_id = created_id(api.post("/apis/kraken/outputs", body("output", [
        ("name", unique("udp")), ("url", f"udp://127.0.0.1:{port}")])), "output")
    stream_id = created_id(api.post("/apis/kraken/streams", body("stream", [
        ("name", name or unique("ts")), ("input", input_id), ("transcoder", transcoder_id),
        ("outputs", [("output", output_id)])])), "stream")
    return f"/apis/kraken/streams/stream-{stream_id}"


def set_state(api, path, state, timeout=10):
    expect(api.put(path, f"<stream><state>{state}</state></stream>"), 200)
    wanted = "active" if state == "start" else "stopped"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        el = child(expect(api.get(path), 200), "stream")
        if text(el, "state") == wanted:
            return
        time.sleep(0.2)
    raise AssertionError(f"stream never became {wanted}: {text(el, 'lastError')}")


def record(api, tmp_path, transcoder, seconds=SECONDS, name=None):
    """Runs a pattern stream for `seconds` once active, stops it, and
    returns the file of what arrived and the datagrams with their times."""
    sink = Receiver()
    try:
        path = pattern_stream(api, sink.port, transcoder, name)
        set_state(api, path, "start")
        time.sleep(seconds)
        set_state(api, path, "stop")
        time.sleep(0.3)  # loopback delivers at once; let the receiver drain
    finally:
        sink.close()
    recording = tmp_path / "out.ts"
    recording.write_bytes(sink.ts())
    return recording, sink.datagrams


def video_buffer_limit(recording):
    """EBSn of the video: 1200 × MaxCPB of the level in the SPS, in bytes."""
    level = ffprobe(recording, "-select_streams", "v:0", "-show_entries",
                    "stream=level")["streams"][0]["level"]
    return 1200 * MAX_CPB_KBIT[int(level)] // 8


# Every profile at its defaults (vbr is the default), B-frames, a
# low-latency setting, the longest jitter buffer, both audio codecs at
# their defaults and highest rates (AAC is capped at 512 kbit/s by the
# encoder), and the largest VBV at the highest peak rate.
TSTD_CASES = {
    "vbr": [],
    "quality": [("encodingProfile", "quality")],
    "cbr-b3": [("encodingProfile", "cbr"), ("bFrame", 3)],
    "performance-low-latency": [("encodingProfile", "performance"), ("bFrame", 0),
                                ("jitterBufferMs", 0), ("shapingVbvSizeMs", 100)],
    "balanced-b2": [("encodingProfile", "balanced"), ("bFrame", 2)],
    "quality-jitter-max": [("encodingProfile", "quality"), ("jitterBufferMs", 10000)],
    "mpeg1-layer2": [("audioType", "mpeg1_layer2")],
    "mpeg1-layer2-max-bitrate": [("audioType", "mpeg1_layer2"), ("audioBitrate", 384)],
    "aac-max-bitrate": [("audioType", "mpeg2_aac_adts"), ("audioBitrate", 576)],
    "cbr-aac-max-bitrate": [("encodingProfile", "cbr"), ("audioType", "mpeg2_aac_adts"),
                            ("audioBitrate", 576)],
    "quality-largest-vbv": [("encodingProfile", "quality"), ("shapingVbvSizeMs", 1000),
                            ("shapingMaxBitratePercent", 400)],
}


@pytest.mark.parametrize("case", list(TSTD_CASES))
def test_no_stream_waits_over_a_second_or_overflows_its_buffer(fresh, tmp_path, case):
    transcoder = TSTD_CASES[case]
    # The jitter buffer delays the first picture by as much.
    seconds = SECONDS + (11 if case == "quality-jitter-max" else 0)
    recording, _ = record(fresh.client, tmp_path, transcoder, seconds)
    report = tsreport(recording)
    streams = {s["stream_type"]: s for s in report["streams"]}
    video, audio = streams[0x1B], streams[0x03 if "mpeg1" in case else 0x0F]
    assert video["units"] >= 2 * FPS and audio["units"] >= 50, report
    assert report["continuity_errors"] == 0, report
    for es in (video, audio):
        assert es["max_wait_ms"] <= 1000, es
        assert es["late_units"] == 0, es
    assert audio["max_occupancy"] <= AUDIO_BSN, audio
    assert video["max_occupancy"] <= video_buffer_limit(recording), video
    if ("encodingProfile", "cbr") in transcoder:
        # The audio transport buffer (512 bytes at 2 Mbit/s). A variable-rate
        # stream's bytes appear evenly spread between PCRs, which can bunch
        # audio packets sent apart; that is not kept yet.
        assert audio["max_transport_buffer"] <= AUDIO_TBS, audio


def wire_and_payload_kbps(datagrams, report):
    """The rate on the wire (every received byte over the span of arrival
    times) and the elementary streams' rate (their PES bytes, by the
    project's parser, over the same span)."""
    span = datagrams[-1][0] - datagrams[0][0]
    wire = sum(len(d) for _, d in datagrams) * 8 / span / 1000
    payload = sum(s["bytes"] for s in report["streams"]) * 8 / span / 1000
    return wire, payload


def test_vbr_puts_only_the_payload_on_the_wire(fresh, tmp_path):
    """vbr 8000: whatever the encoder makes goes out, with PSI and PCRs,
    and no null stuffing (the defect: 13,997 kbit/s for 351 of video)."""
    recording, datagrams = record(fresh.client, tmp_path, [
        ("encodingProfile", "vbr"), ("videoBitrate", 8000), ("audioBitrate", 128)])
    report = tsreport(recording)
    wire, payload = wire_and_payload_kbps(datagrams, report)
    assert report["null_packets"] == 0, report
    # TS and PES headers, PAT/PMT (30 kbit/s), PCR packets (38 kbit/s).
    assert wire <= 1.25 * payload + 150, (wire, payload)


def test_cbr_keeps_a_constant_null_padded_rate(fresh, tmp_path):
    recording, datagrams = record(fresh.client, tmp_path, [
        ("encodingProfile", "cbr"), ("videoBitrate", 2000), ("audioBitrate", 128)])
    report = tsreport(recording)
    wire, payload = wire_and_payload_kbps(datagrams, report)
    assert report["null_packets"] > 0, report
    # Every stretch between two PCRs runs at the one mux rate, which is
    # what arrived on the wire over the whole recording.
    assert report["max_rate_bps"] <= report["min_rate_bps"] * 1.001, report
    assert abs(wire * 1000 / report["min_rate_bps"] - 1) < 0.05, (wire, report)
    assert wire > payload, (wire, payload)


def test_the_sdt_names_the_stream_and_the_box(fresh, tmp_path):
    """ffprobe reads the DVB SDT: service name = the stream's name,
    provider = the box's hostname."""
    name = unique("Studio")
    recording, _ = record(fresh.client, tmp_path, [], seconds=2, name=name)
    programs = ffprobe(recording, "-show_programs", "-show_entries",
                       "program=program_id:program_tags")["programs"]
    assert len(programs) == 1, programs
    tags = programs[0]["tags"]
    hostname = Path("/proc/sys/kernel/hostname").read_text().strip()
    assert tags["service_name"] == name, tags
    assert tags["service_provider"] == hostname, tags


def test_a_restart_marks_where_counters_and_pcr_start_again(fresh, tmp_path):
    """Stop and start with one receiver listening: the second run's first
    packet on every PID sets discontinuity_indicator, so the parser sees
    no continuity error where the counters start again."""
    api = fresh.client
    sink = Receiver()
    try:
        path = pattern_stream(api, sink.port, [])
        for _ in range(2):
            set_state(api, path, "start")
            time.sleep(2)
            set_state(api, path, "stop")
        time.sleep(0.3)
    finally:
        sink.close()
    recording = tmp_path / "restart.ts"
    recording.write_bytes(sink.ts())
    report = tsreport(recording)
    marked = {int(pid): n for pid, n in report["discontinuities"].items()}
    # PAT, SDT, video (the PCR PID), audio, PMT: once per run.
    assert marked == {0x0000: 2, 0x0011: 2, 0x0100: 2, 0x0101: 2, 0x1000: 2}, report
    assert report["continuity_errors"] == 0, report


def test_a_vbv_the_t_std_cannot_honour_is_refused_with_its_range(fresh):
    """A VBV over 1 s at the peak rate lets the encoder make pictures that
    wait more than 1 s in a receiver's buffer."""
    resp = fresh.client.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("h264")), ("shapingVbvSizeMs", 1001)]))
    assert_error(resp, 1000, status=400, mentions=("shapingVbvSizeMs", "20-1000"))
