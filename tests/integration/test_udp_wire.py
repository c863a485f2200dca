"""Every datagram of a UDP output goes on the wire, listened to or not.

Issue 7 §4.1: with a connected socket, the ICMP port-unreachable answering
datagram N made the send of N+1 fail, and N+1 was never sent, so a passive
tap or a receiver that joins late lost half the stream. Here one stream has
two outputs with the same MTU: one to a loopback port where nothing listens,
one to a listening socket. A raw AF_PACKET socket on `lo` (root only; CI
runs as root) records what leaves for the deaf port; it must be the whole
transport stream, byte for byte what the listener received, with no
continuity-counter gap on any PID.
"""

import os
import socket
import struct
import threading
import time

import pytest

from kraken import live_stream, set_stream_state, unique
from mediacheck import Receiver

SECONDS = 4
ETH_P_ALL = 0x0003
SO_RCVBUFFORCE = 33
ETHERNET_HEADER = 14
NULL_PID = 0x1FFF


class Tap:
    """The UDP payloads leaving on `lo` for one port, in order."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.1)
        self.payloads = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                frame, address = self.sock.recvfrom(1 << 17)
            except socket.timeout:
                continue
            # Loopback shows each packet twice, leaving and arriving.
            if address[2] == socket.PACKET_OUTGOING:
                payload = udp_payload(frame[ETHERNET_HEADER:], self.port)
                if payload is not None:
                    self.payloads.append(payload)

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


def udp_payload(ip, port):
    """The payload of an IPv4 UDP packet to 127.0.0.1:port, else None. The
    IP total length bounds it, so a GSO super-packet reads whole."""
    if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_UDP:
        return None
    header = (ip[0] & 0x0F) * 4
    total = struct.unpack_from("!H", ip, 2)[0]
    destination = socket.inet_ntoa(ip[16:20])
    dport = struct.unpack_from("!H", ip, header + 2)[0]
    if destination != "127.0.0.1" or dport != port:
        return None
    return bytes(ip[header + 8:total])


def continuity_gaps(ts):
    """(packet index, pid, expected, found) for every continuity-counter
    jump not announced by a discontinuity_indicator (ISO/IEC 13818-1 2.4.3.3)."""
    gaps, last = [], {}
    for i in range(0, len(ts) - 187, 188):
        packet = ts[i:i + 188]
        pid = ((packet[1] & 0x1F) << 8) | packet[2]
        control, counter = (packet[3] >> 4) & 3, packet[3] & 0x0F
        if pid == NULL_PID:
            continue
        announced = control & 2 and packet[4] > 0 and packet[5] & 0x80
        expected = (last[pid] + (control & 1)) & 0x0F if pid in last else counter
        if counter != expected and not announced:
            gaps.append((i // 188, pid, expected, counter))
        last[pid] = counter
    return gaps


def unused_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root (CI runs as root)")
def test_every_datagram_leaves_when_nobody_listens(fresh):
    api = fresh.client
    deaf_port = unused_udp_port()
    listener = Receiver()
    tap = Tap(deaf_port)
    try:
        path = live_stream(api, [
            [("name", unique("deaf")), ("url", f"udp://127.0.0.1:{deaf_port}")],
            [("name", unique("heard")), ("url", f"udp://127.0.0.1:{listener.port}")],
        ])
        set_stream_state(api, path, "start", "active")
        time.sleep(SECONDS)
        set_stream_state(api, path, "stop", "stopped")
        time.sleep(1)
    finally:
        tap.close()
        listener.close()

    heard = listener.ts()
    tapped = b"".join(tap.payloads)
    # At the stream's rate (well over 300 kbit/s), seconds of it.
    assert len(heard) > SECONDS * 300_000 // 8, len(heard)
    assert all(len(p) % 188 == 0 and p[::188] == b"\x47" * (len(p) // 188)
               for p in tap.payloads), "a tapped payload is not whole TS packets"
    gaps = continuity_gaps(tapped)
    assert not gaps, f"{len(gaps)} continuity gaps on the deaf output, first {gaps[:5]}"
    assert len(tapped) == len(heard), (
        f"{len(tapped) // 188} TS packets left for the deaf port, "
        f"{len(heard) // 188} reached the listener")
    assert tapped == heard, "the deaf and the heard output carry different bytes"
