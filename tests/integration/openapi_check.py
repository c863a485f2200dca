"""Checking real HTTP answers against an OpenAPI 3.1 document (for
docs/hmp-openapi.yaml; see test_hmp_openapi.py).

A `Checker` finds the operation a request was for, and asserts that the
answer's status is one the operation documents, that its content type and
body are what that status documents (bodies are validated with jsonschema,
draft 2020-12, every `$ref` resolved against the whole document), that
the headers the document requires are there and match, and that no
significant header is sent that the document does not mention. It also
holds requests to what they promise: query parameters that break their
schema must be answered 400, a successful request may only carry
documented parameters and a body its operation accepts, and nothing but
the login succeeds without the session cookie. It remembers which
operations and statuses it saw."""

import json
import re
from urllib.parse import parse_qsl, urlsplit

import jsonschema
from jsonschema.exceptions import best_match

METHODS = ("get", "put", "post", "delete")

# Headers whose presence means something to a client: one sent where the
# document does not mention it is an error in the document or the server.
SIGNIFICANT_HEADERS = ("set-cookie", "allow", "retry-after", "content-range",
                       "accept-ranges", "content-disposition")


def escape(token):
    """One JSON-pointer token."""
    return token.replace("~", "~0").replace("/", "~1")


def at(doc, pointer):
    """The node at a JSON pointer (`/a/b`) of `doc`."""
    node = doc
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def follow(doc, pointer):
    """`pointer`, or where the `$ref` of the OpenAPI object there leads:
    (pointer, node)."""
    node = at(doc, pointer)
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        pointer = ref[1:]
        node = at(doc, pointer)
    return pointer, node


def operations(doc):
    """Every (method, path template, operation) of the document."""
    for template, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, template, item[method]


def template_regex(template):
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")


def coerce(value, schema):
    """A header or query text as the JSON value its schema speaks of."""
    wants_int = schema.get("type") == "integer" or (
        isinstance(schema.get("const"), int) and not isinstance(schema.get("const"), bool))
    if wants_int and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    return value


class Checker:
    """Validates answers against the document and remembers what it saw."""

    def __init__(self, doc):
        self.doc = doc
        self.templates = [(template_regex(t), t) for t in doc["paths"]]
        self.seen = set()        # (method, template)
        self.statuses = set()    # (method, template, status)
        self._validators = {}

    # -- schemas ---------------------------------------------------------

    def errors(self, pointer, instance):
        """What is wrong with `instance` by the schema at `pointer`. The
        validator's root is the whole document (its OpenAPI keys are not
        JSON Schema keywords), so every `#/components/...` reference
        resolves, whichever jsonschema version resolves it."""
        validator = self._validators.get(pointer)
        if validator is None:
            validator = jsonschema.Draft202012Validator({**self.doc, "$ref": "#" + pointer})
            self._validators[pointer] = validator
        found = list(validator.iter_errors(instance))
        if not found:
            return None
        worst = best_match(found)
        where = "/".join(map(str, worst.absolute_path)) or "(top)"
        return f"{where}: {worst.message} ({len(found)} error(s))"

    def assert_valid(self, pointer, instance, what):
        problem = self.errors(pointer, instance)
        assert problem is None, f"{what}: {problem}\n{str(instance)[:600]}"

    # -- operations ------------------------------------------------------

    def template_of(self, path):
        matches = [t for rx, t in self.templates if rx.match(path)]
        assert len(matches) <= 1, f"{path} matches {matches}"
        return matches[0] if matches else None

    def operation(self, method, path):
        template = self.template_of(path)
        assert template is not None, f"{path} is no path of the document"
        assert method in self.doc["paths"][template], \
            f"{method.upper()} {template} is not in the document"
        return template, f"/paths/{escape(template)}/{method}"

    def parameters(self, template, op_pointer):
        """The operation's parameters (its own and its path's), resolved:
        {(in, name): pointer}."""
        found = {}
        for owner in (f"/paths/{escape(template)}", op_pointer):
            for i, _ in enumerate(at(self.doc, owner).get("parameters", [])):
                pointer, param = follow(self.doc, f"{owner}/parameters/{i}")
                found[(param["in"], param["name"])] = pointer
        return found

    # -- answers ---------------------------------------------------------

    def check(self, resp):
        """Asserts that `resp` answers its request as the document says."""
        request = resp.request
        method = request.method.lower()
        url = urlsplit(request.url)
        template, op_pointer = self.operation(method, url.path)
        query = f"?{url.query}" if url.query else ""
        what = f"{request.method} {url.path}{query} -> {resp.status_code}"
        status = str(resp.status_code)
        responses = at(self.doc, op_pointer)["responses"]
        assert status in responses, f"{what}: status not documented: {resp.text[:300]}"
        pointer, answer = follow(self.doc, f"{op_pointer}/responses/{status}")
        self.check_content(resp, pointer, answer, what)
        self.check_headers(resp, pointer, answer, what)
        self.check_query(resp, template, op_pointer, url.query, what)
        self.check_request_body(resp, op_pointer, what)
        self.check_security(resp, op_pointer, what)
        self.seen.add((method, template))
        self.statuses.add((method, template, status))
        return resp

    def check_outside(self, resp, response_name):
        """Asserts that `resp` answers a request that is no operation of the
        document as components/responses/`response_name` says."""
        request = resp.request
        url = urlsplit(request.url)
        method = request.method.lower()
        template = self.template_of(url.path)
        what = f"{request.method} {url.path} -> {resp.status_code}"
        assert template is None or method not in self.doc["paths"][template], \
            f"{what}: this is an operation of the document"
        pointer, answer = follow(self.doc, f"/components/responses/{escape(response_name)}")
        self.check_content(resp, pointer, answer, what)
        self.check_headers(resp, pointer, answer, what)
        if template is not None and "allow" in resp.headers:
            allowed = {m.strip().lower() for m in resp.headers["allow"].split(",")}
            documented = {m for m in METHODS if m in self.doc["paths"][template]}
            assert documented <= allowed, f"{what}: Allow {allowed} lacks {documented - allowed}"
        return resp

    def check_content(self, resp, pointer, answer, what):
        content = answer.get("content")
        if not content:
            assert resp.content == b"", f"{what}: a body where none is documented"
            return
        kind = resp.headers.get("Content-Type", "").split(";")[0].strip()
        assert kind in content, f"{what}: Content-Type {kind!r}, documented {list(content)}"
        if kind == "application/json":
            self.assert_valid(f"{pointer}/content/{escape(kind)}/schema", resp.json(), what)
        elif kind == "image/jpeg":
            assert resp.content.startswith(b"\xff\xd8\xff"), f"{what}: not a JPEG"
        elif kind == "video/mp2t" and resp.status_code == 200:
            body = resp.content
            assert body[:1] == b"\x47" and len(body) % 188 == 0, f"{what}: not whole TS packets"

    def check_headers(self, resp, pointer, answer, what):
        documented = {name.lower() for name in answer.get("headers", {})}
        for name in answer.get("headers", {}):
            header_pointer, header = follow(self.doc, f"{pointer}/headers/{escape(name)}")
            value = resp.headers.get(name)
            if value is None:
                assert not header.get("required"), f"{what}: no {name} header"
                continue
            schema_pointer = f"{header_pointer}/schema"
            value = coerce(value, at(self.doc, schema_pointer))
            self.assert_valid(schema_pointer, value, f"{what}: header {name}")
        for name in SIGNIFICANT_HEADERS:
            assert name not in resp.headers or name in documented, \
                f"{what}: undocumented header {name}: {resp.headers[name]}"

    def check_query(self, resp, template, op_pointer, query, what):
        params = self.parameters(template, op_pointer)
        for name, value in parse_qsl(query, keep_blank_values=True):
            pointer = params.get(("query", name))
            if pointer is None:
                assert not resp.ok, f"{what}: succeeded with undocumented parameter {name}"
                continue
            schema_pointer = f"{pointer}/schema"
            value = coerce(value, at(self.doc, schema_pointer))
            problem = self.errors(schema_pointer, value)
            assert problem is None or resp.status_code == 400, \
                f"{what}: {name}={value!r} breaks its schema ({problem}) yet was not refused"

    def check_request_body(self, resp, op_pointer, what):
        if not resp.ok:
            return
        body_spec = at(self.doc, op_pointer).get("requestBody")
        sent = resp.request.body
        if body_spec is None:
            assert not sent, f"{what}: succeeded with a body the operation does not take"
            return
        if not sent:
            assert not body_spec.get("required"), f"{what}: succeeded without its required body"
            return
        self.assert_valid(f"{op_pointer}/requestBody/content/application~1json/schema",
                          json.loads(sent), f"{what}: the request body")

    def check_security(self, resp, op_pointer, what):
        security = at(self.doc, op_pointer).get("security", self.doc.get("security", []))
        if security and resp.ok:
            assert "calypso-session-id=" in resp.request.headers.get("Cookie", ""), \
                f"{what}: succeeded without the session cookie"


# -- the document itself -------------------------------------------------

def _ref(kind):
    target = {"type": "string", "pattern": f"^#/components/{kind}/[A-Za-z0-9]+$"}
    return {"type": "object", "required": ["$ref"], "additionalProperties": False,
            "properties": {"$ref": target}}


def _ref_or(kind, shape):
    return {"if": {"required": ["$ref"]}, "then": _ref(kind), "else": shape}


_TEXT = {"type": "string", "minLength": 1}
_SCHEMA = {"type": ["object", "boolean"]}
_MEDIA = {"type": "object", "required": ["schema"], "additionalProperties": False,
          "properties": {"schema": _SCHEMA}}
_CONTENT = {"type": "object", "minProperties": 1, "additionalProperties": _MEDIA,
            "propertyNames": {"pattern": "^[a-z]+/[a-z0-9.+-]+$"}}
_HEADER = {"type": "object", "required": ["schema"], "additionalProperties": False,
           "properties": {"description": _TEXT, "required": {"type": "boolean"},
                          "schema": _SCHEMA}}
_RESPONSE = {"type": "object", "required": ["description"], "additionalProperties": False,
             "properties": {"description": _TEXT, "content": _CONTENT,
                            "headers": {"type": "object",
                                        "additionalProperties": _ref_or("headers", _HEADER)}}}
_PARAMETER = {"type": "object", "required": ["name", "in", "schema"], "additionalProperties": False,
              "properties": {"name": _TEXT, "in": {"enum": ["query", "header", "path", "cookie"]},
                             "required": {"type": "boolean"}, "description": _TEXT,
                             "schema": _SCHEMA},
              "if": {"properties": {"in": {"const": "path"}}},
              "then": {"required": ["required"], "properties": {"required": {"const": True}}}}
_PARAMETERS = {"type": "array", "items": _ref_or("parameters", _PARAMETER)}
_OPERATION = {
    "type": "object", "required": ["operationId", "summary", "responses"],
    "additionalProperties": False,
    "properties": {
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "operationId": {"type": "string", "pattern": "^[a-z][A-Za-z]+$"},
        "summary": _TEXT, "description": _TEXT,
        "security": {"type": "array"},
        "parameters": _PARAMETERS,
        "requestBody": {"type": "object", "required": ["required", "content"],
                        "additionalProperties": False,
                        "properties": {"required": {"type": "boolean"}, "content": _CONTENT}},
        "responses": {"type": "object", "minProperties": 1,
                      "propertyNames": {"pattern": "^[1-5][0-9]{2}$"},
                      "additionalProperties": _ref_or("responses", _RESPONSE)},
    },
}
OPENAPI_SHAPE = {
    "type": "object", "required": ["openapi", "info", "paths", "components"],
    "additionalProperties": False,
    "properties": {
        "openapi": {"type": "string", "pattern": r"^3\.1\.[0-9]+$"},
        "jsonSchemaDialect": {"const": "https://json-schema.org/draft/2020-12/schema"},
        "info": {"type": "object", "required": ["title", "version", "description"]},
        "servers": {"type": "array", "minItems": 1,
                    "items": {"type": "object", "required": ["url"]}},
        "security": {"type": "array"},
        "tags": {"type": "array", "items": {"type": "object", "required": ["name"]}},
        "paths": {"type": "object", "minProperties": 1,
                  "propertyNames": {"pattern": "^/apis/[a-z/{}A-Z]+$"},
                  "additionalProperties": {
                      "type": "object", "minProperties": 1, "additionalProperties": False,
                      "properties": {"parameters": _PARAMETERS,
                                     **{m: _OPERATION for m in METHODS}}}},
        "components": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "securitySchemes": {"type": "object"},
                "parameters": {"type": "object", "additionalProperties": _PARAMETER},
                "headers": {"type": "object", "additionalProperties": _HEADER},
                "responses": {"type": "object", "additionalProperties": _RESPONSE},
                "schemas": {"type": "object", "additionalProperties": _SCHEMA},
            },
        },
    },
}


def refs(node):
    """Every `$ref` value anywhere in `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def schemas(doc):
    """Every JSON Schema of the document: (where, schema)."""
    for name, schema in doc["components"]["schemas"].items():
        yield f"components/schemas/{name}", schema

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "schema":
                    yield where, value
                elif key != "schemas":
                    yield from walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                yield from walk(item, f"{where}/{i}")

    yield from walk(doc["paths"], "paths")
    yield from walk(doc["components"], "components")
