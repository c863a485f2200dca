"""Black-box helpers for testing makarad: run the binary, sign requests with
two-legged OAuth 1.0, and read the Kraken XML answers.

Only the standard library, requests, requests_oauthlib and pytest are used.
"""

import os
import re
import signal
import socket
import ssl
import subprocess
import time
import uuid
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

import requests
import urllib3
from requests_oauthlib import OAuth1

REPO = Path(__file__).resolve().parents[2]
MAKARAD = os.environ.get("MAKARAD") or str(REPO / "target" / "debug" / "makarad")
# Seconds for one HTTP request; nothing the API does should take longer.
REQUEST_TIMEOUT = float(os.environ.get("MAKARA_REQUEST_TIMEOUT", "15"))
READY_TIMEOUT = 30.0
CLI_TIMEOUT = 30.0

# docs/kraken-api.md, "Errors": code -> (HTTP status, message).
ERRORS = {
    1000: (400, "Failed to create new resource"),
    1001: (404, "No results found"),
    1002: (404, "Unknown id"),
    1003: (500, "Error executing SQL query"),
    1004: (400, "Failed to update resource"),
    1005: (400, "Failed to delete resource"),
    1006: (501, "Unknown API function requested"),
    1007: (400, "Unknown HTTP method"),
    1008: (400, "Unrecognized URI structure"),
    1009: (501, "HTTP method not implemented"),
    1010: (501, "Function not implemented"),
    1011: (400, "Input XML data is poorly formatted"),
    1012: (500, "Error while executing"),
    1013: (400, "Unrecognized arguments"),
    1014: (401, "Not Authorized"),
    1015: (403, "API functions not enabled"),
    1016: (503, "Service provider for this API is unavailable"),
}

UUID_RE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
XML_DECL_RE = re.compile(rb"""^<\?xml\s+version=["']1\.0["']\s+encoding=["']UTF-8["']\s*\?>""", re.I)

# Resource kinds of /apis/kraken: singular -> collection.
KINDS = {
    "input": "inputs",
    "output": "outputs",
    "transcoder": "transcoders",
    "stream": "streams",
    "configuration": "configurations",
}

# Servers started while the current test runs; conftest attaches their logs
# to the report of a failed test.
TEST_SERVERS = []
_ALL_SERVERS = []


# --------------------------------------------------------------------------
# The binary and its command line
# --------------------------------------------------------------------------

def makarad():
    path = Path(MAKARAD)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise AssertionError(
            f"makarad binary not found at {path}: build it (cargo build -p makara-appliance) "
            "or point MAKARAD at it"
        )
    return str(path)


def cli(data_dir, *args, check=True):
    """Runs ``makarad ARGS... --data-dir DIR`` and returns the CompletedProcess."""
    cmd = [makarad(), *map(str, args), "--data-dir", str(data_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CLI_TIMEOUT,
                          stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


class Credentials:
    def __init__(self, key, secret):
        self.key = key
        self.secret = secret

    def __repr__(self):
        return f"Credentials({self.key!r}, <secret>)"


_KEY_LINE = re.compile(r"^\s*consumer_key:\s*(\S+)\s*$", re.M)
_SECRET_LINE = re.compile(r"^\s*consumer_secret:\s*(\S+)\s*$", re.M)


def create_key(data_dir):
    """``makarad api-key create``: a new key pair (and the API enabled)."""
    proc = cli(data_dir, "api-key", "create")
    key = _KEY_LINE.search(proc.stdout)
    secret = _SECRET_LINE.search(proc.stdout)
    if not key or not secret:
        raise AssertionError(
            "makarad api-key create did not print 'consumer_key: …' and "
            f"'consumer_secret: …' lines\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return Credentials(key.group(1), secret.group(1))


def list_keys(data_dir):
    """The consumer keys ``makarad api-key list`` prints."""
    proc = cli(data_dir, "api-key", "list")
    return [k.rstrip(",;") for k in re.findall(r"consumer_key:\s*(\S+)", proc.stdout)]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# A running makarad
# --------------------------------------------------------------------------

class Server:
    """``makarad serve`` on 127.0.0.1 with a data directory.

    Every (re)start picks a new free port, so a restart never waits for the
    old socket; links are built from the Host header anyway.
    """

    def __init__(self, data_dir, log_dir=None, extra_args=(), env=None):
        self.data_dir = Path(data_dir)
        self.log_dir = Path(log_dir or self.data_dir.parent)
        self.extra_args = list(extra_args)
        # Variables added to the server's environment.
        self.env = dict(env or {})
        self.proc = None
        self.port = None
        self.starts = 0
        self.log_path = None

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    @property
    def cert_path(self):
        """The certificate clients should trust."""
        if "--tls-cert" in self.extra_args:
            return Path(self.extra_args[self.extra_args.index("--tls-cert") + 1])
        return self.data_dir / "tls" / "cert.pem"

    def start(self, port=None):
        """Starts ``makarad serve`` and waits for TLS. Retries with another
        port if the free port picked was taken meanwhile."""
        for attempt in range(3):
            try:
                return self._start_once(port)
            except AssertionError:
                lost_race = (port is None and self.proc.poll() is not None
                             and "in use" in self.log_tail(20).lower())
                if not lost_race or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _start_once(self, port):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = port or free_port()
        self.starts += 1
        self.log_path = self.log_dir / f"makarad-{self.data_dir.name}-{self.starts}.log"
        cmd = [makarad(), "serve", "--data-dir", str(self.data_dir),
               "--listen", self.host, *self.extra_args]
        # The host's own /dev/watchdog (a board profile names it) must never
        # be armed by a test: a killed server would leave it counting down.
        if "--watchdog" not in self.extra_args:
            cmd += ["--watchdog", "none"]
        # Nor may a test write LCD lines to the host's serial port.
        if "--panel" not in self.extra_args:
            cmd += ["--panel", "none"]
        with open(self.log_path, "ab") as log:
            log.write(f"$ {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         env={**os.environ, **self.env})
        _ALL_SERVERS.append(self)
        if self not in TEST_SERVERS:
            TEST_SERVERS.append(self)
        self.wait_ready()
        return self

    def wait_ready(self, timeout=READY_TIMEOUT):
        """Waits until the port completes a TLS handshake."""
        deadline = time.monotonic() + timeout
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError(
                    f"makarad exited with {rc} before accepting TLS on {self.host}\n"
                    f"--- log {self.log_path}:\n{self.log_tail()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                    with ctx.wrap_socket(sock, server_hostname="localhost"):
                        return
            except (OSError, ssl.SSLError) as e:
                last = e
                time.sleep(0.05)
        raise AssertionError(
            f"makarad did not accept TLS on {self.host} within {timeout}s ({last})\n"
            f"--- log {self.log_path}:\n{self.log_tail()}"
        )

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends ``sig`` and waits for the exit; SIGKILL if it takes longer.
        Returns (exit code, whether it exited in time)."""
        if self.proc is None or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None), True
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout), True
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10), False

    def kill(self):
        return self.stop(signal.SIGKILL)

    def restart(self, sig=signal.SIGTERM):
        self.stop(sig)
        return self.start()

    def log_tail(self, lines=80):
        if not self.log_path or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_bytes().decode("utf-8", "replace").splitlines()
        return "\n".join(text[-lines:])


def stop_all_servers():
    for s in _ALL_SERVERS:
        try:
            s.kill()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


# --------------------------------------------------------------------------
# Signed HTTP
# --------------------------------------------------------------------------

def oauth(creds, **kwargs):
    """requests_oauthlib's OAuth1 as the Kraken API wants it."""
    kwargs.setdefault("signature_method", "HMAC-SHA1")
    kwargs.setdefault("signature_type", "auth_header")
    return OAuth1(creds.key, client_secret=creds.secret, **kwargs)


class SignForHost(requests.auth.AuthBase):
    """Signs as if the request went to ``https://HOST/…`` (the base string
    uses the Host header), while the connection still goes to 127.0.0.1."""

    def __init__(self, inner, host):
        self.inner = inner
        self.host = host

    def __call__(self, r):
        real = r.url
        parts = urlsplit(real)
        r.url = urlunsplit((parts.scheme, self.host, parts.path, parts.query, parts.fragment))
        r = self.inner(r)
        r.url = real
        return r


_DEFAULT = object()


class Client:
    """Signed requests to one server. Paths start with ``/apis/``."""

    def __init__(self, server, creds, verify=None):
        self.server = server
        self.creds = creds
        self.session = requests.Session()
        self.verify = verify if verify is not None else tls_verify_setting(server)

    @property
    def port(self):
        return self.server.port

    @property
    def host(self):
        return self.server.host

    @property
    def base(self):
        return f"https://127.0.0.1:{self.server.port}"

    def auth(self, creds=None, **kwargs):
        return oauth(creds or self.creds, **kwargs)

    def prepare(self, method, path, body=None, *, host=None, headers=None, auth=_DEFAULT,
                params=None):
        hdrs = {}
        data = None
        if body is not None:
            data = body.encode("utf-8") if isinstance(body, str) else body
            hdrs["Content-Type"] = "application/xml"
        if host:
            hdrs["Host"] = host
        hdrs.update(headers or {})
        a = self.auth() if auth is _DEFAULT else auth
        if host and a is not None:
            a = SignForHost(a, host)
        req = requests.Request(method, self.base + path, data=data, headers=hdrs, auth=a,
                               params=params)
        return self.session.prepare_request(req)

    def send(self, prepared, timeout=REQUEST_TIMEOUT):
        return self.session.send(prepared, verify=self.verify, timeout=timeout,
                                 allow_redirects=False)

    def request(self, method, path, body=None, *, host=None, headers=None, auth=_DEFAULT,
                params=None, timeout=REQUEST_TIMEOUT):
        prepared = self.prepare(method, path, body, host=host, headers=headers, auth=auth,
                                params=params)
        return self.send(prepared, timeout=timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        self.session.close()


_TLS_FALLBACK_WARNED = False


class FromAddress(requests.adapters.HTTPAdapter):
    """Connects from ``address`` (in 127.0.0.0/8) rather than 127.0.0.1:
    mount it on a session to be another client address."""

    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def tls_verify_setting(server):
    """The ``verify`` argument for requests: the server's certificate file if
    a handshake verifies against it, else False (with a warning; the TLS
    tests check verification separately so this never hides a failure)."""
    global _TLS_FALLBACK_WARNED
    cert = server.cert_path
    try:
        tls_handshake(server.port, cafile=cert, server_hostname="127.0.0.1")
        return str(cert)
    except (OSError, ssl.SSLError) as e:
        if not _TLS_FALLBACK_WARNED:
            _TLS_FALLBACK_WARNED = True
            warnings.warn(f"TLS verification against {cert} failed ({e}); "
                          "falling back to verify=False for API tests")
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        return False


def tls_handshake(port, cafile=None, server_hostname="127.0.0.1"):
    """One TLS handshake to 127.0.0.1:port; returns the peer certificate (DER)."""
    if cafile is None:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with ctx.wrap_socket(sock, server_hostname=server_hostname) as tls:
            return tls.getpeercert(binary_form=True)


# --------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------

def parse(resp):
    """The ``<response>`` root of an XML answer, after checking the framing
    docs/kraken-api.md promises (content type, declaration, root)."""
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/xml", (
        f"Content-Type {ctype!r} for {resp.request.method} {resp.request.path_url}: {resp.text[:300]}"
    )
    body = resp.content
    assert XML_DECL_RE.match(body), f"no UTF-8 XML declaration: {body[:120]!r}"
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise AssertionError(f"answer is not well-formed XML ({e}): {body[:500]!r}") from e
    assert root.tag == "response", f"root is <{root.tag}>, not <response>"
    return root


def describe(resp):
    return (f"{resp.request.method} {resp.request.path_url} -> {resp.status_code}\n"
            f"{resp.text[:1500]}")


def expect(resp, status):
    """Asserts the status and returns the parsed root."""
    assert resp.status_code == status, f"expected {status}, got {describe(resp)}"
    return parse(resp)


def error_of(resp):
    root = parse(resp)
    err = root.find("error")
    assert err is not None, f"no <error> in {describe(resp)}"
    code = err.findtext("code")
    message = err.findtext("message")
    assert code is not None and message is not None, f"<error> lacks code or message: {describe(resp)}"
    return int(code.strip()), message.strip()


def assert_error(resp, code, *, status=None, prefix=None, mentions=()):
    """Asserts an error answer: HTTP status (the documented one unless given),
    ``<code>``, a message starting with the documented text (or ``prefix``)
    and containing every string in ``mentions``. Returns the message."""
    want_status, want_message = ERRORS[code]
    status = want_status if status is None else status
    assert resp.status_code == status, f"expected {status}/{code}, got {describe(resp)}"
    got_code, message = error_of(resp)
    assert got_code == code, f"expected code {code}, got {got_code}: {message!r}"
    prefix = want_message if prefix is None else prefix
    assert message.startswith(prefix), f"message {message!r} does not start with {prefix!r}"
    for m in mentions:
        assert m in message, f"message {message!r} does not mention {m!r}"
    return message


def self_link(root_or_el):
    link = root_or_el.find("link")
    assert link is not None, f"no <link> in {ET.tostring(root_or_el, 'unicode')[:500]}"
    assert link.get("rel") == "self", f"link rel={link.get('rel')!r}"
    assert link.get("type") == "application/xml", f"link type={link.get('type')!r}"
    href = link.get("href")
    assert href, "link without href"
    return href


_ID_PREFIXES = ("configuration", "transcoder", "config", "output", "stream", "input",
                "server", "nic")


def id_from_href(href):
    """The id in a link's last segment: ``input-UUID`` (or ``inputUUID``)."""
    seg = urlsplit(href.strip()).path.rstrip("/").rsplit("/", 1)[-1]
    for p in _ID_PREFIXES:
        if seg.startswith(p):
            rest = seg[len(p):]
            return rest[1:] if rest.startswith("-") else rest
    raise AssertionError(f"no resource id in link {href!r}")


def nic_name(value):
    """A NIC reference as a GET shows it (a link or a plain name) -> name."""
    seg = (value or "").strip().rstrip("/").rsplit("/", 1)[-1]
    for prefix in ("nic-", "nic"):
        if seg.startswith(prefix) and len(seg) > len(prefix):
            return seg[len(prefix):]
    return seg


def href_path(href):
    return urlsplit(href.strip()).path


def href_host(href):
    return urlsplit(href.strip()).netloc


def created_id(resp, kind, host=None):
    """Asserts a 201 with a link ``https://HOST/apis/kraken/KINDs/KIND-UUID``
    and returns the id."""
    root = expect(resp, 201)
    href = self_link(root)
    host = host or resp.request.headers.get("Host") or urlsplit(resp.request.url).netloc
    pattern = rf"^https://{re.escape(host)}/apis/kraken/{KINDS[kind]}/{kind}-({UUID_RE})$"
    m = re.match(pattern, href)
    assert m, f"create link {href!r} does not match {pattern}"
    return m.group(1)


def text(el, tag):
    """Stripped text of the first child ``tag`` (None if absent)."""
    child = el.find(tag)
    if child is None:
        return None
    return (child.text or "").strip()


def child(el, tag):
    found = el.find(tag)
    assert found is not None, f"<{tag}> missing in {ET.tostring(el, 'unicode')[:800]}"
    return found


TRUE_WORDS = {"on", "true", "yes", "1"}
FALSE_WORDS = {"off", "false", "no", "0"}


def as_bool(value):
    v = (value or "").strip().lower()
    assert v in TRUE_WORDS | FALSE_WORDS, f"not a boolean: {value!r}"
    return v in TRUE_WORDS


def normalize(el):
    """An element as comparable data: tag, attributes and text (links reduced
    to their path, since they follow the Host header) and children sorted
    (order is not guaranteed, says the seed)."""
    attrs = dict(el.attrib)
    if "href" in attrs:
        attrs["href"] = href_path(attrs["href"])
    value = (el.text or "").strip()
    if value.startswith(("https://", "http://")):  # a reference, e.g. <interface>
        value = href_path(value)
    kids = sorted((normalize(c) for c in el), key=repr)
    return (el.tag, tuple(sorted(attrs.items())), value, tuple(kids))


# --------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------

def body(root, fields):
    """``<root>…</root>`` from (tag, value) pairs or a dict; a value may be
    None (left out), a scalar, a dict or list of pairs (nested element), or a
    list of scalars under one repeated tag via ``("output", [..])``."""
    def render(tag, value):
        if value is None:
            return ""
        if isinstance(value, dict):
            value = list(value.items())
        if isinstance(value, list) and value and isinstance(value[0], tuple):
            return f"<{tag}>" + "".join(render(t, v) for t, v in value) + f"</{tag}>"
        if isinstance(value, list):
            return "".join(render(tag, v) for v in value)
        return f"<{tag}>{escape(str(value))}</{tag}>"

    items = fields.items() if isinstance(fields, dict) else fields
    return f"<{root}>" + "".join(render(t, v) for t, v in items) + f"</{root}>"


def unique(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def items(client, kind, **kw):
    """The item elements of a collection; [] on the documented 404/1001."""
    coll = KINDS[kind]
    resp = client.get(f"/apis/kraken/{coll}", **kw)
    if resp.status_code == 404:
        assert_error(resp, 1001)
        return []
    root = expect(resp, 200)
    container = child(root, coll)
    found = container.findall(kind)
    assert len(found) == len(list(container)), f"unexpected children in <{coll}>"
    return found


def ids_by_name(client, kind):
    out = {}
    for it in items(client, kind):
        out.setdefault(text(it, "name"), []).append(text(it, "uuid"))
    return out


def get_one(client, kind, rid, **kw):
    resp = client.get(f"/apis/kraken/{KINDS[kind]}/{kind}-{rid}", **kw)
    root = expect(resp, 200)
    el = child(root, kind)
    assert text(el, "uuid") == rid, f"uuid {text(el, 'uuid')!r} != {rid}"
    return el


def create(client, kind, xml):
    return created_id(client.post(f"/apis/kraken/{KINDS[kind]}", xml), kind)


def delete(client, kind, rid):
    resp = client.delete(f"/apis/kraken/{KINDS[kind]}/{kind}-{rid}")
    root = expect(resp, 200)
    href = self_link(root)
    assert href_path(href) == f"/apis/kraken/{KINDS[kind]}", f"delete link {href!r}"
    return root


def edit(client, kind, rid, xml):
    resp = client.put(f"/apis/kraken/{KINDS[kind]}/{kind}-{rid}", xml)
    root = expect(resp, 200)
    href = self_link(root)
    assert href_path(href) == f"/apis/kraken/{KINDS[kind]}/{kind}-{rid}", f"edit link {href!r}"
    return root


# Small valid resources, addressed to loopback only.
def udp_output(name=None, port=5000, **extra):
    return body("output", [("name", name or unique("out")),
                           ("url", f"udp://127.0.0.1:{port}"), *extra.items()])


def ts_input(name=None, port=6000, **extra):
    return body("input", [("name", name or unique("in")),
                          ("url", f"udp://127.0.0.1:{port}"),
                          ("streamType", "MPEG2TS"), *extra.items()])


def transcoder(name=None, **extra):
    return body("transcoder", [("name", name or unique("tc")), *extra.items()])


def link_to(client, kind, rid, host=None):
    return f"https://{host or client.host}/apis/kraken/{KINDS[kind]}/{kind}-{rid}"


def stream(client, name=None, *, input_id, transcoder_id=None, output_ids=(), passthru_id=None,
           **extra):
    fields = [("name", name or unique("st")), ("input", link_to(client, "input", input_id))]
    if transcoder_id:
        fields.append(("transcoder", link_to(client, "transcoder", transcoder_id)))
    if passthru_id:
        fields.append(("passthru", link_to(client, "output", passthru_id)))
    if output_ids:
        fields.append(("outputs", [("output", [link_to(client, "output", o) for o in output_ids])]))
    fields.extend(extra.items())
    return body("stream", fields)


class Kit:
    """A created input, transcoder and outputs, ready to build a stream from."""

    def __init__(self, client, outputs=2):
        self.client = client
        self.input = create(client, "input", ts_input())
        self.transcoder = create(client, "transcoder", transcoder())
        self.outputs = [create(client, "output", udp_output(port=5000 + i))
                        for i in range(outputs)]

    def stream_body(self, name=None, **extra):
        return stream(self.client, name, input_id=self.input, transcoder_id=self.transcoder,
                      output_ids=self.outputs, **extra)

    def make_stream(self, name=None, **extra):
        return create(self.client, "stream", self.stream_body(name, **extra))


# --------------------------------------------------------------------------
# A small live stream (TESTPATTERN -> H.264 + AAC -> the given outputs)
# --------------------------------------------------------------------------

def live_stream(client, outputs, *, width=320, height=180, fps=25, kbps=500):
    """Creates a test-pattern stream sending to ``outputs`` (each a list of
    ``(element, value)`` fields of an output body); returns the stream's path."""
    return live_stream_with_outputs(client, outputs, width=width, height=height, fps=fps,
                                    kbps=kbps)[0]


def live_stream_with_outputs(client, outputs, *, width=320, height=180, fps=25, kbps=500,
                             gop=None):
    """``live_stream``, returning the stream's path and the outputs' ids;
    ``gop`` sets the transcoder's gopSize (frames)."""
    input_id = created_id(client.post("/apis/kraken/inputs", body("input", [
        ("name", unique("bars")), ("streamType", "TESTPATTERN"),
        ("width", width), ("height", height), ("frameRate", fps)])), "input")
    transcoder_id = created_id(client.post("/apis/kraken/transcoders", body("transcoder", [
        ("name", unique("h264")), ("resolution", [("width", width), ("height", height)]),
        ("frameRate", fps), ("videoBitrate", kbps), ("encodingProfile", "cbr"),
        ("audio", "on"), *([("gopSize", gop)] if gop else [])])), "transcoder")
    output_ids = [created_id(client.post("/apis/kraken/outputs", body("output", fields)),
                             "output") for fields in outputs]
    stream_id = created_id(client.post("/apis/kraken/streams", body("stream", [
        ("name", unique("live")), ("input", input_id), ("transcoder", transcoder_id),
        ("outputs", [("output", o) for o in output_ids])])), "stream")
    return f"/apis/kraken/streams/stream-{stream_id}", output_ids


def set_stream_state(client, path, state, wanted, timeout=15):
    """PUTs ``start`` or ``stop`` and waits (bounded) until the stream's state
    is ``wanted``; returns the stream element."""
    expect(client.put(path, f"<stream><state>{state}</state></stream>"), 200)
    deadline = time.monotonic() + timeout
    while True:
        el = child(expect(client.get(path), 200), "stream")
        if text(el, "state") == wanted:
            return el
        if time.monotonic() > deadline:
            raise AssertionError(f"stream never became {wanted}: "
                                 f"{text(el, 'state')} {text(el, 'lastError')}")
        time.sleep(0.2)
