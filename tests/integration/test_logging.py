"""makarad's log never stops it, and its log file stays within a size.

* With stderr (and stdout) on /dev/full, or on a pipe whose reader has gone,
  ``makarad serve`` starts, answers a signed request and stops with exit 0:
  every log line fails to be written and is dropped.
* ``--log-file FILE --log-file-kib N`` rotates FILE to FILE.1 by size: while
  log lines keep coming, the two files together stay under 2 * N KiB.
* Lines lost while the log file's file system is full are counted, and the
  count is written into the log once writing works again.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

import kraken

# A TLS record header (handshake, TLS 1.0) followed by nonsense: the server
# logs "TLS handshake failed" at debug level for each such connection.
BAD_HANDSHAKE = b"\x16\x03\x01\x00\x08nonsense"


class RedirectedServer(kraken.Server):
    """``makarad serve`` with stdout and stderr on the given file objects."""

    def __init__(self, data_dir, stdout, stderr, extra_args=()):
        super().__init__(data_dir, extra_args=extra_args)
        self.out = stdout
        self.err = stderr

    def _start_once(self, port):
        self.port = port or kraken.free_port()
        cmd = [kraken.makarad(), "serve", "--data-dir", str(self.data_dir),
               "--listen", self.host, *self.extra_args]
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        kraken._ALL_SERVERS.append(self)
        self.wait_ready()
        return self


def serve_one_signed_request_and_stop(tmp_path, stdout, stderr):
    data = tmp_path / "data"
    data.mkdir()
    creds = kraken.create_key(data)
    server = RedirectedServer(data, stdout, stderr)
    server.start()
    client = kraken.Client(server, creds)
    try:
        resp = client.get("/apis/kraken/system")
        assert resp.status_code == 200, resp.text
        bad_handshake(server.port)  # one more log line, at debug or not
    finally:
        client.close()
        code, in_time = server.stop(signal.SIGTERM, timeout=15)
    assert in_time, "makarad did not stop within 15 s of SIGTERM"
    assert code == 0, f"makarad exited with {code} (101 is a panic)"


def bad_handshake(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(BAD_HANDSHAKE)
        sock.settimeout(5)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass


def test_stderr_on_dev_full(tmp_path):
    with open("/dev/full", "wb") as full:
        serve_one_signed_request_and_stop(tmp_path, full, full)


def test_stderr_on_a_closed_pipe(tmp_path):
    # The reading end is closed before makarad starts: its first log line
    # already meets EPIPE (Rust programs ignore SIGPIPE).
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "wb") as pipe:
        serve_one_signed_request_and_stop(tmp_path, pipe, pipe)


def sizes(log):
    old = log.with_name(log.name + ".1")
    return [p.stat().st_size if p.exists() else 0 for p in (log, old)]


def test_log_file_is_rotated_within_its_bound(appliance_factory, tmp_path):
    log = tmp_path / "logs" / "makarad.log"
    log.parent.mkdir()
    kib = 16
    app = appliance_factory(extra_args=["--log-file", str(log), "--log-file-kib", str(kib),
                                        "--log-level", "debug"])
    assert "Kraken API ready" in log.read_text()
    old = log.with_name("makarad.log.1")
    bound = 2 * kib * 1024 + 1024  # the two files, plus one line over
    first_lines_of_old = set()
    deadline = time.monotonic() + 60
    connections = 0
    # Until the previous file has been replaced a few times (about 4 * 16
    # KiB of log), checking the bound as it goes; at most 60 s or 3000 tries.
    while len(first_lines_of_old) < 4 and connections < 3000 and time.monotonic() < deadline:
        for _ in range(20):
            bad_handshake(app.server.port)
            connections += 1
        total = sum(sizes(log))
        assert total <= bound, f"{total} bytes of log after {connections} connections"
        if old.exists():
            first_lines_of_old.add(old.read_bytes().split(b"\n", 1)[0])
    assert len(first_lines_of_old) >= 4, (
        f"the log was not rotated 4 times in {connections} connections: sizes {sizes(log)}")
    assert max(sizes(log)) <= kib * 1024 + 1024
    assert b"TLS handshake failed" in log.read_bytes()
    # The first lines have been rotated away: the size is really bounded.
    assert "Kraken API ready" not in log.read_text() + old.read_text()
    assert app.server.alive()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_lines_lost_on_a_full_file_system_are_counted(appliance_factory, tmp_path):
    logs = tmp_path / "small"
    logs.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "makara-log-test", str(logs)],
                   check=True)
    try:
        filler = logs / "filler"
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
        log = logs / "makarad.log"
        app = appliance_factory(extra_args=["--log-file", str(log), "--log-level", "debug"])
        for _ in range(5):
            bad_handshake(app.server.port)
        assert app.server.alive()
        assert not log.exists() or b"TLS handshake failed" not in log.read_bytes()
        filler.unlink()
        bad_handshake(app.server.port)
        deadline = time.monotonic() + 10
        while b"TLS handshake failed" not in log.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.1)
        text = log.read_text()
        note = [line for line in text.splitlines() if "could not be written and were dropped" in line]
        assert len(note) == 1, text
        # At least the start-up lines and the five handshakes before.
        lost = int(note[0].split()[2])
        assert lost >= 7, note[0]
        assert text.index(note[0]) < text.index("TLS handshake failed")
        code, _ = app.server.stop(signal.SIGTERM)
        assert code == 0
        assert f"lost={lost}" in log.read_text(), log.read_text()[-2000:]
    finally:
        subprocess.run(["umount", "-l", str(logs)], check=False)
        shutil.rmtree(logs, ignore_errors=True)
