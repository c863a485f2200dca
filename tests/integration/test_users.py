"""``makarad user add|list|passwd|role|remove``: the local accounts of the HMP
JSON API, managed from the command line, also while a server runs on the same
data directory.

Login itself is the API's (tests of /apis/authentication/login); here the
rules the command line enforces, that passwords are never stored in the clear,
and that the users survive a server's restart.
"""

import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import kraken
from kraken import child, expect

PASSWORD = "Tr0ub4dor&3-correct-horse"
LIST_LINE = re.compile(r"^username: (\S+) role: (\S+) created: (\d+)$")
# docs: at most 64 users; usernames 1-64 characters; passwords 8-128 bytes.
MAX_USERS = 64


def user(data_dir, *args, password=None):
    """Runs ``makarad user ARGS... --data-dir DIR``, with ``password`` (a str,
    sent as is, so give it its newline) or nothing on stdin."""
    cmd = [kraken.makarad(), "user", *args, "--data-dir", str(data_dir)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=kraken.CLI_TIMEOUT,
                          input=password if password is not None else "")


def ok(proc):
    assert proc.returncode == 0, (
        f"{' '.join(proc.args)} exited {proc.returncode}\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc.stdout


def refused(proc, *words, code=1):
    """The command failed with exit ``code`` and said all of ``words``."""
    assert proc.returncode == code, (
        f"{' '.join(proc.args)} exited {proc.returncode}, expected {code}\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    assert proc.stdout == "", proc.stdout
    for word in words:
        assert word in proc.stderr, f"{word!r} not in stderr:\n{proc.stderr}"
    return proc.stderr


def add(data_dir, name, role="viewer", password=PASSWORD):
    # --username=NAME, so that a name like -rf reaches makarad's own rules.
    return user(data_dir, "add", f"--username={name}", "--role", role, "--password-stdin",
                password=password + "\n")


def users(data_dir):
    """``makarad user list`` as {name: (role, created)}, every line checked."""
    out = ok(user(data_dir, "list"))
    found = {}
    for line in out.splitlines():
        m = LIST_LINE.match(line)
        assert m, f"unexpected line from makarad user list: {line!r}"
        assert m.group(1) not in found, out
        found[m.group(1)] = (m.group(2), int(m.group(3)))
    return found


def stored_bytes(data_dir):
    """Every file in the data directory, read as bytes."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


# --- The commands ------------------------------------------------------------------

def test_add_then_list(data_dir):
    empty = user(data_dir, "list")
    assert ok(empty) == ""
    assert "no users" in empty.stderr
    before = int(time.time())
    assert ok(add(data_dir, "alice", "administrator")) == "added: alice role: administrator\n"
    assert ok(add(data_dir, "bob", "operator")) == "added: bob role: operator\n"
    assert ok(add(data_dir, "carol.v@example.com", "viewer")) \
        == "added: carol.v@example.com role: viewer\n"
    after = int(time.time())
    listed = users(data_dir)
    assert {name: role for name, (role, _) in listed.items()} == {
        "alice": "administrator", "bob": "operator", "carol.v@example.com": "viewer"}
    assert list(listed) == ["alice", "bob", "carol.v@example.com"], "order of creation"
    for _, created in listed.values():
        assert before - 1 <= created <= after + 1


def test_passwords_are_never_stored_or_shown(data_dir):
    ok(add(data_dir, "alice", "operator"))
    second = "second-secret-42"
    ok(user(data_dir, "passwd", "--username", "alice", "--password-stdin",
            password=second + "\n"))
    stored = stored_bytes(data_dir)
    for secret in (PASSWORD, second):
        assert secret.encode() not in stored
    assert b"$argon2id$v=19$m=19456,t=2,p=1$" in stored
    listing = user(data_dir, "list")
    for secret in (PASSWORD, second, "argon2"):
        assert secret not in listing.stdout + listing.stderr


def test_a_duplicate_name_is_refused_even_in_another_case(data_dir):
    ok(add(data_dir, "alice", "viewer"))
    for name in ("alice", "Alice", "ALICE"):
        refused(add(data_dir, name, "administrator"), "'alice' already exists")
    assert users(data_dir) == {"alice": ("viewer", users(data_dir)["alice"][1])}


@pytest.mark.parametrize("name, words", [
    ("", ["username", "1-64", "not 0"]),
    ("n" * 65, ["username", "1-64", "not 65"]),
    ("al ice", ["username", "A-Z", "' '"]),
    ("al'ice", ["username", "A-Z", "'\\''"]),
    ("-rf", ["username", "start with a letter or a digit"]),
    (".hidden", ["username", "start with a letter or a digit"]),
    ("ålice", ["username", "A-Z", "'å'"]),
])
def test_usernames_outside_the_rules_are_refused(data_dir, name, words):
    refused(add(data_dir, name), *words)
    assert users(data_dir) == {}


def test_usernames_at_the_bounds_are_accepted(data_dir):
    for name in ("a", "n" * 64, "0day", "x_y-z.w@h"):
        ok(add(data_dir, name))
    assert set(users(data_dir)) == {"a", "n" * 64, "0day", "x_y-z.w@h"}


@pytest.mark.parametrize("stdin, words", [
    ("1234567\n", ["password", "8-128 bytes", "not 7"]),
    ("p" * 129 + "\n", ["password", "8-128 bytes", "not 129"]),
    ("€" * 43 + "\n", ["password", "8-128 bytes", "not 129"]),
    ("tab\tinside-it\n", ["password", "control characters"]),
    ("", ["no password on stdin"]),
    ("\n", ["no password on stdin"]),
    ("\nsecond-line-password\n", ["no password on stdin"]),
    ("p" * 5000 + "\n", ["longer than 4096 bytes"]),
])
def test_passwords_outside_the_rules_are_refused(data_dir, stdin, words):
    proc = user(data_dir, "add", "--username", "alice", "--role", "viewer", "--password-stdin",
                password=stdin)
    text = refused(proc, *words)
    if stdin.strip():
        assert stdin.strip()[:12] not in text, "an error must not show the password"
    assert users(data_dir) == {}


def test_passwords_at_the_bounds_are_accepted_and_the_line_ending_is_not_part(data_dir):
    cases = {
        "eight": "12345678\n",
        "longest": "p" * 128 + "\n",
        # The \r of a CRLF line ending goes too: kept, it would be a control character.
        "crlf": "12345678\r\n",
        "no-newline": "12345678",
        "spaces": "  correct horse battery  \n",
        "unicode": "пароль-密码-€€€\n",
    }
    for name, stdin in cases.items():
        ok(user(data_dir, "add", "--username", name, "--role", "viewer", "--password-stdin",
                password=stdin))
    assert set(users(data_dir)) == set(cases)


def test_the_password_is_only_taken_from_stdin(data_dir):
    refused(user(data_dir, "add", "--username", "alice", "--role", "viewer"),
            "--password-stdin", code=2)
    refused(user(data_dir, "add", "--username", "alice", "--role", "viewer",
                 "--password", PASSWORD), code=2)
    refused(user(data_dir, "passwd", "--username", "alice"), "--password-stdin", code=2)
    assert users(data_dir) == {}


def test_roles_are_the_three_words(data_dir):
    for word in ("admin", "Administrator", "root", ""):
        refused(add(data_dir, "alice", word), "viewer, operator, administrator", code=2)
    assert users(data_dir) == {}


def test_role_changes_the_role(data_dir):
    ok(add(data_dir, "alice", "viewer"))
    created = users(data_dir)["alice"][1]
    for role in ("operator", "administrator", "administrator", "viewer"):
        out = ok(user(data_dir, "role", "--username", "alice", "--role", role))
        assert out == f"changed: alice role: {role}\n"
        assert users(data_dir) == {"alice": (role, created)}
    refused(user(data_dir, "role", "--username", "nobody", "--role", "viewer"), "no user 'nobody'")
    refused(user(data_dir, "role", "--username", "ALICE", "--role", "operator"), "no user 'ALICE'")
    refused(user(data_dir, "role", "--username", "alice", "--role", "boss"), "possible values",
            code=2)
    assert users(data_dir)["alice"][0] == "viewer"


def test_passwd_checks_the_user_and_the_rules(data_dir):
    ok(add(data_dir, "alice"))
    out = ok(user(data_dir, "passwd", "--username", "alice", "--password-stdin",
                  password="another-password\n"))
    assert out == "password changed: alice\n"
    refused(user(data_dir, "passwd", "--username", "nobody", "--password-stdin",
                 password="another-password\n"), "no user 'nobody'")
    refused(user(data_dir, "passwd", "--username", "alice", "--password-stdin",
                 password="short\n"), "8-128 bytes")
    refused(user(data_dir, "passwd", "--username", "alice", "--password-stdin", password=""),
            "no password on stdin")


def test_remove(data_dir):
    ok(add(data_dir, "alice"))
    ok(add(data_dir, "bob"))
    assert ok(user(data_dir, "remove", "--username", "alice")) == "removed: alice\n"
    assert set(users(data_dir)) == {"bob"}
    refused(user(data_dir, "remove", "--username", "alice"), "no user 'alice'")
    refused(user(data_dir, "remove", "--username", "BOB"), "no user 'BOB'")
    assert set(users(data_dir)) == {"bob"}
    ok(add(data_dir, "alice", "operator"))
    assert users(data_dir)["alice"][0] == "operator"


def test_at_most_64_users(data_dir):
    names = [f"user{i:02}" for i in range(MAX_USERS)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for proc in pool.map(lambda n: add(data_dir, n), names):
            ok(proc)
    assert set(users(data_dir)) == set(names)
    refused(add(data_dir, "one-more"), "64 users", "remove one first")
    ok(user(data_dir, "remove", "--username", "user00"))
    ok(add(data_dir, "one-more"))
    assert len(users(data_dir)) == MAX_USERS


def test_commands_run_at_once_lose_nothing(data_dir):
    names = [f"parallel{i}" for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for proc in pool.map(lambda n: add(data_dir, n, "operator"), names):
            ok(proc)
    assert set(users(data_dir)) == set(names)


def test_a_corrupt_users_file_is_an_error_not_an_empty_list(data_dir):
    ok(add(data_dir, "alice"))
    for slot in ("users.a", "users.b"):
        path = data_dir / slot
        if path.exists():
            path.write_bytes(b"garbage")
    text = refused(user(data_dir, "list"), str(data_dir))
    assert "users" in text


# --- With a server on the data directory -------------------------------------------

def test_users_are_managed_while_a_server_runs_and_kept_across_restarts(fresh):
    data_dir = fresh.data_dir
    ok(add(data_dir, "alice", "administrator"))
    ok(add(data_dir, "bob", "viewer"))
    ok(user(data_dir, "role", "--username", "bob", "--role", "operator"))
    ok(user(data_dir, "passwd", "--username", "alice", "--password-stdin",
            password="changed-while-serving\n"))
    ok(user(data_dir, "remove", "--username", "alice"))
    ok(add(data_dir, "carol", "viewer"))
    assert {n: r for n, (r, _) in users(data_dir).items()} == {"bob": "operator",
                                                               "carol": "viewer"}
    # The server went on serving, and starts again with the users in place.
    child(expect(fresh.client.get("/apis/kraken/system"), 200), "system")
    fresh.restart()
    child(expect(fresh.client.get("/apis/kraken/system"), 200), "system")
    assert {n: r for n, (r, _) in users(data_dir).items()} == {"bob": "operator",
                                                               "carol": "viewer"}
    # Users and API keys are apart: keys still list, and a new key leaves the users.
    assert fresh.creds.key in kraken.list_keys(data_dir)
    kraken.create_key(data_dir)
    assert set(users(data_dir)) == {"bob", "carol"}
    stored = stored_bytes(data_dir)
    for secret in (PASSWORD, "changed-while-serving"):
        assert secret.encode() not in stored
