"""What is stored survives: restarts (SIGTERM and SIGKILL), the boot preset,
and a store that cannot be written (1003, nothing changed)."""

import shutil
import signal

import seed_bodies as seed
from kraken import (KINDS, Kit, assert_error, body, child, create, delete, edit, expect,
                    get_one, items, normalize, text, transcoder, ts_input, udp_output, unique)

COLLECTIONS = ("input", "output", "transcoder", "stream", "configuration")


def snapshot(client):
    """Every resource's full GET, comparable across servers."""
    out = {}
    for kind in COLLECTIONS:
        for it in items(client, kind):
            rid = text(it, "uuid")
            root = expect(client.get(f"/apis/kraken/{KINDS[kind]}/{kind}-{rid}"), 200)
            out[(kind, rid)] = normalize(child(root, kind))
    return out


def populate(client):
    create(client, "input", seed.INPUT_CREATE_STREAM)
    create(client, "input", seed.INPUT_CREATE_CAPTURE_CARD)
    create(client, "input", body("input", [("name", "srt-in"), ("streamType", "SRT"),
                                           ("srtMode", "listener"), ("srtLocalPort", "9000"),
                                           ("srtPassphrase", "ééééééééééé")]))
    create(client, "input", body("input", [("name", "pattern"), ("streamType", "TESTPATTERN")]))
    create(client, "output", seed.OUTPUT_CREATE)
    create(client, "output", body("output", [("name", "srt-out"), ("streamType", "SRT"),
                                             ("srtMode", "caller"), ("srtAddress", "127.0.0.1"),
                                             ("srtRemotePort", "9001"),
                                             ("srtEncryption", "aes256"),
                                             ("srtPassphrase", "0123456789")]))
    create(client, "transcoder", seed.TRANSCODER_CREATE_WITHOUT_SHAPING)
    kit = Kit(client)
    kit.make_stream("persisted", auto_start="false", description="kept")
    edit(client, "output", kit.outputs[1], udp_output("edited-before-restart", ttl=3))
    gone = create(client, "transcoder", transcoder("deleted-before-restart"))
    delete(client, "transcoder", gone)
    create(client, "configuration", seed.CONFIGURATION_CREATE)
    return kit


def test_everything_survives_a_restart(fresh):
    api = fresh.client
    populate(api)
    before = snapshot(api)
    assert len(before) == 13
    code, in_time = fresh.server.stop(signal.SIGTERM)
    assert in_time, "makarad did not exit within 10 s of SIGTERM"
    fresh.start()
    assert snapshot(api) == before
    assert "deleted-before-restart" not in {text(t, "name") for t in items(api, "transcoder")}


def test_acknowledged_writes_survive_sigkill(fresh):
    api = fresh.client
    kit = Kit(api)
    edit(api, "input", kit.input, ts_input("edited-then-killed"))
    delete(api, "output", kit.outputs[0])
    before = snapshot(api)
    fresh.restart(signal.SIGKILL)
    assert snapshot(api) == before


def test_keys_and_api_switch_survive_a_restart(fresh):
    api = fresh.client
    fresh.restart()
    expect(api.get("/apis/kraken/system"), 200)
    fresh.cli("api", "disable")
    fresh.restart()
    assert_error(api.get("/apis/kraken/system"), 1015)
    fresh.cli("api", "enable")
    fresh.restart()
    expect(api.get("/apis/kraken/system"), 200)


def test_boot_activates_the_default_preset(fresh):
    api = fresh.client
    kept = create(api, "output", udp_output("in-preset"))
    cid = create(api, "configuration", body("configuration", [("name", "boot")]))
    edit(api, "configuration", cid, seed.CONFIGURATION_DEFAULT)
    create(api, "output", udp_output("after-save"))
    edit(api, "output", kept, udp_output("renamed-after-save"))
    fresh.restart()
    outputs = {text(o, "uuid"): text(o, "name") for o in items(api, "output")}
    assert outputs == {kept: "in-preset"}
    (cfg,) = items(api, "configuration")
    assert text(cfg, "defaultConfig") == "yes"


def test_without_default_boot_keeps_the_current_configuration(fresh):
    api = fresh.client
    kept = create(api, "output", udp_output("in-preset"))
    create(api, "configuration", body("configuration", [("name", "not-default")]))
    later = create(api, "output", udp_output("after-save"))
    fresh.restart()
    assert {text(o, "uuid") for o in items(api, "output")} == {kept, later}


# --- A store that cannot be written ---------------------------------------------------

def block_store_writes(data_dir):
    """Makes every save of the slot store fail: the store writes
    ``<name>.<slot>.tmp`` and renames it over ``<name>.<slot>``; a directory in
    the temporary file's place makes that write fail (EISDIR) even for root.
    Returns the directories made, for ``unblock``."""
    made = []
    for slot in sorted(data_dir.rglob("*")):
        if "tls" in slot.relative_to(data_dir).parts or not slot.is_file():
            continue
        if slot.suffix not in (".a", ".b"):
            continue
        stem = slot.with_suffix("")
        for s in ("a", "b"):
            tmp = stem.parent / f"{stem.name}.{s}.tmp"
            if tmp.is_dir():
                continue
            if tmp.exists():
                tmp.unlink()
            tmp.mkdir()
            made.append(tmp)
    assert made, f"no slot files (<name>.a / <name>.b) found under {data_dir}"
    return made


def unblock(made):
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


def test_store_write_failure_changes_nothing(fresh):
    api = fresh.client
    oid = create(api, "output", udp_output("before-failure"))
    tid = create(api, "transcoder", transcoder("before-failure"))
    before = snapshot(api)
    made = block_store_writes(fresh.data_dir)
    try:
        name = unique("not-stored")
        assert_error(api.post("/apis/kraken/outputs", udp_output(name)), 1003)
        assert_error(api.put(f"/apis/kraken/outputs/output-{oid}", udp_output(name)), 1003)
        assert_error(api.delete(f"/apis/kraken/transcoders/transcoder-{tid}"), 1003)
        assert_error(api.post("/apis/kraken/configurations",
                              body("configuration", [("name", name)])), 1003)
        assert snapshot(api) == before, "a failed save changes nothing"
    finally:
        unblock(made)
    # Writable again: the same requests now work, and last.
    new = create(api, "output", udp_output("after-failure"))
    edit(api, "output", oid, udp_output("edited-after-failure"))
    fresh.restart(signal.SIGKILL)
    assert text(get_one(api, "output", new), "name") == "after-failure"
    assert text(get_one(api, "output", oid), "name") == "edited-after-failure"
    get_one(api, "transcoder", tid)
