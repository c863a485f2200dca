"""The configuration side of the network transports (issue 9).

* ``srtStreamId`` (ours: SRT access control's stream id) on SRT inputs and
  outputs: written after ``srtLatency``, read back, replaced by a PUT;
  at most 512 characters and 512 UTF-8 bytes, refused in rendezvous mode,
  each refusal 400/1000 (create) or 400/1004 (edit) naming the field and
  the limit; a character XML cannot hold refused 400/1011.
* A configuration saved before the field existed still loads.
* A running stream's ``<stats>`` has no ``<input>`` or ``<outputs>`` when
  its input is a capture source and its outputs UDP, and then no input or
  output shows a ``lastError``.
"""

import re
import zlib

from kraken import (assert_error, body, child, create, edit, expect, get_one, live_stream,
                    set_stream_state, text, unique)

INPUTS = "/apis/kraken/inputs"
OUTPUTS = "/apis/kraken/outputs"

# SRT's access-control guidelines and libsrt's SRTO_STREAMID: 512.
STREAM_ID_MAX = 512
# An id in the guidelines' own syntax, with characters XML must escape.
ACCESS_CONTROL_ID = "#!::r=live/feed&x=<1>,m=publish"


def srt_input(mode, stream_id=None, name=None, port=9300):
    fields = [("name", name or unique("srt-in")), ("streamType", "SRT"), ("srtMode", mode)]
    if mode == "listener":
        fields.append(("srtLocalPort", port))
    else:
        fields += [("srtAddress", "127.0.0.1"), ("srtRemotePort", port)]
    fields += [("srtLatency", 300), ("srtStreamId", stream_id)]
    return body("input", fields)


def srt_output(mode, stream_id=None, name=None, port=9400):
    fields = [("name", name or unique("srt-out")), ("streamType", "SRT"), ("srtMode", mode)]
    if mode == "listener":
        fields.append(("srtLocalPort", port))
    else:
        fields += [("srtAddress", "127.0.0.1"), ("srtRemotePort", port)]
    fields += [("srtStreamId", stream_id), ("srtLatency", 200),
               ("srtEncryption", "aes128"), ("srtPassphrase", "0123456789")]
    return body("output", fields)


def tags(el):
    return [c.tag for c in el]


def assert_after_latency(el):
    order = tags(el)
    assert order.index("srtStreamId") == order.index("srtLatency") + 1, order


# --- Read back ---------------------------------------------------------------------

def test_srt_inputs_keep_their_stream_id(api):
    for mode, port in (("caller", 9301), ("listener", 9302)):
        rid = create(api, "input", srt_input(mode, ACCESS_CONTROL_ID, port=port))
        el = get_one(api, "input", rid)
        assert text(el, "srtMode") == mode
        assert text(el, "srtStreamId") == ACCESS_CONTROL_ID
        assert_after_latency(el)


def test_srt_outputs_keep_their_stream_id(api):
    for mode, port in (("caller", 9401), ("listener", 9402)):
        rid = create(api, "output", srt_output(mode, ACCESS_CONTROL_ID, port=port))
        el = get_one(api, "output", rid)
        assert text(el, "srtMode") == mode
        assert text(el, "srtStreamId") == ACCESS_CONTROL_ID
        assert_after_latency(el)
        assert text(el, "srtEncryption") == "aes128"


def test_the_stream_id_is_trimmed_and_blank_is_none(api):
    rid = create(api, "output", srt_output("caller", "  feed-1 \n"))
    assert text(get_one(api, "output", rid), "srtStreamId") == "feed-1"
    rid = create(api, "input", srt_input("caller", "   "))
    assert get_one(api, "input", rid).find("srtStreamId") is None


def test_an_edit_replaces_the_stream_id(api):
    rid = create(api, "output", srt_output("caller", "first"))
    edit(api, "output", rid, srt_output("caller", "second"))
    assert text(get_one(api, "output", rid), "srtStreamId") == "second"
    # PUT replaces: a stream id left out is gone.
    edit(api, "output", rid, srt_output("caller"))
    assert get_one(api, "output", rid).find("srtStreamId") is None


def test_the_longest_stream_id_is_accepted(api):
    longest = "s" * STREAM_ID_MAX
    rid = create(api, "input", srt_input("listener", longest, port=9303))
    assert text(get_one(api, "input", rid), "srtStreamId") == longest


# --- Refusals ----------------------------------------------------------------------

def test_a_stream_id_one_too_long_is_refused_naming_field_and_limit(api):
    too_long = "s" * (STREAM_ID_MAX + 1)
    name = unique("long-id")
    assert_error(api.post(OUTPUTS, srt_output("caller", too_long, name=name)), 1000,
                 mentions=("srtStreamId", "513", "at most 512"))
    assert_error(api.post(INPUTS, srt_input("listener", too_long, name=name)), 1000,
                 mentions=("srtStreamId", "at most 512"))
    rid = create(api, "output", srt_output("caller", "kept"))
    assert_error(api.put(f"{OUTPUTS}/output-{rid}", srt_output("caller", too_long)), 1004,
                 mentions=("srtStreamId", "at most 512"))
    assert text(get_one(api, "output", rid), "srtStreamId") == "kept"


def test_a_stream_id_past_512_bytes_is_refused(api):
    # 300 characters, 600 bytes in UTF-8: libsrt counts bytes.
    wide = "é" * 300
    assert_error(api.post(INPUTS, srt_input("caller", wide)), 1000,
                 mentions=("srtStreamId", "600 bytes", "512"))


def test_a_stream_id_in_rendezvous_mode_is_refused(api):
    resp = api.post(OUTPUTS, srt_output("rendezvous", "feed"))
    assert_error(resp, 1000, mentions=("srtStreamId", "rendezvous"))
    # Without one, rendezvous is fine.
    create(api, "output", srt_output("rendezvous"))


def test_an_input_takes_the_senders_key_length(api):
    # A key length on an input would be accepted and do nothing: refused.
    fields = [("name", unique("srt-in")), ("streamType", "SRT"), ("srtMode", "listener"),
              ("srtLocalPort", 9300), ("srtPassphrase", "0123456789")]
    assert_error(api.post(INPUTS, body("input", fields + [("srtEncryption", "aes256")])), 1000,
                 mentions=("srtEncryption", "sender"))
    create(api, "input", body("input", fields))


def test_a_passphrase_past_79_bytes_is_refused(api):
    # 40 characters are within the contract's 10-79, but 80 bytes are more
    # than libsrt derives a key from.
    fields = [("name", unique("srt-in")), ("streamType", "SRT"), ("srtMode", "listener"),
              ("srtLocalPort", 9300), ("srtPassphrase", "é" * 40)]
    assert_error(api.post(INPUTS, body("input", fields)), 1000,
                 mentions=("srtPassphrase", "80 bytes", "79"))


def test_a_character_xml_cannot_hold_is_refused(api):
    xml = srt_output("caller", "feed").replace("feed", "fe&#1;ed")
    assert_error(api.post(OUTPUTS, xml), 1011, mentions=("srtStreamId", "U+0001"))


# --- A configuration saved before the field existed ---------------------------------

SLOT_HEADER = re.compile(rb"^MAKARA-SLOT 1 gen=(\d+) len=(\d+) crc32=([0-9a-f]{8})\n")


def rewrite_slot(path, edit_payload):
    """Rewrites a slot file's payload, with its header's length and CRC-32
    made again as the store makes them (over the header before ``crc32=``
    and the payload)."""
    raw = path.read_bytes()
    header = SLOT_HEADER.match(raw)
    assert header, f"{path} does not start with a slot header: {raw[:80]!r}"
    payload = edit_payload(raw[header.end():])
    covered = b"MAKARA-SLOT 1 gen=%s len=%d" % (header.group(1), len(payload))
    crc = zlib.crc32(covered + payload)
    path.write_bytes(covered + b" crc32=%08x\n" % crc + payload)


def test_a_configuration_saved_without_stream_ids_loads(fresh):
    api = fresh.client
    in_id = create(api, "input", srt_input("caller", "old-in", name="old srt in"))
    out_id = create(api, "output", srt_output("listener", "old-out", name="old srt out"))
    fresh.server.stop()

    def as_saved_before(payload):
        lines = payload.decode().splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith("stream_id = ")]
        assert len(lines) - len(kept) == 2, f"no stream_id lines to remove:\n{payload.decode()}"
        return "".join(kept).encode()

    slots = [fresh.data_dir / f"config.{s}" for s in "ab"]
    newest = max(slots, key=lambda p: int(SLOT_HEADER.match(p.read_bytes()).group(1)))
    rewrite_slot(newest, as_saved_before)

    fresh.start()
    log = fresh.server.log_tail(200)
    assert "damaged" not in log, log
    el = get_one(api, "input", in_id)
    assert text(el, "name") == "old srt in"
    assert text(el, "srtMode") == "caller"
    assert text(el, "srtLatency") == "300"
    assert el.find("srtStreamId") is None
    el = get_one(api, "output", out_id)
    assert text(el, "name") == "old srt out"
    assert text(el, "srtLocalPort") == "9400"
    assert text(el, "srtEncryption") == "aes128"
    assert el.find("srtStreamId") is None
    # The loaded configuration takes a stream id again, and keeps it.
    edit(api, "output", out_id, srt_output("listener", "new-out", name="old srt out"))
    fresh.restart()
    assert text(get_one(api, "output", out_id), "srtStreamId") == "new-out"


# --- What stats and lastError show for a capture stream -----------------------------

def test_a_capture_stream_to_udp_reports_only_its_outputs_health(api):
    """No input report for a capture input; the UDP output's report is its
    health alone (docs/feeds.md): no peers, no lastError."""
    port = 5700
    name = unique("udp")
    path = live_stream(api, [[("name", name), ("url", f"udp://127.0.0.1:{port}")]])
    stream = set_stream_state(api, path, "start", "active", timeout=30)
    try:
        stats = child(stream, "stats")
        assert text(stats, "framesEncoded") is not None
        assert stats.find("input") is None, tags(stats)
        reports = child(stats, "outputs").findall("output")
        assert [text(r, "name") for r in reports] == [name], tags(stats)
        assert (text(reports[0], "connections"), reports[0].find("lastError"),
                reports[0].find("srt")) == ("0", None, None)
        assert text(reports[0], "ccErrors") == "0"
        in_id = child(child(stream, "input"), "link").get("href").rsplit("input-", 1)[1]
        out_link = child(child(child(stream, "outputs"), "output"), "link").get("href")
        out_id = out_link.rsplit("output-", 1)[1]
        assert get_one(api, "input", in_id).find("lastError") is None
        assert get_one(api, "output", out_id).find("lastError") is None
    finally:
        expect(api.put(path, "<stream><state>stop</state></stream>"), 200)
