"""Output health as a VMS sees it (issue 11): each output's counters in
the stream's ``<stats>`` (bytesSent, bitrate, ccErrors, pcrIntervalMaxMs,
pcrJitterMaxMs, sincePacketMs) and the same in ``GET /metrics``, the
Prometheus text format, which takes an HMP user's Basic credentials.

The Prometheus text is read by a strict parser written here (the format,
version 0.0.4): one HELP and one TYPE line before a family's samples,
families contiguous, names and labels to the grammar, escapes, values
that parse as floats, no series twice.
"""

import re
import time

import requests

import hmp
import kraken
import peers
from kraken import text
from mediacheck import Receiver

METRICS = "/metrics"
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# The sender wakes every 10 ms and sends what is due (a little early, up to
# its burst), so a PCR leaves up to about 10 ms from its time by design;
# the rest is room for a shared machine. A unit mistake (seconds for
# milliseconds, ticks for nanoseconds) is far outside it.
JITTER_LIMIT_MS = 25.0


# --------------------------------------------------------------------------
# A strict parser of the Prometheus text format 0.0.4
# --------------------------------------------------------------------------

def _label_value(line, i):
    """The escaped value from after its opening quote; returns (value, the
    index after its closing quote)."""
    out = []
    while True:
        assert i < len(line), f"unterminated label value: {line!r}"
        c = line[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            nxt = line[i + 1:i + 2]
            assert nxt in ("\\", '"', "n"), f"bad escape \\{nxt} in {line!r}"
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        assert c != "\n", f"raw line feed in a label value: {line!r}"
        out.append(c)
        i += 1


def _labels(line, i):
    """Labels from after ``{``; returns ({name: value}, index after ``}``)."""
    labels = {}
    if line[i] == "}":
        return labels, i + 1
    while True:
        m = LABEL_NAME.match(line, i)
        assert m, f"bad label name at {i} in {line!r}"
        name = m.group(0)
        assert not name.startswith("__"), f"reserved label {name} in {line!r}"
        i = m.end()
        assert line[i:i + 2] == '="', f"expected =\" after {name} in {line!r}"
        value, i = _label_value(line, i + 2)
        assert name not in labels, f"label {name} twice in {line!r}"
        labels[name] = value
        if line[i] == ",":
            i += 1
            continue
        assert line[i] == "}", f"expected , or }} at {i} in {line!r}"
        return labels, i + 1


def _value(token, line):
    if token in ("NaN", "+Inf", "-Inf"):
        return float(token.replace("Inf", "inf").replace("NaN", "nan"))
    assert re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", token), \
        f"bad value {token!r} in {line!r}"
    return float(token)


def parse_metrics(body):
    """{family: {"type", "help", "samples": {frozenset(labels): value}}}."""
    assert body.endswith("\n"), "the document must end with a line feed"
    families = {}
    current = None
    for line in body[:-1].split("\n"):
        assert line, "an empty line"
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, rest = line[2:6], line[7:]
            name, _, arg = rest.partition(" ")
            assert NAME.fullmatch(name), f"bad family name {name!r}"
            fam = families.setdefault(name, {"type": None, "help": None, "samples": {}})
            assert not fam["samples"], f"{kind} of {name} after its samples"
            key = "help" if kind == "HELP" else "type"
            assert fam[key] is None, f"a second {kind} for {name}"
            if kind == "TYPE":
                assert arg in ("counter", "gauge", "histogram", "summary", "untyped"), line
            else:
                assert "\n" not in arg
            fam[key] = arg
            current = name
            continue
        assert not line.startswith("#"), f"a comment we do not write: {line!r}"
        m = NAME.match(line)
        assert m, f"bad sample {line!r}"
        name, i = m.group(0), m.end()
        labels = {}
        if line[i:i + 1] == "{":
            labels, i = _labels(line, i + 1)
        assert line[i:i + 1] == " ", f"expected a space before the value: {line!r}"
        tokens = line[i + 1:].split(" ")
        assert 1 <= len(tokens) <= 2, f"value and at most a timestamp: {line!r}"
        value = _value(tokens[0], line)
        assert name == current, f"sample {name} outside its family ({current})"
        fam = families[name]
        assert fam["type"] and fam["help"] is not None, f"{name} without HELP and TYPE"
        key = frozenset(labels.items())
        assert key not in fam["samples"], f"series twice: {line!r}"
        fam["samples"][key] = value
    return families


def series(families, name, **labels):
    """The one sample of ``name`` whose labels include ``labels``."""
    assert name in families, f"no family {name}: {sorted(families)}"
    found = [v for k, v in families[name]["samples"].items() if set(labels.items()) <= k]
    assert len(found) == 1, f"{len(found)} samples of {name} with {labels}"
    return found[0]


def test_the_parser_is_strict():
    good = ('# HELP a_total Things.\n# TYPE a_total counter\n'
            'a_total{x="q\\"\\\\\\n"} 1\n# HELP b B.\n# TYPE b gauge\nb 0.5\n')
    fams = parse_metrics(good)
    assert series(fams, "a_total", x='q"\\\n') == 1
    for bad in ['# HELP b B.\n# TYPE b gauge\nb 0.5',           # no final line feed
                'b 1\n',                                       # no HELP/TYPE
                '# HELP b B.\n# TYPE b gauge\nb{x="\\t"} 1\n',  # bad escape
                '# HELP b B.\n# TYPE b gauge\nb 1\nb 2\n',      # twice
                '# HELP b B.\n# TYPE b gauge\nb one\n']:        # not a number
        try:
            parse_metrics(bad)
        except AssertionError:
            continue
        raise AssertionError(f"accepted {bad!r}")


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def metrics(server, auth=None, *, headers=None, address=None):
    """GET /metrics with Basic ``auth`` (user, password), from ``address``
    (in 127.0.0.0/8) if given."""
    with requests.Session() as s:
        if address:
            s.mount("https://", kraken.FromAddress(address))
        return s.get(f"https://127.0.0.1:{server.port}{METRICS}", auth=auth, headers=headers,
                     verify=kraken.tls_verify_setting(server), timeout=kraken.REQUEST_TIMEOUT)


def scrape(box):
    resp = metrics(box.server, ("view", hmp.PASSWORD))
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse_metrics(resp.text)


def health(stats_output):
    """The health elements of one ``<stats><outputs><output>``."""
    return {tag: peers.number(stats_output, tag)
            for tag in ("bytesSent", "bitrate", "ccErrors", "pcrIntervalMaxMs",
                        "pcrJitterMaxMs", "sincePacketMs")}


def received_bps(receiver, seconds):
    """The rate the receiver got over the last ``seconds``."""
    now = time.monotonic()
    got = sum(len(d) for t, d in list(receiver.datagrams) if t >= now - seconds)
    return got * 8 / seconds


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

def test_a_live_streams_outputs_report_their_health_in_stats_and_metrics(hmp_box, tmp_path):
    """TESTPATTERN -> H.264 -> a UDP output (received here) and an SRT
    listener output: up 0 while no caller is connected; once
    srt-live-transmit calls (and relays to here), both are up, without CC
    errors, at the rate that arrives, with small PCR jitter."""
    box = hmp_box
    api = box.client
    udp_rx, srt_rx = Receiver(), Receiver()
    srt_port = peers.free_udp_port()
    try:
        udp = peers.make(api, "output", [("name", "to VMS \"A\""),
                                         ("url", f"udp://127.0.0.1:{udp_rx.port}")])
        srt = peers.make(api, "output", [("name", "srt out"), ("streamType", "SRT"),
                                         ("srtMode", "listener"), ("srtLocalPort", srt_port)])
        path = peers.make_stream(api, peers.pattern_input(api), [udp, srt],
                                 transcoder_id=peers.h264_transcoder(api, 320, 180, kbps=800))
        stream_id = path.rsplit("stream-", 1)[1]
        peers.start(api, path)

        # No caller yet: the SRT output is down, the UDP output up.
        def srt_waits(el):
            return text(el, "state") == "waiting" and el.find("stats") is not None
        peers.wait_until(api, path, srt_waits, "waiting for a caller")
        fams = scrape(box)
        ids = dict(stream_id=stream_id)
        up_udp = series(fams, "makara_output_up", output_id=udp, **ids)
        up_srt = series(fams, "makara_output_up", output_id=srt, **ids)
        assert (up_udp, up_srt) == (1, 0)
        assert series(fams, "makara_stream_state", state="waiting", **ids) == 1
        assert series(fams, "makara_stream_state", state="active", **ids) == 0
        el = peers.get_stream(api, path)
        srt_stats = peers.output_stats(el, "srt out")
        assert "no caller" in text(srt_stats, "lastError"), peers._xml(srt_stats)
        assert srt_stats.find("sincePacketMs") is None, "nothing sent without a peer"

        caller = peers.srt_live_transmit(peers.srt_url(srt_port, "caller"),
                                         f"udp://127.0.0.1:{srt_rx.port}", tmp_path)
        with caller:
            peers.wait_state(api, path, "active")
            time.sleep(4)  # a few seconds of both outputs delivering
            el = peers.get_stream(api, path)
            fams = scrape(box)
            rates = {"udp": received_bps(udp_rx, 2), "srt": received_bps(srt_rx, 2)}
    finally:
        udp_rx.close()
        srt_rx.close()

    # <stats>: every output with its health.
    for name, kind in (("to VMS \"A\"", "udp"), ("srt out", "srt")):
        h = health(peers.output_stats(el, name))
        print(name, h, f"received {rates[kind]:.0f} bit/s")
        assert h["ccErrors"] == 0, h
        assert h["sincePacketMs"] < 1000, h
        assert 0 <= h["pcrJitterMaxMs"] < JITTER_LIMIT_MS, h
        assert 0 < h["pcrIntervalMaxMs"] < 100, h
        assert h["bytesSent"] > 0 and h["bytesSent"] % 188 == 0, h
        # The rate it says, near the rate that arrived, and above the
        # video's configured 800 kbit/s (audio and the mux come on top).
        assert 0.8 * rates[kind] < h["bitrate"] < 1.25 * rates[kind], (h, rates)
        assert 800_000 < h["bitrate"] < 2_000_000, h
    assert text(peers.output_stats(el, "srt out"), "connections") == "1"
    assert peers.output_stats(el, "srt out").find("lastError") is None

    # /metrics: the same outputs, labelled, with the same story.
    ids = dict(stream_id=stream_id)
    assert series(fams, "makara_stream_state", state="active", **ids) == 1
    stream_name = text(el, "name")
    for oid, name, kind in ((udp, "to VMS \"A\"", "udp"), (srt, "srt out", "srt")):
        labels = dict(output_id=oid, output_name=name, output_type=kind,
                      stream_name=stream_name, **ids)
        assert series(fams, "makara_output_up", **labels) == 1
        assert series(fams, "makara_output_cc_errors_total", **labels) == 0
        assert series(fams, "makara_output_bytes_total", **labels) > 0
        bps = series(fams, "makara_output_bitrate_bits_per_second", **labels)
        assert 0.8 * rates[kind] < bps < 1.25 * rates[kind], (bps, rates)
        assert series(fams, "makara_output_seconds_since_last_packet", **labels) < 1
        jitter = series(fams, "makara_output_pcr_jitter_max_seconds", **labels)
        assert 0 <= jitter < JITTER_LIMIT_MS / 1e3, jitter
        assert 0 < series(fams, "makara_output_pcr_interval_max_seconds", **labels) < 0.1
    for name in ("makara_output_bytes_total", "makara_output_cc_errors_total"):
        assert fams[name]["type"] == "counter"
    assert fams["makara_output_up"]["type"] == "gauge"
    version = [dict(k)["version"] for k in fams["makara_build_info"]["samples"]]
    assert len(version) == 1 and version[0], fams["makara_build_info"]
    assert series(fams, "makara_uptime_seconds") >= 4
    assert series(fams, "makara_metrics_streams_omitted") == 0


def test_a_bypass_outputs_cc_errors_count_the_gaps_in_its_input(hmp_box):
    """A bypass stream relays its input's packets as they are: packets the
    test leaves out of the input are continuity errors on the output."""
    box = hmp_box
    api = box.client
    data = peers.media("h264").read_bytes()[:188 * 7 * 1000]  # ~15 s at 1000 kbit/s
    video = peers.video_pid(peers.packets(data[:188 * 7 * 200]))
    port = peers.free_udp_port()
    sink = Receiver()
    try:
        out = peers.make(api, "output", [("name", "relay"),
                                         ("url", f"udp://127.0.0.1:{sink.port}")])
        path = peers.make_stream(api, peers.udp_ts_input(api, port), [out], mode="bypass")
        stream_id = path.rsplit("stream-", 1)[1]
        peers.start(api, path)
        with peers.TsSender(data, port, peers.MEDIA_KBPS) as sender:
            peers.wait_until(api, path, peers.receiving, "receiving")
            time.sleep(2)
            clean = health(peers.output_stats(peers.get_stream(api, path), "relay"))
            sender.drop(video, 5, every=30)
            peers.wait_until(api, path,
                             lambda el: health(peers.output_stats(el, "relay"))["ccErrors"] >= 5,
                             "showed the gaps")
            time.sleep(1)
            el = peers.get_stream(api, path)
            fams = scrape(box)
            dropped = sender.dropped
    finally:
        sink.close()
    assert clean["ccErrors"] == 0, clean
    assert dropped == 5
    h = health(peers.output_stats(el, "relay"))
    print("bypass output", h, "input", peers._xml(peers.input_stats(el)))
    assert h["ccErrors"] == dropped, h
    labels = dict(stream_id=stream_id, output_id=out)
    assert series(fams, "makara_output_cc_errors_total", **labels) == dropped
    # What the receiver got has the same gaps.
    errors = peers.continuity_errors(peers.packets(sink.ts()))
    assert errors.get(video) == dropped, errors


def test_metrics_take_an_hmp_users_credentials_and_lock_as_logins_do(hmp_box):
    box = hmp_box
    server = box.server
    resp = metrics(server)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith('Basic realm="makarad metrics"'), \
        resp.headers
    resp = metrics(server, ("view", "not the password"))
    assert resp.status_code == 401
    assert "WWW-Authenticate" in resp.headers
    # Kraken's OAuth is not a credential here.
    resp = box.client.get(METRICS)
    assert resp.status_code == 401, resp.text
    # Every role may read it, and a login cookie does too.
    for user in ("admin", "op", "view"):
        assert metrics(server, (user, hmp.PASSWORD)).status_code == 200, user
    # The cookie's path is /apis/, so a client sends it here by hand.
    box.hmp.logged_in("op")
    cookie = {"Cookie": f"{hmp.COOKIE}={box.hmp.cookie}"}
    resp = metrics(server, headers=cookie)
    assert resp.status_code == 200, resp.text
    parse_metrics(resp.text)
    stale = {"Cookie": f"{hmp.COOKIE}={'0' * 64}"}
    assert metrics(server, headers=stale).status_code == 401

    # Ten failures for a user lock it, here and at the HMP login, even with
    # the right password; other users are not locked.
    for i in range(10):
        resp = metrics(server, ("op", "guess"), address=f"127.0.0.{70 + i}")
        assert resp.status_code == 401, (i, resp.status_code)
    resp = metrics(server, ("op", hmp.PASSWORD), address="127.0.0.90")
    assert resp.status_code == 403, resp.text
    assert 0 < int(resp.headers["Retry-After"]) <= 300, resp.headers
    fresh_login = hmp.Hmp(server)
    try:
        assert fresh_login.login("op").status_code == 403
    finally:
        fresh_login.close()
    assert metrics(server, ("view", hmp.PASSWORD), address="127.0.0.91").status_code == 200
    assert "logins locked" in server.log_tail(300)


def test_the_api_switch_turns_metrics_off(hmp_box):
    box = hmp_box
    box.cli("api", "disable")
    deadline = time.monotonic() + 5
    while metrics(box.server, ("view", hmp.PASSWORD)).status_code != 403:
        assert time.monotonic() < deadline, "the switch was not seen"
        time.sleep(0.1)

