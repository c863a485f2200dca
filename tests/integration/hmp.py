"""A client of the HMP JSON API as integrators write one: a cookie-keeping
HTTPS session (requests), JSON in and out. Shared by the test_hmp_* files."""

import json
import subprocess

import requests

import kraken

PASSWORD = "Tr0ub4dor&3-correct-horse"
COOKIE = "calypso-session-id"


def user_cli(data_dir, *args, password=None):
    """``makarad user ARGS...`` (``password``, if given, on stdin); fails the
    test unless it worked."""
    cmd = [kraken.makarad(), "user", *args, "--data-dir", str(data_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=kraken.CLI_TIMEOUT,
                          input=password + "\n" if password is not None else "")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def add_user(data_dir, name, role="administrator", password=PASSWORD):
    user_cli(data_dir, "add", f"--username={name}", "--role", role, "--password-stdin",
             password=password)
    return name


class Hmp:
    """One HMP client of one server; keeps the session cookie it is given."""

    def __init__(self, server):
        self.server = server
        self.session = requests.Session()
        self.verify = kraken.tls_verify_setting(server)

    @property
    def base(self):
        return f"https://127.0.0.1:{self.server.port}"

    def request(self, method, path, body=None, *, raw=None, content_type="application/json",
                headers=None, **kw):
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body)
        if data is not None and content_type:
            hdrs["Content-Type"] = content_type
        return self.session.request(method, self.base + path, data=data, headers=hdrs,
                                    verify=self.verify, timeout=kraken.REQUEST_TIMEOUT,
                                    allow_redirects=False, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, username, password=PASSWORD):
        return self.post("/apis/authentication/login",
                         {"username": username, "password": password})

    def logged_in(self, username, password=PASSWORD):
        """Logs in; fails the test unless it worked. Returns the session info."""
        return ok(self.login(username, password))["data"]

    @property
    def cookie(self):
        return self.session.cookies.get(COOKIE)

    def close(self):
        self.session.close()


def ok(resp, status=200):
    """The JSON document of a successful answer with ``status``."""
    assert resp.status_code == status, f"{resp.status_code} {resp.text[:500]}"
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    return resp.json()


def err(resp, status, code, name=None, message=None):
    """The answer is the HMP error ``code`` with HTTP ``status`` (and
    ``name`` and ``message`` when given). Returns the document."""
    assert resp.status_code == status, f"{resp.status_code} {resp.text[:500]}"
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    doc = resp.json()
    assert doc["code"] == code, doc
    assert doc["httpStatusCode"] == status and doc["statusCode"] == status, doc
    assert isinstance(doc["message"], str) and doc["message"], doc
    if name is not None:
        assert doc["name"] == name, doc
    if message is not None:
        assert doc["message"] == message, doc
    return doc


def from_address(server, address):
    """A client whose connections come from ``address`` (in 127.0.0.0/8)."""
    client = Hmp(server)
    client.session.mount("https://", kraken.FromAddress(address))
    return client


def live_outputs(client, ports, *, kbps=400, width=320, height=180, fps=25, gop=None):
    """A test-pattern stream (Kraken API, ``client``) sending to a UDP
    output on 127.0.0.1 for each of ``ports``; returns the stream's path
    and the outputs' ids (which are the HMP sources' ids)."""
    outputs = [[("name", kraken.unique(f"src{i}")), ("url", f"udp://127.0.0.1:{port}")]
               for i, port in enumerate(ports)]
    return kraken.live_stream_with_outputs(client, outputs, width=width, height=height,
                                           fps=fps, kbps=kbps, gop=gop)
