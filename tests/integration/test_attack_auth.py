"""Attacks on authorisation and request bodies (issue 8): bodies of unsigned
requests, one key flooding the replay record, wrong-secret brute force, and
the 413 / 415 answers.

Some of these need many connections or many requests. They talk to makarad
over raw TLS sockets (pipelined HTTP/1.1, signed by the small signer below,
which the first test checks against the server) because requests is far too
slow for that; every one is bounded in count and time, on loopback only.
Client addresses 127.0.0.2… stand for distinct peers (Linux routes all of
127.0.0.0/8 to lo).
"""

import base64
import hashlib
import hmac
import re
import resource
import socket
import ssl
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

import kraken
from kraken import Credentials, assert_error, create_key, expect

SYSTEM = "/apis/kraken/system"
OUTPUTS = "/apis/kraken/outputs"


# --------------------------------------------------------------------------
# A fast signer and a raw, pipelining HTTPS client
# --------------------------------------------------------------------------

def _enc(s):
    return quote(str(s), safe="-._~")


def authorization(creds, method, host, path):
    """An OAuth 1.0 HMAC-SHA1 Authorization header (RFC 5849) for a request
    without a query, with a fresh nonce and the current time."""
    params = {
        "oauth_consumer_key": creds.key,
        "oauth_nonce": uuid.uuid4().hex,
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(int(time.time())),
        "oauth_version": "1.0",
    }
    normalized = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted(params.items()))
    base = "&".join([method, _enc(f"https://{host}{path}"), _enc(normalized)])
    key = f"{_enc(creds.secret)}&".encode()
    digest = hmac.new(key, base.encode(), hashlib.sha1).digest()
    params["oauth_signature"] = base64.b64encode(digest).decode()
    return "OAuth " + ", ".join(f'{k}="{_enc(v)}"' for k, v in params.items())


def request_bytes(server, method, path, *, creds=None, headers=(), body=b""):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {server.host}"]
    if creds is not None:
        lines.append(f"Authorization: {authorization(creds, method, server.host, path)}")
    lines.extend(headers)
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def tls_connect(server, source="127.0.0.1", timeout=15):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout,
                                    source_address=(source, 0))
    return ctx.wrap_socket(sock, server_hostname="localhost")


_HEAD_END = b"\r\n\r\n"
_STATUS = re.compile(rb"^HTTP/1\.1 (\d{3}) ")
_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.I)


class Responses:
    """Reads HTTP/1.1 responses (each with a Content-Length) off a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def next(self):
        """(status, head, body) of the next response; None if the server closed."""
        while True:
            end = self.buf.find(_HEAD_END)
            if end >= 0:
                head = self.buf[:end + 2]
                length = _LENGTH.search(head)
                size = int(length.group(1)) if length else 0
                if len(self.buf) >= end + 4 + size:
                    body = self.buf[end + 4:end + 4 + size]
                    self.buf = self.buf[end + 4 + size:]
                    status = _STATUS.match(head)
                    assert status, f"not an HTTP/1.1 response: {head[:200]!r}"
                    return int(status.group(1)), head, body
            data = self.sock.recv(1 << 16)
            if not data:
                return None
            self.buf += data


def pipelined(server, requests_, source="127.0.0.1"):
    """Sends the request byte strings on one connection, pipelined, and
    returns their statuses (fewer if the server closed the connection)."""
    with tls_connect(server, source) as tls:
        tls.sendall(b"".join(requests_))
        reader = Responses(tls)
        statuses = []
        for _ in requests_:
            got = reader.next()
            if got is None:
                break
            statuses.append(got[0])
        return statuses


def one(server, raw, source="127.0.0.1"):
    """Sends one request on its own connection: (status, head, body)."""
    with tls_connect(server, source) as tls:
        tls.sendall(raw)
        got = Responses(tls).next()
        assert got is not None, "the server closed the connection without an answer"
        return got


def kraken_error(body):
    """(code, message) of a Kraken error document, asserting its shape."""
    code = re.search(rb"<code>(\d+)</code>", body)
    message = re.search(rb"<message>([^<]*)</message>", body)
    assert body.startswith(b"<?xml") and b"<response>" in body, (
        f"not a Kraken answer: {body[:300]!r}")
    assert code and message, f"no Kraken error in {body[:300]!r}"
    return int(code.group(1)), message.group(1).decode()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def wait_for_key(server, creds, timeout=5.0):
    """Polls until a freshly created key is accepted (the server re-reads
    keys within a second)."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = one(server, request_bytes(server, "GET", SYSTEM, creds=creds))
        if status == 200 or time.monotonic() > deadline:
            assert status == 200, f"key {creds.key} not accepted: {status} {body[:300]!r}"
            return
        time.sleep(0.1)


@pytest.fixture
def many_files():
    """Raises RLIMIT_NOFILE for tests holding hundreds of sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_signer_is_accepted(fresh):
    status, _, body = one(fresh.server, request_bytes(fresh.server, "GET", SYSTEM,
                                                      creds=fresh.creds))
    assert status == 200, body[:300]


# --------------------------------------------------------------------------
# 2. Unsigned requests cost no body memory
# --------------------------------------------------------------------------

UNSIGNED_CONNECTIONS = 200
# One byte short of the old 1 MiB limit, as in the measurement.
HELD_BODY = (1 << 20) - 1


def hold_unsigned_body(server, index, held):
    """Opens a connection from 127.0.0.(2 + index % 250), sends unsigned
    headers announcing 1 MiB and then all but the last byte of it; keeps
    the socket in `held` whatever the server does."""
    source = f"127.0.0.{2 + index % 250}"
    try:
        tls = tls_connect(server, source, timeout=5)
    except OSError:
        return "connect failed"
    held.append(tls)
    head = (f"POST {OUTPUTS} HTTP/1.1\r\nHost: {server.host}\r\n"
            f"Content-Type: application/xml\r\nContent-Length: {1 << 20}\r\n\r\n").encode()
    chunk = b"<" * (1 << 16)
    try:
        tls.sendall(head)
        left = HELD_BODY
        while left:
            n = min(left, len(chunk))
            tls.sendall(chunk[:n])
            left -= n
    except (OSError, ssl.SSLError):
        return "cut off"
    return "sent"


def test_unsigned_partial_bodies_do_not_pin_memory(fresh, many_files):
    """The issue measured +211 MiB for 200 connections each holding
    1 MiB - 1 of an unsigned body; the OAuth header is now checked before
    any body byte is read. The bound (64 MiB) is generous: TLS and HTTP
    buffers of 200 connections, not their bodies."""
    server = fresh.server
    pid = server.proc.pid
    before = rss_kib(pid)
    held = []
    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            outcomes = list(pool.map(lambda i: hold_unsigned_body(server, i, held),
                                     range(UNSIGNED_CONNECTIONS)))
        time.sleep(1.0)
        grown_mib = (rss_kib(pid) - before) / 1024
        tally = {o: outcomes.count(o) for o in sorted(set(outcomes))}
        # A connection layer may shed some strangers; half of them holding
        # their bodies would still have cost the old binary over 100 MiB.
        assert outcomes.count("connect failed") <= UNSIGNED_CONNECTIONS // 2, tally
        assert grown_mib < 64, (
            f"makarad grew by {grown_mib:.0f} MiB under {UNSIGNED_CONNECTIONS} unsigned "
            f"partial bodies: {tally}")
    finally:
        for tls in held:
            tls.close()
    # Still serving.
    expect(fresh.client.get(SYSTEM), 200)


# --------------------------------------------------------------------------
# 3. One key's flood of nonces does not affect another key
# --------------------------------------------------------------------------

# More than the old shared replay cache held (100 000), so the flood fills
# it against the old binary.
FLOOD_REQUESTS = 110_000
FLOOD_CONNECTIONS = 8
FLOOD_BATCH = 250
FLOOD_TIME_LIMIT = 120.0


def flood_signed_gets(server, creds, total, deadline):
    """`total` signed GETs of /system with fresh nonces, pipelined in
    batches over FLOOD_CONNECTIONS connections; returns {status: count}."""
    counts = {}
    lock = threading.Lock()
    per_connection = total // FLOOD_CONNECTIONS

    def worker(_):
        mine = {}
        with tls_connect(server) as tls:
            reader = Responses(tls)
            sent = 0
            while sent < per_connection and time.monotonic() < deadline:
                n = min(FLOOD_BATCH, per_connection - sent)
                tls.sendall(b"".join(request_bytes(server, "GET", SYSTEM, creds=creds)
                                     for _ in range(n)))
                for _ in range(n):
                    got = reader.next()
                    assert got is not None, "the server closed a flood connection"
                    mine[got[0]] = mine.get(got[0], 0) + 1
                sent += n
        with lock:
            for status, count in mine.items():
                counts[status] = counts.get(status, 0) + count

    with ThreadPoolExecutor(max_workers=FLOOD_CONNECTIONS) as pool:
        list(pool.map(worker, range(FLOOD_CONNECTIONS)))
    return counts


def test_one_key_flooding_nonces_does_not_affect_another(fresh):
    """Key A sends more signed requests than the old shared replay cache
    held; key B, and key A itself, must still be served. (The per-key
    capacity and eviction are tested in Rust, oauth/nonce.rs.)"""
    server = fresh.server
    key_a = fresh.creds
    key_b = create_key(fresh.data_dir)
    wait_for_key(server, key_b)
    started = time.monotonic()
    counts = flood_signed_gets(server, key_a, FLOOD_REQUESTS, started + FLOOD_TIME_LIMIT)
    took = time.monotonic() - started
    sent = sum(counts.values())
    status, _, body = one(server, request_bytes(server, "GET", SYSTEM, creds=key_b))
    assert sent == FLOOD_REQUESTS, f"only {sent} requests in {took:.0f} s: {counts}"
    assert status == 200, f"key B after key A's flood: {status} {body[:300]!r}"
    # Key A's own fresh requests keep being served at this rate too.
    assert counts.get(200, 0) == sent, f"key A's flood answers: {counts}"


# --------------------------------------------------------------------------
# 4. Guessing secrets
# --------------------------------------------------------------------------

def signed_get(server, creds, source):
    return one(server, request_bytes(server, "GET", SYSTEM, creds=creds), source)


def assert_429(got):
    status, head, body = got
    assert status == 429, f"expected 429, got {status}: {body[:300]!r}"
    assert kraken_error(body)[0] == 1014, body[:300]
    retry = re.search(rb"\r\nretry-after: *(\d+)\r\n", head, re.I)
    assert retry and int(retry.group(1)) >= 1, head


def test_wrong_secrets_from_one_address_get_429_while_a_client_elsewhere_works(fresh):
    """The issue saw 4 242 wrong-secret attempts in 3 s all answered
    401. Now ten a minute are verified, then the address waits (429,
    1014 body, Retry-After) without its signature being checked."""
    server = fresh.server
    good = fresh.creds
    wrong = Credentials(good.key, good.secret + "x")
    assert signed_get(server, good, "127.0.0.3")[0] == 200
    attempts = [request_bytes(server, "GET", SYSTEM, creds=wrong) for _ in range(40)]
    statuses = pipelined(server, attempts, source="127.0.0.2")
    assert len(statuses) == 40, statuses
    assert statuses[:10] == [401] * 10, statuses
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(429) >= 25, statuses
    assert_429(signed_get(server, wrong, "127.0.0.2"))
    # The client that authenticated from elsewhere is blocked neither by
    # the address's limit nor by the key's.
    assert signed_get(server, good, "127.0.0.3")[0] == 200


def test_guessing_a_key_from_many_addresses_blocks_the_key_for_strangers_only(fresh):
    """One wrong attempt from each of 20 addresses stays under every
    address's limit, but not under the key's; an address that had
    authenticated with the key keeps working."""
    server = fresh.server
    good = fresh.creds
    wrong = Credentials(good.key, good.secret + "x")
    assert signed_get(server, good, "127.0.0.3")[0] == 200
    answers = [signed_get(server, wrong, f"127.0.1.{i}") for i in range(1, 21)]
    statuses = [a[0] for a in answers]
    assert statuses[:10] == [401] * 10, statuses
    assert statuses[10:].count(429) >= 5, statuses
    assert_429(next(a for a in answers if a[0] == 429))
    assert signed_get(server, good, "127.0.0.3")[0] == 200


def log_lines(server):
    return server.log_path.read_bytes().count(b"\n")


def test_log_lines_from_failed_authorisations_are_bounded(fresh):
    """270 failed authorisations, all verified (9 from each of 30
    addresses, unknown keys: under every limit), used to write 270 lines;
    now ten a minute are written and the rest counted in a summary line."""
    server = fresh.server
    before = log_lines(server)
    for i in range(30):
        unknown = Credentials(f"no-such-key-{i}", "secret")
        attempts = [request_bytes(server, "GET", SYSTEM, creds=unknown) for _ in range(9)]
        statuses = pipelined(server, attempts, source=f"127.0.2.{i + 1}")
        assert statuses == [401] * 9, statuses
    time.sleep(0.5)
    written = log_lines(server) - before
    assert written <= 30, f"{written} log lines for 270 failures:\n{server.log_tail(40)}"


# --------------------------------------------------------------------------
# 10. 413 and 415 carry Kraken bodies
# --------------------------------------------------------------------------

def test_a_body_over_64_kib_is_413_with_a_kraken_body(fresh):
    api = fresh.client
    name = kraken.unique("big")
    padding = "<!--" + "x" * (100 * 1024) + "-->"
    big = f"<output><name>{name}</name><url>udp://127.0.0.1:5000</url>{padding}</output>"
    assert_error(api.post(OUTPUTS, big), 1011, status=413, mentions=("65536",))
    # Chunked, with no length announced: cut off once over the limit.
    head = (f"POST {OUTPUTS} HTTP/1.1\r\nHost: {api.host}\r\n"
            f"Authorization: {authorization(fresh.creds, 'POST', api.host, OUTPUTS)}\r\n"
            "Content-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"%x\r\n%s\r\n" % (8192, b" " * 8192)
    status, _, body = one(fresh.server, head + chunk * 12 + b"0\r\n\r\n")
    assert status == 413, body[:300]
    assert kraken_error(body)[0] == 1011
    assert kraken.items(api, "output") == []


def test_a_body_that_is_not_xml_is_415_with_a_kraken_body(fresh):
    api = fresh.client
    for ctype in ("text/plain", "application/json", "application/xmlish"):
        resp = api.post(OUTPUTS, kraken.udp_output(), headers={"Content-Type": ctype})
        assert_error(resp, 1011, status=415, mentions=("application/xml", ctype))
    untyped = api.prepare("POST", OUTPUTS, kraken.udp_output())
    del untyped.headers["Content-Type"]
    assert_error(api.send(untyped), 1011, status=415, mentions=("without a Content-Type",))
    assert kraken.items(api, "output") == []
    # The XML types are accepted with parameters and in any letter case;
    # GET and DELETE without a body need no Content-Type.
    for ctype in ("application/xml; charset=utf-8", "Text/XML"):
        resp = api.post(OUTPUTS, kraken.udp_output(), headers={"Content-Type": ctype})
        rid = kraken.created_id(resp, "output")
        for method in ("GET", "DELETE"):
            prepared = api.prepare(method, f"{OUTPUTS}/output-{rid}")
            assert "Content-Type" not in prepared.headers
            expect(api.send(prepared), 200)


def test_a_slow_body_is_answered_408(fresh):
    """Body reads had no time limit: a signed request could hold its body
    open for ever. Now a body must arrive within 8 s of its head."""
    server = fresh.server
    head = (f"POST {OUTPUTS} HTTP/1.1\r\nHost: {server.host}\r\n"
            f"Authorization: {authorization(fresh.creds, 'POST', server.host, OUTPUTS)}\r\n"
            "Content-Type: application/xml\r\nContent-Length: 1000\r\n\r\n").encode()
    started = time.monotonic()
    with tls_connect(server, timeout=40) as tls:
        tls.sendall(head + b"<output>")
        try:
            got = Responses(tls).next()
        except TimeoutError:
            got = None
    took = time.monotonic() - started
    assert got is not None, f"no answer to a stalled body within {took:.0f} s"
    status, _, body = got
    assert status == 408, body[:300]
    assert kraken_error(body)[0] == 1011
    assert took < 30, f"answered after {took:.0f} s"
