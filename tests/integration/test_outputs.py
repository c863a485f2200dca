"""Output resources: /apis/kraken/outputs and /apis/kraken/outputs/output-{id}."""

import time
import uuid

import pytest

import seed_bodies as seed
from kraken import (as_bool, assert_error, body, child, create, delete, edit, get_one, items,
                    link_to, live_stream_with_outputs, nic_name, parse, self_link,
                    set_stream_state, text, udp_output, unique)
from mediacheck import Receiver


def check_seed_sap(el):
    sap = child(el, "sap")
    assert as_bool(text(sap, "transmitSap")) is True
    assert text(sap, "address") == "224.2.127.254"
    assert text(sap, "port") == "9875"
    assert text(sap, "sessionName") == "A name"
    assert text(sap, "sessionDescription") == "A description"
    assert text(sap, "keywords") == "A keyword"
    assert text(sap, "author") == "An author"


def test_list_gives_minimal_items_with_links(api):
    names = [unique("list-out"), unique("list-out")]
    ids = [create(api, "output", udp_output(name=n)) for n in names]
    listed = {text(it, "uuid"): it for it in items(api, "output")}
    for rid, name in zip(ids, names):
        it = listed[rid]
        assert text(it, "name") == name
        assert self_link(it) == link_to(api, "output", rid)
        assert {c.tag for c in it} == {"uuid", "name", "link"}


def test_create_output_seed_with_sap(api):
    rid = create(api, "output", seed.OUTPUT_CREATE)
    el = get_one(api, "output", rid)
    assert text(el, "name") == "Another output"
    assert text(el, "url") == "udp://239.202.1.3:4900"
    assert text(el, "description") == "A description"
    assert (text(el, "mtu"), text(el, "ttl"), text(el, "tos")) == ("1442", "16", "128")
    check_seed_sap(el)
    assert nic_name(text(el, "interface")) == "eth1"
    assert text(el, "state") == "unset", "an output no stream uses"
    assert self_link(el) == link_to(api, "output", rid)


def test_edit_output_seed(api):
    rid = create(api, "output", seed.OUTPUT_CREATE)
    edit(api, "output", rid, seed.OUTPUT_EDIT)
    el = get_one(api, "output", rid)
    assert text(el, "name") == "New name"
    assert text(el, "url") == "udp://239.202.1.4:4900"
    assert text(el, "description") == "New description"
    assert (text(el, "mtu"), text(el, "ttl"), text(el, "tos")) == ("500", "24", "156")
    check_seed_sap(el)


def test_defaults_are_always_shown(api):
    rid = create(api, "output", udp_output())
    el = get_one(api, "output", rid)
    assert (text(el, "mtu"), text(el, "ttl"), text(el, "tos")) == ("1490", "64", "184")
    # The default streamType is the empty one, shown as in the seed's GET
    # example of a UDP output: not at all.
    assert el.find("streamType") is None


def test_sap_defaults(api):
    rid = create(api, "output", udp_output(sap=[("transmitSap", "on")]))
    sap = child(get_one(api, "output", rid), "sap")
    assert as_bool(text(sap, "transmitSap")) is True
    assert text(sap, "address") == "224.2.127.254"
    assert text(sap, "port") == "9875"


@pytest.mark.parametrize("stream_type", ["", "UDP"])
def test_udp_stream_type_spellings(api, stream_type):
    rid = create(api, "output", udp_output(streamType=stream_type))
    el = get_one(api, "output", rid)
    assert text(el, "url") == "udp://127.0.0.1:5000"


def test_edit_replaces_the_whole_output(api):
    rid = create(api, "output", udp_output(mtu=1442, ttl=16, description="gone soon",
                                           sap=[("transmitSap", "on")]))
    edit(api, "output", rid, udp_output(name="replaced-out", port=5100))
    el = get_one(api, "output", rid)
    assert text(el, "name") == "replaced-out"
    assert (text(el, "mtu"), text(el, "ttl"), text(el, "tos")) == ("1490", "64", "184")
    assert el.find("description") is None
    assert el.find("sap") is None, "a left-out <sap> is unset, as on a new output"


@pytest.mark.parametrize("mode,fields,shown", [
    ("caller", [("srtMode", "caller"), ("srtAddress", "127.0.0.1"), ("srtRemotePort", "9100")],
     {"srtAddress": "127.0.0.1", "srtRemotePort": "9100"}),
    ("listener", [("srtMode", "listener"), ("srtLocalPort", "9101")], {"srtLocalPort": "9101"}),
    ("rendezvous", [("srtMode", "rendezvous"), ("srtAddress", "127.0.0.1"),
                    ("srtRemotePort", "9102")], {"srtRemotePort": "9102"}),
])
def test_srt_output(api, mode, fields, shown):
    name = unique("srt-out")
    rid = create(api, "output", body("output", [
        ("name", name), ("streamType", "SRT"), *fields,
        ("srtEncryption", "aes256"), ("srtPassphrase", "0123456789abc"), ("srtLatency", "400")]))
    el = get_one(api, "output", rid)
    assert text(el, "streamType") == "SRT"
    assert text(el, "srtMode") == mode
    assert text(el, "srtEncryption") == "aes256"
    assert text(el, "srtLatency") == "400"
    for tag, value in shown.items():
        assert text(el, tag) == value
    assert text(el, "srtPassphrase") == "0123456789abc"


def test_srt_output_latency_default(api):
    rid = create(api, "output", body("output", [
        ("name", unique("srt")), ("streamType", "SRT"), ("srtMode", "listener"),
        ("srtLocalPort", "9103")]))
    el = get_one(api, "output", rid)
    assert text(el, "srtLatency") == "125"
    assert text(el, "srtEncryption") == "None", "the seed's spelling of no encryption"


INVALID = [
    ("UDP without url", [], "url"),
    ("UDP with rtsp url", [("url", "rtsp://127.0.0.1:554/x")], "url"),
    ("UDP with srt url", [("url", "srt://127.0.0.1:9000")], "url"),
    ("bad streamType", [("streamType", "RTP"), ("url", "udp://127.0.0.1:5000")], "streamType"),
    ("SRT passphrase without encryption",
     [("streamType", "SRT"), ("srtMode", "listener"), ("srtLocalPort", "9000"),
      ("srtPassphrase", "0123456789")], "srtPassphrase"),
    ("SRT encryption without passphrase",
     [("streamType", "SRT"), ("srtMode", "listener"), ("srtLocalPort", "9000"),
      ("srtEncryption", "aes128")], "srtPassphrase"),
    ("SRT bad encryption",
     [("streamType", "SRT"), ("srtMode", "listener"), ("srtLocalPort", "9000"),
      ("srtEncryption", "rot13"), ("srtPassphrase", "0123456789")], "srtEncryption"),
    ("SRT without srtMode", [("streamType", "SRT")], "srtMode"),
    ("SAP address not an IP", [("url", "udp://127.0.0.1:5000"),
                               ("sap", [("transmitSap", "on"), ("address", "nowhere")])],
     "address"),
    ("transmitSap not a boolean", [("url", "udp://127.0.0.1:5000"),
                                   ("sap", [("transmitSap", "perhaps")])], "transmitSap"),
]


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_output_is_refused_naming_the_field(api, case):
    _, fields, field = case
    name = unique("bad-out")
    resp = api.post("/apis/kraken/outputs", body("output", [("name", name), *fields]))
    assert_error(resp, 1000, mentions=[field])
    assert name not in {text(it, "name") for it in items(api, "output")}


def test_invalid_edit_is_refused_and_changes_nothing(api):
    rid = create(api, "output", udp_output(name="keep-me-out", ttl=16))
    resp = api.put(f"/apis/kraken/outputs/output-{rid}", udp_output(name="x", ttl=0))
    assert_error(resp, 1004, mentions=["ttl", "1-255"])
    el = get_one(api, "output", rid)
    assert (text(el, "name"), text(el, "ttl")) == ("keep-me-out", "16")


def test_delete_output(api):
    rid = create(api, "output", udp_output())
    delete(api, "output", rid)
    assert_error(api.get(f"/apis/kraken/outputs/output-{rid}"), 1002)
    assert_error(api.delete(f"/apis/kraken/outputs/output-{rid}"), 1002)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_output_id(api, method):
    resp = api.request(method, f"/apis/kraken/outputs/output-{uuid.uuid4()}",
                       udp_output() if method == "PUT" else None)
    assert_error(resp, 1002)


def test_seed_spelling_without_dash_is_accepted_in_paths(api):
    """The seed's list example links to outputs/outputfcc7f606-…"""
    rid = create(api, "output", udp_output(name="nodash"))
    el = get_one(api, "output", rid)
    resp = api.get(f"/apis/kraken/outputs/output{rid}")
    assert resp.status_code == 200, resp.text
    assert text(child(parse(resp), "output"), "uuid") == rid
    assert text(el, "name") == "nodash"


def test_rtmp_output_with_its_retry_policy(api):
    rid = create(api, "output", body("output", [
        ("name", unique("cdn")), ("streamType", "RTMP"),
        ("url", "rtmp://127.0.0.1:1935/pp1234/sn5678"),
        ("retryLimit", "5"), ("retryDelayMax", "8"), ("tos", "0x88")]))
    el = get_one(api, "output", rid)
    assert text(el, "streamType") == "RTMP"
    assert text(el, "url") == "rtmp://127.0.0.1:1935/pp1234/sn5678"
    assert (text(el, "retryLimit"), text(el, "retryDelayMax")) == ("5", "8")
    assert (text(el, "ttl"), text(el, "tos")) == ("64", "136")
    assert as_bool(text(el, "enabled")) is True
    assert el.find("mtu") is None, "TCP sizes its own segments"


def test_rtmp_retry_policy_defaults(api):
    rid = create(api, "output", body("output", [
        ("name", unique("cdn")), ("streamType", "RTMP"),
        ("url", "rtmps://cdn.example.com/live/key?token=abc")]))
    el = get_one(api, "output", rid)
    assert (text(el, "retryLimit"), text(el, "retryDelayMax")) == ("0", "30")


def test_rtsp_output_and_disabling_an_output(api):
    rid = create(api, "output", body("output", [
        ("name", unique("vms")), ("streamType", "RTSP"),
        ("url", "rtsp://0.0.0.0:8554/cam1"), ("enabled", "off")]))
    el = get_one(api, "output", rid)
    assert (text(el, "streamType"), text(el, "url")) == ("RTSP", "rtsp://0.0.0.0:8554/cam1")
    assert as_bool(text(el, "enabled")) is False
    assert el.find("retryLimit") is None
    edit(api, "output", rid, body("output", [
        ("name", "vms"), ("streamType", "RTSP"), ("url", "rtsp://0.0.0.0:8554/cam1")]))
    assert as_bool(text(get_one(api, "output", rid), "enabled")) is True, \
        "a left-out <enabled> is on, as on a new output"


FEED_INVALID = [
    ("RTMP without url", [("streamType", "RTMP")], "url"),
    ("RTMP without stream key", [("streamType", "RTMP"), ("url", "rtmp://127.0.0.1/live")],
     "stream key"),
    ("RTMP with credentials", [("streamType", "RTMP"),
                               ("url", "rtmp://u:p@127.0.0.1/live/k")], "credentials"),
    ("RTMP with a udp url", [("streamType", "RTMP"), ("url", "udp://127.0.0.1:5000")], "url"),
    ("RTMP with mtu", [("streamType", "RTMP"), ("url", "rtmp://127.0.0.1/live/k"),
                       ("mtu", "1316")], "mtu"),
    ("RTMP with an SRT mode", [("streamType", "RTMP"), ("url", "rtmp://127.0.0.1/live/k"),
                               ("srtMode", "caller")], "srtMode"),
    ("RTMP retryLimit out of range", [("streamType", "RTMP"),
                                      ("url", "rtmp://127.0.0.1/live/k"),
                                      ("retryLimit", "1001")], "0-1000"),
    ("RTMP retryDelayMax out of range", [("streamType", "RTMP"),
                                         ("url", "rtmp://127.0.0.1/live/k"),
                                         ("retryDelayMax", "0")], "1-300"),
    ("RTSP with a host name", [("streamType", "RTSP"), ("url", "rtsp://box.local:8554/a")],
     "host name"),
    ("RTSP without a name", [("streamType", "RTSP"), ("url", "rtsp://0.0.0.0:8554/")], "name"),
    ("RTSP with a retry policy", [("streamType", "RTSP"), ("url", "rtsp://0.0.0.0:8554/a"),
                                  ("retryLimit", "3")], "retryLimit"),
    ("RTSP with SAP", [("streamType", "RTSP"), ("url", "rtsp://0.0.0.0:8554/a"),
                       ("sap", [("transmitSap", "on")])], "transmitSap"),
    ("UDP with a retry policy", [("url", "udp://127.0.0.1:5000"), ("retryDelayMax", "5")],
     "retryDelayMax"),
    ("enabled not a boolean", [("url", "udp://127.0.0.1:5000"), ("enabled", "maybe")],
     "enabled"),
]


@pytest.mark.parametrize("case", FEED_INVALID, ids=[c[0] for c in FEED_INVALID])
def test_invalid_feed_output_is_refused_naming_the_problem(api, case):
    _, fields, mention = case
    name = unique("bad-feed")
    resp = api.post("/apis/kraken/outputs", body("output", [("name", name), *fields]))
    assert_error(resp, 1000, mentions=[mention])
    assert name not in {text(it, "name") for it in items(api, "output")}


def test_a_disabled_output_sends_nothing_while_its_sibling_streams(api):
    on, off = Receiver(), Receiver()
    try:
        path, _ = live_stream_with_outputs(api, [
            [("name", unique("on")), ("url", f"udp://127.0.0.1:{on.port}")],
            [("name", unique("off")), ("url", f"udp://127.0.0.1:{off.port}"),
             ("enabled", "off")],
        ])
        set_stream_state(api, path, "start", "active")
        deadline = time.monotonic() + 10
        while len(on.datagrams) < 50 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        set_stream_state(api, path, "stop", "stopped")
    finally:
        on.close()
        off.close()
    assert len(on.datagrams) >= 50, len(on.datagrams)
    assert off.datagrams == [], "a disabled output is not started"
