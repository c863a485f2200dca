"""Stream resources: /apis/kraken/streams and …/stream-{id}, including the
seed's example bodies, start/stop, and what a stream does to the resources
it uses."""

import re
import uuid

import pytest

import seed_bodies as seed
from kraken import (Kit, as_bool, assert_error, body, child, create, created_id, delete, edit,
                    expect, free_port, get_one, href_host, id_from_href, items, link_to,
                    live_stream, self_link, set_stream_state, stream, text, transcoder, ts_input, udp_output,
                    unique)

SEED_FIELDS = ("input", "transcoder", "output")


def without_metadatas(xml):
    return re.sub(r"\s*<metadatas>.*?</metadatas>", "", xml, flags=re.S)


def seed_mapping(kit, ids):
    return {ids["input"]: kit.input, ids["transcoder"]: kit.transcoder,
            ids["output1"]: kit.outputs[0], ids["output2"]: kit.outputs[1]}


def assert_names_unknown_reference(resp, code, candidates=SEED_FIELDS):
    message = assert_error(resp, code)
    assert any(c in message for c in candidates), (
        f"message {message!r} names none of {candidates}")


def check_ref(el, tag, rel, kit_id, name, client):
    ref = child(el, tag)
    assert text(ref, "name") == name
    link = child(ref, "link")
    assert link.get("rel") == rel, f"<{tag}> link rel={link.get('rel')!r}"
    assert link.get("type") == "application/xml"
    assert id_from_href(link.get("href")) == kit_id
    assert href_host(link.get("href")) == client.host, "links use the request's Host"


# --- Create -----------------------------------------------------------------

def test_create_seed_verbatim_is_refused_for_its_metadatas(api):
    """The seed's body names a metadata source, which this firmware does not
    have (and ids that exist nowhere): <metadatas> is refused first, with
    501/1010, and nothing is created. Unknown references alone are
    test_create_seed_names_the_one_unknown_reference."""
    assert_error(api.post("/apis/kraken/streams", seed.STREAM_CREATE), 1010)
    assert "Stream 124" not in {text(it, "name") for it in items(api, "stream")}


def test_create_seed_with_real_ids_still_has_metadatas(api):
    kit = Kit(api)
    xml = seed.replace_ids(seed.STREAM_CREATE, seed_mapping(kit, seed.SEED_IDS_STREAM))
    assert_error(api.post("/apis/kraken/streams", xml), 1010)


@pytest.mark.parametrize("unknown", ["input", "transcoder", "output1", "output2"])
def test_create_seed_names_the_one_unknown_reference(api, unknown):
    kit = Kit(api)
    mapping = seed_mapping(kit, seed.SEED_IDS_STREAM)
    del mapping[seed.SEED_IDS_STREAM[unknown]]
    xml = seed.replace_ids(without_metadatas(seed.STREAM_CREATE), mapping)
    assert_error(api.post("/apis/kraken/streams", xml), 1000,
                 mentions=[unknown.rstrip("12")])


def test_create_seed_with_real_ids(api):
    """The seed's create body, ids replaced and <metadatas> left out: created;
    auto_start starts it, and with nobody sending to its MPEG2TS input it
    waits, saying why in <lastError>."""
    kit = Kit(api)
    xml = seed.replace_ids(without_metadatas(seed.STREAM_CREATE),
                           seed_mapping(kit, seed.SEED_IDS_STREAM))
    sid = create(api, "stream", xml)
    el = get_one(api, "stream", sid)
    assert text(el, "name") == "Stream 124"
    assert text(el, "description") == "Stream Description"
    assert as_bool(text(el, "auto_start")) is True
    assert text(el, "state") == "waiting"
    assert text(el, "lastError"), "a stream waiting for its input says why in <lastError>"
    set_stream_state(api, f"/apis/kraken/streams/stream-{sid}", "stop", "stopped")
    assert text(el, "mode") == "transcoder"
    in_el = get_one(api, "input", kit.input)
    check_ref(el, "input", "input", kit.input, text(in_el, "name"), api)
    tc_el = get_one(api, "transcoder", kit.transcoder)
    check_ref(el, "transcoder", "transcoder", kit.transcoder, text(tc_el, "name"), api)
    outs = child(el, "outputs").findall("output")
    assert sorted(id_from_href(child(o, "link").get("href")) for o in outs) == sorted(kit.outputs)
    for o in outs:
        oid = id_from_href(child(o, "link").get("href"))
        assert child(o, "link").get("rel") == "output"
        assert text(o, "name") == text(get_one(api, "output", oid), "name")
    assert self_link(el) == link_to(api, "stream", sid)
    delete(api, "stream", sid)


def test_list_streams_shows_state(api):
    kit = Kit(api)
    name = unique("list-st")
    sid = kit.make_stream(name)
    listed = {text(it, "uuid"): it for it in items(api, "stream")}
    it = listed[sid]
    assert text(it, "name") == name
    assert text(it, "state") == "stopped"
    assert self_link(it) == link_to(api, "stream", sid)
    assert {c.tag for c in it} == {"uuid", "name", "state", "link"}
    delete(api, "stream", sid)


def test_new_stream_is_stopped_and_not_auto_started(api):
    kit = Kit(api)
    sid = kit.make_stream()
    el = get_one(api, "stream", sid)
    assert text(el, "state") == "stopped"
    assert as_bool(text(el, "auto_start")) is False
    # An input used by a stream shows the stream's state.
    assert text(get_one(api, "input", kit.input), "state") == "stopped"
    delete(api, "stream", sid)
    assert text(get_one(api, "input", kit.input), "state") == "unset"


def decklink_stream(api):
    """A stream whose input is DECKLINK, which the media engine cannot
    capture from (no DeckLink support yet): every start is refused."""
    kit = Kit(api)
    kit.input = create(api, "input", body("input", [("name", unique("sdi")),
                                                     ("streamType", "DECKLINK")]))
    return kit


def test_create_with_state_start_is_created_stopped(api):
    kit = decklink_stream(api)
    sid = kit.make_stream(state="start")
    el = get_one(api, "stream", sid)
    assert text(el, "state") == "stopped"
    assert text(el, "lastError")
    delete(api, "stream", sid)


# --- Edit, start, stop --------------------------------------------------------

def test_edit_seed_verbatim_names_a_missing_reference(api):
    kit = Kit(api)
    sid = kit.make_stream("before-edit")
    assert_names_unknown_reference(api.put(f"/apis/kraken/streams/stream-{sid}",
                                           seed.STREAM_EDIT), 1004)
    assert text(get_one(api, "stream", sid), "name") == "before-edit"
    delete(api, "stream", sid)


def test_edit_seed_with_real_ids(api):
    kit = Kit(api)
    sid = kit.make_stream("before-edit", auto_start="true", description="old")
    # auto_start started it (waiting for its input): a running stream
    # cannot be edited, so stop it first.
    set_stream_state(api, f"/apis/kraken/streams/stream-{sid}", "stop", "stopped")
    other = Kit(api)
    edit(api, "stream", sid, seed.replace_ids(seed.STREAM_EDIT,
                                              seed_mapping(other, seed.SEED_IDS_STREAM)))
    el = get_one(api, "stream", sid)
    assert text(el, "name") == "Stream 124"
    assert text(el, "description") == "Stream Description"
    assert as_bool(text(el, "auto_start")) is False, "PUT replaces: auto_start back to default"
    assert id_from_href(child(child(el, "input"), "link").get("href")) == other.input
    assert id_from_href(child(child(el, "transcoder"), "link").get("href")) == other.transcoder
    outs = [id_from_href(child(o, "link").get("href"))
            for o in child(el, "outputs").findall("output")]
    assert sorted(outs) == sorted(other.outputs)
    # The first kit's resources are free again.
    delete(api, "output", kit.outputs[0])
    delete(api, "stream", sid)


def test_edit_passthru_seed(api):
    kit = Kit(api)
    sid = kit.make_stream()
    resp = api.put(f"/apis/kraken/streams/stream-{sid}", seed.STREAM_EDIT_PASSTHRU)
    assert_names_unknown_reference(resp, 1004, ("input", "passthru", "transcoder", "output"))
    pt = Kit(api, outputs=3)
    ids = seed.SEED_IDS_PASSTHRU
    edit(api, "stream", sid, seed.replace_ids(seed.STREAM_EDIT_PASSTHRU, {
        ids["input"]: pt.input, ids["transcoder"]: pt.transcoder,
        ids["passthru"]: pt.outputs[0], ids["output1"]: pt.outputs[1],
        ids["output2"]: pt.outputs[2]}))
    el = get_one(api, "stream", sid)
    assert text(el, "name") == "Stream with Passthru"
    assert text(el, "mode") == "passthru"
    assert as_bool(text(el, "auto_start")) is True
    check_ref(el, "passthru", "output", pt.outputs[0],
              text(get_one(api, "output", pt.outputs[0]), "name"), api)
    outs = [id_from_href(child(o, "link").get("href"))
            for o in child(el, "outputs").findall("output")]
    assert sorted(outs) == sorted(pt.outputs[1:])
    # A passthru output is in use too.
    assert_error(api.delete(f"/apis/kraken/outputs/output-{pt.outputs[0]}"), 1005)
    delete(api, "stream", sid)


def test_start_of_an_input_the_engine_cannot_capture_is_unavailable(api):
    """A DECKLINK input on a machine without Blackmagic's driver (test
    machines have none; test_decklink.py brings a fake one): 503/1016
    naming the port and why, and the stream stays stopped."""
    kit = decklink_stream(api)
    sid = kit.make_stream()
    assert_error(api.put(f"/apis/kraken/streams/stream-{sid}", seed.STREAM_START), 1016,
                 mentions=["no DeckLink device for decklinkPort", "libDeckLinkAPI.so"])
    assert text(get_one(api, "stream", sid), "state") == "stopped"
    edit(api, "stream", sid, seed.STREAM_STOP)
    assert text(get_one(api, "stream", sid), "state") == "stopped"
    delete(api, "stream", sid)


def test_start_that_cannot_open_an_output_is_an_execution_error(api):
    """A valid stream whose output names a network interface this machine
    does not have: the engine fails to open the output (before anything is
    sent), 500/1012 naming the interface, and the reason stays in
    <lastError>."""
    nic = f"https://{api.host}/apis/servers/server-0/nics/nic-nosuch0"
    path = live_stream(api, [[("name", unique("no-nic")),
                              ("url", f"udp://127.0.0.1:{free_port()}"), ("interface", nic)]])
    assert_error(api.put(path, seed.STREAM_START), 1012, mentions=["nosuch0"])
    el = child(expect(api.get(path), 200), "stream")
    assert text(el, "state") == "stopped"
    assert "nosuch0" in text(el, "lastError")
    expect(api.delete(path), 200)


def test_state_action_ignores_other_elements(api):
    kit = Kit(api)
    sid = kit.make_stream("keeps-its-name")
    edit(api, "stream", sid, body("stream", [("name", "renamed"), ("state", "stop")]))
    assert text(get_one(api, "stream", sid), "name") == "keeps-its-name"
    delete(api, "stream", sid)


def test_bad_state_value_is_refused(api):
    kit = Kit(api)
    sid = kit.make_stream()
    assert_error(api.put(f"/apis/kraken/streams/stream-{sid}",
                         body("stream", [("state", "pause")])), 1004, mentions=["state"])
    delete(api, "stream", sid)


# --- Modes ------------------------------------------------------------------

def test_passthru_given_without_mode_means_passthru(api):
    kit = Kit(api, outputs=2)
    sid = create(api, "stream", stream(api, input_id=kit.input, transcoder_id=kit.transcoder,
                                       output_ids=kit.outputs[1:], passthru_id=kit.outputs[0]))
    el = get_one(api, "stream", sid)
    assert text(el, "mode") == "passthru"
    assert id_from_href(child(child(el, "passthru"), "link").get("href")) == kit.outputs[0]
    delete(api, "stream", sid)


def test_bypass_needs_no_transcoder(api):
    kit = Kit(api)
    sid = create(api, "stream", stream(api, input_id=kit.input, output_ids=kit.outputs,
                                       mode="bypass"))
    el = get_one(api, "stream", sid)
    assert text(el, "mode") == "bypass"
    assert el.find("transcoder") is None
    delete(api, "stream", sid)


# --- Validation -------------------------------------------------------------

def invalid_cases(api):
    kit = Kit(api)
    o1, o2 = kit.outputs
    missing = str(uuid.uuid4())
    return {
        "name missing": (stream(api, "x", input_id=kit.input, transcoder_id=kit.transcoder,
                                output_ids=[o1]).replace("<name>x</name>", ""), ["name"]),
        "input missing": (body("stream", [("name", "s"), ("transcoder",
                                                         link_to(api, "transcoder", kit.transcoder)),
                                          ("outputs", [("output", [link_to(api, "output", o1)])])]),
                          ["input"]),
        "transcoder missing": (stream(api, input_id=kit.input, output_ids=[o1]), ["transcoder"]),
        "no outputs": (stream(api, input_id=kit.input, transcoder_id=kit.transcoder), ["output"]),
        "output twice": (stream(api, input_id=kit.input, transcoder_id=kit.transcoder,
                                output_ids=[o1, o1]), ["output"]),
        "passthru also an output": (stream(api, input_id=kit.input, transcoder_id=kit.transcoder,
                                           output_ids=[o1, o2], passthru_id=o1), ["passthru"]),
        "unknown input": (stream(api, input_id=missing, transcoder_id=kit.transcoder,
                                 output_ids=[o1]), ["input"]),
        "unknown transcoder": (stream(api, input_id=kit.input, transcoder_id=missing,
                                      output_ids=[o1]), ["transcoder"]),
        "unknown output": (stream(api, input_id=kit.input, transcoder_id=kit.transcoder,
                                  output_ids=[o1, missing]), ["output"]),
        "unknown passthru": (stream(api, input_id=kit.input, transcoder_id=kit.transcoder,
                                    output_ids=[o1], passthru_id=missing), ["passthru"]),
        "bad mode": (stream(api, input_id=kit.input, transcoder_id=kit.transcoder,
                            output_ids=[o1], mode="sideways"), ["mode"]),
        "transcoder in bypass": (stream(api, input_id=kit.input, transcoder_id=kit.transcoder,
                                        output_ids=[o1], mode="bypass"), ["transcoder"]),
        "reference to another kind": (stream(api, input_id=kit.input, transcoder_id=kit.transcoder,
                                             output_ids=[kit.input]), ["output"]),
    }


INVALID_NAMES = ["name missing", "input missing", "transcoder missing", "no outputs",
                 "output twice", "passthru also an output", "unknown input",
                 "unknown transcoder", "unknown output", "unknown passthru", "bad mode",
                 "transcoder in bypass", "reference to another kind"]


@pytest.mark.parametrize("case", INVALID_NAMES)
def test_invalid_stream_is_refused_naming_the_element(api, case):
    xml, mentions = invalid_cases(api)[case]
    before = len(items(api, "stream"))
    assert_error(api.post("/apis/kraken/streams", xml), 1000, mentions=mentions)
    assert len(items(api, "stream")) == before


# --- References and resources in use ----------------------------------------

def test_references_resolve_whatever_the_host(api):
    kit = Kit(api, outputs=3)
    xml = body("stream", [
        ("name", unique("refs")),
        ("input", f"https://10.1.40.89/apis/kraken/inputs/input-{kit.input}"),
        ("transcoder", kit.transcoder),  # a bare uuid
        ("outputs", [("output", [
            f"https://example.haivision.com:8443/apis/kraken/outputs/output-{kit.outputs[0]}",
            f"https://localhost:20343/apis/kraken/outputs/output{kit.outputs[1]}",  # seed spelling
            f"https://[::1]/apis/kraken/outputs/output-{kit.outputs[2]}",
        ])]),
    ])
    sid = create(api, "stream", xml)
    el = get_one(api, "stream", sid)
    assert id_from_href(child(child(el, "input"), "link").get("href")) == kit.input
    assert id_from_href(child(child(el, "transcoder"), "link").get("href")) == kit.transcoder
    links = [child(o, "link").get("href") for o in child(el, "outputs").findall("output")]
    assert sorted(id_from_href(h) for h in links) == sorted(kit.outputs)
    assert {href_host(h) for h in links} == {api.host}, "answered with this request's host"
    delete(api, "stream", sid)


@pytest.mark.parametrize("kind", ["input", "transcoder", "output"])
def test_resource_used_by_a_stream_cannot_be_deleted(api, kind):
    kit = Kit(api)
    name = unique("user")
    sid = kit.make_stream(name)
    rid = {"input": kit.input, "transcoder": kit.transcoder, "output": kit.outputs[1]}[kind]
    path = f"/apis/kraken/{kind}s/{kind}-{rid}"
    assert_error(api.delete(path), 1005, mentions=[name])
    get_one(api, kind, rid)  # still there
    delete(api, "stream", sid)
    delete(api, kind, rid)


def test_resources_of_a_stopped_stream_can_be_edited(api):
    kit = Kit(api)
    sid = kit.make_stream()
    edit(api, "output", kit.outputs[0], udp_output(name="edited-in-use", port=5900))
    edit(api, "transcoder", kit.transcoder, transcoder("edited-in-use", videoBitrate=1500))
    edit(api, "input", kit.input, ts_input(name="edited-in-use", port=6900))
    el = get_one(api, "stream", sid)
    assert text(child(el, "input"), "name") == "edited-in-use"
    assert text(child(el, "transcoder"), "name") == "edited-in-use"
    delete(api, "stream", sid)


def test_delete_stream(api):
    kit = Kit(api)
    sid = kit.make_stream()
    delete(api, "stream", sid)
    assert_error(api.get(f"/apis/kraken/streams/stream-{sid}"), 1002)
    assert_error(api.delete(f"/apis/kraken/streams/stream-{sid}"), 1002)
    for oid in kit.outputs:
        delete(api, "output", oid)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_stream_id(api, method):
    resp = api.request(method, f"/apis/kraken/streams/stream-{uuid.uuid4()}",
                       seed.STREAM_STOP if method == "PUT" else None)
    assert_error(resp, 1002)


def test_create_answers_link_to_new_stream(api):
    kit = Kit(api)
    resp = api.post("/apis/kraken/streams", kit.stream_body())
    sid = created_id(resp, "stream")
    root = expect(api.get(f"/apis/kraken/streams/stream-{sid}"), 200)
    assert text(child(root, "stream"), "uuid") == sid
    delete(api, "stream", sid)
