"""Transcoder resources: /apis/kraken/transcoders and …/transcoder-{id}."""

import uuid

import pytest

import seed_bodies as seed
from kraken import (as_bool, assert_error, body, child, create, delete, edit, get_one, items,
                    link_to, self_link, text, transcoder, unique)

# Every property with its documented default (docs/kraken-api.md, Transcoders).
DEFAULTS = {
    "resolutionMode": "3",
    "frameRate": "30",
    "videoBitrate": "3000",
    "gopSize": "30",
    "videoType": "avc",
    "audioBitrate": "256",
    "bFrame": "-1",
    "encodingProfile": "vbr",
    "interleaveAdjustmentMs": "-1",
    "jitterBufferMs": "250",
    "videoProfile": "unset",
    "audioType": "unset",
    "outputPacingInterval": "-1",
    "shapingBitrate": "-1",
    "shapingMaxBitratePercent": "-1",
    "shapingTargetBitratePercent": "-1",
    "shapingVbvSizeMs": "-1",
    "shapingBufferingIntervalMs": "-1",
}
BOOL_DEFAULTS = {"metadata": False, "audio": True, "enableIntraRefresh": False,
                 "outputPacing": True}


def check_values(el, expected):
    for tag, value in expected.items():
        assert text(el, tag) == value, f"<{tag}> is {text(el, tag)!r}, expected {value!r}"


def check_bools(el, expected):
    for tag, value in expected.items():
        assert el.find(tag) is not None, f"<{tag}> missing"
        assert as_bool(text(el, tag)) is value, f"<{tag}> is {text(el, tag)!r}"


def test_list_gives_minimal_items_with_links(api):
    name = unique("list-tc")
    rid = create(api, "transcoder", transcoder(name))
    listed = {text(it, "uuid"): it for it in items(api, "transcoder")}
    assert text(listed[rid], "name") == name
    assert self_link(listed[rid]) == link_to(api, "transcoder", rid)
    assert {c.tag for c in listed[rid]} == {"uuid", "name", "link"}


def test_create_without_traffic_shaping_seed(api):
    rid = create(api, "transcoder", seed.TRANSCODER_CREATE_WITHOUT_SHAPING)
    el = get_one(api, "transcoder", rid)
    assert text(el, "name") == "SD-4"
    assert text(el, "resolutionMode") == "1", "a <resolution> means Custom"
    res = child(el, "resolution")
    assert (text(res, "width"), text(res, "height")) == ("720", "480")
    check_values(el, {"frameRate": "30", "videoBitrate": "3000", "gopSize": "30",
                      "audioBitrate": "256", "videoType": "avc", "qualityLevel": "6",
                      "bFrame": "2", "encodingProfile": "performance"})
    check_bools(el, {"metadata": False, "audio": True, "enableIntraRefresh": True})
    # Every other property with its effective value.
    check_values(el, {k: DEFAULTS[k] for k in (
        "interleaveAdjustmentMs", "jitterBufferMs", "videoProfile", "audioType",
        "outputPacingInterval", "shapingBitrate", "shapingMaxBitratePercent",
        "shapingTargetBitratePercent", "shapingVbvSizeMs", "shapingBufferingIntervalMs")})
    assert text(el, "encoderType") in ("unset", "software")
    check_bools(el, {"outputPacing": True})
    assert self_link(el) == link_to(api, "transcoder", rid)


def test_create_with_traffic_shaping_seed_is_refused_for_gop_size(api):
    """The seed's own example has gopSize 3444, outside its table's 0-1000."""
    resp = api.post("/apis/kraken/transcoders", seed.TRANSCODER_CREATE_WITH_SHAPING)
    assert_error(resp, 1000, mentions=["gopSize", "0-1000"])
    assert "1000kbps" not in {text(it, "name") for it in items(api, "transcoder")}


def test_with_traffic_shaping_seed_in_range(api):
    """The same example with its out-of-range values (gopSize 3444, bFrame 80,
    shapingBitrate 100, shapingVbvSizeMs 2000) brought into range: aliases and unknown elements in it
    (framerate, useLegacyTranscoder, enablePcs) are fine."""
    xml = (seed.TRANSCODER_CREATE_WITH_SHAPING
           .replace("<name>1000kbps</name>", "<name>shaping-in-range</name>")
           .replace("<gopSize>3444</gopSize>", "<gopSize>300</gopSize>")
           .replace("<bFrame>80</bFrame>", "<bFrame>3</bFrame>")
           .replace("<shapingBitrate>100</shapingBitrate>", "<shapingBitrate>900</shapingBitrate>")
           .replace("<shapingVbvSizeMs>2000</shapingVbvSizeMs>",
                    "<shapingVbvSizeMs>1000</shapingVbvSizeMs>"))
    rid = create(api, "transcoder", xml)
    el = get_one(api, "transcoder", rid)
    assert el.find("framerate") is None, "answered with the canonical name"
    check_values(el, {
        "name": "shaping-in-range", "resolutionMode": "2", "frameRate": "-1",
        "videoBitrate": "1000", "audioBitrate": "60", "gopSize": "300", "videoType": "hevc",
        "bFrame": "3", "encodingProfile": "quality", "interleaveAdjustmentMs": "1",
        "jitterBufferMs": "5", "outputPacingInterval": "-1", "shapingBitrate": "900",
        "shapingMaxBitratePercent": "80", "shapingTargetBitratePercent": "70",
        "shapingVbvSizeMs": "1000", "shapingBufferingIntervalMs": "2260"})
    check_bools(el, {"metadata": True, "audio": True, "enableIntraRefresh": True,
                     "outputPacing": False})
    assert text(el, "encoderType") in ("unset", "software")


def test_edit_transcoder_seed(api):
    rid = create(api, "transcoder", seed.TRANSCODER_CREATE_WITHOUT_SHAPING)
    edit(api, "transcoder", rid, seed.TRANSCODER_EDIT)
    el = get_one(api, "transcoder", rid)
    res = child(el, "resolution")
    assert (text(res, "width"), text(res, "height")) == ("800", "600")
    check_values(el, {"name": "frank", "resolutionMode": "1", "frameRate": "0",
                      "videoBitrate": "2000", "gopSize": "30", "audioBitrate": "128",
                      "videoType": "avc", "qualityLevel": "6", "bFrame": "2",
                      "encodingProfile": "performance"})


def test_defaults(api):
    rid = create(api, "transcoder", transcoder())
    el = get_one(api, "transcoder", rid)
    check_values(el, DEFAULTS)
    check_bools(el, BOOL_DEFAULTS)
    assert text(el, "encoderType") in ("unset", "software")
    assert el.find("resolution") is None or not list(el.find("resolution"))


def test_hevc_defaults_to_balanced(api):
    rid = create(api, "transcoder", transcoder(videoType="hevc"))
    assert text(get_one(api, "transcoder", rid), "encodingProfile") == "balanced"


def test_edit_replaces_the_whole_transcoder(api):
    rid = create(api, "transcoder", transcoder(videoBitrate=5000, audio="off", gopSize=60,
                                               metadata="on"))
    edit(api, "transcoder", rid, transcoder("only-a-name"))
    el = get_one(api, "transcoder", rid)
    assert text(el, "name") == "only-a-name"
    check_values(el, {"videoBitrate": "3000", "gopSize": "30"})
    check_bools(el, {"audio": True, "metadata": False})


def test_mpeg2video_with_profile_and_audio_type(api):
    rid = create(api, "transcoder", transcoder(videoType="mpeg2video", encodingProfile="cbr",
                                               videoProfile="mpeg2_simple",
                                               audioType="mpeg2_aac_adts"))
    check_values(get_one(api, "transcoder", rid),
                 {"videoType": "mpeg2video", "videoProfile": "mpeg2_simple",
                  "audioType": "mpeg2_aac_adts", "encodingProfile": "cbr"})


INVALID = [
    ("name missing", [("videoBitrate", "3000")], ["name"]),
    ("qsv refused", [("name", "q"), ("encoderType", "qsv")], ["encoderType"]),
    ("videoProfile needs mpeg2video", [("name", "v"), ("videoProfile", "mpeg2_main")],
     ["videoProfile"]),
    ("vbr only for avc", [("name", "h"), ("videoType", "hevc"), ("encodingProfile", "vbr")],
     ["encodingProfile"]),
    ("bad videoType", [("name", "b"), ("videoType", "vp9")], ["videoType"]),
    ("bad encodingProfile", [("name", "b"), ("encodingProfile", "fastest")], ["encodingProfile"]),
    ("odd width", [("name", "o"), ("resolution", [("width", "721"), ("height", "480")])],
     ["width"]),
    ("odd height", [("name", "o"), ("resolution", [("width", "720"), ("height", "481")])],
     ["height"]),
    ("not a number", [("name", "n"), ("videoBitrate", "fast")], ["videoBitrate"]),
    ("bad boolean", [("name", "n"), ("audio", "maybe")], ["audio"]),
]


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_transcoder_is_refused_naming_the_field(api, case):
    _, fields, mentions = case
    before = len(items(api, "transcoder"))
    resp = api.post("/apis/kraken/transcoders", body("transcoder", fields))
    assert_error(resp, 1000, mentions=mentions)
    assert len(items(api, "transcoder")) == before


def test_custom_mode_needs_a_resolution(api):
    resp = api.post("/apis/kraken/transcoders", transcoder(resolutionMode=1))
    message = assert_error(resp, 1000)
    assert "width" in message or "resolution" in message, message


def test_invalid_edit_is_refused_and_changes_nothing(api):
    rid = create(api, "transcoder", transcoder("keep-me-tc", videoBitrate=4000))
    resp = api.put(f"/apis/kraken/transcoders/transcoder-{rid}",
                   transcoder("changed", videoBitrate=20000))
    assert_error(resp, 1004, mentions=["videoBitrate", "150-15000"])
    check_values(get_one(api, "transcoder", rid), {"name": "keep-me-tc", "videoBitrate": "4000"})


def test_edit_without_name_is_refused(api):
    rid = create(api, "transcoder", transcoder("named"))
    resp = api.put(f"/apis/kraken/transcoders/transcoder-{rid}",
                   body("transcoder", [("videoBitrate", "2000")]))
    assert_error(resp, 1004, mentions=["name"])


def test_delete_transcoder(api):
    rid = create(api, "transcoder", transcoder())
    delete(api, "transcoder", rid)
    assert_error(api.get(f"/apis/kraken/transcoders/transcoder-{rid}"), 1002)
    assert_error(api.delete(f"/apis/kraken/transcoders/transcoder-{rid}"), 1002)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_transcoder_id(api, method):
    resp = api.request(method, f"/apis/kraken/transcoders/transcoder-{uuid.uuid4()}",
                       transcoder() if method == "PUT" else None)
    assert_error(resp, 1002)
