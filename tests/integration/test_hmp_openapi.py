"""docs/hmp-openapi.yaml against a real makarad (issue 10, point 10).

The document must be a sound OpenAPI 3.1 document: its shape, every
`$ref`, every schema (JSON Schema 2020-12), the path parameters, the
error catalogue. Then one scenario drives a fresh server through every
operation the document describes, with a live test-pattern stream, and
through every error status that can be provoked from outside (400, 401,
403, 404, 409, 415, 416, and the 405, 501 and 404 answers of requests
outside the document); `openapi_check.Checker` validates each answer.
The test fails if an operation of the document is never exercised, or if
a documented status is never seen that is not on the short list of those
only a failure inside the appliance can cause."""

import re
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

import kraken
from hmp import Hmp, add_user, live_outputs
from mediacheck import Receiver
from openapi_check import OPENAPI_SHAPE, Checker, escape, follow, operations, refs, schemas

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "hmp-openapi.yaml"
UNKNOWN = "00000000-0000-4000-8000-000000000000"

# Statuses a client cannot make happen: a failure inside the appliance
# (500), a busy or broken part of it (503), or a configuration document
# too large to hold one more session edit (409 on PUT of a session).
UNPROVOKED_STATUSES = {"500", "503"}
UNPROVOKED = {("put", "/apis/sessions/{sessionId}", "409")}

# The HTTP status each error-code family stands for.
FAMILY_STATUS = {"01": 400, "02": 401, "03": 403, "04": 404, "05": 405, "06": 409,
                 "07": 500, "08": 501, "09": 503, "10": 415}


@pytest.fixture(scope="module")
def doc():
    return yaml.safe_load(DOC_PATH.read_text())


# -- the document -----------------------------------------------------------

def test_the_document_has_the_shape_of_openapi_3_1(doc):
    problems = sorted(jsonschema.Draft202012Validator(OPENAPI_SHAPE).iter_errors(doc), key=str)
    assert not problems, "; ".join(
        f"{'/'.join(map(str, p.absolute_path))}: {p.message}" for p in problems[:5])


def test_every_ref_resolves_and_every_schema_is_json_schema_2020_12(doc):
    for ref in refs(doc):
        assert ref.startswith("#/components/"), ref
        follow(doc, ref[1:])
    count = 0
    for where, schema in schemas(doc):
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            pytest.fail(f"{where}: {e.message}")
        count += 1
    assert count > 50, count


def test_operations_are_named_once_and_declare_their_path_parameters(doc):
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids)), ids
    for template, item in doc["paths"].items():
        in_path = set(re.findall(r"\{([^}]+)\}", template))
        for method in ("get", "put", "post", "delete"):
            if method not in item:
                continue
            declared = set()
            for p in item.get("parameters", []) + item[method].get("parameters", []):
                param = follow(doc, p["$ref"][1:])[1] if "$ref" in p else p
                if param["in"] == "path":
                    declared.add(param["name"])
            assert declared == in_path, f"{method} {template}: {declared} vs {in_path}"


def test_the_session_cookie_guards_everything_but_the_login(doc):
    scheme = doc["components"]["securitySchemes"]["session"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "cookie",
                                                             "calypso-session-id")
    assert doc["security"] == [{"session": []}]
    for _, _, op in operations(doc):
        open_to_all = op.get("security") == []
        assert open_to_all == (op["operationId"] == "login"), op["operationId"]
        # The API switch answers every operation; a missing session all
        # but login (401 for bad credentials) and logout (404).
        assert "403" in op["responses"], op["operationId"]
        if op["operationId"] != "logout":
            assert "401" in op["responses"], op["operationId"]


def test_every_error_answer_is_an_error_document_of_its_status(doc):
    for method, template, op in operations(doc):
        for status in op["responses"]:
            if int(status) < 400:
                continue
            _, answer = follow(doc, f"/paths/{escape(template)}/{method}/responses/{status}")
            schema = answer["content"]["application/json"]["schema"]
            assert schema["$ref"] == "#/components/schemas/Error", (op["operationId"], status)
    codes = set()
    for entry in doc["components"]["schemas"]["Error"]["oneOf"]:
        code = entry["properties"]["code"]["const"]
        status = entry["properties"]["httpStatusCode"]["const"]
        assert entry["properties"]["statusCode"]["const"] == status, code
        assert code not in codes, code
        codes.add(code)
        # The input family's two ours with their own HTTP status.
        family = {"010007": 416, "010008": 414}.get(code, FAMILY_STATUS[code[:2]])
        assert status == family, (code, status)


# -- the scenario -------------------------------------------------------------

class Client(Hmp):
    """An HMP client whose every answer is checked against the document;
    `outside` sends a request that is no operation of it."""

    def __init__(self, server, checker, address=None):
        super().__init__(server)
        self.checker = checker
        if address is not None:
            self.session.mount("https://", kraken.FromAddress(address))

    def request(self, *args, **kw):
        return self.checker.check(super().request(*args, **kw))

    def outside(self, response_name, method, path, body=None, **kw):
        return self.checker.check_outside(super().request(method, path, body, **kw),
                                          response_name)

    def follow_link(self, url):
        return self.checker.check(self.session.get(url, verify=self.verify,
                                                   timeout=kraken.REQUEST_TIMEOUT))


def call(client, method, template, body=None, **kw):
    """`method` on `template`, every id in it UNKNOWN."""
    path = re.sub(r"\{[^}]+\}", UNKNOWN, template)
    return client.request(method.upper(), path, body, **kw)


def every_operation(doc, client, expect, skip=()):
    """Calls every operation (writes with an empty JSON object) and asserts
    each answers `expect`, a status or {operationId: status}."""
    for method, template, op in operations(doc):
        if op["operationId"] in skip:
            continue
        body = {} if method in ("post", "put") else None
        resp = call(client, method, template, body=body)
        wanted = expect
        if isinstance(expect, dict):
            wanted = expect.get(op["operationId"], expect.get("*"))
        assert resp.status_code == wanted, f"{op['operationId']}: {resp.status_code} {resp.text}"


def status(resp, wanted, code=None):
    assert resp.status_code == wanted, f"{resp.status_code} {resp.text[:300]}"
    if code is not None:
        assert resp.json()["code"] == code, resp.text
    return resp.json() if resp.content and "json" in resp.headers["Content-Type"] else None


def logins(box, checker):
    """Login failures, a lockout, and the three roles logged in."""
    anonymous = Client(box.server, checker)
    every_operation(checker.doc, anonymous, {"logout": 404, "*": 401}, skip={"login"})
    login = "/apis/authentication/login"
    status(anonymous.post(login, raw='{"username": "admin"}', content_type="text/plain"), 415)
    status(anonymous.post(login, {"username": "admin"}), 400, "010001")
    status(anonymous.post(login, {"username": "admin", "password": 12345}), 400, "010001")
    status(anonymous.login("admin", "not the password"), 401, "020002")
    add_user(box.data_dir, "locked", "viewer")
    for i in range(10):
        status(Client(box.server, checker, f"127.0.0.{100 + i}").login("locked", "wrong"), 401)
    refused = Client(box.server, checker, "127.0.0.120").login("locked")
    status(refused, 403, "030001")
    assert int(refused.headers["Retry-After"]) >= 1
    clients = {}
    for name in ("admin", "op", "view"):
        clients[name] = Client(box.server, checker)
        status(clients[name].login(name), 200)
    return clients["admin"], clients["op"], clients["view"]


def outside_the_document(c):
    """Seed paths outside the subset, undefined methods, unknown paths."""
    c.outside("TierCAbsent", "GET", "/apis/categories")
    c.outside("TierCAbsent", "GET", f"/apis/streams/{UNKNOWN}")
    c.outside("TierCAbsent", "GET", f"/apis/assets/{UNKNOWN}/hotmarks/{UNKNOWN}")
    c.outside("TierCAbsent", "GET", "/apis/groups/enabled")
    c.outside("NotImplemented", "POST", "/apis/sources", {"name": "x", "type": "UDP"})
    c.outside("NotImplemented", "PUT", f"/apis/sources/{UNKNOWN}", {"name": "x"})
    c.outside("NotImplemented", "DELETE", f"/apis/streams/{UNKNOWN}")
    c.outside("NotImplemented", "POST", f"/apis/recordings/{UNKNOWN}/hotmarks", {"timestamp": 1})
    c.outside("MethodNotAllowed", "PATCH", "/apis/sessions", {"title": "x"})
    c.outside("MethodNotAllowed", "DELETE", "/apis/recordings")
    c.outside("MethodNotAllowed", "PUT", "/apis/authentication/login", {})
    c.outside("MethodNotAllowed", "POST", "/apis/system/version", {})
    c.outside("UnknownPath", "GET", "/apis/sources/a/b/c/d")
    c.outside("UnknownPath", "GET", "/apis/sessions/x/y/z/w")


def before_anything_exists(c, op, viewer):
    """Empty lists, unknown ids, refused roles, bad parameters."""
    status(c.get("/apis/authentication/login"), 200)
    status(c.get("/apis/system/version"), 200)
    users = status(c.get("/apis/users/enabled?pageSize=2&q="), 200)
    status(c.follow_link(users["paging"]["next"]), 200)
    status(c.get("/apis/users/enabled?pageSize=0"), 400, "010001")
    status(c.get("/apis/users/enabled?filter=category"), 400, "010002")
    status(c.get("/apis/users/enabled?q=nobody-like-this"), 404, "040012")
    for path in ("/apis/sessions", "/apis/recordings", "/apis/assets", "/apis/sources"):
        status(c.get(path), 404, "040012")
    status(c.get("/apis/events?q=nothing-like-this"), 404, "040012")
    every_operation(c.checker.doc, c, {
        "login": 400, "logout": 200, "listUsers": 200, "version": 200, "loginInfo": 200,
        "listSessions": 404, "listSources": 404, "listRecordings": 404, "listAssets": 404,
        "listEvents": 200, "createSession": 400, "addSessionSource": 400, "startRecording": 404,
        "changeRecording": 400, "*": 404}, skip={"logout"})
    for path in ("/apis/sessions/nope", "/apis/sources/nope", "/apis/recordings/nope",
                 "/apis/assets/nope", "/apis/sessions/nope/thumbnail"):
        status(c.get(path), 404)
    reads = {o["operationId"] for m, _, o in operations(c.checker.doc) if m == "get"}
    every_operation(c.checker.doc, viewer, 403, skip=reads | {"login", "logout"})
    status(op.post("/apis/sessions", {"title": "no"}), 403, "030000")
    for method, template, op in operations(c.checker.doc):
        names = [p["$ref"].rsplit("/", 1)[1] for p in op.get("parameters", []) if "$ref" in p]
        if "pageSize" in names:
            status(call(c, method, template, params={"pageSize": 0}), 400, "010001")
    status(c.get("/apis/sessions?page=0"), 400, "010001")
    status(c.get("/apis/sessions?pageSize=1001"), 400, "010001")
    status(c.get("/apis/sessions?sort=bogus"), 400, "010001")
    status(c.get("/apis/sessions?asc=2"), 400, "010001")
    status(c.get("/apis/assets?q=" + "x" * 300), 400, "010001")


def srt_source(box):
    """An SRT listener output that no stream feeds."""
    return kraken.create(box.client, "output", kraken.body("output", [
        ("name", "srt-listen"), ("streamType", "SRT"), ("srtMode", "listener"),
        ("srtLocalPort", str(kraken.free_port())), ("srtEncryption", "aes128"),
        ("srtPassphrase", "0123456789abc"), ("srtLatency", "250")]))


def sources(c, viewer, outputs, srt):
    listed = status(c.get("/apis/sources?pageSize=2"), 200)
    assert listed["paging"]["results"] == 3, listed
    status(c.follow_link(listed["paging"]["next"]), 200)
    status(c.get("/apis/sources?q=srt-LISTEN"), 200)
    status(c.get(f"/apis/sources/{outputs[0]}"), 200)
    assert status(c.get(f"/apis/sources/{srt}"), 200)["data"]["type"] == "SRT"
    assert status(viewer.get(f"/apis/sources/{srt}"), 200)["data"]["passphrase"] == "********"
    deadline = time.monotonic() + 20
    while c.get(f"/apis/sources/{outputs[0]}/thumbnail?width=64").status_code != 200:
        assert time.monotonic() < deadline, "no thumbnail"
        time.sleep(0.3)
    status(c.get(f"/apis/sources/{outputs[0]}/thumbnail?width=5"), 400, "010001")
    status(c.get(f"/apis/sources/{srt}/thumbnail"), 404, "040011")


def sessions(c):
    """Two sessions: "Doc" with the two live sources, "Other" empty."""
    status(c.post("/apis/sessions", {"title": 1}), 400, "010001")
    status(c.post("/apis/sessions", {"title": "x", "id": UNKNOWN}), 400, "010001")
    status(c.post("/apis/sessions", {"title": ""}), 400, "010001")
    status(c.post("/apis/sessions", raw='{"title": "x"}', content_type="text/plain"), 415)
    sid = status(c.post("/apis/sessions", {"title": "Doc", "syncrecord": True}), 201)["data"]["id"]
    other = status(c.post("/apis/sessions", {"title": "Other", "description": "none"}),
                   201)["data"]["id"]
    titles = [s["title"] for s in status(c.get("/apis/sessions?sort=title&asc=-1&filter="),
                                         200)["data"]]
    assert titles == ["Other", "Doc"], titles
    first = status(c.get("/apis/sessions?pageSize=1&q=%22o%22"), 200)
    status(c.follow_link(first["paging"]["next"]), 200)
    status(c.get(f"/apis/sessions/{sid}"), 200)
    status(c.put(f"/apis/sessions/{sid}", {"description": "d", "active": True, "id": sid}), 200)
    status(c.put(f"/apis/sessions/{sid}", {"title": 2}), 400, "010001")
    status(c.put(f"/apis/sessions/{sid}", {"id": UNKNOWN}), 400, "010001")
    status(c.put(f"/apis/sessions/{sid}", raw="{}", content_type="text/plain"), 415)
    status(c.get(f"/apis/sessions/{sid}/thumbnail"), 404, "040011")
    status(c.post(f"/apis/sessions/{sid}/recordings"), 409, "060009")
    status(c.get(f"/apis/sessions/{sid}/sources"), 404, "040012")
    return sid, other


def session_sources(c, sid, outputs):
    for index, output in enumerate(outputs):
        added = status(c.post(f"/apis/sessions/{sid}/sources", {"sourceId": output}), 201)
        assert added["data"] == {"sourceId": output, "index": index}
    status(c.post(f"/apis/sessions/{sid}/sources", {"sourceId": outputs[0]}), 409, "060008")
    status(c.post(f"/apis/sessions/{sid}/sources", {"sourceId": UNKNOWN}), 404, "040009")
    status(c.post(f"/apis/sessions/{sid}/sources", {"sourceId": 7}), 400, "010001")
    status(c.post(f"/apis/sessions/{sid}/sources", raw="{}", content_type="text/plain"), 415)
    status(c.get(f"/apis/sessions/{sid}/sources?pageSize=1"), 200)
    status(c.get(f"/apis/sessions/{sid}/thumbnail?width=64"), 200)
    status(c.get(f"/apis/sessions/{sid}/thumbnail?width=1921"), 400, "010001")


def recordings(c, op, sid, other, outputs, srt):
    """Two recordings of "Doc"; what cannot be done while they run."""
    one = status(op.post(f"/apis/sessions/{sid}/recordings",
                         {"recorders": [{"source": outputs[1]}, {"source": UNKNOWN}]}), 201)
    assert [r["source"] for r in one["data"]["recorders"]] == [outputs[1]], one
    rid = one["data"]["id"]
    both = status(c.post(f"/apis/sessions/{sid}/recordings"), 201)["data"]["id"]
    status(c.post(f"/apis/sessions/{other}/recordings"), 409, "060009")
    status(c.post(f"/apis/sessions/{sid}/recordings", {"recorders": "all"}), 400, "010001")
    status(c.post(f"/apis/sessions/{sid}/recordings", raw="x", content_type="text/plain"), 415)
    status(c.get("/apis/recordings?pageSize=1"), 200)
    status(c.get(f"/apis/sessions/{sid}/recordings"), 200)
    status(c.get(f"/apis/sessions/{other}/recordings"), 404, "040012")
    status(c.get(f"/apis/recordings/{rid}"), 200)
    status(c.delete(f"/apis/sessions/{sid}"), 409, "060003")
    status(c.delete(f"/apis/sessions/{sid}/sources/{outputs[0]}"), 409, "060003")
    status(c.post(f"/apis/sessions/{sid}/sources", {"sourceId": srt}), 409, "060003")
    status(c.get(f"/apis/assets/{rid}/download"), 409, "060019")
    status(c.delete(f"/apis/assets/{rid}"), 409, "060003")
    assert status(c.get(f"/apis/assets/{rid}"), 200)["data"]["recording"] is True
    status(c.get("/apis/assets?sort=ctime"), 200)
    assert status(op.put(f"/apis/recordings/{rid}", {"state": "PAUSED"}), 200)["data"]["state"] \
        == "PAUSED"
    status(op.put(f"/apis/recordings/{rid}", {"state": "PAUSED"}), 200)
    status(op.put(f"/apis/recordings/{rid}", {"state": "STOPPED"}), 400, "010001")
    status(op.put(f"/apis/recordings/{rid}", raw="{}", content_type="text/plain"), 415)
    status(op.put(f"/apis/recordings/{rid}", {"state": "RECORDING"}), 200)
    time.sleep(2)
    status(op.delete(f"/apis/recordings/{rid}"), 200)
    status(c.delete(f"/apis/recordings/{both}"), 200)
    status(c.get(f"/apis/recordings/{rid}"), 404, "040001")
    status(op.put(f"/apis/recordings/{rid}", {"state": "PAUSED"}), 404, "040001")
    status(op.delete(f"/apis/recordings/{rid}"), 404, "040001")
    status(c.get("/apis/recordings"), 404, "040012")
    return rid, both


def assets(c, sid, other, rid, both):
    status(c.get("/apis/assets?sort=duration&asc=-1&q=doc"), 200)
    status(c.get(f"/apis/sessions/{sid}/assets?sort=title&pageSize=1"), 200)
    status(c.get(f"/apis/sessions/{other}/assets"), 404, "040012")
    finished = status(c.get(f"/apis/assets/{both}"), 200)["data"]
    assert (finished["finish"], len(finished["tracks"])) == ("stopped", 2), finished
    status(c.put(f"/apis/assets/{rid}", {"title": "Kept", "id": rid}), 200)
    status(c.put(f"/apis/assets/{rid}", {"title": 5}), 400, "010001")
    status(c.put(f"/apis/assets/{rid}", {"title": "t" * 257}), 400, "010001")
    status(c.put(f"/apis/assets/{rid}", {"id": UNKNOWN}), 400, "010001")
    status(c.put(f"/apis/assets/{rid}", raw="{}", content_type="text/plain"), 415)
    whole = c.get(f"/apis/assets/{rid}/download")
    status(whole, 200)
    size = len(whole.content)
    assert c.get(f"/apis/assets/{rid}/download", headers={"Range": "bytes=0-187"}).content \
        == whole.content[:188]
    assert c.get(f"/apis/assets/{rid}/download?fileType=ts",
                 headers={"Range": "bytes=-188"}).content == whole.content[-188:]
    status(c.get(f"/apis/assets/{rid}/download", headers={"Range": f"bytes={size}-"}), 416)
    status(c.get(f"/apis/assets/{both}/download?track=1"), 200)
    status(c.get(f"/apis/assets/{rid}/download?track=1"), 404, "040015")
    status(c.get(f"/apis/assets/{rid}/download?track=first"), 400, "010001")
    status(c.get(f"/apis/assets/{rid}/download?fileType=mp4"), 400, "010001")
    status(c.delete(f"/apis/assets/{rid}"), 200)
    status(c.get(f"/apis/assets/{rid}"), 404, "040002")
    status(c.delete(f"/apis/assets/{rid}"), 404, "040002")
    status(c.get(f"/apis/assets/{rid}/download"), 404, "040002")


def events(c):
    kinds = {e["type"] for e in status(c.get("/apis/events?pageSize=1000"), 200)["data"]}
    assert {"stream-started", "recording-started", "recording-stopped",
            "login-lockout"} <= kinds, kinds
    status(c.get("/apis/events?q=recording-stopped&pageSize=1"), 200)


def tidy_sessions(c, sid, other, outputs):
    status(c.delete(f"/apis/sessions/{sid}/sources/{outputs[0]}"), 200)
    status(c.delete(f"/apis/sessions/{sid}/sources/{outputs[0]}"), 404, "040015")
    status(c.delete(f"/apis/sessions/{sid}/sources/nope"), 404, "040009")
    status(c.delete(f"/apis/sessions/{other}"), 200)
    status(c.get(f"/apis/sessions/{other}"), 404, "040006")
    # The appliance keeps at most 64 sessions.
    for n in range(63):
        status(c.post("/apis/sessions", {"title": f"s{n}"}), 201)
    status(c.post("/apis/sessions", {"title": "one too many"}), 409, "060000")


def with_the_api_switched_off(box, c):
    box.cli("api", "disable")
    deadline = time.monotonic() + 5
    while c.get("/apis/system/version").status_code != 403:
        assert time.monotonic() < deadline, "the API switch was not seen"
        time.sleep(0.1)
    every_operation(c.checker.doc, c, 403)


def test_every_operation_answers_as_the_document_says(doc, hmp_box):
    checker = Checker(doc)
    box = hmp_box
    c, op, viewer = logins(box, checker)
    outside_the_document(c)
    before_anything_exists(c, op, viewer)
    receivers = [Receiver(), Receiver()]
    path, outputs = live_outputs(box.client, [r.port for r in receivers], gop=25)
    srt = srt_source(box)
    try:
        kraken.set_stream_state(box.client, path, "start", "active", timeout=30)
        sources(c, viewer, outputs, srt)
        sid, other = sessions(c)
        session_sources(c, sid, outputs)
        rid, both = recordings(c, op, sid, other, outputs, srt)
        assets(c, sid, other, rid, both)
        events(c)
        tidy_sessions(c, sid, other, outputs)
    finally:
        kraken.set_stream_state(box.client, path, "stop", "stopped", timeout=30)
        for r in receivers:
            r.close()
    status(viewer.delete("/apis/authentication/login"), 200)
    status(viewer.delete("/apis/authentication/login"), 404, "040022")
    status(viewer.get("/apis/authentication/login"), 401, "020001")
    with_the_api_switched_off(box, c)

    documented = {(m, t) for m, t, _ in operations(doc)}
    assert documented - checker.seen == set(), "operations never exercised"
    unseen = {(m, t, s) for m, t, o in operations(doc) for s in o["responses"]} - checker.statuses
    unseen = {u for u in unseen if u[2] not in UNPROVOKED_STATUSES} - UNPROVOKED
    assert unseen == set(), f"documented statuses never seen: {sorted(unseen)}"
