"""An SRT output's `ttl`, `tos` and `mtu` take effect on the wire.

Our SRT caller output talks to srt-live-transmit (the reference libsrt)
through a UDP relay of the test's own on 127.0.0.1, which reads each
datagram's IP TTL and TOS from the kernel (IP_RECVTTL / IP_RECVTOS) and
its size, then forwards it. The settings are odd values on purpose, so
that no default can pass for them.
"""

import socket
import struct
import threading
import time

import peers
from mediacheck import Receiver

W, H = 320, 180
TTL, TOS, MTU = 9, 0x48, 800
# IPv4 20 + UDP 8 + SRT 16 bytes of headers: 4 TS packets fit in 800.
PACKETS_PER_MESSAGE = (MTU - 44) // 188
# Linux's <netinet/in.h>; Python does not name all of them.
IP_TOS, IP_TTL, IP_RECVTTL, IP_RECVTOS = 1, 2, 12, 13
SRT_CONTROL_BIT = 0x80


class MarkingRelay:
    """Forwards datagrams between our caller and a peer, noting the TTL,
    TOS and size of every datagram our side sends."""

    def __init__(self, peer_port):
        self.peer = ("127.0.0.1", peer_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
        self.sock.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.ours = None
        self.seen = []  # (ttl, tos, data length, is control) per datagram of ours
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data, ancillary, _, sender = self.sock.recvmsg(65536, 256)
            except socket.timeout:
                continue
            if sender == self.peer:
                if self.ours:
                    self.sock.sendto(data, self.ours)
                continue
            self.ours = sender
            marks = {t: d for level, t, d in ancillary if level == socket.IPPROTO_IP}
            ttl = struct.unpack("i", marks[IP_TTL])[0] if IP_TTL in marks else None
            tos = marks[IP_TOS][0] if IP_TOS in marks else None
            self.seen.append((ttl, tos, len(data), bool(data[0] & SRT_CONTROL_BIT)))
            self.sock.sendto(data, self.peer)

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


def test_srt_output_marks_and_sizes_its_datagrams(fresh, tmp_path):
    api = fresh.client
    listener_port = peers.free_udp_port()
    relay = MarkingRelay(listener_port)
    sink = Receiver()
    out = peers.srt_output(api, srtMode="caller", srtAddress="127.0.0.1",
                           srtRemotePort=relay.port, srtLatency=120,
                           ttl=TTL, tos=TOS, mtu=MTU)
    path = peers.make_stream(api, peers.pattern_input(api, W, H), [out],
                             transcoder_id=peers.h264_transcoder(api, W, H))
    listener = peers.srt_live_transmit(peers.srt_url(listener_port, "listener"),
                                       f"udp://127.0.0.1:{sink.port}", tmp_path)
    try:
        with listener:
            peers.start(api, path)
            peers.wait_state(api, path, "active")
            time.sleep(3)
            peers.stop(api, path)
    finally:
        relay.close()
        sink.close()
    data = [s for s in relay.seen if not s[3]]
    assert data, f"no SRT data packets went through the relay: {relay.seen[:5]}"
    assert {ttl for ttl, _, _, _ in relay.seen} == {TTL}
    assert {tos for _, tos, _, _ in relay.seen} == {TOS}
    sizes = {size for _, _, size, _ in data}
    # Every message is whole packets after the 16-byte SRT header, and the
    # IP datagram fits the MTU; the encoder's steady flow fills them.
    assert all((size - 16) % 188 == 0 for size in sizes), sizes
    assert max(sizes) == 16 + PACKETS_PER_MESSAGE * 188, sizes
    assert max(sizes) + 28 <= MTU
    ts = sink.ts()
    assert len(ts) > 100 * 188 and len(ts) % 188 == 0
    assert all(ts[i] == 0x47 for i in range(0, len(ts), 188))
