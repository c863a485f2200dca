"""Receiving a stream on loopback and judging it with Debian's ffprobe:
shared by the media tests here and the appliance-image tests in tests/e2e."""

import json
import socket
import subprocess
import threading
import time


class Receiver:
    """Collects every datagram sent to a loopback port, with arrival times."""

    def __init__(self, port=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.datagrams = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            self.datagrams.append((time.monotonic(), data))

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()

    def ts(self):
        return b"".join(d for _, d in self.datagrams)


def ffprobe(path, *args):
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def video_kbps(path, fps):
    """The video stream's bitrate: bytes of its packets over their span."""
    packets = ffprobe(path, "-select_streams", "v", "-show_entries",
                      "packet=size,pts_time", "-show_packets")["packets"]
    seconds = float(packets[-1]["pts_time"]) - float(packets[0]["pts_time"]) + 1 / fps
    return sum(int(p["size"]) for p in packets) * 8 / seconds / 1000


def without_last_unit(ts, pid):
    """The transport stream cut before the last packet that starts a PES
    on ``pid``: what remains holds only whole access units of that PID."""
    starts = [i for i in range(0, len(ts) - 187, 188)
              if ts[i] == 0x47 and ts[i + 1] & 0x40
              and ((ts[i + 1] & 0x1F) << 8 | ts[i + 2]) == pid]
    assert starts, f"no PES starts on PID {pid:#x}"
    return ts[:starts[-1]]
