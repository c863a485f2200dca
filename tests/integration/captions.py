"""Closed captions for the tests, made and read by tools we did not write.

`captioned_ts` has GStreamer (cccombiner, x264enc, mpegtsmux) make an H.264
transport stream whose pictures carry CEA-608 pop-on captions, one a
second, in CEA-708 cc_data (A/53 SEI). `caption_texts` has FFmpeg's
`subcc` (its CEA-608 decoder on the A/53 data the video decoder found)
read the captions of a recording back as text.
"""

import re
import subprocess

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

# CEA-608 control codes for data channel 1, as (byte 1, byte 2).
RCL = (0x14, 0x20)  # resume caption loading: pop-on mode
ENM = (0x14, 0x2E)  # erase non-displayed memory
EOC = (0x14, 0x2F)  # end of caption: show what was loaded
NULL = 0x00
# The markup FFmpeg's SRT writer adds: HTML-like tags and ASS overrides.
TAGS = re.compile(r"<[^>]+>|\{[^}]*\}")


def _odd_parity(byte):
    return byte | (0x80 if bin(byte).count("1") % 2 == 0 else 0)


def _field1(pair):
    """One cc_data triplet: cc_valid, cc_type 0 (608 field 1), two bytes."""
    return bytes([0xFC, _odd_parity(pair[0]), _odd_parity(pair[1])])


def _caption_pairs(text):
    """The byte pairs of one pop-on caption; control codes sent twice."""
    chars = [ord(c) for c in text] + ([NULL] if len(text) % 2 else [])
    pairs = [ENM, ENM, RCL, RCL]
    pairs += [(chars[i], chars[i + 1]) for i in range(0, len(chars), 2)]
    return pairs + [EOC, EOC]


def cc_schedule(texts, fps, seconds):
    """The cc_data of each frame: caption i starts at second i + 1, so
    that a receiver that misses the first pictures misses none."""
    frames = [_field1((NULL, NULL))] * (fps * seconds)
    for i, text in enumerate(texts):
        for k, pair in enumerate(_caption_pairs(text)):
            frames[(i + 1) * fps + k] = _field1(pair)
    return frames


def captioned_ts(path, texts, fps=25, width=320, height=240):
    """Writes an H.264 TS to `path` with `texts` as captions, one a
    second from second 1, and a second without after the last."""
    seconds = len(texts) + 2
    Gst.init(None)
    pipeline = Gst.parse_launch(
        f"videotestsrc num-buffers={fps * seconds} pattern=ball "
        f"! video/x-raw,width={width},height={height},framerate={fps}/1 "
        "! cccombiner name=combine "
        f"! x264enc tune=zerolatency key-int-max={fps} bitrate=500 "
        "! h264parse ! mpegtsmux alignment=7 "
        f"! filesink location={path} "
        f"appsrc name=cc format=time caps=closedcaption/x-cea-708,format=cc_data,framerate={fps}/1 "
        "! combine.caption"
    )
    appsrc = pipeline.get_by_name("cc")
    frame_ns = Gst.SECOND // fps
    for n, cc in enumerate(cc_schedule(texts, fps, seconds)):
        buffer = Gst.Buffer.new_wrapped(cc)
        buffer.pts = n * frame_ns
        buffer.duration = frame_ns
        appsrc.emit("push-buffer", buffer)
    appsrc.emit("end-of-stream")
    pipeline.set_state(Gst.State.PLAYING)
    message = pipeline.get_bus().timed_pop_filtered(
        60 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR
    )
    pipeline.set_state(Gst.State.NULL)
    assert message is not None, "GStreamer did not finish the captioned stream in 60 s"
    assert message.type == Gst.MessageType.EOS, message.parse_error()


def caption_texts(path):
    """The caption texts FFmpeg reads from a recording, in order, each
    once (a caption shown, cleared and shown again counts once)."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"movie={path}[out+subcc]",
         "-map", "0:s", "-f", "srt", "-"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    texts = []
    for block in out.stdout.strip().split("\n\n"):
        lines = block.splitlines()
        text = " ".join(TAGS.sub("", line).strip() for line in lines[2:]).strip()
        if text and (not texts or texts[-1] != text):
            texts.append(text)
    return texts
