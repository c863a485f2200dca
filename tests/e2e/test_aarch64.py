"""The aarch64 appliance image: the same boot and console, the API, a
capture smoke test (vivid's HDMI input captured without a copy, and a short
H.264 stream of it reaching the host), and a few pictures of each other
video codec (HEVC, MPEG-2, AV1) encoded by the image's own libraries."""

import os
import sys

import pytest

from kraken import text
from mediacheck import ffprobe
from steps import (VIDEO_CODECS, assert_the_image_streams, capture_bench, children,
                   create_capture_stream, free_udp_port, hdmi_port, mode_index, record, system)

ARCH = "aarch64"
FPS = int(os.environ.get("MAKARA_E2E_ARM_FPS", "5"))
KBPS = 300


@pytest.fixture(scope="module")
def box(appliance_of):
    app = appliance_of(ARCH)
    app.login()
    return app


def test_boots_and_serves_the_api_with_console_credentials(box):
    el = system(box.client)
    assert text(el, "version")
    assert len(children(el, "capturePort")) == 4
    assert "enabled" in box.guest.console("status").lower()


def test_capture_from_vivid_hdmi_is_zero_copy(box):
    hdmi = hdmi_port(box.client)
    numbers, out = capture_bench(box, text(hdmi, "port_number"), mode_index(hdmi, 1280, 720, 60))
    sys.stdout.write(f"\n[e2e] {ARCH} vivid 1280x720p60: {out}")
    assert numbers["frames"] > 0
    assert numbers["copies_per_frame"] == 0.0, out


@pytest.mark.parametrize("codec,name,fps", VIDEO_CODECS, ids=[c for c, _, _ in VIDEO_CODECS])
def test_each_video_codec_is_encoded_by_the_image_and_reaches_the_host(box, tmp_path, codec,
                                                                       name, fps):
    """The arm64 libx265, SVT-AV1 and the cross-built mpeg2video."""
    assert_the_image_streams(box, ARCH, codec, name, fps, tmp_path)


def test_a_captured_stream_reaches_the_host_as_h264(box, tmp_path):
    api = box.client
    hdmi = hdmi_port(api)
    udp_port = free_udp_port()
    path, _ = create_capture_stream(api, port=int(text(hdmi, "port_number")),
                                    mode=mode_index(hdmi, 1280, 720, 24), width=1280, height=720,
                                    fps=FPS, kbps=KBPS, udp_port=udp_port)
    receiver, stats = record(api, path, udp_port, 6)
    sys.stdout.write(f"\n[e2e] {ARCH} stream stats: { {c.tag: c.text for c in stats} }\n")
    ts = tmp_path / "arm.ts"
    ts.write_bytes(receiver.ts())
    video = [s for s in ffprobe(ts, "-show_streams")["streams"] if s["codec_type"] == "video"]
    assert [(v["codec_name"], v["width"], v["height"]) for v in video] == [("h264", 1280, 720)]
    assert int(text(stats, "framesEncoded")) > 0
