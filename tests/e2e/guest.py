"""A booted appliance image under QEMU, driven the way an operator would:
through its serial console and its HTTPS API.

``Guest`` starts ``scripts/qemu`` with the console on a unix socket, keeps
everything the console prints (also in ``console.log``), and offers
``console(command)``: type a line at the prompt and get what it printed back.
"""

import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROMPT = "makara> "
BOOT_TIMEOUT = float(os.environ.get("MAKARA_E2E_BOOT_TIMEOUT", "180"))
# Guest CPUs: under TCG each is a host thread, so two let vivid's drawing
# and the encoder run side by side on the 2-core CI machines.
SMP = os.environ.get("MAKARA_E2E_SMP", "2")


# Terminal control sequences (a shell's cursor query, colours): not text.
ANSI_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class GuestError(AssertionError):
    pass


class Guest:
    """One QEMU of ``target/image/<arch>``; its data disk persists across
    a reboot, as an appliance's does."""

    running = []

    def __init__(self, arch, workdir, *, reset_data=True, memory="512M", qemu_args=()):
        self.arch = arch
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sock_path = self.workdir / "console.sock"
        # The front panel's serial port (scripts/qemu --panel): QEMU listens
        # here; panel() connects as the panel device.
        self.panel_path = self.workdir / "panel.sock"
        self.run_dir = self.workdir / "run"
        self.reset_data = reset_data
        self.memory = memory
        self.qemu_args = list(qemu_args)
        self.proc = None
        self.sock = None
        self.output = ""
        self.lock = threading.Lock()
        self.reader = None
        self.port = None
        self.boots = 0

    # --- life cycle ------------------------------------------------------------

    def start(self):
        args = [str(REPO / "scripts" / "qemu"), "--arch", self.arch,
                "--serial", f"unix:{self.sock_path}", "--panel", f"unix:{self.panel_path}",
                "--memory", self.memory,
                "--ready-timeout", str(int(BOOT_TIMEOUT)), "--state-dir", str(self.workdir),
                "--smp", SMP]
        if self.reset_data:
            args.append("--reset-data")
        args += self.qemu_args
        (self.run_dir / "https-port").unlink(missing_ok=True)
        self.qemu_log = open(self.workdir / "qemu.log", "a")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=self.qemu_log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=REPO)
        self._connect()
        self.port = self._forwarded_port()
        self.boots += 1
        Guest.running.append(self)
        return self

    def _connect(self):
        deadline = time.monotonic() + 60
        while True:
            self._check_alive()
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(str(self.sock_path))
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise GuestError(f"no console socket at {self.sock_path}")
                time.sleep(0.1)
        self.sock = s
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                text = data.decode("utf-8", "replace").replace("\r", "")
                self.output += ANSI_CSI.sub("", text)

    def _forwarded_port(self):
        path = self.run_dir / "https-port"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self._check_alive()
            if path.is_file() and path.read_text().strip().isdigit():
                return int(path.read_text())
            time.sleep(0.1)
        raise GuestError("scripts/qemu did not write the forwarded HTTPS port")

    def _check_alive(self):
        if self.proc.poll() is not None:
            raise GuestError(f"QEMU exited with {self.proc.returncode}; "
                             f"see {self.workdir / 'qemu.log'}\n{self.tail()}")

    def stop(self):
        if self in Guest.running:
            Guest.running.remove(self)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.sock:
            self.sock.close()
        (self.workdir / "console.log").write_text(self.output)

    def panel(self):
        """The front panel device on the guest's second serial port
        (panel_device.PanelDevice), which has said HELLO."""
        from panel_device import PanelDevice
        device = PanelDevice.connect(self.panel_path)
        device.hello()
        return device

    # --- the console -------------------------------------------------------------

    def mark(self):
        with self.lock:
            return len(self.output)

    def since(self, mark):
        with self.lock:
            return self.output[mark:]

    def tail(self, chars=4000):
        with self.lock:
            return self.output[-chars:]

    def wait_for(self, pattern, mark=0, timeout=BOOT_TIMEOUT):
        """Waits until ``pattern`` (a regex) appears after ``mark``; returns the match."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            m = rx.search(self.since(mark))
            if m:
                return m
            time.sleep(0.05)
        raise GuestError(f"the console did not show /{pattern}/ within {timeout} s; "
                         f"last output:\n{self.tail()}")

    def send(self, text):
        self.sock.sendall(text.encode())

    def wait_prompt(self, timeout=BOOT_TIMEOUT):
        """Presses Enter until the console answers with its prompt, then
        waits until it is quiet: Enters typed while it was starting are
        answered with more prompts, and one of those must not be taken for
        the answer to the next command."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mark = self.mark()
            self.send("\n")
            try:
                self.wait_for(re.escape(PROMPT) + r"$", mark, timeout=2)
                break
            except GuestError:
                continue
        else:
            raise GuestError(f"no '{PROMPT}' prompt within {timeout} s:\n{self.tail()}")
        while True:
            seen = self.mark()
            time.sleep(1.5)
            if self.mark() == seen:
                return

    def console(self, command, timeout=60):
        """Types ``command`` at the prompt; returns what it printed before the
        next prompt. The terminal echoes the line, so the answer is what
        follows that echo: prompts left over from earlier Enters do not
        count."""
        mark = self.mark()
        self.send(command + "\n")
        m = self.wait_for(re.escape(command) + r"\n([\s\S]*?)" + re.escape(PROMPT) + r"$",
                          mark, timeout)
        return m.group(1).strip("\n")

    def console_login(self, password, timeout=60):
        """Logs in on the console as ``admin``: on a new box the console has
        the operator choose admin's password (typed twice); on one that
        has it (a kept data disk), it asks for the username and password.
        The terminal does not echo the password."""
        mark = self.mark()
        self.send("login\n")
        m = self.wait_for(r"(New password: |Username: |logged in as \S+\n)$", mark, timeout)
        if m.group(1) == "New password: ":
            self.send(password + "\n")
            self.wait_for(r"Again: $", mark, timeout)
            self.send(password + "\n")
        elif m.group(1) == "Username: ":
            self.send("admin\n")
            self.wait_for(r"Password: $", mark, timeout)
            self.send(password + "\n")
        self.wait_for(r"logged in as admin\n" + re.escape(PROMPT) + r"$", mark, timeout)

    def shell(self, command, timeout=120):
        """Runs ``command`` in the console's service shell and returns what
        it printed; the shell exits and the prompt comes back."""
        mark = self.mark()
        self.send("shell\n")
        self.wait_for(r"^service shell: .*$", mark, timeout=20)
        time.sleep(0.5)
        begin, end = "@@begin@@", "@@end@@"
        self.send(f"echo {begin}; {command}; echo {end}; exit\n")
        self.wait_for(re.escape(PROMPT) + r"$", mark, timeout)
        out = self.since(mark)
        start = out.rfind(begin + "\n")
        stop = out.rfind(end + "\n")
        if start < 0 or stop < start:
            raise GuestError(f"no output markers around {command!r}:\n{out[-3000:]}")
        return out[start + len(begin) + 1:stop]
