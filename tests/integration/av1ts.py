#!/usr/bin/env python3
"""An independent reader of AV1 in the start-code based format of AOM's
"Carriage of AV1 in MPEG-2 TS" (v1.0.1, §3.2), written from that
specification and AV1 §5 alone, for judging what the muxer writes.

    av1ts.py IN OUT.obu

IN holds the PES payloads of the AV1 PID back to back (ffmpeg 5.1 reads
the PID as a data stream: `ffmpeg -i x.ts -map 0:d -c copy -f data IN`).
Every OBU is behind a 00 00 01 obu_start_code; emulation prevention bytes
(an 03 after two zero bytes) are removed; each OBU is checked (forbidden
bit 0, obu_size equal to what follows its header, no forbidden byte
sequence) and written in the low-overhead format (AV1 §5.2) that
`ffprobe -f obu` and libdav1d read, with obu_size added where a writer
left it out. Prints a JSON summary; exits 1 with a message on the first
violation.
"""

import json
import sys

START_CODE = b"\x00\x00\x01"
TEMPORAL_DELIMITER = 2


def fail(message):
    print(f"av1ts: {message}", file=sys.stderr)
    sys.exit(1)


def ts_obus(data):
    """Each ts_open_bitstream_unit's bytes after its start code, up to the
    next start code."""
    if not data.startswith(START_CODE):
        fail("the payload does not begin with a 00 00 01 start code")
    at = 3
    while at < len(data):
        nxt = data.find(START_CODE, at)
        end = len(data) if nxt < 0 else nxt
        yield data[at:end]
        at = end + 3


def check_escaped(unit, index):
    """§3.2: no 00 00 00, 00 00 01, 00 00 02, nor 00 00 03 xx with xx > 3."""
    for i in range(len(unit) - 2):
        if unit[i] == 0 and unit[i + 1] == 0:
            if unit[i + 2] <= 2:
                fail(f"OBU {index}: forbidden sequence 00 00 {unit[i + 2]:02x} at {i}")
            if unit[i + 2] == 3 and i + 3 < len(unit) and unit[i + 3] > 3:
                fail(f"OBU {index}: 00 00 03 {unit[i + 3]:02x} at {i}")


def unescape(unit):
    out = bytearray()
    zeros = 0
    for b in unit:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        zeros = zeros + 1 if b == 0 else 0
        out.append(b)
    return bytes(out)


def leb128(data, at):
    value = 0
    for i in range(8):
        if at + i >= len(data):
            break
        b = data[at + i]
        value |= (b & 0x7F) << (7 * i)
        if not b & 0x80:
            return value, i + 1
    fail("obu_size is not a leb128 of at most 8 bytes")


def write_leb128(value):
    out = bytearray()
    while True:
        group = value & 0x7F
        value >>= 7
        if value == 0:
            out.append(group)
            return bytes(out)
        out.append(group | 0x80)


def low_overhead(obu, index):
    """The OBU with obu_has_size_field set and obu_size right (AV1 §5.3)."""
    if not obu:
        fail(f"OBU {index} is empty")
    header = obu[0]
    if header & 0x80:
        fail(f"OBU {index}: obu_forbidden_bit is set")
    header_len = 2 if header & 0x04 else 1
    if len(obu) < header_len:
        fail(f"OBU {index}: header cut short")
    if header & 0x02:
        size, size_len = leb128(obu, header_len)
        payload = obu[header_len + size_len:]
        if size != len(payload):
            fail(f"OBU {index}: obu_size {size}, but {len(payload)} bytes follow")
    else:
        payload = obu[header_len:]
    return bytes([header | 0x02]) + obu[1:header_len] + write_leb128(len(payload)) + payload


def main():
    if len(sys.argv) != 3:
        fail("usage: av1ts.py IN OUT.obu")
    data = open(sys.argv[1], "rb").read()
    out = bytearray()
    types = {}
    for index, unit in enumerate(ts_obus(data)):
        check_escaped(unit, index)
        obu = low_overhead(unescape(unit), index)
        obu_type = (obu[0] >> 3) & 0x0F
        if index == 0 and obu_type != TEMPORAL_DELIMITER:
            fail("the stream does not begin with a temporal delimiter")
        types[obu_type] = types.get(obu_type, 0) + 1
        out += obu
    open(sys.argv[2], "wb").write(out)
    print(json.dumps({
        "obus": sum(types.values()),
        "temporal_units": types.get(TEMPORAL_DELIMITER, 0),
        "types": {str(k): v for k, v in sorted(types.items())},
        "bytes": len(out),
    }))


if __name__ == "__main__":
    main()
