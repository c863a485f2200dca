"""Configuration resources (presets): save, list, get, activate, make
default, delete — under both configuration-{id} and config-{id}.

Activation replaces the whole current configuration, so every test here has
a server of its own (``fresh``)."""

import uuid

import pytest

import seed_bodies as seed
from kraken import (Kit, as_bool, assert_error, body, child, create, created_id, delete, edit,
                    expect, get_one, href_path, ids_by_name, items, link_to, self_link, text,
                    udp_output)

COLL = "/apis/kraken/configurations"


def defaults(client):
    return {text(it, "name"): as_bool(text(it, "defaultConfig")) for it in items(client, "configuration")}


def save(client, name):
    return create(client, "configuration", body("configuration", [("name", name)]))


def current_ids(client):
    return {kind: sorted(text(it, "uuid") for it in items(client, kind))
            for kind in ("input", "output", "transcoder", "stream")}


def test_empty_list(fresh):
    assert_error(fresh.client.get(COLL), 1001)


def test_save_get_list_and_duplicate_name(fresh):
    api = fresh.client
    kit = Kit(api)
    kit.make_stream()
    cid = created_id(api.post(COLL, seed.CONFIGURATION_CREATE), "configuration")
    for path in (f"{COLL}/configuration-{cid}", f"{COLL}/config-{cid}"):
        root = expect(api.get(path), 200)
        el = child(root, "configuration")
        assert text(el, "uuid") == cid
        assert text(el, "name") == "ConfigA"
        assert as_bool(text(el, "defaultConfig")) is False
        assert href_path(self_link(el)) == f"{COLL}/configuration-{cid}"
    (it,) = items(api, "configuration")
    assert {c.tag for c in it} == {"uuid", "name", "defaultConfig", "link"}
    assert text(it, "defaultConfig") in ("yes", "no"), "the seed lists yes/no"
    assert self_link(it) == link_to(api, "configuration", cid)
    # Names are unique.
    assert_error(api.post(COLL, seed.CONFIGURATION_CREATE), 1000)
    assert len(items(api, "configuration")) == 1


def test_name_is_required(fresh):
    assert_error(fresh.client.post(COLL, "<configuration></configuration>"), 1000,
                 mentions=["name"])


def test_activate_restores_the_saved_configuration(fresh):
    api = fresh.client
    kit = Kit(api)
    sid = kit.make_stream("saved-stream")
    saved = current_ids(api)
    saved_output = get_one(api, "output", kit.outputs[0])
    cid = created_id(api.post(COLL, seed.CONFIGURATION_CREATE), "configuration")

    # Change everything: drop the stream and an output, edit another, add one.
    delete(api, "stream", sid)
    delete(api, "output", kit.outputs[0])
    edit(api, "output", kit.outputs[1], udp_output(name="edited-after-save"))
    extra = create(api, "output", udp_output(name="added-after-save"))
    assert current_ids(api) != saved

    edit(api, "configuration", cid, seed.CONFIGURATION_ACTIVATE)
    assert current_ids(api) == saved, "the preset's resources, with their ids"
    assert_error(api.get(f"/apis/kraken/outputs/output-{extra}"), 1002)
    assert text(get_one(api, "output", kit.outputs[0]), "name") == text(saved_output, "name")
    assert "edited-after-save" not in ids_by_name(api, "output")
    el = get_one(api, "stream", sid)
    assert text(el, "name") == "saved-stream"
    assert text(el, "state") == "stopped"
    # Activation does not make it the default.
    assert defaults(api) == {"ConfigA": False}


def test_only_one_default(fresh):
    api = fresh.client
    a = created_id(api.post(COLL, seed.CONFIGURATION_CREATE), "configuration")
    b = save(api, "ConfigB")
    assert defaults(api) == {"ConfigA": False, "ConfigB": False}
    edit(api, "configuration", a, seed.CONFIGURATION_DEFAULT)
    assert defaults(api) == {"ConfigA": True, "ConfigB": False}
    edit(api, "configuration", b, seed.CONFIGURATION_ACTIVATE_AND_DEFAULT)
    assert defaults(api) == {"ConfigA": False, "ConfigB": True}
    root = expect(api.get(f"{COLL}/config-{b}"), 200)
    assert as_bool(text(child(root, "configuration"), "defaultConfig")) is True
    edit(api, "configuration", b, "<configuration><default>0</default></configuration>")
    assert defaults(api) == {"ConfigA": False, "ConfigB": False}


def test_edit_needs_activate_or_default(fresh):
    api = fresh.client
    cid = save(api, "ConfigA")
    for xml in ("<configuration></configuration>",
                "<configuration><name>Renamed</name></configuration>"):
        assert_error(api.put(f"{COLL}/configuration-{cid}", xml), 1004)
    assert defaults(api) == {"ConfigA": False}


@pytest.mark.parametrize("prefix", ["configuration", "config"])
def test_delete_under_both_spellings(fresh, prefix):
    api = fresh.client
    keep = save(api, "Keep")
    gone = save(api, "Gone")
    edit(api, "configuration", gone, seed.CONFIGURATION_DEFAULT)
    root = expect(api.delete(f"{COLL}/{prefix}-{gone}"), 200)
    assert href_path(self_link(root)) == COLL
    assert_error(api.get(f"{COLL}/configuration-{gone}"), 1002)
    assert_error(api.get(f"{COLL}/config-{gone}"), 1002)
    assert_error(api.delete(f"{COLL}/{prefix}-{gone}"), 1002)
    # Deleting the default cleared the default.
    assert defaults(api) == {"Keep": False}
    delete(api, "configuration", keep)
    assert_error(api.get(COLL), 1001)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("prefix", ["configuration", "config"])
def test_unknown_configuration_id(fresh, method, prefix):
    save(fresh.client, "Exists")
    resp = fresh.client.request(method, f"{COLL}/{prefix}-{uuid.uuid4()}",
                                seed.CONFIGURATION_DEFAULT if method == "PUT" else None)
    assert_error(resp, 1002)


def test_preset_survives_deleting_its_resources(fresh):
    """A preset is a copy: deleting the live resources does not touch it."""
    api = fresh.client
    kit = Kit(api)
    cid = save(api, "Copy")
    for oid in kit.outputs:
        delete(api, "output", oid)
    delete(api, "input", kit.input)
    delete(api, "transcoder", kit.transcoder)
    for kind in ("input", "output", "transcoder"):
        assert items(api, kind) == []
    edit(api, "configuration", cid, seed.CONFIGURATION_ACTIVATE)
    assert sorted(text(it, "uuid") for it in items(api, "output")) == sorted(kit.outputs)
    assert [text(it, "uuid") for it in items(api, "input")] == [kit.input]
