"""Issue 8, points 5 and 6: text XML cannot hold, and bounded sizes.

* A character outside XML 1.0's ``Char`` production (raw, or as a character
  reference) is refused with 400/1011 naming the element, and the lists stay
  well-formed XML. Malformed attributes are refused with 400/1011 too.
* Every free-text field has a longest value (in characters): one character
  more is refused with 400/1000 on create, 400/1004 on edit, naming the field
  and the limit.
* The configuration keeps a bounded number of each resource, and its saved
  document, presets included, a bounded size: past either, 400/1000 naming
  the limit, and nothing is created.
"""

import os
import time
from pathlib import Path

import pytest

import kraken
from kraken import (KINDS, assert_error, body, create, get_one, items, text, transcoder,
                    ts_input, udp_output, unique)

INPUTS = "/apis/kraken/inputs"
CONFIGURATIONS = "/apis/kraken/configurations"

# docs: the limits as documented (doc-limits.md).
NAME_MAX = 128
MAX_INPUTS = 256
MAX_PRESETS = 32
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024


def raw_input(name_xml, **extra):
    """An input body whose <name> is written as given (not escaped)."""
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    return (f"<input><name>{name_xml}</name><url>udp://127.0.0.1:6000</url>"
            f"<streamType>MPEG2TS</streamType>{fields}</input>")


def assert_lists_are_well_formed(client):
    """Every list answers well-formed XML (kraken.parse asserts it)."""
    for kind in KINDS:
        items(client, kind)


# --- Characters XML 1.0 cannot hold ---------------------------------------------

# How the character is written in the body -> the code point named.
FORBIDDEN = {
    "raw 0x01": ("\x01", "U+0001"),
    "&#1;": ("&#1;", "U+0001"),
    "raw 0x0C": ("\x0c", "U+000C"),
    "&#12;": ("&#12;", "U+000C"),
    "&#x1B;": ("&#x1B;", "U+001B"),
    "raw 0x1B": ("\x1b", "U+001B"),
    "raw 0x00": ("\x00", "U+0000"),
    "raw U+FFFE": ("\ufffe", "U+FFFE"),
    "&#xFFFE;": ("&#xFFFE;", "U+FFFE"),
    "raw U+FFFF": ("\uffff", "U+FFFF"),
    "&#65535;": ("&#65535;", "U+FFFF"),
}


@pytest.mark.parametrize("case", sorted(FORBIDDEN))
def test_a_name_xml_cannot_hold_is_refused_on_create(api, case):
    written, code_point = FORBIDDEN[case]
    name = unique("chars")
    resp = api.post(INPUTS, raw_input(f"{name}{written}x"))
    assert_error(resp, 1011, mentions=("name", code_point))
    assert all(text(i, "name") != name + "x" for i in items(api, "input"))
    assert_lists_are_well_formed(api)


@pytest.mark.parametrize("case", ["&#1;", "raw 0x0C", "&#x1B;", "raw U+FFFF"])
def test_a_name_xml_cannot_hold_is_refused_on_edit(api, case):
    written, code_point = FORBIDDEN[case]
    name = unique("kept")
    rid = create(api, "input", ts_input(name))
    resp = api.put(f"{INPUTS}/input-{rid}", raw_input(f"x{written}"))
    assert_error(resp, 1011, mentions=("name", code_point))
    assert text(get_one(api, "input", rid), "name") == name


# NUL and surrogates as references: quick-xml refuses these itself; the
# answer still says where.
@pytest.mark.parametrize("written", ["&#0;", "&#xD800;"])
def test_references_to_nul_and_surrogates_name_the_element(api, written):
    assert_error(api.post(INPUTS, raw_input(f"a{written}")), 1011, mentions=("name",))


@pytest.mark.parametrize("kind,xml,field", [
    ("output", "<output><name>o</name><url>udp://127.0.0.1:5000</url>"
               "<description>d&#x1B;</description></output>", "description"),
    ("output", "<output><name>o</name><url>udp://127.0.0.1:5000</url>"
               "<sap><sessionName>s\x01</sessionName></sap></output>", "sessionName"),
    ("transcoder", "<transcoder><name>t&#xFFFE;</name></transcoder>", "name"),
    ("configuration", "<configuration><name>c&#1;</name></configuration>", "name"),
])
def test_other_fields_are_checked_too(api, kind, xml, field):
    assert_error(api.post(f"/apis/kraken/{KINDS[kind]}", xml), 1011, mentions=(field,))
    assert_lists_are_well_formed(api)


# Attributes play no part in Kraken bodies, but a body with a malformed one
# is not XML.
MALFORMED_ATTRIBUTES = {
    "no value": "<input a=>{rest}</input>",
    "no equals": "<input a>{rest}</input>",
    "unquoted": "<input a=1>{rest}</input>",
    "duplicate": "<input a=\"1\" a=\"2\">{rest}</input>",
    "duplicate inside": "<input><name b='1' b='1'>n</name><url>udp://127.0.0.1:6000</url></input>",
    "not spaced": "<input a=\"1\"b=\"2\">{rest}</input>",
    "lt in value": "<input a=\"x<y\">{rest}</input>",
    "forbidden char in value": "<input a=\"&#1;\">{rest}</input>",
}


@pytest.mark.parametrize("case", sorted(MALFORMED_ATTRIBUTES))
def test_malformed_attributes_are_refused(api, case):
    rest = f"<name>{unique('attr')}</name><url>udp://127.0.0.1:6000</url>"
    resp = api.post(INPUTS, MALFORMED_ATTRIBUTES[case].format(rest=rest))
    assert_error(resp, 1011, mentions=("attribute",))


def test_well_formed_attributes_are_still_fine(api):
    name = unique("attr")
    xml = (f"<input a=\"1\" b='2'><name lang=\"en\">{name}</name>"
           "<url>udp://127.0.0.1:6000</url></input>")
    rid = create(api, "input", xml)
    assert text(get_one(api, "input", rid), "name") == name


OLD_MAKARAD = os.environ.get("MAKARA_OLD_MAKARAD")


@pytest.mark.skipif(not OLD_MAKARAD, reason="MAKARA_OLD_MAKARAD (a makarad from before "
                    "issue 8, which accepted such names) is not set")
def test_a_name_stored_by_an_older_firmware_is_served_as_well_formed_xml(fresh, monkeypatch):
    """The old firmware stores a name holding U+0001; this one serves it
    with U+FFFD in its place, and the list parses."""
    fresh.server.stop()
    with monkeypatch.context() as m:
        m.setattr(kraken, "MAKARAD", str(Path(OLD_MAKARAD)))
        fresh.server.start()
        rid = create(fresh.client, "input", raw_input("old&#1;name"))
        fresh.server.stop()
    fresh.server.start()
    listed = {text(i, "uuid"): text(i, "name") for i in items(fresh.client, "input")}
    assert listed == {rid: "old\ufffdname"}
    assert text(get_one(fresh.client, "input", rid), "name") == "old\ufffdname"
    # An edit replaces it; nothing else about the input was lost.
    kraken.edit(fresh.client, "input", rid, ts_input("new name"))
    assert text(get_one(fresh.client, "input", rid), "name") == "new name"


# --- Longest text fields --------------------------------------------------------

def srt_input(field, value):
    assert field == "srtAddress"
    return body("input", [("name", unique("len")), ("streamType", "SRT"),
                          ("srtMode", "caller"), ("srtAddress", value),
                          ("srtRemotePort", "9000")])


def sap_output(field, value):
    return body("output", [("name", unique("len")), ("url", "udp://127.0.0.1:5000"),
                           ("sap", [(field, value)])])


def plain(make):
    def fields(field, value):
        return make(**{field: value}) if field != "name" else make(value)
    return fields


def url_of(n):
    """A udp URL of exactly ``n`` characters."""
    head, tail = "udp://", ":6000"
    return head + "h" * (n - len(head) - len(tail)) + tail


def interface_of(n):
    return "e" * n


# (kind, body maker, field, longest, value of a given length)
TEXT_FIELDS = [
    ("input", plain(ts_input), "name", NAME_MAX, lambda n: "n" * n),
    ("input", plain(ts_input), "description", 512, lambda n: "d" * n),
    ("input", lambda f, v: body("input", [("name", unique("len")), ("url", v)]), "url",
     1024, url_of),
    ("input", plain(ts_input), "interface", 15, interface_of),
    ("input", srt_input, "srtAddress", 253, lambda n: "a" * n),
    ("output", plain(udp_output), "name", NAME_MAX, lambda n: "é" * n),
    ("output", plain(udp_output), "description", 512, lambda n: "d" * n),
    ("output", sap_output, "address", 45,
     lambda n: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" + "0" * (n - 45)),
    ("output", sap_output, "sessionName", 128, lambda n: "s" * n),
    ("output", sap_output, "sessionDescription", 256, lambda n: "s" * n),
    ("output", sap_output, "keywords", 128, lambda n: "k" * n),
    ("output", sap_output, "author", 128, lambda n: "a" * n),
    ("transcoder", plain(transcoder), "name", NAME_MAX, lambda n: "t" * n),
]


@pytest.mark.parametrize("kind,make,field,longest,value", TEXT_FIELDS,
                         ids=[f"{k}-{f}" for k, _, f, _, _ in TEXT_FIELDS])
def test_each_text_field_has_a_longest_value(api, kind, make, field, longest, value):
    create(api, kind, make(field, value(longest)))
    resp = api.post(f"/apis/kraken/{KINDS[kind]}", make(field, value(longest + 1)))
    assert_error(resp, 1000, mentions=(field, str(longest), str(longest + 1)))


def test_stream_name_and_description_are_bounded(api):
    kit = kraken.Kit(api, outputs=1)
    kit.make_stream("s" * NAME_MAX, description="d" * 512)
    assert_error(api.post("/apis/kraken/streams", kit.stream_body("s" * (NAME_MAX + 1))),
                 1000, mentions=("name", str(NAME_MAX)))
    assert_error(api.post("/apis/kraken/streams",
                          kit.stream_body(description="d" * 513)),
                 1000, mentions=("description", "512"))


def test_configuration_names_are_bounded(fresh):
    client = fresh.client
    create(client, "configuration", body("configuration", [("name", "c" * NAME_MAX)]))
    resp = client.post(CONFIGURATIONS, body("configuration", [("name", "c" * (NAME_MAX + 1))]))
    assert_error(resp, 1000, mentions=("name", str(NAME_MAX)))


def test_an_over_long_name_is_refused_on_edit_and_changes_nothing(api):
    name = unique("kept")
    rid = create(api, "input", ts_input(name))
    resp = api.put(f"{INPUTS}/input-{rid}", ts_input("n" * 10_000))
    assert_error(resp, 1004, mentions=("name", "10000", str(NAME_MAX)))
    assert text(get_one(api, "input", rid), "name") == name


def test_a_long_name_is_refused_not_stored(api):
    """The issue's case, within the request size the HTTP layer reads."""
    resp = api.post(INPUTS, ts_input("n" * 50_000))
    assert_error(resp, 1000, mentions=("name", str(NAME_MAX)))
    assert all(len(text(i, "name")) <= NAME_MAX for i in items(api, "input"))


# --- Counts and total size ------------------------------------------------------

def test_the_number_of_inputs_is_bounded(fresh):
    client = fresh.client
    started = time.monotonic()
    for i in range(MAX_INPUTS):
        create(client, "input", ts_input(f"in{i}"))
    resp = client.post(INPUTS, ts_input("one too many"))
    assert_error(resp, 1000, mentions=("inputs", str(MAX_INPUTS)))
    listed = items(client, "input")
    assert len(listed) == MAX_INPUTS
    assert all(text(i, "name") != "one too many" for i in listed)
    # Deleting one makes room again.
    kraken.delete(client, "input", text(listed[0], "uuid"))
    create(client, "input", ts_input("room again"))
    print(f"{MAX_INPUTS + 2} creates and a delete took {time.monotonic() - started:.1f} s")


def test_the_number_of_configurations_is_bounded(fresh):
    client = fresh.client
    for i in range(MAX_PRESETS):
        create(client, "configuration", body("configuration", [("name", f"p{i}")]))
    resp = client.post(CONFIGURATIONS, body("configuration", [("name", "one more")]))
    assert_error(resp, 1000, mentions=("configurations", str(MAX_PRESETS)))
    assert len(items(client, "configuration")) == MAX_PRESETS


def longest_input(i):
    return body("input", [("name", f"{i:03}" + "n" * (NAME_MAX - 3)),
                          ("description", "d" * 512), ("url", url_of(1024))])


def test_the_saved_configuration_is_bounded_in_size(fresh):
    """Presets copy the resources: with every input's text at its longest,
    saving presets reaches the size limit before the count limit, and the
    one past it is refused and not kept."""
    client = fresh.client
    # 64 such inputs take about 140 kB: some 14 copies reach 2 MiB.
    for i in range(64):
        create(client, "input", longest_input(i))
    saved = 0
    for i in range(MAX_PRESETS):
        resp = client.post(CONFIGURATIONS, body("configuration", [("name", f"copy {i}")]))
        if resp.status_code != 201:
            break
        saved += 1
    else:
        pytest.fail(f"{MAX_PRESETS} copies of 64 long inputs were all accepted")
    assert_error(resp, 1000, mentions=(f"limit of {MAX_DOCUMENT_BYTES} bytes",))
    assert 1 <= saved < MAX_PRESETS
    names = [text(c, "name") for c in items(client, "configuration")]
    assert names == [f"copy {i}" for i in range(saved)]
    # Small changes still fit; only growth past the limit is refused.
    rid = create(client, "transcoder", transcoder("small"))
    assert text(get_one(client, "transcoder", rid), "name") == "small"
    # What was refused is not on disk either.
    fresh.restart()
    assert len(items(client, "configuration")) == saved
    assert text(get_one(client, "transcoder", rid), "name") == "small"
