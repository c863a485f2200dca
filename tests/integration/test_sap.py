"""SAP (RFC 2974) announcements with an SDP (RFC 4566) for UDP outputs.

Issue 7 §4.7: `transmitSap on` was stored but nothing was sent. A stream
with two outputs runs: one announces to a SAP listener on loopback (the
configuration takes a unicast SAP address), the other has `transmitSap
off`. The listener parses header and SDP with the parser below and checks
them against the output; the announcement repeats; the stop brings a
deletion for the same session; then nothing more.
"""

import ipaddress
import socket
import struct
import time

from kraken import live_stream, set_stream_state, unique

PAYLOAD_TYPE = b"application/sdp\x00"
# The announcement interval is 5 s; generous bounds around it.
REPEAT_WITHIN = 12.0
DELETION_WITHIN = 5.0


class SapPacket:
    """An RFC 2974 packet: flags, hash, originating source, payload."""

    def __init__(self, data):
        flags, self.auth_len, self.hash = struct.unpack_from("!BBH", data)
        self.version = flags >> 5
        self.ipv6 = bool(flags & 0x10)
        self.deletion = bool(flags & 0x04)
        self.encrypted = bool(flags & 0x02)
        self.compressed = bool(flags & 0x01)
        size = 16 if self.ipv6 else 4
        self.source = str(ipaddress.ip_address(data[4:4 + size]))
        rest = data[4 + size + 4 * self.auth_len:]
        assert rest.startswith(PAYLOAD_TYPE), rest[:40]
        self.payload = rest[len(PAYLOAD_TYPE):].decode()


def sdp_lines(text):
    """[(type, value)] of an SDP, checking every line is CRLF-terminated
    ``<type>=<value>`` with a one-letter type."""
    assert text.endswith("\r\n"), repr(text[-20:])
    lines = text[:-2].split("\r\n")
    for line in lines:
        assert len(line) >= 2 and line[1] == "=" and line[0].isalpha(), repr(line)
    return [(line[0], line[2:]) for line in lines]


def udp_listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


def next_packet(sock, within):
    sock.settimeout(within)
    data = sock.recv(65536)
    return time.monotonic(), SapPacket(data)


def test_an_output_is_announced_while_it_runs_and_deleted_when_it_stops(fresh):
    api = fresh.client
    sap, sap_port = udp_listener()
    quiet, quiet_port = udp_listener()
    stream_port = 5004
    try:
        path = live_stream(api, [
            [("name", unique("announced")), ("url", f"udp://127.0.0.1:{stream_port}"),
             ("ttl", 9),
             ("sap", [("transmitSap", "on"), ("address", "127.0.0.1"), ("port", sap_port),
                      ("sessionName", "Studio camera"),
                      ("sessionDescription", "Wide shot, studio A"),
                      ("keywords", "news,test"), ("author", "Ops")])],
            [("name", unique("silent")), ("url", f"udp://127.0.0.1:{stream_port + 2}"),
             ("sap", [("transmitSap", "off"), ("address", "127.0.0.1"),
                      ("port", quiet_port)])],
        ])
        set_stream_state(api, path, "start", "active")
        first_at, first = next_packet(sap, 10)
        second_at, second = next_packet(sap, REPEAT_WITHIN)
        set_stream_state(api, path, "stop", "stopped")
        _, deletion = next_packet(sap, DELETION_WITHIN)
        sap.settimeout(6)
        try:
            after = sap.recv(65536)
        except socket.timeout:
            after = None
        quiet.setblocking(False)
        try:
            silent = quiet.recv(65536)
        except BlockingIOError:
            silent = None
    finally:
        sap.close()
        quiet.close()

    # The header: SAPv1, IPv4 source, announcement, nothing optional.
    assert (first.version, first.ipv6, first.deletion) == (1, False, False)
    assert (first.encrypted, first.compressed, first.auth_len) == (False, False, 0)
    assert first.hash != 0
    assert first.source == "127.0.0.1"

    sdp = sdp_lines(first.payload)
    types = [t for t, _ in sdp]
    assert types[:3] == ["v", "o", "s"], types
    values = dict(sdp)
    attributes = [v for t, v in sdp if t == "a"]
    assert values["v"] == "0"
    user, session_id, version, net, addr_type, origin = values["o"].split(" ")
    assert (net, addr_type, origin) == ("IN", "IP4", "127.0.0.1")
    assert session_id.isdigit() and version.isdigit()
    assert values["s"] == "Studio camera"
    assert values["i"] == "Wide shot, studio A"
    assert values["c"] == "IN IP4 127.0.0.1"
    assert values["t"] == "0 0"
    kind, bandwidth = values["b"].split(":")
    assert kind == "AS" and int(bandwidth) > 0, values["b"]
    assert values["m"] == f"video {stream_port} udp 33"
    assert types.index("m") > types.index("t"), types
    assert "rtpmap:33 MP2T/90000" in attributes, attributes
    assert "keywds:news,test" in attributes, attributes
    assert "recvonly" in attributes, attributes

    # Repeated unchanged, not in a burst.
    assert second.payload == first.payload and second.hash == first.hash
    assert second_at - first_at > 2.0, second_at - first_at

    # The deletion names the same session: same hash and source, its o= line.
    assert (deletion.version, deletion.deletion) == (1, True)
    assert (deletion.hash, deletion.source) == (first.hash, first.source)
    assert deletion.payload == f"o={values['o']}\r\n"

    # Then silence; and the output with transmitSap off never announced.
    assert after is None, after[:60]
    assert silent is None, silent[:60]
