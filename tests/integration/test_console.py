"""``makarad console``: the ``makara>`` prompt of the serial console, driven
through pipes (as on the serial line, but without a tty) against a data
directory whose server is running. What the console changes, the server
picks up from the access file by itself."""

import os
import re
import select
import subprocess
import time

import kraken
from kraken import Credentials, assert_error, child, expect

PROMPT = "makara> "
# The password of the console's first administrator, ``admin``.
PASSWORD = "console-pass-1"
SYSTEM = "/apis/kraken/system"
# The server polls the access file every 200 ms.
SEEN_WITHIN = 2.0
ANSWER_TIMEOUT = 20.0


class Console:
    """One ``makarad console`` process; ``run(line)`` types a line and
    returns what it printed before the next prompt."""

    def __init__(self, data_dir, *args):
        self.cmd = [kraken.makarad(), "console", "--data-dir", str(data_dir), *map(str, args)]
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.output = ""
        self.banner = self._until_prompt()

    def _read_some(self, deadline):
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"no answer from {' '.join(self.cmd)} within "
                                 f"{ANSWER_TIMEOUT} s; output so far:\n{self.output}")
        data = os.read(fd, 65536)
        if not data:
            raise AssertionError(f"the console ended; output:\n{self.output}")
        self.output += data.decode("utf-8", "replace")

    def _until_prompt(self):
        start = len(self.output)
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while not self.output[start:].endswith(PROMPT):
            self._read_some(deadline)
        return self.output[start:-len(PROMPT)]

    def run(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return self._until_prompt()

    def login(self, password=PASSWORD):
        """Logs in before a change: on a box without an administrator the
        console has user ``admin`` made with ``password`` (typed twice)."""
        said = self.run(f"login\n{password}\n{password}")
        assert said.endswith("logged in as admin\n"), said
        return said

    def close(self):
        """End of input: the console must exit 0. Returns the rest of its output."""
        self.proc.stdin.close()
        rest = self.proc.stdout.read().decode("utf-8", "replace")
        assert self.proc.wait(timeout=ANSWER_TIMEOUT) == 0, f"exit status {self.proc.returncode}"
        return rest

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def console(app, *args):
    return Console(app.data_dir, *args)


def poll(request, done, timeout=SEEN_WITHIN):
    """Repeats ``request()`` until ``done(resp)``; returns the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        resp = request()
        if done(resp) or time.monotonic() > deadline:
            return resp
        time.sleep(0.1)


def credentials_in(text):
    key = re.search(r"^consumer_key: (\S+)$", text, re.M)
    secret = re.search(r"^consumer_secret: (\S+)$", text, re.M)
    assert key and secret, f"no consumer_key/consumer_secret lines in:\n{text}"
    return Credentials(key.group(1), secret.group(1))


def system(client, creds=None):
    return client.get(SYSTEM, auth=client.auth(creds) if creds else kraken._DEFAULT)


def makarad_version():
    out = subprocess.run([kraken.makarad(), "--version"], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[-1]


# --- Keys ------------------------------------------------------------------------------

def test_the_first_key_made_on_the_console_works_over_https(appliance_factory):
    app = appliance_factory(with_key=False)
    client = app.client
    assert_error(client.get(SYSTEM, auth=None), 1015)  # fresh: API off, no key
    con = console(app)
    try:
        con.login()
        assert "type help" in con.banner.lower(), con.banner
        assert makarad_version() in con.banner, con.banner
        answer = con.run("api-key create")
        creds = credentials_in(answer)
        resp = poll(lambda: system(client, creds), lambda r: r.status_code == 200)
        child(expect(resp, 200), "system")

        listed = con.run("api-key list")
        assert f"consumer_key: {creds.key} " in listed, listed
        assert creds.secret not in listed
    finally:
        con.kill()


def test_a_key_revoked_on_the_console_stops_working(fresh):
    con = console(fresh)
    try:
        con.login()
        creds = credentials_in(con.run("api-key create"))
        child(expect(poll(lambda: system(fresh.client, creds),
                          lambda r: r.status_code == 200), 200), "system")
        assert con.run(f"api-key revoke {creds.key}").strip() == f"revoked: {creds.key}"
        resp = poll(lambda: system(fresh.client, creds), lambda r: r.status_code == 401)
        assert_error(resp, 1014)
        assert "no consumer key" in con.run(f"api-key revoke {creds.key}")
        child(expect(system(fresh.client), 200), "system")  # the fixture's key still works
    finally:
        con.kill()


# --- The API switch --------------------------------------------------------------------

def test_api_disable_and_enable_on_the_console(fresh):
    con = console(fresh)
    try:
        con.login()
        assert con.run("api disable").strip() == "api: disabled"
        resp = poll(lambda: system(fresh.client), lambda r: r.status_code == 403)
        assert_error(resp, 1015)
        assert con.run("api status").strip() == "api: disabled, 1 key"

        assert con.run("api enable").strip() == "api: enabled"
        resp = poll(lambda: system(fresh.client), lambda r: r.status_code == 200)
        child(expect(resp, 200), "system")
        assert con.run("api status").strip() == "api: enabled, 1 key"
    finally:
        con.kill()


# --- status ----------------------------------------------------------------------------

def test_status_shows_version_api_server_and_streams(fresh, tmp_path):
    name = kraken.unique("console")
    kraken.Kit(fresh.client, outputs=1).make_stream(name)
    pid_file = tmp_path / "makarad.pid"
    pid_file.write_text(f"{fresh.server.proc.pid}\n")
    con = console(fresh, "--serve-pid-file", pid_file)
    try:
        con.login()
        text = con.run("status")
        assert re.search(rf"^version:\s+makarad {re.escape(makarad_version())}$", text, re.M), text
        assert re.search(r"^api:\s+enabled, 1 key$", text, re.M), text
        assert re.search(rf"^serve:\s+running \(pid {fresh.server.proc.pid}\)$", text, re.M), text
        assert re.search(r"^streams:\s+1 \(1 input, 1 output, 1 transcoder\)$", text, re.M), text
        assert re.search(rf"^\s+{re.escape(name)}: stopped$", text, re.M), text
        for label in ("hostname", "uptime", "network", "data"):
            assert re.search(rf"^{label}:\s+\S", text, re.M), f"no {label} in\n{text}"
        assert "lo: up (loopback), 127.0.0.1/8" in text, text

        con.run("api-key create")
        assert re.search(r"^api:\s+enabled, 2 keys$", con.run("status"), re.M)
    finally:
        con.kill()


def test_status_without_a_pid_file_says_unknown(fresh, tmp_path):
    con = console(fresh, "--serve-pid-file", tmp_path / "absent.pid")
    try:
        text = con.run("status")
        assert re.search(r"^serve:\s+unknown \(no pid file ", text, re.M), text
    finally:
        con.kill()


# --- The prompt ------------------------------------------------------------------------

def test_unknown_commands_are_explained_and_the_prompt_comes_back(fresh):
    con = console(fresh)
    try:
        assert con.run("xyz") == "unknown command 'xyz': type help\n"
        assert con.run("api-key revoke") == "usage: api-key revoke KEY\n"
        assert con.run("") == ""
        assert con.run("status\r").startswith("version:")
        helped = con.run("help")
        for command in ("status", "api-key create", "api enable", "reboot", "shell", "exit"):
            assert re.search(rf"^{re.escape(command)}[\s,]", helped, re.M), helped
    finally:
        con.kill()


def test_end_of_input_and_exit_end_the_console_with_status_0(fresh):
    con = console(fresh)
    con.run("help")
    con.close()

    con = console(fresh)
    con.proc.stdin.write(b"exit\n")
    con.close()


# --- Power and shell -------------------------------------------------------------------

def script(path, body):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_reboot_runs_the_configured_command_and_a_failure_keeps_the_prompt(fresh, tmp_path):
    marker = tmp_path / "rebooted"
    reboot = script(tmp_path / "reboot.sh", 'touch "$1"\necho "reboot: signalled init"\n')
    poweroff = script(tmp_path / "poweroff.sh", 'echo "poweroff: refused" >&2\nexit 3\n')
    con = console(fresh, "--reboot-command", f"{reboot} {marker}",
                  "--poweroff-command", poweroff)
    try:
        con.login()
        answer = con.run("reboot")
        assert marker.exists(), answer
        assert "reboot: signalled init" in answer, answer
        assert "reboot: requested" in answer, answer

        answer = con.run("poweroff")
        assert "poweroff: refused" in answer, answer
        assert f"poweroff failed: `{poweroff}` exited with status 3" in answer, answer
        assert con.run("api status").strip() == "api: enabled, 1 key"
    finally:
        con.kill()


def test_a_missing_reboot_command_is_reported(fresh, tmp_path):
    con = console(fresh, "--reboot-command", tmp_path / "no-such-reboot")
    try:
        con.login()
        answer = con.run("reboot")
        assert "reboot failed: cannot run" in answer, answer
        assert con.run("xyz") == "unknown command 'xyz': type help\n"
    finally:
        con.kill()


def test_shell_runs_the_service_shell_and_returns(fresh, tmp_path):
    marker = tmp_path / "shell-ran"
    shell = script(tmp_path / "shell.sh", f'touch "{marker}"\n')
    con = console(fresh, "--shell", shell)
    try:
        con.login()
        answer = con.run("shell")
        assert answer.startswith("service shell: "), answer
        assert marker.exists()
        assert con.run("api status").strip() == "api: enabled, 1 key"
    finally:
        con.kill()


# --- streams and presets, through makarad serve's control socket -----------------------

def test_streams_and_presets_are_run_from_the_console(fresh):
    """A stream started and stopped by name, a preset saved over the API then
    loaded and made the boot preset from the console: each seen over the API,
    and `status` shows the live state."""
    client = fresh.client
    path = kraken.live_stream(client, [[("name", kraken.unique("udp")),
                                        ("url", "udp://127.0.0.1:9")]])
    name = kraken.text(child(expect(client.get(path), 200), "stream"), "name")
    preset = kraken.unique("Studio preset")
    kraken.create(client, "configuration", kraken.body("configuration", [("name", preset)]))
    con = console(fresh)
    try:
        con.login()
        assert con.run(f"stream start {name}") == "done\n"
        el = kraken.set_stream_state(client, path, "start", "active")
        assert kraken.text(el, "state") == "active"
        listed = con.run("stream list")
        assert re.search(rf"^{re.escape(name)}: active, \d+ kbit/s$", listed, re.M), listed
        assert re.search(rf"^running:\s+{re.escape(name)}: active", con.run("status"), re.M)

        assert con.run(f"stream stop {name}") == "done\n"
        state = lambda: kraken.text(child(expect(client.get(path), 200), "stream"), "state")
        assert state() == "stopped"
        assert con.run("stream start No Such") == "failed: no stream is named 'No Such'\n"

        assert con.run("preset list") == f"{preset}\n"
        assert con.run(f"preset default {preset}") == "done\n"
        assert con.run("preset list") == f"{preset} (loads at boot)\n"
        assert con.run(f"preset load {preset}") == "done\n"
        configs = kraken.items(client, "configuration")
        assert [kraken.as_bool(kraken.text(c, "defaultConfig")) for c in configs] == [True]
        assert con.run("preset load Nope") == "failed: no preset is named 'Nope'\n"
    finally:
        con.kill()


def test_stream_commands_without_a_server_say_so(appliance_factory):
    app = appliance_factory(start=False)
    con = console(app)
    try:
        said = con.run("stream list")
        assert said.startswith("failed: makarad serve does not answer on "), said
        assert "control.sock" in said, said
    finally:
        con.kill()
