"""HMP sources (the box's outputs), sessions, local recordings, assets,
downloads, thumbnails and events, over HTTPS with a cookie-keeping client,
against a running test-pattern stream (issue 10, points 4-8)."""

import time

import pytest

import kraken
import peers
from hmp import Hmp, err, live_outputs, ok
from mediacheck import Receiver, ffprobe

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def box(hmp_box):
    hmp_box.hmp.logged_in("admin")
    return hmp_box


@pytest.fixture
def live(box):
    """Two outputs of one running test-pattern stream, each to a receiver."""
    receivers = [Receiver(), Receiver()]
    # A key frame a second: a recording starts at one.
    path, outputs = live_outputs(box.client, [r.port for r in receivers], gop=25)
    kraken.set_stream_state(box.client, path, "start", "active", timeout=30)
    box.stream_path, box.outputs = path, outputs
    yield box
    kraken.set_stream_state(box.client, path, "stop", "stopped", timeout=30)
    for r in receivers:
        r.close()


def wait_until(what, check, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout} s"
        time.sleep(0.2)


def new_session(client, title="Studio A", **extra):
    return ok(client.post("/apis/sessions", {"title": title, **extra}), 201)["data"]


# ---------------------------------------------------------------- sources

def test_every_output_is_a_source_with_its_transport_activity_and_bitrate(live):
    hmp = live.hmp
    doc = ok(hmp.get("/apis/sources"))
    assert doc["paging"] == {"results": 2, "pageSize": 15}
    by_id = {s["id"]: s for s in doc["data"]}
    assert set(by_id) == set(live.outputs)
    src = by_id[live.outputs[0]]
    assert src["type"] == "UDP" and src["host"] == "127.0.0.1" and src["multicast"] is False
    assert isinstance(src["port"], int) and src["continuous"] is False
    assert src["name"].startswith("src0")
    active = wait_until("the source's bitrate",
                        lambda: (s := ok(hmp.get(f"/apis/sources/{live.outputs[0]}"))["data"])
                        ["bitrate"] > 0 and s)
    assert active["active"] is True
    # 400 kbit/s video plus audio and the mux: within a loose band.
    assert 200_000 < active["bitrate"] < 2_000_000, active
    err(hmp.get(f"/apis/sources/{UNKNOWN}"), 404, "040009", "SourceNotFound", "Source not found")
    err(hmp.get("/apis/sources/not-an-id"), 404, "040009")
    one = ok(hmp.get("/apis/sources?page=2&pageSize=1"))
    assert len(one["data"]) == 1 and "next" not in one["paging"]
    named = ok(hmp.get("/apis/sources?q=%22SRC1%22"))
    assert [s["id"] for s in named["data"]] == [live.outputs[1]]


def test_a_stopped_streams_sources_are_inactive_with_no_bitrate(live):
    kraken.set_stream_state(live.client, live.stream_path, "stop", "stopped", timeout=30)
    src = ok(live.hmp.get(f"/apis/sources/{live.outputs[0]}"))["data"]
    assert src["active"] is False and src["bitrate"] == 0
    err(live.hmp.get(f"/apis/sources/{live.outputs[0]}/thumbnail"), 404, "040011")
    kraken.set_stream_state(live.client, live.stream_path, "start", "active", timeout=30)


def test_a_source_thumbnail_is_a_jpeg_of_the_current_picture(live, tmp_path):
    resp = wait_until("a thumbnail", lambda: (
        r := live.hmp.get(f"/apis/sources/{live.outputs[0]}/thumbnail?width=160"))
        .status_code == 200 and r)
    assert resp.headers["Content-Type"] == "image/jpeg"
    jpeg = tmp_path / "thumb.jpg"
    jpeg.write_bytes(resp.content)
    video = ffprobe(jpeg, "-show_streams")["streams"][0]
    assert (video["codec_name"], video["width"], video["height"]) == ("mjpeg", 160, 90)
    err(live.hmp.get(f"/apis/sources/{live.outputs[0]}/thumbnail?width=9"), 400, "010001")
    err(live.hmp.get(f"/apis/sources/{UNKNOWN}/thumbnail"), 404, "040009")


# ---------------------------------------------------------------- sessions

def test_sessions_are_created_listed_edited_and_deleted(box):
    hmp = box.hmp
    err(hmp.get("/apis/sessions"), 404, "040012", "NoResults")
    made = new_session(hmp, "InfoDevSource", description="UDP", syncrecord=True)
    assert (made["title"], made["description"], made["syncrecord"], made["active"]) == \
        ("InfoDevSource", "UDP", True, False)
    assert made["recording"] is False and made["movieTrackCount"] == 0
    assert made["sources"] == [] and made["duration"] == 0
    assert isinstance(made["ctime"], int) and isinstance(made["mtime"], int)
    new_session(hmp, "alpha")
    new_session(hmp, "Zulu")
    titles = [s["title"] for s in ok(hmp.get("/apis/sessions?sort=title&asc=-1"))["data"]]
    assert titles == ["Zulu", "InfoDevSource", "alpha"]
    assert [s["title"] for s in ok(hmp.get("/apis/sessions?q=info"))["data"]] == ["InfoDevSource"]
    err(hmp.get("/apis/sessions?sort=size"), 400, "010001")
    err(hmp.get("/apis/sessions?filter=" + "category%3A%3A%22D%22+IN+%28%22j%22%29"),
        400, "010002", "InvalidFilter")
    edited = ok(hmp.put(f"/apis/sessions/{made['id']}", {"description": "changed"}))["data"]
    assert edited["title"] == "InfoDevSource" and edited["description"] == "changed"
    assert edited["syncrecord"] is True, "what a PUT leaves out stays as it was"
    assert ok(hmp.get(f"/apis/sessions/{made['id']}"))["data"] == edited
    resp = hmp.delete(f"/apis/sessions/{made['id']}")
    assert resp.status_code == 200 and resp.content == b""
    err(hmp.get(f"/apis/sessions/{made['id']}"), 404, "040006", "SessionNotFound",
        "Session not found")
    err(hmp.delete(f"/apis/sessions/{made['id']}"), 404, "040006")
    err(hmp.put(f"/apis/sessions/{UNKNOWN}", {"title": "x"}), 404, "040006")


@pytest.mark.parametrize("body,field", [
    ({}, "title"), ({"title": 5}, "title"), ({"title": "t", "syncrecord": "yes"}, "syncrecord"),
    ({"title": ""}, "title"), ({"title": "x" * 129}, "title"),
    ({"title": "t", "id": UNKNOWN}, "id"),
])
def test_a_bad_session_body_names_the_field(box, body, field):
    doc = err(box.hmp.post("/apis/sessions", body), 400, "010001", "InputValidation")
    assert field in doc["message"], doc


def test_session_sources_are_added_listed_and_removed(live):
    hmp = live.hmp
    s = new_session(hmp)
    first, second = live.outputs
    added = ok(hmp.post(f"/apis/sessions/{s['id']}/sources", {"sourceId": first}), 201)
    assert added == {"data": {"sourceId": first, "index": 0}}
    err(hmp.post(f"/apis/sessions/{s['id']}/sources", {"sourceId": first}), 409, "060008",
        "SessionSourceAlreadyExists", "Source already added to this session")
    ok(hmp.post(f"/apis/sessions/{s['id']}/sources", {"sourceId": second}), 201)
    listed = ok(hmp.get(f"/apis/sessions/{s['id']}/sources"))
    assert listed["data"] == [{"index": 0, "sourceId": first}, {"index": 1, "sourceId": second}]
    session = ok(hmp.get(f"/apis/sessions/{s['id']}"))["data"]
    assert session["sources"] == [first, second] and session["movieTrackCount"] == 2
    err(hmp.post(f"/apis/sessions/{s['id']}/sources", {"sourceId": UNKNOWN}), 404, "040009")
    err(hmp.post(f"/apis/sessions/{s['id']}/sources", {}), 400, "010001")
    err(hmp.post(f"/apis/sessions/{UNKNOWN}/sources", {"sourceId": first}), 404, "040006")
    resp = hmp.delete(f"/apis/sessions/{s['id']}/sources/{first}")
    assert resp.status_code == 200 and resp.content == b""
    err(hmp.delete(f"/apis/sessions/{s['id']}/sources/{first}"), 404, "040015")
    assert ok(hmp.get(f"/apis/sessions/{s['id']}"))["data"]["sources"] == [second]


# ---------------------------------------------------------------- recordings

def recorded_session(hmp, output, title):
    s = new_session(hmp, title)
    ok(hmp.post(f"/apis/sessions/{s['id']}/sources", {"sourceId": output}), 201)
    return s


def test_a_recording_downloads_as_h264_of_the_duration_recorded(live, tmp_path):
    hmp = live.hmp
    s = recorded_session(hmp, live.outputs[0], "Record me")
    err(hmp.get("/apis/recordings"), 404, "040012")
    started = time.monotonic()
    rec = ok(hmp.post(f"/apis/sessions/{s['id']}/recordings"), 201)["data"]
    rid = rec["id"]
    assert (rec["session"], rec["username"], rec["state"], rec["title"]) == \
        (s["id"], "admin", "RECORDING", "Record me")
    assert [r["source"] for r in rec["recorders"]] == [live.outputs[0]]
    assert rec["recorders"][0]["chunk"].startswith(f"asset-chunk://{rid}/")
    time.sleep(5)
    resp = hmp.delete(f"/apis/recordings/{rid}")
    wall = time.monotonic() - started
    assert resp.status_code == 200 and resp.content == b""
    err(hmp.get(f"/apis/recordings/{rid}"), 404, "040001", "RecordingNotFound",
        "Active recording not found")

    asset = ok(hmp.get(f"/apis/assets/{rid}"))["data"]
    assert asset["recording"] is False and asset["finish"] == "stopped"
    assert asset["title"] == "Record me" and asset["movieTrackCount"] == 1
    # It starts at a key frame (one a second) and ends at the stop.
    assert wall - 2.0 <= asset["duration"] <= wall + 0.5, (asset["duration"], wall)

    resp = hmp.get(f"/apis/assets/{rid}/download")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "video/mp2t"
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert int(resp.headers["Content-Length"]) == len(resp.content) == asset["size"]
    ts = tmp_path / "rec.ts"
    ts.write_bytes(resp.content)
    probe = ffprobe(ts, "-show_streams", "-show_format")
    video = [v for v in probe["streams"] if v["codec_type"] == "video"]
    assert [(v["codec_name"], v["width"], v["height"]) for v in video] == [("h264", 320, 180)]
    assert abs(float(probe["format"]["duration"]) - asset["duration"]) <= 1.0, \
        (probe["format"]["duration"], asset["duration"])

    part = hmp.get(f"/apis/assets/{rid}/download", headers={"Range": "bytes=188-375"})
    assert part.status_code == 206 and part.content == resp.content[188:376]
    assert part.headers["Content-Range"] == f"bytes 188-375/{len(resp.content)}"
    tail = hmp.get(f"/apis/assets/{rid}/download", headers={"Range": "bytes=-188"})
    assert tail.status_code == 206 and tail.content == resp.content[-188:]
    past = hmp.get(f"/apis/assets/{rid}/download",
                   headers={"Range": f"bytes={len(resp.content)}-"})
    assert past.status_code == 416 and past.headers["Content-Range"] == \
        f"bytes */{len(resp.content)}"
    err(hmp.get(f"/apis/assets/{rid}/download?fileType=mp4"), 400, "010001")
    err(hmp.get(f"/apis/assets/{rid}/download?track=1"), 404, "040015")
    err(hmp.get(f"/apis/assets/{UNKNOWN}/download"), 404, "040002")

    events = [(e["type"], e["subjectId"]) for e in ok(hmp.get("/apis/events?pageSize=100"))["data"]]
    assert ("recording-started", rid) in events and ("recording-stopped", rid) in events
    assert ("recording-stopped", rid) == events[0], "newest first"
    assert any(t == "stream-started" for t, _ in events)


def test_a_paused_recording_does_not_grow_and_a_live_one_locks_its_session(live):
    hmp = live.hmp
    s = recorded_session(hmp, live.outputs[0], "Pause me")
    rec = ok(hmp.post(f"/apis/sessions/{s['id']}/recordings"), 201)["data"]
    rid = rec["id"]
    assert ok(hmp.get(f"/apis/sessions/{s['id']}"))["data"]["recording"] is True
    assert [r["id"] for r in ok(hmp.get("/apis/recordings"))["data"]] == [rid]
    assert [r["id"] for r in ok(hmp.get(f"/apis/sessions/{s['id']}/recordings"))["data"]] == [rid]
    err(hmp.delete(f"/apis/sessions/{s['id']}"), 409, "060003", "RecordingInProgress",
        "Recording currently in progress")
    err(hmp.delete(f"/apis/sessions/{s['id']}/sources/{live.outputs[0]}"), 409, "060003")
    err(hmp.post(f"/apis/sessions/{s['id']}/sources", {"sourceId": live.outputs[1]}),
        409, "060003")
    err(hmp.get(f"/apis/assets/{rid}/download"), 409, "060019")
    err(hmp.delete(f"/apis/assets/{rid}"), 409, "060003")

    wait_until("the recording to grow",
               lambda: ok(hmp.get(f"/apis/recordings/{rid}"))["data"]["duration"] > 1.0)
    paused = ok(hmp.put(f"/apis/recordings/{rid}", {"state": "PAUSED"}))["data"]
    assert paused["state"] == "PAUSED" and paused["ctime"] == rec["ctime"]
    assert paused["recorders"][0]["state"] == "PAUSED"
    time.sleep(0.5)
    held = ok(hmp.get(f"/apis/recordings/{rid}"))["data"]["duration"]
    time.sleep(2)
    assert ok(hmp.get(f"/apis/recordings/{rid}"))["data"]["duration"] == held
    again = ok(hmp.put(f"/apis/recordings/{rid}", {"state": "PAUSED"}))["data"]
    assert again["state"] == "PAUSED", "pausing a paused recording is fine"
    assert ok(hmp.put(f"/apis/recordings/{rid}", {"state": "RECORDING"}))["data"]["state"] == \
        "RECORDING"
    wait_until("the resumed recording to grow",
               lambda: ok(hmp.get(f"/apis/recordings/{rid}"))["data"]["duration"] > held)
    err(hmp.put(f"/apis/recordings/{rid}", {"state": "STOPPED"}), 400, "010001",
        "InputValidation", "State should be either 'RECORDING' or 'PAUSED'")
    err(hmp.put(f"/apis/recordings/{UNKNOWN}", {"state": "PAUSED"}), 404, "040001")
    assert hmp.delete(f"/apis/recordings/{rid}").status_code == 200
    err(hmp.put(f"/apis/recordings/{rid}", {"state": "PAUSED"}), 404, "040001")
    err(hmp.delete(f"/apis/recordings/{rid}"), 404, "040001")
    assert ok(hmp.get(f"/apis/sessions/{s['id']}"))["data"]["recording"] is False
    resp = hmp.delete(f"/apis/sessions/{s['id']}")
    assert resp.status_code == 200, "a session no longer recording can go"


def test_assets_are_listed_edited_and_deleted(live):
    hmp = live.hmp
    s = new_session(hmp, "Edit me")
    ok(hmp.post(f"/apis/sessions/{s['id']}/sources", {"sourceId": live.outputs[1]}), 201)
    rid = ok(hmp.post(f"/apis/sessions/{s['id']}/recordings"), 201)["data"]["id"]
    during = ok(hmp.get("/apis/assets"))["data"]
    assert [(a["id"], a["recording"]) for a in during] == [(rid, True)]
    time.sleep(1)
    assert hmp.delete(f"/apis/recordings/{rid}").status_code == 200
    edited = ok(hmp.put(f"/apis/assets/{rid}", {"title": "Final cut"}))["data"]
    assert edited["title"] == "Final cut"
    assert ok(hmp.get("/apis/assets?q=final"))["data"][0]["id"] == rid
    assert [a["id"] for a in ok(hmp.get(f"/apis/sessions/{s['id']}/assets"))["data"]] == [rid]
    err(hmp.put(f"/apis/assets/{rid}", {"title": 3}), 400, "010001")
    err(hmp.get(f"/apis/assets/{UNKNOWN}"), 404, "040002", "AssetNotFound", "Video not found")
    assert hmp.delete(f"/apis/assets/{rid}").status_code == 200
    err(hmp.get(f"/apis/assets/{rid}"), 404, "040002")
    err(hmp.get("/apis/assets"), 404, "040012")


def test_recording_refusals_name_the_seeds_codes(live):
    hmp = live.hmp
    empty = new_session(hmp, "Empty")
    err(hmp.post(f"/apis/sessions/{empty['id']}/recordings"), 409, "060009",
        "SessionHasNoSource", "Session requires at least one source")
    err(hmp.post(f"/apis/sessions/{UNKNOWN}/recordings"), 404, "040006", "SessionNotFound")
    s = new_session(hmp, "Two")
    for out in live.outputs:
        ok(hmp.post(f"/apis/sessions/{s['id']}/sources", {"sourceId": out}), 201)
    rec = ok(hmp.post(f"/apis/sessions/{s['id']}/recordings",
                      {"recorders": [{"source": live.outputs[1]}, {"source": UNKNOWN}]}), 201)
    assert [r["source"] for r in rec["data"]["recorders"]] == [live.outputs[1]]
    assert hmp.delete(f"/apis/recordings/{rec['data']['id']}").status_code == 200
    err(hmp.post(f"/apis/sessions/{s['id']}/recordings", {"recorders": [{"source": UNKNOWN}]}),
        409, "060009")


def test_an_operator_records_but_cannot_change_sessions_and_a_viewer_only_reads(live):
    admin = live.hmp
    s = new_session(admin, "Roles")
    ok(admin.post(f"/apis/sessions/{s['id']}/sources", {"sourceId": live.outputs[0]}), 201)
    op, viewer = Hmp(live.server), Hmp(live.server)
    op.logged_in("op")
    viewer.logged_in("view")
    err(viewer.post(f"/apis/sessions/{s['id']}/recordings"), 403, "030000")
    rid = ok(op.post(f"/apis/sessions/{s['id']}/recordings"), 201)["data"]["id"]
    assert ok(viewer.get(f"/apis/recordings/{rid}"))["data"]["username"] == "op"
    ok(op.put(f"/apis/recordings/{rid}", {"state": "PAUSED"}))
    err(op.put(f"/apis/sessions/{s['id']}", {"title": "no"}), 403, "030000")
    err(viewer.delete(f"/apis/recordings/{rid}"), 403, "030000")
    assert op.delete(f"/apis/recordings/{rid}").status_code == 200
    err(op.delete(f"/apis/assets/{rid}"), 403, "030000")


def test_an_srt_output_is_a_continuous_srt_source_whose_passphrase_only_admins_see(box):
    rid = kraken.create(box.client, "output", kraken.body("output", [
        ("name", "srt-listen"), ("streamType", "SRT"), ("srtMode", "listener"),
        ("srtLocalPort", "9100"), ("srtEncryption", "aes128"),
        ("srtPassphrase", "0123456789abc"), ("srtLatency", "250")]))
    src = ok(box.hmp.get(f"/apis/sources/{rid}"))["data"]
    assert (src["type"], src["mode"], src["port"], src["latency"]) == ("SRT", "LISTENER", 9100, 250)
    assert src["continuous"] is True and src["active"] is False and src["bitrate"] == 0
    assert src["passphrase"] == "0123456789abc"
    viewer = Hmp(box.server)
    viewer.logged_in("view")
    assert ok(viewer.get(f"/apis/sources/{rid}"))["data"]["passphrase"] == "********"


def test_events_tell_a_network_input_lost_and_recovered(hmp_box, tmp_path):
    hmp = hmp_box.hmp
    hmp.logged_in("view")
    api = hmp_box.client
    sink = Receiver()
    port = peers.free_udp_port()
    input_id = peers.udp_ts_input(api, port)
    path = peers.make_stream(api, input_id, [peers.udp_output(api, sink.port)],
                             transcoder_id=peers.h264_transcoder(api, 320, 240, 25, bFrame=0))
    stream_id = path.rsplit("stream-", 1)[-1]
    sender = peers.ffmpeg_ts_sender(peers.media("h264"), port, tmp_path)

    def events(kind):
        resp = hmp.get(f"/apis/events?q={kind}&pageSize=100")
        return [] if resp.status_code == 404 else ok(resp)["data"]

    try:
        with sender:
            peers.start(api, path)
            peers.wait_until(api, path, peers.receiving, "receiving")
            wait_until("a stream-started event", lambda: events("stream-started"))
            sender.stop()
            lost = wait_until("an input-lost event", lambda: events("input-lost"))
            assert lost[0]["subjectId"] == input_id and lost[0]["detail"], lost
            sender.start()
            back = wait_until("an input-recovered event", lambda: events("input-recovered"))
            assert back[0]["subjectId"] == input_id, back
            assert back[0]["timeMs"] >= lost[0]["timeMs"]
            peers.stop(api, path)
            stopped = wait_until("a stream-stopped event", lambda: events("stream-stopped"))
            assert stopped[0]["subjectId"] == stream_id, stopped
    finally:
        sink.close()
