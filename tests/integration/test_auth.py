"""Two-legged OAuth 1.0 (HMAC-SHA1), HTTPS only, and the API switch and keys
managed with the makarad command line while the server runs."""

import time

import requests
from requests_oauthlib import OAuth1

import kraken
from kraken import (Credentials, assert_error, child, create_key, expect, items, list_keys,
                    parse, text, udp_output, unique)

SYSTEM = "/apis/kraken/system"
# docs: "A running server sees changes within one second." Poll a bit longer.
SEEN_WITHIN = 3.0


def assert_unauthorized(resp):
    assert_error(resp, 1014)
    challenge = resp.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("OAuth"), f"WWW-Authenticate: {challenge!r}"
    assert 'realm="makara"' in challenge, f"WWW-Authenticate: {challenge!r}"


def poll(request, done, timeout=SEEN_WITHIN):
    """Repeats ``request()`` until ``done(resp)``; returns the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        resp = request()
        if done(resp) or time.monotonic() > deadline:
            return resp
        time.sleep(0.1)


def ok(client, creds=None):
    return client.get(SYSTEM, auth=client.auth(creds) if creds else kraken._DEFAULT)


# --- Signatures ------------------------------------------------------------------------

def test_signed_request_is_answered(api):
    child(expect(api.get(SYSTEM), 200), "system")


def test_missing_authorization(api):
    assert_unauthorized(api.get(SYSTEM, auth=None))
    assert_unauthorized(api.get("/apis/kraken/inputs", auth=None))
    name = unique("unsigned")
    assert_unauthorized(api.post("/apis/kraken/outputs", udp_output(name), auth=None))
    assert name not in {text(it, "name") for it in items(api, "output")}


def test_wrong_secret(api):
    wrong = Credentials(api.creds.key, api.creds.secret + "x")
    assert_unauthorized(api.get(SYSTEM, auth=kraken.oauth(wrong)))


def test_unknown_consumer_key(api):
    unknown = Credentials("no-such-key-" + unique("k"), api.creds.secret)
    assert_unauthorized(api.get(SYSTEM, auth=kraken.oauth(unknown)))


def test_replayed_nonce(api):
    prepared = api.prepare("GET", SYSTEM)
    expect(api.send(prepared), 200)
    assert_unauthorized(api.send(prepared))


def test_replayed_create_is_refused_and_creates_once(api):
    name = unique("replay")
    prepared = api.prepare("POST", "/apis/kraken/outputs", udp_output(name))
    expect(api.send(prepared), 201)
    assert_unauthorized(api.send(prepared))
    listed = [text(it, "name") for it in items(api, "output")]
    assert listed.count(name) == 1


def test_timestamp_more_than_ten_minutes_old(api):
    stale = str(int(time.time()) - 11 * 60)
    assert_unauthorized(api.get(SYSTEM, auth=api.auth(timestamp=stale)))


def test_timestamp_more_than_ten_minutes_ahead(api):
    ahead = str(int(time.time()) + 11 * 60)
    assert_unauthorized(api.get(SYSTEM, auth=api.auth(timestamp=ahead)))


def test_timestamp_within_ten_minutes(api):
    for delta in (-9 * 60, 9 * 60):
        ts = str(int(time.time()) + delta)
        expect(api.get(SYSTEM, auth=api.auth(timestamp=ts)), 200)


def test_only_hmac_sha1(api):
    assert_unauthorized(api.get(SYSTEM, auth=api.auth(signature_method="PLAINTEXT")))


def test_query_is_signed(api):
    prepared = api.prepare("GET", "/apis/kraken/outputs")
    prepared.url += "?foo=1"  # were the query unsigned, this would be 400/1013
    assert_unauthorized(api.send(prepared))


def test_signature_in_query_parameters(api):
    child(expect(api.get(SYSTEM, auth=api.auth(signature_type="query")), 200), "system")


def test_signature_in_form_body(api):
    """A form-encoded body is no XML: it is refused (415, 1011) from its
    Content-Type, before any of it is read, so oauth_* parameters must come
    in the Authorization header or the query."""
    auth = api.auth(signature_type="body")
    resp = api.request("POST", "/apis/kraken/outputs", b"", auth=auth,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(resp, 1011, status=415)


def test_plain_http_is_not_authorized(api):
    url = f"http://127.0.0.1:{api.port}{SYSTEM}"
    resp = requests.get(url, auth=kraken.oauth(api.creds), timeout=kraken.REQUEST_TIMEOUT)
    assert resp.status_code == 401, kraken.describe(resp)
    root = parse(resp)
    assert text(child(root, "error"), "code") == "1014"
    assert text(child(root, "error"), "message").startswith("Not Authorized")
    # The TLS side is unharmed.
    expect(api.get(SYSTEM), 200)


# --- Keys and the API switch, from the command line, while serving ----------------------

def test_fresh_data_dir_has_no_keys_and_the_api_off(appliance_factory):
    app = appliance_factory(with_key=False)
    assert app.cli("api-key", "list").stdout.strip() == ""
    client = kraken.Client(app.server, Credentials("none", "none"))
    assert_error(client.get(SYSTEM, auth=None), 1015)
    assert_error(client.get(SYSTEM), 1015)  # disabled comes before the signature check
    creds = create_key(app.data_dir)  # enables the API
    assert list_keys(app.data_dir) == [creds.key]
    resp = poll(lambda: client.get(SYSTEM, auth=kraken.oauth(creds)),
                lambda r: r.status_code == 200)
    expect(resp, 200)


def test_api_disable_and_enable_while_serving(fresh):
    api = fresh.client
    expect(ok(api), 200)
    fresh.cli("api", "disable")
    start = time.monotonic()
    resp = poll(lambda: ok(api), lambda r: r.status_code == 403)
    assert_error(resp, 1015)
    assert time.monotonic() - start <= SEEN_WITHIN
    assert_error(api.get(SYSTEM, auth=None), 1015)
    assert_error(api.post("/apis/kraken/outputs", udp_output()), 1015)
    assert list_keys(fresh.data_dir) == [fresh.creds.key], "disabling keeps the keys"
    fresh.cli("api", "enable")
    expect(poll(lambda: ok(api), lambda r: r.status_code == 200), 200)


def test_api_key_create_enables_a_disabled_api(fresh):
    api = fresh.client
    fresh.cli("api", "disable")
    assert_error(poll(lambda: ok(api), lambda r: r.status_code == 403), 1015)
    second = create_key(fresh.data_dir)
    expect(poll(lambda: ok(api, second), lambda r: r.status_code == 200), 200)
    expect(ok(api), 200)


def test_new_key_is_seen_by_a_running_server(fresh):
    api = fresh.client
    second = create_key(fresh.data_dir)
    assert second.key != fresh.creds.key
    expect(poll(lambda: ok(api, second), lambda r: r.status_code == 200), 200)
    assert sorted(list_keys(fresh.data_dir)) == sorted([fresh.creds.key, second.key])


def test_revoked_key_is_refused(fresh):
    api = fresh.client
    second = create_key(fresh.data_dir)
    expect(poll(lambda: ok(api, second), lambda r: r.status_code == 200), 200)
    fresh.cli("api-key", "revoke", fresh.creds.key)
    start = time.monotonic()
    resp = poll(lambda: ok(api), lambda r: r.status_code == 401)
    assert_unauthorized(resp)
    assert time.monotonic() - start <= SEEN_WITHIN
    expect(ok(api, second), 200)
    assert list_keys(fresh.data_dir) == [second.key]


def test_keys_are_distinct_and_secrets_not_interchangeable(fresh):
    other = create_key(fresh.data_dir)
    assert other.key != fresh.creds.key and other.secret != fresh.creds.secret
    # A key with another key's secret is not authorized.
    mixed = Credentials(other.key, fresh.creds.secret)
    resp = poll(lambda: ok(fresh.client, other), lambda r: r.status_code == 200)
    expect(resp, 200)
    assert_unauthorized(fresh.client.get(SYSTEM, auth=kraken.oauth(mixed)))


def test_oauth1_object_as_documented(api):
    """The exact call the README and scripts/run suggest."""
    auth = OAuth1(api.creds.key, client_secret=api.creds.secret, signature_method="HMAC-SHA1",
                  signature_type="auth_header")
    resp = requests.get(f"{api.base}{SYSTEM}", auth=auth, verify=api.verify,
                        timeout=kraken.REQUEST_TIMEOUT)
    child(expect(resp, 200), "system")
