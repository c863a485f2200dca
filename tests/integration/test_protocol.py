"""How the API speaks, whatever the resource: URI structure, methods, query
arguments, XML framing and parsing, links built from the Host header,
spellings, and TLS."""

import http.client
import ssl
import subprocess
import time
import uuid

import pytest

import kraken
from kraken import (KINDS, as_bool, assert_error, body, child, create, created_id, expect,
                    get_one, href_host, href_path, items, parse, self_link, text, transcoder,
                    ts_input, udp_output, unique)

MINIMAL = {
    "input": lambda: ts_input(),
    "output": lambda: udp_output(),
    "transcoder": lambda: transcoder(),
    "configuration": lambda: body("configuration", [("name", unique("cfg"))]),
}


# --- URI structure and methods ------------------------------------------------

@pytest.mark.parametrize("path", ["/apis/kraken/metadatas", "/apis/kraken/nonsense",
                                  "/apis/kraken/metadatas/metadata-e8b5a07d-4ca7-4651-8ae9-035e0849d235",
                                  "/apis/unknown"])
def test_unknown_api_function(api, path):
    assert_error(api.get(path), 1006)


@pytest.mark.parametrize("path", [
    "/apis/kraken/inputs/garbage",
    "/apis/kraken/inputs/input-{id}/extra",
    "/apis/kraken/outputs/input-{id}",
    "/apis/kraken/transcoders/transcoder-{id}/more/segments",
])
def test_unrecognized_uri_structure(api, path):
    rid = create(api, "input", ts_input())
    assert_error(api.get(path.format(id=rid)), 1008)


@pytest.mark.parametrize("method", ["PATCH", "PURGE"])
@pytest.mark.parametrize("path", ["/apis/kraken/inputs", "/apis/kraken/outputs/output-{id}",
                                  "/apis/kraken/system"])
def test_unknown_http_method(api, method, path):
    rid = create(api, "output", udp_output())
    resp = api.request(method, path.format(id=rid), udp_output())
    assert_error(resp, 1007)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_delete_and_put_on_a_collection_are_not_implemented(api, kind):
    assert_error(api.delete(f"/apis/kraken/{KINDS[kind]}"), 1009)
    assert_error(api.put(f"/apis/kraken/{KINDS[kind]}", f"<{kind}/>"), 1009)


@pytest.mark.parametrize("kind", ["input", "output", "transcoder"])
def test_post_on_an_item_is_not_implemented(api, kind):
    rid = create(api, kind, MINIMAL[kind]())
    assert_error(api.post(f"/apis/kraken/{KINDS[kind]}/{kind}-{rid}", MINIMAL[kind]()), 1009)


def test_empty_lists_are_not_found(fresh):
    for coll in KINDS.values():
        assert_error(fresh.client.get(f"/apis/kraken/{coll}"), 1001)


def test_list_is_found_again_once_not_empty(fresh):
    api = fresh.client
    rid = create(api, "output", udp_output())
    assert [text(it, "uuid") for it in items(api, "output")] == [rid]
    api.delete(f"/apis/kraken/outputs/output-{rid}")
    assert_error(api.get("/apis/kraken/outputs"), 1001)


# --- Query arguments ------------------------------------------------------------

@pytest.mark.parametrize("method,path", [("GET", "/apis/kraken/outputs"),
                                         ("GET", "/apis/kraken/system"),
                                         ("POST", "/apis/kraken/outputs"),
                                         ("GET", "/apis/servers")])
def test_unrecognized_arguments(api, method, path):
    create(api, "output", udp_output())  # so the list is not empty
    name = unique("query")
    resp = api.request(method, path, udp_output(name) if method == "POST" else None,
                       params={"foo": "1"})
    assert_error(resp, 1013)
    assert name not in {text(it, "name") for it in items(api, "output")}


def test_sorting_argument_is_not_recognized_either(api):
    assert_error(api.get("/apis/kraken/system", params={"sort": "name"}), 1013)


def test_oauth_query_parameters_are_not_arguments(api):
    resp = api.get("/apis/kraken/system", auth=api.auth(signature_type="query"))
    child(expect(resp, 200), "system")


# --- XML in -------------------------------------------------------------------------

BAD_XML = {
    "not closed": "<{root}><name>x</name>",
    "mismatched": "<{root}><name>x</{root}></name>",
    "not xml": "hello, world",
    "empty": "",
    "two roots": "<{root}/><{root}/>",
    "bad entity": "<{root}><name>&nope;</name></{root}>",
}


@pytest.mark.parametrize("case", sorted(BAD_XML))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_poorly_formatted_xml_on_create(api, kind, case):
    xml = BAD_XML[case].format(root=kind)
    assert_error(api.post(f"/apis/kraken/{KINDS[kind]}", xml), 1011)


@pytest.mark.parametrize("case", sorted(BAD_XML))
@pytest.mark.parametrize("kind", ["input", "output", "transcoder"])
def test_poorly_formatted_xml_on_edit(api, kind, case):
    name = unique("unchanged")
    good = {"input": ts_input, "output": udp_output, "transcoder": transcoder}[kind](name)
    rid = create(api, kind, good)
    xml = BAD_XML[case].format(root=kind)
    assert_error(api.put(f"/apis/kraken/{KINDS[kind]}/{kind}-{rid}", xml), 1011)
    assert text(get_one(api, kind, rid), "name") == name


@pytest.mark.parametrize("kind,wrong", [("input", "output"), ("output", "input"),
                                        ("transcoder", "stream"), ("stream", "transcoder"),
                                        ("configuration", "config")])
def test_wrong_root_element(api, kind, wrong):
    xml = MINIMAL["output"]().replace("<output>", f"<{wrong}>").replace("</output>", f"</{wrong}>")
    assert_error(api.post(f"/apis/kraken/{KINDS[kind]}", xml), 1011)


def test_xml_declaration_and_comments_are_fine(api):
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- a comment -->\n'
           + udp_output("with-declaration"))
    rid = create(api, "output", xml)
    assert text(get_one(api, "output", rid), "name") == "with-declaration"


def test_entities_and_cdata_are_decoded(api):
    xml = body("output", [("name", "a & b <c>"), ("url", "udp://127.0.0.1:5000")])
    xml = xml.replace("</output>", "<description><![CDATA[x < y]]></description></output>")
    rid = create(api, "output", xml)
    el = get_one(api, "output", rid)
    assert text(el, "name") == "a & b <c>"
    assert text(el, "description") == "x < y"


def test_unknown_elements_are_ignored(api):
    xml = udp_output("with-unknowns").replace(
        "</output>", "<fooBar>1</fooBar><future><nested a='1'>x</nested></future></output>")
    rid = create(api, "output", xml)
    el = get_one(api, "output", rid)
    assert text(el, "name") == "with-unknowns"
    tid = create(api, "transcoder", transcoder(useLegacyTranscoder="on", enablePcs="on",
                                               somethingNew="42"))
    get_one(api, "transcoder", tid)
    iid = create(api, "input", ts_input(futureOption="yes"))
    get_one(api, "input", iid)


def test_framerate_alias(api):
    rid = create(api, "transcoder", transcoder(framerate=25))
    el = get_one(api, "transcoder", rid)
    assert text(el, "frameRate") == "25"
    assert el.find("framerate") is None


def test_capture_aliases(api):
    rid = create(api, "input", body("input", [("name", unique("cap")), ("streamType", "V4L2"),
                                              ("capture_card", "2"), ("capture_mode", "9")]))
    el = get_one(api, "input", rid)
    assert (text(el, "capturePort"), text(el, "captureMode")) == ("2", "9")
    assert el.find("capture_card") is None and el.find("capture_mode") is None


@pytest.mark.parametrize("word,value", [("on", True), ("off", False), ("true", True),
                                        ("false", False), ("yes", True), ("no", False),
                                        ("1", True), ("0", False)])
def test_boolean_spellings(api, word, value):
    rid = create(api, "transcoder", transcoder(metadata=word))
    assert as_bool(text(get_one(api, "transcoder", rid), "metadata")) is value


# --- XML out and links ------------------------------------------------------------

def test_error_answers_are_framed_xml(api):
    resp = api.get(f"/apis/kraken/inputs/input-{uuid.uuid4()}")
    root = parse(resp)
    assert [c.tag for c in root] == ["error"]
    assert resp.headers["Content-Type"].startswith("application/xml")


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}",
                                  "example.haivision.com", "kraken.example:8443"])
def test_links_follow_the_host_header(api, host):
    host = host.format(port=api.port)
    resp = api.post("/apis/kraken/outputs", udp_output(), host=host)
    rid = created_id(resp, "output", host=host)
    el = child(expect(api.get(f"/apis/kraken/outputs/output-{rid}", host=host), 200), "output")
    assert self_link(el) == f"https://{host}/apis/kraken/outputs/output-{rid}"
    listed = [it for it in items(api, "output", host=host) if text(it, "uuid") == rid]
    assert self_link(listed[0]) == f"https://{host}/apis/kraken/outputs/output-{rid}"
    root = expect(api.delete(f"/apis/kraken/outputs/output-{rid}", host=host), 200)
    assert self_link(root) == f"https://{host}/apis/kraken/outputs"


def test_same_lists_under_two_hosts_differ_only_in_host(api):
    create(api, "input", ts_input())
    a = items(api, "input", host=f"127.0.0.1:{api.port}")
    b = items(api, "input", host=f"localhost:{api.port}")
    assert [text(i, "uuid") for i in a] == [text(i, "uuid") for i in b]
    for x, y in zip(a, b):
        hx, hy = self_link(x), self_link(y)
        assert href_host(hx) == f"127.0.0.1:{api.port}"
        assert href_host(hy) == f"localhost:{api.port}"
        assert href_path(hx) == href_path(hy)


def test_signature_must_match_the_host_header(api):
    """The base string uses the Host header: a request signed for one host
    and sent with another is not authorized."""
    prepared = api.prepare("GET", "/apis/kraken/system", host=f"localhost:{api.port}")
    prepared.headers["Host"] = f"127.0.0.1:{api.port}"
    assert_error(api.send(prepared), 1014)


# --- TLS -----------------------------------------------------------------------------

def test_self_signed_certificate_is_made_and_verifies(fresh):
    tls = fresh.data_dir / "tls"
    assert (tls / "cert.pem").is_file() and (tls / "key.pem").is_file()
    for name in ("127.0.0.1", "localhost"):
        kraken.tls_handshake(fresh.server.port, cafile=tls / "cert.pem", server_hostname=name)
    with pytest.raises(ssl.SSLCertVerificationError):
        kraken.tls_handshake(fresh.server.port, cafile=tls / "cert.pem",
                             server_hostname="not-this-host.example")


def test_certificate_is_kept_across_restarts(fresh):
    before = (fresh.data_dir / "tls" / "cert.pem").read_bytes()
    der = kraken.tls_handshake(fresh.server.port)
    fresh.restart()
    assert (fresh.data_dir / "tls" / "cert.pem").read_bytes() == before
    assert kraken.tls_handshake(fresh.server.port) == der


def test_given_certificate_is_served(appliance_factory, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=makara-test",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    app = appliance_factory(extra_args=["--tls-cert", str(cert), "--tls-key", str(key)])
    served = kraken.tls_handshake(app.server.port, cafile=cert, server_hostname="127.0.0.1")
    assert served == ssl.PEM_cert_to_DER_cert(cert.read_text())
    child(expect(app.client.get("/apis/kraken/system"), 200), "system")


def test_a_kept_alive_connection_answers_after_a_pause(api):
    """A client that polls every few seconds reuses its connection; the server
    must not close it from under the next request."""
    ctx = ssl.create_default_context(cafile=api.verify) if api.verify else \
        ssl._create_unverified_context()
    conn = http.client.HTTPSConnection("127.0.0.1", api.port, context=ctx, timeout=15)
    try:
        for pause in (0, 12):
            time.sleep(pause)
            prepared = api.prepare("GET", "/apis/kraken/system")
            conn.request("GET", prepared.path_url, headers=dict(prepared.headers))
            if pause == 0:
                sock = conn.sock
            assert conn.sock is sock, "the client opened a second connection"
            resp = conn.getresponse()
            assert resp.status == 200, resp.read()
            resp.read()
    finally:
        conn.close()
