"""Closed-caption passthrough (issue 12): CEA-608 captions that a network
input carries in its H.264 (A/53 cc_data in SEI) come out of a transcoded
stream in the output codec's own user data, for every videoType.

GStreamer makes the captioned input (captions.py); FFmpeg's `subcc` reads
the captions of what arrives back as text, which must be the input's, all
of them, in order. Also through a frame-rate conversion (50 to 25 fps: the
captions of each skipped picture go with the next) and B-frames (the
captions follow their picture through reordering).
"""

import subprocess
import sys
import time

import pytest

import peers
from captions import caption_texts, captioned_ts
from mediacheck import Receiver
from test_av1 import AV1TS

TEXTS = ["CAPTION ONE", "SECOND 2", "AND THREE"]
WIDTH, HEIGHT = 320, 240


@pytest.fixture(scope="module")
def captioned(tmp_path_factory):
    """The captioned inputs, at 25 and 50 fps, each checked by FFmpeg."""
    made = {}
    for fps in (25, 50):
        path = tmp_path_factory.mktemp("captions") / f"in{fps}.ts"
        captioned_ts(path, TEXTS, fps=fps, width=WIDTH, height=HEIGHT)
        assert caption_texts(path) == TEXTS, f"GStreamer's {fps} fps input"
        made[fps] = path
    return made


def transcode(api, source, recording, log_dir, **transcoder):
    """Sends `source` once, in real time, through a transcoded stream to a
    UDP output, and records what arrives."""
    sink = Receiver()
    port = peers.free_udp_port()
    input_id = peers.udp_ts_input(api, port)
    fields = [("name", peers.unique("cc")), ("resolution", [("width", WIDTH), ("height", HEIGHT)]),
              ("frameRate", 25), ("videoBitrate", 600), ("gopSize", 25),
              ("encodingProfile", "cbr"), ("audio", "off"), *transcoder.items()]
    transcoder_id = peers.make(api, "transcoder", fields)
    path = peers.make_stream(api, input_id, [peers.udp_output(api, sink.port)],
                             transcoder_id=transcoder_id)
    try:
        peers.start(api, path)
        with peers.ffmpeg_ts_sender(source, port, log_dir, loop=False) as sender:
            peers.wait_until(api, path, peers.receiving, "receiving")
            sender.proc.wait(timeout=30)
        # The encoder's and the stream's delay, then what is in flight.
        time.sleep(1.5)
        peers.stop(api, path)
        time.sleep(0.3)
    finally:
        sink.close()
    recording.write_bytes(sink.ts())


def av1_obu_file(recording, tmp_path):
    """FFmpeg 5.1 does not read AV1 out of a TS (test_av1.py): the PID's
    payloads, turned into an OBU file by av1ts.py, which libdav1d reads."""
    payloads = tmp_path / "av1.pes"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(recording), "-map", "0:d:0", "-c", "copy",
                    "-f", "data", "-y", str(payloads)], check=True, timeout=120)
    obu = tmp_path / "av1.obu"
    subprocess.run([sys.executable, str(AV1TS), str(payloads), str(obu)], check=True,
                   capture_output=True, timeout=120)
    return obu


CASES = [
    ("avc", {"bFrame": 0}),
    ("avc", {"bFrame": 2}),
    ("hevc", {}),
    ("mpeg2video", {}),
    ("av1", {}),
]


@pytest.mark.parametrize("video_type,extra", CASES,
                         ids=["avc", "avc-bframes", "hevc", "mpeg2video", "av1"])
def test_captions_pass_through_every_codec(api, captioned, tmp_path, video_type, extra):
    recording = tmp_path / "out.ts"
    transcode(api, captioned[25], recording, tmp_path, videoType=video_type, **extra)
    readable = av1_obu_file(recording, tmp_path) if video_type == "av1" else recording
    assert caption_texts(readable) == TEXTS


def test_captions_of_skipped_pictures_go_with_the_next(api, captioned, tmp_path):
    recording = tmp_path / "out.ts"
    transcode(api, captioned[50], recording, tmp_path, videoType="avc", bFrame=0)
    assert caption_texts(recording) == TEXTS
