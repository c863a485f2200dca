"""The self-signed certificate makarad makes in DATA_DIR/tls/.

It names the box: subject CN and subjectAltName carry the host name (beside
localhost, 127.0.0.1 and ::1); it is valid for 825 days; at start, makarad's
own certificate is made anew when it expires within 30 days or no longer
names the host, while a certificate the operator put there is kept.
makarad's own are those listed in DATA_DIR/tls/generated.pem.

Each server runs in its own UTS namespace with a host name the test picks
(``unshare --uts``), so the tests need root.
"""

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

    def __init__(self, data_dir, hostname):
        super().__init__(data_dir)
        self.hostname = hostname

    def _start_once(self, port):
        self.port = port or kraken.free_port()
        self.starts += 1
        self.log_path = self.log_dir / f"makarad-{self.data_dir.name}-{self.starts}.log"
        cmd = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', self.hostname,
               kraken.makarad(), "serve", "--data-dir", str(self.data_dir),
               "--listen", self.host]
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
