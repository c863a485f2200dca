"""The self-signed certificate makarad makes in DATA_DIR/tls/.

It names the box: subject CN and subjectAltName carry the host name (beside
localhost, 127.0.0.1 and ::1); it is valid for 825 days; at start, makarad's
own certificate is made anew when it expires within 30 days or no longer
names the host, while a certificate the operator put there is kept.
makarad's own are those listed in DATA_DIR/tls/generated.pem. The same check
runs while makarad serves (``--tls-check-secs``, a day by default): a renewed
or replaced pair is served from the next handshake on, without a restart and
without closing connections already open.

Each server runs in its own UTS namespace with a host name the test picks
(``unshare --uts``), so the tests need root.
"""

import http.client
import os
import shutil
import ssl
import subprocess
import time

import pytest

import kraken

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare to give makarad a host name of its own")

DAY = 86400


class NamedServer(kraken.Server):
    """``makarad serve`` on a machine called ``hostname``."""

    def __init__(self, data_dir, hostname, extra_args=()):
        super().__init__(data_dir, extra_args=extra_args)
        self.hostname = hostname

    def _start_once(self, port):
        self.port = port or kraken.free_port()
        self.starts += 1
        self.log_path = self.log_dir / f"makarad-{self.data_dir.name}-{self.starts}.log"
        cmd = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', self.hostname,
               kraken.makarad(), "serve", "--data-dir", str(self.data_dir),
               "--listen", self.host, *self.extra_args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        kraken._ALL_SERVERS.append(self)
        if self not in kraken.TEST_SERVERS:
            kraken.TEST_SERVERS.append(self)
        self.wait_ready()
        return self


@pytest.fixture
def serve(tmp_path):
    """serve(hostname, data_dir): runs makarad until its certificate is in
    place and stops it again; returns the certificate it served (DER)."""
    servers = []

    def run(hostname, data_dir):
        server = NamedServer(data_dir, hostname)
        servers.append(server)
        server.start()
        try:
            return kraken.tls_handshake(server.port)
        finally:
            code, _ = server.stop()
            assert code == 0

    yield run
    for server in servers:
        server.kill()


def x509(cert_path, *options):
    return subprocess.run(["openssl", "x509", "-in", str(cert_path), "-noout", *options],
                          check=True, capture_output=True, text=True).stdout


def common_name(cert_path):
    subject = x509(cert_path, "-subject", "-nameopt", "RFC2253").strip()
    assert subject.startswith("subject="), subject
    return dict(part.split("=", 1) for part in subject[len("subject="):].split(","))["CN"]


def alt_names(cert_path):
    text = x509(cert_path, "-ext", "subjectAltName")
    return {name.strip() for name in text.splitlines()[-1].split(",")}


def validity(cert_path):
    dates = dict(line.split("=", 1) for line in x509(cert_path, "-dates").splitlines())
    return (ssl.cert_time_to_seconds(dates["notBefore"]),
            ssl.cert_time_to_seconds(dates["notAfter"]))


def der(cert_path):
    return ssl.PEM_cert_to_DER_cert(cert_path.read_text())


def short_lived_pair(tls_dir, hostname, days):
    """An ECDSA certificate for ``hostname`` valid for ``days`` days, made
    with openssl as an operator would."""
    tls_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", str(days), "-subj", f"/CN={hostname}",
         "-addext", f"subjectAltName=DNS:{hostname}",
         "-keyout", str(tls_dir / "key.pem"), "-out", str(tls_dir / "cert.pem")],
        check=True, capture_output=True)


def test_certificate_names_the_host_for_years(serve, tmp_path):
    data = tmp_path / "data"
    served = serve("encoder-7", data)
    cert = data / "tls" / "cert.pem"
    assert served == der(cert)
    assert common_name(cert) == "encoder-7"
    names = alt_names(cert)
    assert {"DNS:encoder-7", "DNS:localhost", "IP Address:127.0.0.1"} <= names, names
    not_before, not_after = validity(cert)
    assert not_after - not_before >= 800 * DAY, (not_before, not_after)
    assert not_after > time.time() + 800 * DAY
    assert not_before <= time.time()


def test_certificate_is_made_anew_when_the_host_is_renamed(serve, tmp_path):
    data = tmp_path / "data"
    serve("studio-a", data)
    served = serve("studio-b", data)
    cert = data / "tls" / "cert.pem"
    assert served == der(cert)
    assert common_name(cert) == "studio-b"
    assert "DNS:studio-b" in alt_names(cert)
    assert "DNS:studio-a" not in alt_names(cert)


def test_own_certificate_near_its_end_is_renewed(serve, tmp_path):
    data = tmp_path / "data"
    tls_dir = data / "tls"
    short_lived_pair(tls_dir, "encoder-7", days=5)
    # Listed as makarad's own, as if makarad had made it.
    shutil.copy(tls_dir / "cert.pem", tls_dir / "generated.pem")
    old = der(tls_dir / "cert.pem")
    served = serve("encoder-7", data)
    assert served == der(tls_dir / "cert.pem")
    assert served != old, "a certificate of makarad's that ends in 5 days was kept"
    _, not_after = validity(tls_dir / "cert.pem")
    assert not_after > time.time() + 800 * DAY
    assert common_name(tls_dir / "cert.pem") == "encoder-7"


def test_operators_certificate_is_kept(serve, tmp_path):
    data = tmp_path / "data"
    tls_dir = data / "tls"
    # Ending in 5 days and naming another host: still the operator's call.
    short_lived_pair(tls_dir, "encoder.example.com", days=5)
    theirs = (tls_dir / "cert.pem").read_bytes(), (tls_dir / "key.pem").read_bytes()
    served = serve("encoder-7", data)
    assert served == der(tls_dir / "cert.pem")
    assert ((tls_dir / "cert.pem").read_bytes(), (tls_dir / "key.pem").read_bytes()) == theirs


@pytest.fixture
def running(tmp_path):
    """running(hostname, data_dir): makarad serving, checking its
    certificate every second; stopped at the end of the test."""
    servers = []

    def run(hostname, data_dir):
        server = NamedServer(data_dir, hostname, ["--tls-check-secs", "1"])
        servers.append(server)
        return server.start()

    yield run
    for server in servers:
        code, _ = server.stop()
        assert code == 0


def wait_served(port, wanted, conn, timeout=30):
    """Handshakes until the served certificate satisfies ``wanted``, using
    the open connection ``conn`` meanwhile so that its idle timeout (10 s
    for a client without a key) never closes it, however slow the check."""
    deadline = time.monotonic() + timeout
    while True:
        served = kraken.tls_handshake(port)
        if wanted(served) or time.monotonic() > deadline:
            return served
        answer(conn)
        time.sleep(0.2)


def put_in_place(src_dir, tls_dir, names):
    """Renames files from src_dir into tls_dir one by one, in this order,
    each whole (as a careful copy would)."""
    for name in names:
        tmp = tls_dir / (name + ".new")
        shutil.copy(src_dir / name, tmp)
        os.rename(tmp, tls_dir / name)


def open_connection(port):
    """A keep-alive HTTPS connection with one request answered on it."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
    answer(conn)
    return conn


def answer(conn):
    conn.request("GET", "/apis/kraken/")
    resp = conn.getresponse()
    resp.read()
    assert not resp.will_close, resp.getheaders()
    return resp.status


def test_running_server_renews_its_own_certificate_near_its_end(running, tmp_path):
    data = tmp_path / "data"
    tls_dir = data / "tls"
    server = running("encoder-7", data)
    first = kraken.tls_handshake(server.port)
    assert first == der(tls_dir / "cert.pem")
    conn = open_connection(server.port)
    sock = conn.sock

    # While it runs, the pair on disk becomes one of makarad's own that
    # ends in 5 days (as if 820 days had passed).
    near = tmp_path / "near"
    short_lived_pair(near, "encoder-7", days=5)
    shutil.copy(near / "cert.pem", near / "generated.pem")
    put_in_place(near, tls_dir, ["generated.pem", "cert.pem", "key.pem"])
    near_der = der(near / "cert.pem")

    cert = tls_dir / "cert.pem"
    served = wait_served(server.port,
                         lambda d: d not in (first, near_der) and d == der(cert), conn)
    assert served not in (first, near_der), "the running server kept serving " + (
        "its first certificate" if served == first else "a certificate ending in 5 days")
    assert served == der(tls_dir / "cert.pem")
    _, not_after = validity(tls_dir / "cert.pem")
    assert not_after > time.time() + 800 * DAY
    assert common_name(tls_dir / "cert.pem") == "encoder-7"
    assert "expires within 30 days" in server.log_path.read_text()

    # The connection opened before is still open and still answers.
    answer(conn)
    assert conn.sock is sock
    assert sock.getpeercert(binary_form=True) == first
    conn.close()


def test_running_server_serves_the_pair_the_operator_put_in_place(running, tmp_path):
    data = tmp_path / "data"
    tls_dir = data / "tls"
    server = running("encoder-7", data)
    first = kraken.tls_handshake(server.port)
    conn = open_connection(server.port)

    theirs_dir = tmp_path / "theirs"
    short_lived_pair(theirs_dir, "encoder.example.com", days=5)
    # The certificate first: a check between the two files sees the
    # operator's certificate with the old key, and waits for the key.
    put_in_place(theirs_dir, tls_dir, ["cert.pem", "key.pem"])
    theirs = der(theirs_dir / "cert.pem")

    served = wait_served(server.port, lambda d: d == theirs, conn)
    assert served == theirs, "the operator's new pair was not served"
    assert served != first
    # Kept as it is: ending in 5 days and naming another host.
    for name in ("cert.pem", "key.pem"):
        assert (tls_dir / name).read_bytes() == (theirs_dir / name).read_bytes()
    answer(conn)
    conn.close()


@pytest.mark.parametrize("secs,why", [("0", "1..=86400"), ("86401", "1..=86400"),
                                      ("soon", "invalid digit")])
def test_check_interval_out_of_range_is_refused(tmp_path, secs, why):
    proc = subprocess.run(
        [kraken.makarad(), "serve", "--data-dir", str(tmp_path / "data"),
         "--listen", "127.0.0.1:1", "--tls-check-secs", secs],
        capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2, proc
    assert "--tls-check-secs" in proc.stderr, proc.stderr
    assert why in proc.stderr, proc.stderr
    assert not (tmp_path / "data" / "tls").exists()
