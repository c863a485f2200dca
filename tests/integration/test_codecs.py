"""Every videoType, judged by tools we did not write (issue 12).

For each codec a TESTPATTERN stream with audio runs through a transcoder of
that videoType to a UDP output on loopback; what arrives must have the
codec, size, frame rate, GOP and bitrate (±20 %) configured, decode with
no error, keep the tone's onset within ±5 ms of picture 0, and meet the
T-STD (`tsreport`). H.264 is judged the same way in test_media.py,
test_av_sync.py and test_transport.py; AV1, which FFmpeg cannot read out
of a transport stream, in test_av1.py.

Also: a hardware encoder (qsv, vaapi) that this machine does not have is
refused when the transcoder is saved, naming the device; and the encoder
capacity that `makarad bench capacity` measures shows in the system API.
"""

import xml.etree.ElementTree as ET

import pytest

import peers
from kraken import assert_error, body, child, expect, text, unique
from mediacheck import assert_gop_and_bitrate, audio_onset, ffprobe, pattern_frames
from test_av_sync import TOLERANCE_TICKS, record
from test_transport import AUDIO_BSN, tsreport

WIDTH, HEIGHT, FPS = 320, 180, 30
GOP = 30
KBPS = 800
SECONDS = 6

# videoType, audioType (None: the codec's default), then what ffprobe must
# call the video and audio, and the PMT stream_types tsreport must see.
CODECS = [
    ("hevc", None, "hevc", "aac", 0x24, 0x0F),
    ("mpeg2video", None, "mpeg2video", "mp2", 0x02, 0x03),
    ("mpeg2video", "mpeg2_aac_adts", "mpeg2video", "aac", 0x02, 0x0F),
]
IDS = ["hevc", "mpeg2video", "mpeg2video-aac"]


@pytest.mark.parametrize("video_type,audio_type,video_name,audio_name,video_st,audio_st",
                         CODECS, ids=IDS)
def test_each_codec_arrives_as_configured(api, tmp_path, video_type, audio_type, video_name,
                                          audio_name, video_st, audio_st):
    transcoder = [("videoType", video_type), ("videoBitrate", KBPS), ("gopSize", GOP),
                  ("encodingProfile", "cbr")]
    if audio_type:
        transcoder.append(("audioType", audio_type))
    recording = tmp_path / f"{video_type}.ts"
    record(api, recording, SECONDS, transcoder)

    streams = ffprobe(recording, "-show_streams")["streams"]
    video = [s for s in streams if s["codec_type"] == "video"]
    audio = [s for s in streams if s["codec_type"] == "audio"]
    assert [v["codec_name"] for v in video] == [video_name], streams
    assert [a["codec_name"] for a in audio] == [audio_name], streams
    assert (video[0]["width"], video[0]["height"]) == (WIDTH, HEIGHT)
    assert video[0]["r_frame_rate"] == f"{FPS}/1"

    decode = peers.decode_errors(recording)
    assert decode == "", decode[-2000:]

    assert_gop_and_bitrate(recording, FPS, GOP, KBPS, (SECONDS - 1) * FPS)

    # The tone starts with picture 0, as for H.264 (test_av_sync.py).
    onset = audio_onset(recording)
    pictures = pattern_frames(recording, WIDTH, HEIGHT, 10)
    zeros = [pts - index * 90_000 / FPS for pts, index in pictures]
    assert max(zeros) - min(zeros) <= 1, pictures
    offset = onset - zeros[0]
    assert abs(offset) <= TOLERANCE_TICKS, f"{video_type}: the tone is {offset / 90:+.1f} ms off"

    report = tsreport(recording)
    by_type = {s["stream_type"]: s for s in report["streams"]}
    assert set(by_type) >= {video_st, audio_st}, report
    assert report["continuity_errors"] == 0, report
    for es in (by_type[video_st], by_type[audio_st]):
        assert es["max_wait_ms"] <= 1000, es
        assert es["late_units"] == 0, es
        assert es["t_std_ok"] is True, es
    assert by_type[audio_st]["max_occupancy"] <= AUDIO_BSN, by_type[audio_st]


def test_mpeg2_simple_profile_has_no_b_pictures_and_main_has_them(api, tmp_path):
    for profile, b_frames, expect_b in (("mpeg2_simple", None, False), ("mpeg2_main", 2, True)):
        transcoder = [("videoType", "mpeg2video"), ("videoProfile", profile),
                      ("videoBitrate", KBPS), ("gopSize", GOP), ("encodingProfile", "quality")]
        if b_frames is not None:
            transcoder.append(("bFrame", b_frames))
        recording = tmp_path / f"{profile}.ts"
        record(api, recording, 3, transcoder)
        types = {f["pict_type"] for f in ffprobe(
            recording, "-select_streams", "v", "-show_entries", "frame=pict_type",
            "-show_frames")["frames"]}
        assert ("B" in types) == expect_b, (profile, types)
        assert peers.decode_errors(recording) == ""


def test_simple_profile_with_b_frames_is_refused_naming_the_field(api):
    resp = api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("simple")), ("videoType", "mpeg2video"),
        ("videoProfile", "mpeg2_simple"), ("bFrame", 2)]))
    err = assert_error(resp, 1000)
    assert "bFrame" in err and "Simple profile" in err, err


@pytest.mark.parametrize("encoder", ["qsv", "vaapi"])
def test_a_hardware_encoder_this_machine_lacks_is_refused_naming_the_device(api, encoder):
    resp = api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique(encoder)), ("videoType", "hevc"), ("encoderType", encoder)]))
    err = assert_error(resp, 1000)
    assert "encoderType" in err and "/dev/dri" in err, err


def test_av1_cannot_be_given_to_a_hardware_encoder(api):
    resp = api.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("av1")), ("videoType", "av1"), ("encoderType", "vaapi")]))
    err = assert_error(resp, 1000)
    assert "encoderType" in err and "SVT-AV1" in err, err


def test_measured_capacity_shows_in_the_system_api(fresh):
    def capacity():
        system = child(expect(fresh.client.get("/apis/kraken/system"), 200), "system")
        return child(system, "encoderCapacity")

    assert text(capacity(), "status") == "not_measured"
    out = fresh.cli("bench", "capacity", "--seconds", "1", "--codec", "avc",
                    "--codec", "mpeg2video").stdout
    assert "saved in" in out, out
    shown = capacity()
    assert text(shown, "status") == "measured"
    codecs = shown.findall("codec")
    seen = [(text(c, "videoType"), text(c, "height")) for c in codecs]
    assert seen == [("avc", "720"), ("avc", "1080"), ("mpeg2video", "720"),
                    ("mpeg2video", "1080")], seen
    for c in codecs:
        fps = float(text(c, "fps"))
        assert fps > 0, xml_of(c)
        # Channels are the whole multiples of 30 fps the encoder kept up
        # with (fps is shown rounded to 0.1).
        channels = int(text(c, "channels"))
        assert channels in {int((fps - 0.05) // 30), int((fps + 0.05) // 30)}, xml_of(c)
        assert f"{text(c, 'videoType')} {text(c, 'width')}x{text(c, 'height')}p30" in out


@pytest.mark.parametrize("kind,url,video_type,says", [
    ("RTMP", "rtmp://127.0.0.1:1935/live/key", "mpeg2video", "MPEG-2 video cannot be pushed"),
    ("RTMP", "rtmp://127.0.0.1:1935/live/key", "av1", "AV1 video cannot be pushed"),
    ("RTSP", "rtsp://127.0.0.1:8554/cam", "mpeg2video", "MPEG-2 video cannot be served"),
])
def test_a_codec_an_output_cannot_carry_refuses_the_start_naming_it(api, kind, url, video_type,
                                                                    says):
    name = unique(kind.lower())
    output = peers.make(api, "output", [("name", name), ("streamType", kind), ("url", url)])
    transcoder = peers.make(api, "transcoder", [
        ("name", unique(video_type)), ("videoType", video_type),
        ("encodingProfile", "cbr")])
    path = peers.make_stream(api, peers.pattern_input(api), [output], transcoder_id=transcoder)
    err = assert_error(api.put(path, "<stream><state>start</state></stream>"), 1016)
    assert name in err and says in err and "avc or hevc" in err, err
    assert text(peers.get_stream(api, path), "state") == "stopped"


def xml_of(el):
    return ET.tostring(el, "unicode")
