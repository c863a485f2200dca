"""ONVIF (issue 11 §2): makarad as a Profile S device, driven by a third-party
client (onvif-zeep 0.2.12 over python3-zeep, installed by scripts/lib/deps.sh
into target/pydeps), and found by WS-Discovery (WSDiscovery 2.1.2).

The device service listens on 127.0.0.1 only; discovery's multicast runs
only between two network namespaces the test makes (peers.NetNamespaces).
"""

import base64
import datetime
import hashlib
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

import hmp
import kraken
import peers
from conftest import Appliance
from kraken import child, expect, text

PYDEPS = Path(os.environ.get("MAKARA_PYDEPS",
                             Path(__file__).resolve().parents[2] / "target" / "pydeps"))
sys.path.insert(0, str(PYDEPS))

from onvif import ONVIFCamera, ONVIFError, ONVIFService  # noqa: E402
from wsdiscovery import QName  # noqa: E402
from wsdiscovery.discovery import ThreadedWSDiscovery  # noqa: E402
import zeep.exceptions  # noqa: E402

WSDL = PYDEPS / "wsdl"
PASSWORD = "onvif-pass-1"
W, H, FPS, KBPS = 320, 180, 25, 600

ENV = "http://www.w3.org/2003/05/soap-envelope"
TER = "http://www.onvif.org/ver10/error"
TT = "http://www.onvif.org/ver10/schema"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
UTP = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
DN = "http://www.onvif.org/ver10/network/wsdl"


def add_user(data_dir, name, role="viewer", device_login=True):
    args = ["add", f"--username={name}", "--role", role, "--password-stdin"]
    if device_login:
        args.append("--device-login")
    out = hmp.user_cli(data_dir, *args, password=PASSWORD)
    assert ("device-login: yes" in out) == device_login, out


class Box:
    """A server with ONVIF on, users ``cam`` (device login), ``hashonly``
    (no device login) and, for the failure tests, ``guess`` (device login)."""

    def __init__(self, base):
        self.onvif_port = peers.free_tcp_port()
        self.app = Appliance(base, start=False, extra_args=["--onvif-port", str(self.onvif_port)])
        add_user(self.app.data_dir, "cam")
        add_user(self.app.data_dir, "hashonly", device_login=False)
        add_user(self.app.data_dir, "guess")
        self.app.start()
        self.api = self.app.client
        self.url = f"http://127.0.0.1:{self.onvif_port}/onvif/device_service"
        self.media_url = f"http://127.0.0.1:{self.onvif_port}/onvif/media_service"

    def camera(self, user="cam", password=PASSWORD, encrypt=True):
        return ONVIFCamera("127.0.0.1", self.onvif_port, user, password, str(WSDL),
                           encrypt=encrypt, no_cache=True)

    def devicemgmt(self, user, password, encrypt=True):
        """The device service alone (ONVIFCamera would call GetCapabilities
        while being made)."""
        return ONVIFService(self.url, user, password, str(WSDL / "devicemgmt.wsdl"),
                            encrypt=encrypt, no_cache=True,
                            binding_name=f"{{{TDS}}}DeviceBinding")


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    b = Box(tmp_path_factory.mktemp("onvif"))
    kraken.TEST_SERVERS.append(b.app.server)
    yield b
    b.app.close()


@pytest.fixture(autouse=True)
def _box_log(request):
    if "box" in request.fixturenames:
        kraken.TEST_SERVERS.append(request.getfixturevalue("box").app.server)


# --- Raw SOAP, for what a client library hides --------------------------------------


def envelope(body, header=""):
    return (f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<s:Envelope xmlns:s="{ENV}" xmlns:tds="{TDS}" xmlns:trt="{TRT}" xmlns:tt="{TT}">'
            f'<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>')


def digest_token(user, password, nonce=None, created=None):
    nonce = nonce or os.urandom(16)
    created = created or datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode())
                              .digest()).decode()
    return (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
            f'<wsse:Username>{user}</wsse:Username>'
            f'<wsse:Password Type="{UTP}#PasswordDigest">{digest}</wsse:Password>'
            f'<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>'
            f'<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>')


def post(url, xml, content_type="application/soap+xml; charset=utf-8"):
    return requests.post(url, data=xml.encode(), headers={"Content-Type": content_type},
                         timeout=10)


def fault_codes(resp):
    """The fault's code and subcodes, outermost first, as prefix-free names."""
    root = ET.fromstring(resp.content)
    fault = root.find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert fault is not None, resp.text
    codes = []
    node = fault.find(f"{{{ENV}}}Code")
    while node is not None:
        codes.append(node.find(f"{{{ENV}}}Value").text.split(":")[-1])
        node = node.find(f"{{{ENV}}}Subcode")
    return codes


def zeep_fault(excinfo):
    """The SOAP fault under onvif-zeep's ONVIFError."""
    err = excinfo.value
    cause = err.__context__ or err.__cause__
    assert isinstance(cause, zeep.exceptions.Fault), repr(err)
    return [cause.code.split(":")[-1] if cause.code else None,
            *[q.localname for q in (cause.subcodes or [])]], cause.message


# --- Device service ---------------------------------------------------------------------


def test_clock_is_given_without_credentials_in_utc(box):
    resp = post(box.url, envelope("<tds:GetSystemDateAndTime/>"))
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/soap+xml")
    root = ET.fromstring(resp.content)
    utc = root.find(f".//{{{TT}}}UTCDateTime")
    parts = {e.tag.split("}")[1]: int(e.text) for e in utc.iter() if e.text and e.text.strip()}
    said = datetime.datetime(parts["Year"], parts["Month"], parts["Day"], parts["Hour"],
                             parts["Minute"], parts["Second"], tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - said).total_seconds()) < 30, (said, now)
    # A client with a wrong password still learns the time.
    wrong = box.devicemgmt("cam", "not-the-password").GetSystemDateAndTime()
    assert wrong.UTCDateTime.Date.Year == now.year


def test_device_information_names_the_box(box):
    info = box.camera().devicemgmt.GetDeviceInformation()
    assert info.Manufacturer == "Makara"
    assert info.Model
    system = child(expect(box.api.get("/apis/kraken/system"), 200), "system")
    assert info.FirmwareVersion == text(system, "version")
    servers = child(expect(box.api.get("/apis/servers"), 200), "servers").findall("server")
    assert info.SerialNumber and text(servers[0], "id").endswith(info.SerialNumber), \
        (info.SerialNumber, text(servers[0], "id"))
    assert info.HardwareId


def test_capabilities_and_services_point_at_this_listener(box):
    camera = box.camera()
    caps = camera.devicemgmt.GetCapabilities({"Category": "All"})
    assert caps.Device.XAddr == box.url
    assert caps.Media.XAddr == box.media_url
    assert caps.Media.StreamingCapabilities.RTP_RTSP_TCP is True
    services = camera.devicemgmt.GetServices({"IncludeCapability": False})
    assert {s.Namespace: s.XAddr for s in services} == {TDS: box.url, TRT: box.media_url}
    scopes = [s.ScopeItem for s in camera.devicemgmt.GetScopes()]
    assert "onvif://www.onvif.org/Profile/Streaming" in scopes, scopes
    assert camera.devicemgmt.GetHostname().Name


# --- Media service ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def feeds(box):
    """Two RTSP outputs and a UDP output of one transcoded stream, running."""
    api = box.api
    rtsp = []
    for _ in range(2):
        port, name = peers.free_tcp_port(), kraken.unique("cam")
        oid = peers.make(api, "output", [("name", kraken.unique("rtsp")), ("streamType", "RTSP"),
                                         ("url", f"rtsp://0.0.0.0:{port}/{name}")])
        rtsp.append((oid, port, name))
    udp = peers.udp_output(api, peers.free_udp_port())
    path = peers.make_stream(api, peers.pattern_input(api, W, H, FPS),
                             [o for o, _, _ in rtsp] + [udp],
                             transcoder_id=peers.h264_transcoder(api, W, H, FPS, KBPS))
    peers.start(api, path)
    peers.wait_state(api, path, "active")
    yield rtsp
    peers.stop(api, path)


def test_profiles_are_the_rtsp_outputs(box, feeds):
    media = box.camera().create_media_service()
    profiles = media.GetProfiles()
    assert sorted(p.token for p in profiles) == sorted(o for o, _, _ in feeds)
    for p in profiles:
        vec = p.VideoEncoderConfiguration
        assert vec.Encoding == "H264"
        assert (vec.Resolution.Width, vec.Resolution.Height) == (W, H)
        assert vec.RateControl.FrameRateLimit == FPS
        assert vec.RateControl.BitrateLimit == KBPS
        assert p.AudioEncoderConfiguration.Encoding == "AAC"
    one = media.GetProfile({"ProfileToken": feeds[0][0]})
    assert one.token == feeds[0][0]
    encoders = media.GetVideoEncoderConfigurations()
    assert len(encoders) == 2
    sources = media.GetVideoSources()
    assert len(sources) == 1 and (sources[0].Resolution.Width, sources[0].Resolution.Height) == (W, H)


def test_stream_uri_is_the_rtsp_output_and_plays(box, feeds):
    peers.require_tools("ffprobe")
    media = box.camera().create_media_service()
    for oid, port, name in feeds:
        for protocol in ("RTSP", "UDP", "TCP"):
            uri = media.GetStreamUri({"StreamSetup": {"Stream": "RTP-Unicast",
                                                      "Transport": {"Protocol": protocol}},
                                      "ProfileToken": oid}).Uri
            assert uri == f"rtsp://127.0.0.1:{port}/{name}", (protocol, uri)
    uri = f"rtsp://127.0.0.1:{feeds[0][1]}/{feeds[0][2]}"
    out = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-of",
                          "default=nw=1", "-show_entries", "stream=codec_name,width,height", uri],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "codec_name=h264" in out.stdout and f"width={W}" in out.stdout, out.stdout
    assert "codec_name=aac" in out.stdout, out.stdout


def test_stream_uri_refuses_what_is_not_served(box, feeds):
    media = box.camera().create_media_service()
    with pytest.raises(ONVIFError) as e:
        media.GetStreamUri({"StreamSetup": {"Stream": "RTP-Unicast",
                                            "Transport": {"Protocol": "RTSP"}},
                            "ProfileToken": "no-such-profile"})
    codes, _ = zeep_fault(e)
    assert codes == ["Sender", "InvalidArgVal", "NoProfile"], codes
    with pytest.raises(ONVIFError) as e:
        media.GetStreamUri({"StreamSetup": {"Stream": "RTP-Multicast",
                                            "Transport": {"Protocol": "UDP"}},
                            "ProfileToken": feeds[0][0]})
    codes, _ = zeep_fault(e)
    assert codes == ["Sender", "InvalidArgVal", "InvalidStreamSetup"], codes


# --- Credentials ------------------------------------------------------------------------


def test_wrong_password_is_not_authorized(box):
    with pytest.raises(ONVIFError) as e:
        box.devicemgmt("guess", "not-the-password").GetDeviceInformation()
    codes, message = zeep_fault(e)
    assert codes == ["Sender", "NotAuthorized"], (codes, message)
    with pytest.raises(ONVIFError) as e:
        box.devicemgmt("nobody", PASSWORD).GetDeviceInformation()
    assert zeep_fault(e)[0] == ["Sender", "NotAuthorized"]


def test_no_token_is_not_authorized(box):
    for url, op in ((box.url, "<tds:GetDeviceInformation/>"), (box.media_url, "<trt:GetProfiles/>")):
        resp = post(url, envelope(op))
        assert resp.status_code == 400, resp.text
        assert fault_codes(resp) == ["Sender", "NotAuthorized"], resp.text
        assert "UsernameToken" in resp.text


def test_a_replayed_nonce_is_refused(box):
    token = digest_token("cam", PASSWORD)
    first = post(box.url, envelope("<tds:GetDeviceInformation/>", token))
    assert first.status_code == 200, first.text
    again = post(box.url, envelope("<tds:GetDeviceInformation/>", token))
    assert again.status_code == 400, again.text
    assert fault_codes(again) == ["Sender", "NotAuthorized"]
    # The same nonce with another Created is another token (and fine).
    nonce = os.urandom(16)
    ok = post(box.url, envelope("<tds:GetDeviceInformation/>", digest_token("cam", PASSWORD, nonce)))
    assert ok.status_code == 200, ok.text


def test_a_stale_token_is_refused(box):
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=6))
    token = digest_token("cam", PASSWORD, created=old.strftime("%Y-%m-%dT%H:%M:%SZ"))
    resp = post(box.url, envelope("<tds:GetDeviceInformation/>", token))
    assert resp.status_code == 400 and fault_codes(resp) == ["Sender", "NotAuthorized"], resp.text
    assert "clock" in resp.text


def test_password_text_checks_the_hash_and_digest_needs_a_device_login(box):
    info = box.devicemgmt("hashonly", PASSWORD, encrypt=False).GetDeviceInformation()
    assert info.Manufacturer == "Makara"
    with pytest.raises(ONVIFError) as e:
        box.devicemgmt("hashonly", PASSWORD).GetDeviceInformation()
    assert zeep_fault(e)[0] == ["Sender", "NotAuthorized"]


def test_device_login_is_switched_by_the_cli_while_serving(box):
    """``makarad user device-login`` checks the password it keeps, ``user
    list`` shows it, and the running server follows within its poll."""
    data_dir = box.app.data_dir
    cmd = [kraken.makarad(), "user", "device-login", "--username", "hashonly", "--enable",
           "--password-stdin", "--data-dir", str(data_dir)]
    wrong = subprocess.run(cmd, input="not-the-password\n", capture_output=True, text=True,
                           timeout=30)
    assert wrong.returncode != 0 and "not the password" in wrong.stderr, wrong.stderr
    assert "device-login: yes user: hashonly" in hmp.user_cli(
        data_dir, "device-login", "--username", "hashonly", "--enable", "--password-stdin",
        password=PASSWORD)
    listed = hmp.user_cli(data_dir, "list")
    assert re.search(r"^username: hashonly role: viewer created: \d+ device-login: yes$",
                     listed, re.M), listed
    key = data_dir / "device.key"
    assert key.stat().st_mode & 0o777 == 0o600 and key.stat().st_size == 32
    users_files = b"".join(p.read_bytes() for p in data_dir.glob("users.*"))
    assert PASSWORD.encode() not in users_files
    deadline = time.monotonic() + 5
    while True:
        resp = post(box.url, envelope("<tds:GetDeviceInformation/>",
                                      digest_token("hashonly", PASSWORD)))
        if resp.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert resp.status_code == 200, resp.text
    hmp.user_cli(data_dir, "device-login", "--username", "hashonly", "--disable")
    time.sleep(1)
    resp = post(box.url, envelope("<tds:GetDeviceInformation/>",
                                  digest_token("hashonly", PASSWORD)))
    assert resp.status_code == 400 and fault_codes(resp) == ["Sender", "NotAuthorized"], resp.text


def test_failed_logins_lock_as_hmp_logins_do(tmp_path):
    """Ten wrong digests lock the user (the HMP login lockout, shared): the
    right password is then refused over ONVIF and at the HMP login."""
    port = peers.free_tcp_port()
    app = Appliance(tmp_path, start=False, extra_args=["--onvif-port", str(port)])
    add_user(app.data_dir, "cam", role="administrator")
    app.start()
    kraken.TEST_SERVERS.append(app.server)
    url = f"http://127.0.0.1:{port}/onvif/device_service"
    try:
        for _ in range(10):
            resp = post(url, envelope("<tds:GetDeviceInformation/>",
                                      digest_token("cam", "wrong-password")))
            assert fault_codes(resp) == ["Sender", "NotAuthorized"], resp.text
        right = post(url, envelope("<tds:GetDeviceInformation/>", digest_token("cam", PASSWORD)))
        assert right.status_code == 400 and "try again in" in right.text, right.text
        client = hmp.Hmp(app.server)
        try:
            login = client.login("cam", PASSWORD)
            assert login.status_code == 403 and "LoginLocked" in login.text, login.text
        finally:
            client.close()
    finally:
        app.close()


def test_other_operations_and_bad_requests_are_faults(box):
    token = digest_token("cam", PASSWORD)
    resp = post(box.url, envelope("<tds:GetNetworkProtocols/>", token))
    assert resp.status_code == 500, resp.text
    assert fault_codes(resp) == ["Receiver", "ActionNotSupported"]
    bad = post(box.url, "<s:Envelope xmlns:s='" + ENV + "'><s:Body><unclosed></s:Body>")
    assert bad.status_code == 400 and fault_codes(bad) == ["Sender"], bad.text
    soap11 = post(box.url, "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
                           "<s:Body><x/></s:Body></s:Envelope>")
    assert fault_codes(soap11) == ["VersionMismatch"], soap11.text
    big = post(box.url, envelope("<tds:GetSystemDateAndTime/>" + " " * (70 * 1024)))
    assert big.status_code == 400 and fault_codes(big) == ["Sender"], big.text[:500]
    assert requests.get(box.url, timeout=10).status_code == 405
    assert requests.post(f"http://127.0.0.1:{box.onvif_port}/other", timeout=10).status_code == 404


def test_onvif_port_is_checked():
    proc = subprocess.run([kraken.makarad(), "serve", "--data-dir", "/nonexistent",
                           "--onvif-port", "0"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "onvif-port" in proc.stderr, proc.stderr
    proc = subprocess.run([kraken.makarad(), "serve", "--data-dir", "/nonexistent",
                           "--onvif-discovery"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "--onvif-port" in proc.stderr, proc.stderr


# --- WS-Discovery, inside two network namespaces ------------------------------------


GROUP, WSD_PORT = "239.255.255.250", 3702


def listen_multicast(address):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", WSD_PORT))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                    struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton(address)))
    sock.settimeout(1)
    return sock


def wait_for(sock, action, deadline):
    """The text of the first datagram with ``action`` before ``deadline``."""
    while time.monotonic() < deadline:
        try:
            data, _ = sock.recvfrom(65536)
        except socket.timeout:
            continue
        msg = data.decode(errors="replace")
        if f"/discovery/{action}<" in msg:
            return msg
    raise AssertionError(f"no {action} within the time")


@pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")
def test_discovery_finds_the_device_in_a_namespace(tmp_path):
    data_dir = tmp_path / "data"
    add_user(data_dir, "cam")
    onvif_port = 8080
    log = open(tmp_path / "makarad.log", "wb")
    with peers.NetNamespaces() as ns:
        with ns.entered(ns.b):
            hello_sock = listen_multicast(ns.addr_b)
        cmd = [*ns.exec_prefix(ns.a), kraken.makarad(), "serve", "--data-dir", str(data_dir),
               "--listen", f"{ns.addr_a}:8443", "--onvif-port", str(onvif_port),
               "--onvif-discovery"]
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            xaddr = f"http://{ns.addr_a}:{onvif_port}/onvif/device_service"
            hello = wait_for(hello_sock, "Hello", time.monotonic() + 30)
            assert xaddr in hello, hello
            with ns.entered(ns.b):
                wsd = ThreadedWSDiscovery()
                wsd.start()
            try:
                services = []
                deadline = time.monotonic() + 20
                while not services and time.monotonic() < deadline:
                    services = wsd.searchServices(types=[QName(DN, "NetworkVideoTransmitter")],
                                                  timeout=3)
            finally:
                wsd.stop()
            assert len(services) == 1, services
            found = services[0]
            assert found.getXAddrs() == [xaddr]
            types = {(t.getNamespace(), t.getLocalname()) for t in found.getTypes()}
            assert (DN, "NetworkVideoTransmitter") in types and (TDS, "Device") in types, types
            scopes = [str(s.getValue()) for s in found.getScopes()]
            assert "onvif://www.onvif.org/Profile/Streaming" in scopes, scopes
            # The device it names answers there.
            with ns.entered(ns.b):
                resp = post(xaddr, envelope("<tds:GetDeviceInformation/>",
                                            digest_token("cam", PASSWORD)))
            assert resp.status_code == 200 and "Makara" in resp.text, resp.text
            proc.send_signal(signal.SIGTERM)
            bye = wait_for(hello_sock, "Bye", time.monotonic() + 10)
            assert "urn:uuid:" in bye
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            hello_sock.close()
            log.close()
