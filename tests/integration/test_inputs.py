"""Input resources: /apis/kraken/inputs and /apis/kraken/inputs/input-{id}."""

import uuid

import pytest

import seed_bodies as seed
from kraken import (assert_error, body, child, create, delete, edit, expect, get_one, items,
                    link_to, nic_name, self_link, text, ts_input, unique)


def test_list_gives_minimal_items_with_links(api):
    names = [unique("list-in"), unique("list-in")]
    ids = [create(api, "input", ts_input(name=n, port=6100 + i)) for i, n in enumerate(names)]
    listed = {text(it, "uuid"): it for it in items(api, "input")}
    for rid, name in zip(ids, names):
        it = listed[rid]
        assert text(it, "name") == name
        assert self_link(it) == link_to(api, "input", rid)
        assert {c.tag for c in it} == {"uuid", "name", "link"}, "list items are minimal"


def test_create_stream_input_seed(api):
    rid = create(api, "input", seed.INPUT_CREATE_STREAM)
    el = get_one(api, "input", rid)
    assert text(el, "name") == "Another input"
    assert text(el, "url") == "udp://239.207.1.3:9002"
    assert text(el, "description") == "Another note"
    assert text(el, "streamType") == "MJPEGRAW"
    assert nic_name(text(el, "interface")) == "eth1"
    assert text(el, "state") == "unset"
    assert self_link(el) == link_to(api, "input", rid)


def test_create_capture_card_seed_answers_canonical_names(api):
    rid = create(api, "input", seed.INPUT_CREATE_CAPTURE_CARD)
    el = get_one(api, "input", rid)
    assert text(el, "name") == "CAPTURE_CARD"
    assert text(el, "streamType") == "V4L2"
    assert text(el, "capturePort") == "0"
    assert text(el, "captureMode") == "-1"
    assert el.find("capture_card") is None and el.find("capture_mode") is None
    assert text(el, "description") == "from channel 2"
    assert text(el, "url") == "", "<url> is always present, empty for capture inputs"


def test_create_decklink_seed(api):
    rid = create(api, "input", seed.INPUT_CREATE_DECKLINK)
    el = get_one(api, "input", rid)
    assert text(el, "name") == "DECKLINK"
    assert text(el, "streamType") == "DECKLINK"
    assert text(el, "decklinkPort") == "0"
    assert text(el, "decklinkMode") == "7"
    assert text(el, "description") == "live camera"
    assert text(el, "url") == ""
    assert text(el, "state") == "unset"


def test_edit_input_seed(api):
    rid = create(api, "input", seed.INPUT_CREATE_STREAM)
    edit(api, "input", rid, seed.INPUT_EDIT)
    el = get_one(api, "input", rid)
    assert text(el, "name") == "New name"
    assert text(el, "url") == "udp://239.207.1.4:9004"
    assert text(el, "description") == "New note"
    assert text(el, "streamType") == "MPEG2TS"
    assert nic_name(text(el, "interface")) == "eth0"


def test_edit_replaces_the_whole_input(api):
    rid = create(api, "input", ts_input(description="to be dropped"))
    assert text(get_one(api, "input", rid), "description") == "to be dropped"
    edit(api, "input", rid, ts_input(name="replaced", port=6200))
    el = get_one(api, "input", rid)
    assert text(el, "name") == "replaced"
    assert text(el, "url") == "udp://127.0.0.1:6200"
    assert el.find("description") is None, "PUT replaces: a left-out field is unset"


def test_delete_input(api):
    rid = create(api, "input", ts_input())
    delete(api, "input", rid)
    assert_error(api.get(f"/apis/kraken/inputs/input-{rid}"), 1002)
    assert_error(api.delete(f"/apis/kraken/inputs/input-{rid}"), 1002)
    assert rid not in {text(it, "uuid") for it in items(api, "input")}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_input_id(api, method):
    path = f"/apis/kraken/inputs/input-{uuid.uuid4()}"
    resp = api.request(method, path, ts_input() if method == "PUT" else None)
    assert_error(resp, 1002)


# One valid body per streamType, with what the GET must show.
STREAM_TYPES = {
    "MPEG2TS": ([("url", "udp://127.0.0.1:6300"), ("streamType", "MPEG2TS")],
                {"url": "udp://127.0.0.1:6300"}),
    "SRT caller": ([("streamType", "SRT"), ("srtMode", "caller"), ("srtAddress", "127.0.0.1"),
                    ("srtRemotePort", "9000"), ("srtLatency", "300")],
                   {"srtMode": "caller", "srtAddress": "127.0.0.1", "srtRemotePort": "9000",
                    "srtLatency": "300"}),
    "SRT listener": ([("streamType", "SRT"), ("srtMode", "listener"), ("srtLocalPort", "9001")],
                     {"srtMode": "listener", "srtLocalPort": "9001", "srtLatency": "125"}),
    "SRT rendezvous": ([("streamType", "SRT"), ("srtMode", "rendezvous"),
                        ("srtAddress", "127.0.0.1"), ("srtRemotePort", "9002")],
                       {"srtMode": "rendezvous", "srtRemotePort": "9002", "srtLocalPort": "9002"}),
    "SRT with url": ([("streamType", "SRT"), ("url", "srt://127.0.0.1:9003"),
                      ("srtMode", "caller"), ("srtAddress", "127.0.0.1"),
                      ("srtRemotePort", "9003")],
                     {"url": "srt://127.0.0.1:9003"}),
    "RTSP": ([("streamType", "RTSP"), ("url", "rtsp://127.0.0.1:8554/cam")],
             {"url": "rtsp://127.0.0.1:8554/cam"}),
    "MJPEGRAW http": ([("streamType", "MJPEGRAW"), ("url", "http://127.0.0.1:8080/video.mjpg")],
                      {"url": "http://127.0.0.1:8080/video.mjpg"}),
    "MJPEGRAW https": ([("streamType", "MJPEGRAW"), ("url", "https://127.0.0.1:8443/v.mjpg")],
                       {"url": "https://127.0.0.1:8443/v.mjpg"}),
    "V4L2": ([("streamType", "V4L2"), ("capturePort", "3"), ("captureMode", "5")],
             {"capturePort": "3", "captureMode": "5", "url": ""}),
    "DECKLINK": ([("streamType", "DECKLINK"), ("decklinkPort", "1"), ("decklinkMode", "-1")],
                 {"decklinkPort": "1", "decklinkMode": "-1", "url": ""}),
    "TESTPATTERN": ([("streamType", "TESTPATTERN"), ("width", "640"), ("height", "360"),
                     ("frameRate", "25")],
                    {"width": "640", "height": "360", "frameRate": "25", "url": ""}),
}


@pytest.mark.parametrize("case", sorted(STREAM_TYPES))
def test_every_stream_type(api, case):
    fields, shown = STREAM_TYPES[case]
    name = unique("type")
    rid = create(api, "input", body("input", [("name", name), *fields]))
    el = get_one(api, "input", rid)
    assert text(el, "name") == name
    assert text(el, "streamType") == case.split()[0]
    for tag, value in shown.items():
        assert text(el, tag) == value, f"<{tag}>"
    assert text(el, "state") == "unset"


def test_stream_type_defaults_to_mpeg2ts_and_name_to_url(api):
    rid = create(api, "input", body("input", [("url", "udp://127.0.0.1:6400")]))
    el = get_one(api, "input", rid)
    assert text(el, "streamType") == "MPEG2TS"
    assert text(el, "name") == "udp://127.0.0.1:6400"


def test_testpattern_defaults(api):
    rid = create(api, "input", body("input", [("name", unique("tp")),
                                              ("streamType", "TESTPATTERN")]))
    el = get_one(api, "input", rid)
    assert text(el, "streamType") == "TESTPATTERN"
    for tag, default in (("width", "1280"), ("height", "720"), ("frameRate", "30")):
        assert text(el, tag) == default, f"default <{tag}>"


INVALID = [
    ("MPEG2TS without url", [("streamType", "MPEG2TS")], "url"),
    ("MPEG2TS with rtsp url", [("url", "rtsp://127.0.0.1/x")], "url"),
    ("MPEG2TS url without port", [("url", "udp://127.0.0.1")], "url"),
    ("RTSP without url", [("streamType", "RTSP")], "url"),
    ("RTSP with udp url", [("streamType", "RTSP"), ("url", "udp://127.0.0.1:5")], "url"),
    ("MJPEGRAW with rtsp url", [("streamType", "MJPEGRAW"), ("url", "rtsp://127.0.0.1/x")], "url"),
    ("V4L2 with url", [("streamType", "V4L2"), ("url", "udp://127.0.0.1:5000")], "url"),
    ("DECKLINK with url", [("streamType", "DECKLINK"), ("url", "udp://127.0.0.1:5000")], "url"),
    ("TESTPATTERN with url", [("streamType", "TESTPATTERN"), ("url", "udp://127.0.0.1:5000")],
     "url"),
    ("TESTPATTERN odd width", [("streamType", "TESTPATTERN"), ("width", "641")], "width"),
    ("TESTPATTERN odd height", [("streamType", "TESTPATTERN"), ("height", "361")], "height"),
    ("SRT without srtMode", [("streamType", "SRT")], "srtMode"),
    ("SRT caller without srtAddress",
     [("streamType", "SRT"), ("srtMode", "caller"), ("srtRemotePort", "9000")], "srtAddress"),
    ("SRT caller without srtRemotePort",
     [("streamType", "SRT"), ("srtMode", "caller"), ("srtAddress", "127.0.0.1")], "srtRemotePort"),
    ("SRT listener without srtLocalPort", [("streamType", "SRT"), ("srtMode", "listener")],
     "srtLocalPort"),
    ("SRT bad srtMode", [("streamType", "SRT"), ("srtMode", "sideways")], "srtMode"),
    ("unknown streamType", [("streamType", "CARRIER_PIGEON"), ("url", "udp://127.0.0.1:5")],
     "streamType"),
]


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_input_is_refused_naming_the_field(api, case):
    _, fields, field = case
    name = unique("bad-in")
    resp = api.post("/apis/kraken/inputs", body("input", [("name", name), *fields]))
    assert_error(resp, 1000, mentions=[field])
    assert name not in {text(it, "name") for it in items(api, "input")}, "nothing was created"


def test_invalid_edit_is_refused_and_changes_nothing(api):
    rid = create(api, "input", ts_input(name="keep-me-in"))
    resp = api.put(f"/apis/kraken/inputs/input-{rid}",
                   body("input", [("name", "changed"), ("streamType", "V4L2"),
                                  ("url", "udp://127.0.0.1:1234")]))
    assert_error(resp, 1004, mentions=["url"])
    el = get_one(api, "input", rid)
    assert text(el, "name") == "keep-me-in"
    assert text(el, "streamType") == "MPEG2TS"


def test_single_get_wraps_one_input(api):
    rid = create(api, "input", ts_input())
    root = expect(api.get(f"/apis/kraken/inputs/input-{rid}"), 200)
    assert [c.tag for c in root] == ["input"]
    assert text(child(root, "input"), "uuid") == rid
