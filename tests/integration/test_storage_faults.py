"""The data disk misbehaving (issue 8, points 8 and 10).

* A full disk is recoverable through the API: a create that cannot be saved
  changes nothing and leaves no temporary file, while deletes and
  ``makarad api-key revoke`` still work; the system report and the log say
  that disk space is low. The data directory is a 1 MiB tmpfs, so these
  tests need root (they are skipped otherwise, saying so).
* A damaged slot file is named in the log as the one that is damaged.
"""

import errno
import os
import subprocess

import pytest

import kraken
from kraken import (assert_error, child, create, delete, expect, items, text, ts_input)

LOW_SPACE_BYTES = 512 * 1024  # firmware/supervisor/src/disk.rs


def mount_tmpfs(path, size):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs as the data directory needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                          str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")


@pytest.fixture
def small_disk(appliance_factory):
    """An appliance whose data directory is a 1 MiB tmpfs."""
    app = appliance_factory(with_key=False, start=False)
    mount_tmpfs(app.data_dir, "1m")
    try:
        app.creds = kraken.create_key(app.data_dir)
        app.start()
        yield app
    finally:
        app.close()
        subprocess.run(["umount", str(app.data_dir)], check=False)


def fill(path):
    """Writes zeros to ``path`` until the file system is full."""
    block = b"\0" * 4096
    with open(path, "ab", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    return path


def storage_info(client):
    root = expect(client.get("/apis/kraken/system"), 200)
    info = child(child(root, "system"), "storageInfo")
    return {el.tag: int(el.text) for el in info}


def files(data_dir):
    """Every regular file under the data directory with its contents (the
    control socket is not data, and open() refuses it)."""
    out = {}
    for dirpath, _, names in os.walk(data_dir):
        for name in names:
            path = os.path.join(dirpath, name)
            if not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                out[os.path.relpath(path, data_dir)] = f.read()
    return out


def test_a_full_disk_refuses_growth_but_deletes_and_revokes(small_disk):
    app = small_disk
    api = app.client
    kept = create(api, "input", ts_input(name="kept"))
    doomed = [create(api, "input", ts_input(name=f"doomed-{i}", port=6001 + i))
              for i in range(3)]
    spare = kraken.create_key(app.data_dir)

    filler = fill(app.data_dir / "filler")
    on_disk = {k: v for k, v in files(app.data_dir).items() if k != "filler"}
    names = sorted(text(it, "name") for it in items(api, "input"))

    # Growth fails, changing nothing and leaving no temporary file.
    assert_error(api.post("/apis/kraken/inputs", ts_input(name="no-room")), 1003, status=500)
    assert {k: v for k, v in files(app.data_dir).items() if k != "filler"} == on_disk
    assert not [n for n in os.listdir(app.data_dir) if n.endswith(".tmp")]
    assert sorted(text(it, "name") for it in items(api, "input")) == names

    # Deleting works, again and again, with the disk filled up after each.
    for i, rid in enumerate(doomed):
        delete(api, "input", rid)
        fill(app.data_dir / f"filler-{i}")
    assert sorted(text(it, "name") for it in items(api, "input")) == ["kept"]

    # So does revoking a key, through the CLI (access.{a,b} on the same disk).
    app.cli("api-key", "revoke", spare.key)
    fill(filler)
    assert spare.key not in kraken.list_keys(app.data_dir)
    assert app.creds.key in kraken.list_keys(app.data_dir)

    # The box says so.
    info = storage_info(api)
    assert info["low_space"] == 1, info
    assert info["available_bytes"] < LOW_SPACE_BYTES, info
    assert "disk space is low" in app.server.log_tail(200)

    # What was acknowledged survives a restart; the rest never happened.
    app.restart()
    assert [text(it, "uuid") for it in items(api, "input")] == [kept]


def test_low_space_is_reported_while_it_lasts(small_disk):
    app = small_disk
    api = app.client
    before = storage_info(api)
    assert before["low_space"] == 0, before
    assert before["available_bytes"] > LOW_SPACE_BYTES, before
    assert before["total_bytes"] == 1 << 20, before
    filler = fill(app.data_dir / "filler")
    assert storage_info(api)["low_space"] == 1
    os.remove(filler)
    assert storage_info(api)["low_space"] == 0
    create(api, "input", ts_input(name="room-again"))
    assert "no longer low" in app.server.log_tail(200)


def test_the_log_names_the_damaged_slot(fresh):
    api = fresh.client
    first = create(api, "input", ts_input(name="first"))
    create(api, "input", ts_input(name="second"))
    fresh.server.stop()
    slots = {s: fresh.data_dir / f"config.{s}" for s in "ab"}
    generations = {s: int(p.read_bytes().split(b"gen=")[1].split(b" ")[0])
                   for s, p in slots.items()}
    older = min(generations, key=generations.get)
    newer = max(generations, key=generations.get)
    # Damage the older copy: the newest is intact and must be the one used.
    raw = bytearray(slots[older].read_bytes())
    raw[-1] ^= 0x01
    slots[older].write_bytes(bytes(raw))

    fresh.start()
    assert len(items(api, "input")) == 2, "the newest copy was used"
    warning = [line for line in fresh.server.log_tail(200).splitlines()
               if "configuration copy is damaged" in line]
    assert len(warning) == 1, fresh.server.log_tail(200)
    assert f"damaged={slots[older]}" in warning[0], warning[0]
    assert f"using={slots[newer]}" in warning[0], warning[0]
    assert text(child(expect(api.get(f"/apis/kraken/inputs/input-{first}"), 200), "input"),
                "name") == "first"
