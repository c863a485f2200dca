"""docs/hmp-openapi.yaml against a real makarad (issue 10, point 10): the
document is sound (its schemas are JSON Schema 2020-12, every $ref
resolves), and every answer of a scenario that calls every operation it
describes, errors included, has a status the document lists for that
operation, the content type it gives, and a body its schema accepts.
The scenario must touch every operation, so one added to the document
without being checked here fails the test."""

import re
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

import kraken
from hmp import Hmp, live_outputs
from mediacheck import Receiver

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "hmp-openapi.yaml"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
METHODS = ("get", "put", "post", "delete")


@pytest.fixture(scope="module")
def doc():
    return yaml.safe_load(DOC_PATH.read_text())


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_the_document_is_openapi_3_1_with_sound_schemas(doc):
    assert doc["openapi"].startswith("3.1")
    for ref in refs(doc):
        resolve(doc, ref)
    for name, schema in doc["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)
    for path, item in doc["paths"].items():
        assert path.startswith("/apis/"), path
        for method in METHODS:
            if method in item:
                assert item[method]["responses"], f"{method} {path}"


class Checker:
    """Validates answers against the document and remembers which
    operations were seen."""

    def __init__(self, doc):
        self.doc = doc
        self.seen = set()
        self.templates = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p)
                          for p in doc["paths"]]
        resolver_root = dict(doc)
        self.resolver = jsonschema.RefResolver.from_schema(resolver_root)

    def operation(self, method, path):
        matches = [t for rx, t in self.templates if rx.match(path)]
        assert len(matches) == 1, f"{path} matches {matches}"
        item = self.doc["paths"][matches[0]]
        assert method in item, f"{method.upper()} {matches[0]} is not in the document"
        return matches[0], item[method]

    def check(self, resp):
        method = resp.request.method.lower()
        path = re.sub(r"^https://[^/]+", "", resp.request.url).split("?")[0]
        template, op = self.operation(method, path)
        status = str(resp.status_code)
        assert status in op["responses"], \
            f"{method.upper()} {path} answered {status}, not documented: {resp.text[:300]}"
        answer = op["responses"][status]
        if "$ref" in answer:
            answer = resolve(self.doc, answer["$ref"])
        content = answer.get("content")
        if not content:
            assert resp.content == b"", f"{method.upper()} {path}: expected no body"
        else:
            kind = resp.headers.get("Content-Type", "").split(";")[0]
            assert kind in content, f"{method.upper()} {path} {status}: {kind} not in {list(content)}"
            if kind == "application/json":
                schema = content[kind]["schema"]
                validator = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
                errors = sorted(validator.iter_errors(resp.json()), key=str)
                assert not errors, (f"{method.upper()} {path} {status}: "
                                    + "; ".join(e.message for e in errors[:5]))
        self.seen.add((method, template))
        return resp


class Client(Hmp):
    """An HMP client whose every answer is checked against the document."""

    def __init__(self, server, checker):
        super().__init__(server)
        self.checker = checker

    def request(self, *args, **kw):
        return self.checker.check(super().request(*args, **kw))


def test_every_operation_answers_as_the_document_says(doc, hmp_box, tmp_path):
    checker = Checker(doc)
    box = hmp_box
    c = Client(box.server, checker)
    viewer = Client(box.server, checker)

    # Login, session information, logout, lockout-free errors.
    c.get("/apis/authentication/login")                                  # 401
    c.post("/apis/authentication/login", {"username": "admin"})          # 400
    c.post("/apis/authentication/login", raw="x", content_type="text/plain")  # 415
    c.login("admin", "wrong password")                                   # 401
    assert c.login("admin").status_code == 200
    assert viewer.login("view").status_code == 200
    c.get("/apis/authentication/login")
    c.get("/apis/system/version")
    c.get("/apis/users/enabled?pageSize=1")
    c.get("/apis/users/enabled?pageSize=0")                              # 400

    # Empty lists and unknown ids.
    for path in ["/apis/sessions", "/apis/recordings", "/apis/assets"]:
        assert c.get(path).status_code == 404
    c.get(f"/apis/sessions/{UNKNOWN}")
    c.get(f"/apis/sources/{UNKNOWN}")
    c.get(f"/apis/sources/{UNKNOWN}/thumbnail")
    c.get(f"/apis/recordings/{UNKNOWN}")
    c.get(f"/apis/assets/{UNKNOWN}")
    c.get(f"/apis/assets/{UNKNOWN}/download")
    c.put(f"/apis/recordings/{UNKNOWN}", {"state": "PAUSED"})
    c.delete(f"/apis/recordings/{UNKNOWN}")
    c.put(f"/apis/assets/{UNKNOWN}", {"title": "x"})
    c.delete(f"/apis/assets/{UNKNOWN}")
    c.put(f"/apis/sessions/{UNKNOWN}", {"title": "x"})
    c.delete(f"/apis/sessions/{UNKNOWN}")
    c.get(f"/apis/sessions/{UNKNOWN}/sources")
    c.get(f"/apis/sessions/{UNKNOWN}/recordings")
    c.get(f"/apis/sessions/{UNKNOWN}/assets")
    c.get(f"/apis/sessions/{UNKNOWN}/thumbnail")
    c.post(f"/apis/sessions/{UNKNOWN}/recordings")
    c.delete(f"/apis/sessions/{UNKNOWN}/sources/{UNKNOWN}")
    c.get("/apis/events?q=nothing-like-this")                            # 404

    # A live stream, its sources, a session.
    receivers = [Receiver(), Receiver()]
    path, outputs = live_outputs(box.client, [r.port for r in receivers], gop=25)
    try:
        kraken.set_stream_state(box.client, path, "start", "active", timeout=30)
        c.get("/apis/sources")
        c.get(f"/apis/sources/{outputs[0]}")
        deadline = time.monotonic() + 15
        while c.get(f"/apis/sources/{outputs[0]}/thumbnail?width=64").status_code != 200:
            assert time.monotonic() < deadline, "no thumbnail"
            time.sleep(0.3)
        c.get(f"/apis/sources/{outputs[0]}/thumbnail?width=5")           # 400
        viewer.post("/apis/sessions", {"title": "no"})                   # 403
        c.post("/apis/sessions", {"title": 1})                           # 400
        c.post("/apis/sessions", raw="{}", content_type="text/plain")    # 415
        sid = c.post("/apis/sessions", {"title": "Doc", "syncrecord": True}).json()["data"]["id"]
        c.get("/apis/sessions?sort=title&asc=-1")
        c.get("/apis/sessions?filter=x")                                 # 400
        c.get(f"/apis/sessions/{sid}")
        c.put(f"/apis/sessions/{sid}", {"description": "d"})
        c.get(f"/apis/sessions/{sid}/thumbnail")                         # 404: no source yet
        c.post(f"/apis/sessions/{sid}/recordings")                       # 409: no source
        c.post(f"/apis/sessions/{sid}/sources", {"sourceId": outputs[0]})
        c.post(f"/apis/sessions/{sid}/sources", {"sourceId": outputs[0]})  # 409
        c.post(f"/apis/sessions/{sid}/sources", {"sourceId": UNKNOWN})     # 404
        c.get(f"/apis/sessions/{sid}/sources")
        c.get(f"/apis/sessions/{sid}/thumbnail?width=64")

        # A recording, paused, resumed, stopped, downloaded, deleted.
        rid = c.post(f"/apis/sessions/{sid}/recordings").json()["data"]["id"]
        c.get("/apis/recordings")
        c.get(f"/apis/sessions/{sid}/recordings")
        c.get(f"/apis/recordings/{rid}")
        c.delete(f"/apis/sessions/{sid}")                                # 409
        c.delete(f"/apis/sessions/{sid}/sources/{outputs[0]}")           # 409
        c.get(f"/apis/assets/{rid}/download")                            # 409
        c.delete(f"/apis/assets/{rid}")                                  # 409
        c.put(f"/apis/recordings/{rid}", {"state": "PAUSED"})
        c.put(f"/apis/recordings/{rid}", {"state": "STOPPED"})           # 400
        viewer.put(f"/apis/recordings/{rid}", {"state": "RECORDING"})    # 403
        c.put(f"/apis/recordings/{rid}", {"state": "RECORDING"})
        time.sleep(2)
        c.delete(f"/apis/recordings/{rid}")
        c.get("/apis/assets")
        c.get(f"/apis/sessions/{sid}/assets")
        c.get(f"/apis/assets/{rid}")
        c.put(f"/apis/assets/{rid}", {"title": "Kept"})
        c.put(f"/apis/assets/{rid}", {"title": 5})                       # 400
        whole = c.get(f"/apis/assets/{rid}/download")
        assert whole.status_code == 200 and whole.content
        c.get(f"/apis/assets/{rid}/download", headers={"Range": "bytes=0-187"})
        c.get(f"/apis/assets/{rid}/download", headers={"Range": f"bytes={len(whole.content)}-"})
        c.get(f"/apis/assets/{rid}/download?fileType=mp4")               # 400
        c.get(f"/apis/assets/{rid}/download?track=3")                    # 404
        c.get("/apis/events?pageSize=5")
        c.delete(f"/apis/assets/{rid}")
        c.delete(f"/apis/sessions/{sid}/sources/{outputs[0]}")
        c.delete(f"/apis/sessions/{sid}/sources/{outputs[0]}")           # 404
        c.delete(f"/apis/sessions/{sid}")
    finally:
        kraken.set_stream_state(box.client, path, "stop", "stopped", timeout=30)
        for r in receivers:
            r.close()
    c.delete("/apis/authentication/login")
    c.delete("/apis/authentication/login")                               # 404

    documented = {(m, p) for p, item in doc["paths"].items() for m in METHODS if m in item}
    assert documented - checker.seen == set(), "operations never checked"
