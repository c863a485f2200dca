"""The device end of the front panel's line (docs/front-panel.md), over a
Unix socket: what a 2x20 LCD with five keys would see and send.

``PanelDevice.listen(path)`` waits for makarad (``serve --panel
unix:PATH``) to connect; ``PanelDevice.connect(path)`` connects to QEMU's
chardev socket (``scripts/qemu --panel unix:PATH``). ``press(key)`` sends
``KEY <key>``; ``wait_for(top, bottom)`` reads ``LCD`` lines until the two
rows match (regular expressions, matched whole against the rows without
their trailing spaces). Every line from the appliance is held to the
protocol: ``LCD <0|1> <exactly 20 characters the LCD shows>``; anything
else fails the test.
"""

import re
import socket
import time

LCD_LINE = re.compile(r"LCD ([01]) ([\x20-\x5b\x5d-\x7d]{20})")
KEYS = ("up", "down", "left", "right", "enter")
# The most bytes held while waiting for a line end: an LCD line is 27.
MAX_PENDING = 4096


class PanelDevice:
    def __init__(self, sock, what):
        self.sock = sock
        self.what = what
        self.pending = b""
        self.rows = ["", ""]
        self.lines = []  # every LCD line, for failure messages

    @classmethod
    def listen(cls, path, timeout=30):
        """Listens at ``path`` and waits for makarad to connect."""
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        server.listen(1)
        return _Listener(server, path, timeout)

    @classmethod
    def connect(cls, path, timeout=30):
        """Connects to a listening socket (QEMU's), retrying until it is there."""
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(path))
                return cls(sock, f"unix:{path}")
            except OSError as e:
                sock.close()
                if time.monotonic() > deadline:
                    raise AssertionError(f"cannot connect to the panel socket {path}: {e}")
                time.sleep(0.2)

    def close(self):
        self.sock.close()

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def hello(self):
        self.send("HELLO test-panel")

    def press(self, key):
        assert key in KEYS, key
        self.send(f"KEY {key}")

    def screen(self):
        """The two rows without their trailing spaces."""
        return [r.rstrip(" ") for r in self.rows]

    def _read(self, deadline):
        self.sock.settimeout(max(0.01, min(0.5, deadline - time.monotonic())))
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return
        if not data:
            raise AssertionError(f"the panel line {self.what} closed; last rows {self.rows}")
        self.pending += data
        *lines, self.pending = self.pending.split(b"\n")
        assert len(self.pending) <= MAX_PENDING, f"no line end in {self.pending[:80]!r}"
        for raw in lines:
            text = raw.decode("ascii")
            m = LCD_LINE.fullmatch(text)
            assert m, f"not an LCD line: {text!r}"
            self.rows[int(m.group(1))] = m.group(2)
            self.lines.append(text)

    def wait_for(self, top, bottom, timeout=20):
        """Reads until the rows match ``top`` and ``bottom`` (regular
        expressions, whole rows, trailing spaces stripped); returns them."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if re.fullmatch(top, shown[0]) and re.fullmatch(bottom, shown[1]):
                return shown
            if time.monotonic() > deadline:
                recent = "\n".join(self.lines[-12:])
                raise AssertionError(
                    f"the panel never showed {top!r} / {bottom!r} within {timeout} s; "
                    f"it shows {shown}; its last lines:\n{recent}")
            self._read(deadline)

    def walk(self, steps, timeout=20):
        """Presses each key, then waits for the rows it should bring."""
        for key, top, bottom in steps:
            self.press(key)
            self.wait_for(top, bottom, timeout)


class _Listener:
    """A listening socket; ``accept()`` gives the PanelDevice of the next
    connection."""

    def __init__(self, server, path, timeout):
        self.server = server
        self.path = path
        self.timeout = timeout

    def accept(self, timeout=None):
        self.server.settimeout(timeout or self.timeout)
        try:
            sock, _ = self.server.accept()
        except socket.timeout:
            raise AssertionError(f"nothing connected to the panel socket {self.path}")
        return PanelDevice(sock, f"unix:{self.path}")

    def close(self):
        self.server.close()
