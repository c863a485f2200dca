"""Every documented numeric range at min-1, min, max and max+1 (and the
character range of srtPassphrase, counted in UTF-8 characters, not bytes).

In range: 201, and the GET shows the value. Out of range: 400 / 1000
"Failed to create new resource: <field> … (<min>-<max>)", nothing created.
"""

import pytest

from kraken import KINDS, assert_error, body, create, created_id, get_one, items, text, unique


def output_udp(field, value):
    return body("output", [("name", unique("rng")), ("url", "udp://127.0.0.1:5000"),
                           (field, value)])


def output_srt(field, value):
    fields = [("name", unique("rng")), ("streamType", "SRT"), ("srtMode", "listener"),
              ("srtLocalPort", "9000"), (field, value)]
    if field == "srtPassphrase":
        fields.append(("srtEncryption", "aes128"))
    return body("output", fields)


def input_srt(field, value):
    return body("input", [("name", unique("rng")), ("streamType", "SRT"), ("srtMode", "caller"),
                          ("srtAddress", "127.0.0.1"), ("srtRemotePort", "9000"),
                          (field, value)])


def input_of(stream_type):
    def make(field, value):
        return body("input", [("name", unique("rng")), ("streamType", stream_type),
                              (field, value)])
    return make


def transcoder(field, value):
    return body("transcoder", [("name", unique("rng")), (field, value)])


def transcoder_mode(field, value):
    """resolutionMode 1 needs a resolution; give one only for that mode."""
    if value == "1":
        return body("transcoder", [("name", unique("rng")), ("resolutionMode", "1"),
                                   ("resolution", [("width", "1280"), ("height", "720")])])
    return transcoder(field, value)


def transcoder_resolution(field, value):
    size = {"width": "1280", "height": "720", field: value}
    return body("transcoder", [("name", unique("rng")), ("resolutionMode", "1"),
                               ("resolution", [("width", size["width"]),
                                               ("height", size["height"])])])


CASES = []


def bounds(kind, make, field, lo, hi, *, step=1, where=None):
    """min-step, min, max, max+step (step 2 where values must be even)."""
    for value, ok in ((lo - step, False), (lo, True), (hi, True), (hi + step, False)):
        CASES.append((f"{kind}-{field}={value}", kind, make, field, str(value), ok,
                      f"{lo}-{hi}", where or field, value))


def minus_one_or(kind, make, field, lo, hi):
    """Fields where -1 means automatic/off and anything else lies in lo-hi."""
    CASES.append((f"{kind}-{field}=-1", kind, make, field, "-1", True, None, field, -1))
    CASES.append((f"{kind}-{field}=-2", kind, make, field, "-2", False, f"{lo}-{hi}", field, -2))
    bounds(kind, make, field, lo, hi)


# Outputs
bounds("output", output_udp, "mtu", 228, 1500)
bounds("output", output_udp, "ttl", 1, 255)
bounds("output", output_udp, "tos", 0, 255)
bounds("output", output_srt, "srtLatency", 20, 8000)
# Inputs
bounds("input", input_srt, "srtLatency", 20, 8000)
bounds("input", input_of("V4L2"), "capturePort", 0, 63)
bounds("input", input_of("V4L2"), "captureMode", -1, 1023)
bounds("input", input_of("DECKLINK"), "decklinkPort", 0, 63)
bounds("input", input_of("DECKLINK"), "decklinkMode", -1, 1023)
bounds("input", input_of("TESTPATTERN"), "width", 16, 3840, step=2)
bounds("input", input_of("TESTPATTERN"), "height", 16, 2160, step=2)
bounds("input", input_of("TESTPATTERN"), "frameRate", 1, 60)
# Transcoders
bounds("transcoder", transcoder, "videoBitrate", 150, 15000)
bounds("transcoder", transcoder, "gopSize", 0, 1000)
bounds("transcoder", transcoder, "audioBitrate", 14, 576)
bounds("transcoder", transcoder, "bFrame", -1, 3)
bounds("transcoder", transcoder, "frameRate", -1, 60)
bounds("transcoder", transcoder, "interleaveAdjustmentMs", -5000, 5000)
bounds("transcoder", transcoder, "qualityLevel", 1, 10)
bounds("transcoder", transcoder, "jitterBufferMs", 0, 10000)
bounds("transcoder", transcoder_mode, "resolutionMode", 1, 3)
bounds("transcoder", transcoder_resolution, "width", 16, 3840, step=2, where="resolution/width")
bounds("transcoder", transcoder_resolution, "height", 16, 2160, step=2,
       where="resolution/height")
minus_one_or("transcoder", transcoder, "outputPacingInterval", 1, 1000)
minus_one_or("transcoder", transcoder, "shapingBitrate", 150, 15000)
minus_one_or("transcoder", transcoder, "shapingMaxBitratePercent", 1, 400)
minus_one_or("transcoder", transcoder, "shapingTargetBitratePercent", 1, 100)
minus_one_or("transcoder", transcoder, "shapingVbvSizeMs", 20, 1000)
minus_one_or("transcoder", transcoder, "shapingBufferingIntervalMs", 100, 10000)



@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_range_boundary(api, case):
    _, kind, make, field, value, ok, range_text, where, number = case
    resp = api.post(f"/apis/kraken/{KINDS[kind]}", make(field, value))
    if ok:
        rid = created_id(resp, kind)
        el = get_one(api, kind, rid)
        shown = el.find(where)
        assert shown is not None, f"<{where}> missing"
        assert int((shown.text or "").strip(), 0) == number
    else:
        assert_error(resp, 1000, mentions=[field, range_text])


# tos in hex: 0x00-0xFF.
@pytest.mark.parametrize("value,number", [("0x00", 0), ("0x0", 0), ("0xFF", 255), ("0xff", 255),
                                          ("0xB8", 184)])
def test_tos_hex_in_range(api, value, number):
    rid = create(api, "output", output_udp("tos", value))
    assert int(text(get_one(api, "output", rid), "tos"), 0) == number


@pytest.mark.parametrize("value", ["0x100", "0x1FF", "0xZZ"])
def test_tos_hex_out_of_range(api, value):
    assert_error(api.post("/apis/kraken/outputs", output_udp("tos", value)), 1000,
                 mentions=["tos"])


# srtPassphrase: 10-79 characters (the contract), and at most 79 bytes in
# UTF-8 (libsrt derives its key from at most 79 bytes, so a longer one
# could never connect).
PASSPHRASES = []
for char, label in (("x", "ascii"), ("é", "2-byte"), ("€", "3-byte"), ("😀", "4-byte")):
    width = len(char.encode())
    for count in (9, 10, 79 // width, 79, 80):
        PASSPHRASES.append((f"{label}x{count}", char * count))
PASSPHRASES = sorted(set(PASSPHRASES), key=lambda c: (len(c[1].encode()), c[0]))


@pytest.mark.parametrize("kind,make", [("output", output_srt), ("input", input_srt)],
                         ids=["output", "input"])
@pytest.mark.parametrize("case", PASSPHRASES, ids=[c[0] for c in PASSPHRASES])
def test_srt_passphrase_length_in_characters(api, kind, make, case):
    _, passphrase = case
    chars, size = len(passphrase), len(passphrase.encode())
    xml = make("srtPassphrase", passphrase)
    resp = api.post(f"/apis/kraken/{KINDS[kind]}", xml)
    if not 10 <= chars <= 79:
        assert_error(resp, 1000, mentions=["srtPassphrase", "10-79"])
    elif size > 79:
        assert_error(resp, 1000, mentions=["srtPassphrase", f"{size} bytes", "79"])
    else:
        rid = created_id(resp, kind)
        el = get_one(api, kind, rid)
        assert text(el, "srtPassphrase") == passphrase


def test_refused_values_create_nothing(api):
    before = {kind: len(items(api, kind)) for kind in ("input", "output", "transcoder")}
    for _, kind, make, field, value, ok, *_ in CASES:
        if not ok:
            api.post(f"/apis/kraken/{KINDS[kind]}", make(field, value))
    after = {kind: len(items(api, kind)) for kind in ("input", "output", "transcoder")}
    assert after == before
