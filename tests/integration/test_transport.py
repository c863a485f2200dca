"""The transport stream as a receiver's buffers and a link see it.

A TESTPATTERN stream is received on loopback and judged by the project's
own TS parser (`tsreport`, firmware/mpegts/examples/tsreport.rs, built on
first use) and by ffprobe:

- vbr is variable-rate (no null packets, little beyond the payload on
  the wire); cbr stays constant-rate at its mux rate.
- The DVB SDT names the service after the stream and the provider after
  the box.
- A restart marks where continuity counters and the PCR start again.
"""

import json
import os
import subprocess
import time
from pathlib import Path

from kraken import body, child, created_id, expect, text, unique
from mediacheck import Receiver, ffprobe

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT, FPS = 320, 180, 30
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
