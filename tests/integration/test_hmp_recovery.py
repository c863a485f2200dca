"""Local recordings surviving what goes wrong, through the HMP JSON API of a
real makarad (issue 10, point 6):

* a recording cut short by a SIGKILL is finalised on the next start, up to
  its last whole packet (a torn packet left at the end of the file is cut
  off), as an asset that finished ``interrupted``, with an event;
* a full data disk stops a recording cleanly (``disk-full``, an event, a
  detail naming the problem), refuses new recordings (500 ``070027``)
  while it lasts, and damages nothing else: the files outside the
  recordings keep their bytes and the configuration loads after a restart.

The recorder's limits (makara_recorder::limits) are not configurable
through makarad: a recording needs 64 MiB free to start and stops below
32 MiB free. So the full-disk tests start recording on an 80 MiB tmpfs and
then fill it from the test. Mounting a tmpfs needs root: those tests are
skipped otherwise, saying so.
"""

import errno
import hashlib
import os
import re
import signal
import subprocess
import time
import tomllib

import pytest

import kraken
from hmp import Hmp, add_user, err, live_outputs, ok
from mediacheck import Receiver, ffprobe
from test_storage_faults import mount_tmpfs

PACKET = 188
MIB = 1 << 20
# makara_recorder::limits
MIN_FREE_BYTES = 64 * MIB
KEEP_FREE_BYTES = 32 * MIB
SYNC_INTERVAL = 2.0
# SYNC_INTERVAL * SYNCS_PER_CHECKPOINT: the metadata's checkpoint.
CHECKPOINT_SECS = 10
# The tmpfs of the full-disk tests: room to start a recording, no more.
DISK_SIZE = "80m"
FILLER = "filler"


# ---------------------------------------------------------------- helpers

def wait_until(what, check, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout} s"
        time.sleep(0.2)


class Studio:
    """An appliance (with an HMP user ``admin``) with the administrator
    logged in, a running test-pattern stream with one UDP output (a key
    frame a second), and an HMP session recording that output."""

    def __init__(self, app, kbps):
        self.app = app
        self.hmp = Hmp(app.server)
        self.hmp.logged_in("admin")
        self.receiver = Receiver()
        self.stream_path, (self.output,) = live_outputs(
            app.client, [self.receiver.port], kbps=kbps, gop=25)
        kraken.set_stream_state(app.client, self.stream_path, "start", "active", timeout=30)
        session = ok(self.hmp.post("/apis/sessions", {"title": "Studio"}), 201)["data"]
        self.session = session["id"]
        ok(self.hmp.post(f"/apis/sessions/{self.session}/sources",
                         {"sourceId": self.output}), 201)

    def record(self):
        """Starts a recording of the session; its id."""
        rec = ok(self.hmp.post(f"/apis/sessions/{self.session}/recordings"), 201)["data"]
        assert rec["state"] == "RECORDING", rec
        return rec["id"]

    def live_duration(self, rid):
        return ok(self.hmp.get(f"/apis/recordings/{rid}"))["data"]["duration"]

    def asset(self, rid):
        return ok(self.hmp.get(f"/apis/assets/{rid}"))["data"]

    def relogin(self):
        """After a restart: login sessions live in memory, so the old cookie
        is no longer a session."""
        self.hmp.close()
        self.hmp = Hmp(self.app.server)
        self.hmp.logged_in("admin")

    def close(self):
        self.hmp.close()
        self.receiver.close()


def events_of(hmp, rid):
    return [e for e in ok(hmp.get("/apis/events?pageSize=100"))["data"]
            if e["subjectId"] == rid]


def downloaded(hmp, rid, asset, path):
    """Downloads the asset to ``path``; checks it is whole packets of the
    asset's size and that ffprobe reads one H.264 video of about the
    asset's duration. Returns ffprobe's duration."""
    resp = hmp.get(f"/apis/assets/{rid}/download")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "video/mp2t", resp.text
    assert len(resp.content) == asset["size"] > 0, (len(resp.content), asset["size"])
    assert len(resp.content) % PACKET == 0, len(resp.content)
    assert resp.content[::PACKET] == b"\x47" * (len(resp.content) // PACKET), \
        "every 188 bytes start with the sync byte"
    path.write_bytes(resp.content)
    probe = ffprobe(path, "-show_streams", "-show_format")
    video = [(v["codec_name"], v["width"], v["height"]) for v in probe["streams"]
             if v["codec_type"] == "video"]
    assert video == [("h264", 320, 180)], probe["streams"]
    seconds = float(probe["format"]["duration"])
    assert abs(seconds - asset["duration"]) <= 1.0, (seconds, asset["duration"])
    return seconds


def kraken_survived(studio):
    """The stream, its output and the HMP session are as they were."""
    client = studio.app.client
    stream = kraken.child(kraken.expect(client.get(studio.stream_path), 200), "stream")
    assert kraken.text(stream, "name").startswith("live"), kraken.normalize(stream)
    kraken.expect(client.get(f"/apis/kraken/outputs/output-{studio.output}"), 200)
    kraken.expect(client.get("/apis/kraken/streams"), 200)
    session = ok(studio.hmp.get(f"/apis/sessions/{studio.session}"))["data"]
    assert session["title"] == "Studio" and session["sources"] == [studio.output], session
    assert session["recording"] is False, session
    assert [s["id"] for s in ok(studio.hmp.get("/apis/sources"))["data"]] == [studio.output]


# ---------------------------------------------------------------- restart

@pytest.fixture
def studio(hmp_box):
    made = Studio(hmp_box, kbps=400)
    yield made
    made.close()


def checkpoint_bytes(app, rid):
    """The bytes of track 0 the recording's metadata says are synced: 0
    until its first checkpoint."""
    meta = app.data_dir / "recordings" / rid / "recording.toml"
    doc = tomllib.loads(meta.read_text())
    assert doc["state"] == "recording", doc
    return doc["tracks"][0]["bytes"]


# Killed before the first checkpoint, recovery measures the whole file;
# after one, it adds what follows the checkpoint to the checkpoint's time.
@pytest.mark.parametrize("seconds", [6, CHECKPOINT_SECS + 5],
                         ids=["before-a-checkpoint", "after-a-checkpoint"])
def test_a_recording_cut_by_a_kill_is_finalised_up_to_its_last_whole_packet(
        studio, tmp_path, seconds):
    hmp, app = studio.hmp, studio.app
    rid = studio.record()
    time.sleep(seconds)
    before = studio.live_duration(rid)
    app.server.kill()
    assert before > seconds / 2, before
    checkpoint = checkpoint_bytes(app, rid)
    assert (checkpoint > 0) == (seconds > CHECKPOINT_SECS), checkpoint

    # A torn write: part of a packet after the last whole one.
    track = app.data_dir / "recordings" / rid / "track-0.ts"
    whole = track.stat().st_size
    assert whole % PACKET == 0 and whole > 0, whole
    with open(track, "ab") as f:
        f.write(b"\x47" + b"\x11" * 99)

    app.start()
    err(hmp.get("/apis/assets"), 401, "020001")  # the old login is gone with the process
    studio.relogin()
    hmp = studio.hmp

    err(hmp.get(f"/apis/recordings/{rid}"), 404, "040001", "RecordingNotFound")
    err(hmp.get("/apis/recordings"), 404, "040012", "NoResults")
    asset = studio.asset(rid)
    assert (asset["recording"], asset["finish"], asset["title"], asset["detail"]) == \
        (False, "interrupted", "Studio", None), asset
    # What was written before the kill is kept (the page cache outlives
    # the process); the writer's own buffer, written every 2 s, is lost.
    # (A recovery that trusted the metadata alone would say 0 s, or the
    # checkpoint's 10 s: both out of this band.)
    assert before - SYNC_INTERVAL - 1.0 <= asset["duration"] <= before + 1.0, \
        (asset["duration"], before)
    assert asset["size"] == whole == asset["tracks"][0]["bytes"], (asset, whole)
    assert track.stat().st_size == whole, "the torn packet is cut off on disk too"
    downloaded(hmp, rid, asset, tmp_path / "interrupted.ts")

    stopped = [e for e in events_of(hmp, rid) if e["type"] == "recording-stopped"]
    assert [(e["reason"], e["detail"]) for e in stopped] == \
        [("interrupted", "finalised when makarad started again")], stopped
    kraken_survived(studio)
    assert not (app.data_dir / "recordings" / rid / "reserved-space").exists()


# ---------------------------------------------------------------- full disk

@pytest.fixture
def small_studio(appliance_factory):
    """A studio whose data directory is an 80 MiB tmpfs, streaming at
    2 Mbit/s so that a recording eats a MiB in about four seconds."""
    app = appliance_factory(with_key=False, start=False)
    mount_tmpfs(app.data_dir, DISK_SIZE)
    made = None
    try:
        app.creds = kraken.create_key(app.data_dir)
        add_user(app.data_dir, "admin", "administrator")
        app.start()
        made = Studio(app, kbps=2000)
        yield made
    finally:
        if made is not None:
            made.close()
        app.close()
        subprocess.run(["umount", "-l", str(app.data_dir)], check=False)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def take_space(path, leave):
    """A filler file at ``path`` that leaves about ``leave`` bytes free."""
    size = free_bytes(path.parent) - leave
    assert size > 0, (free_bytes(path.parent), leave)
    with open(path, "wb") as f:
        os.posix_fallocate(f.fileno(), 0, size)


def fill(path):
    """Writes to ``path`` until the file system is full."""
    block = b"\0" * 65536
    with open(path, "ab", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e


def files_outside_recordings(data_dir):
    """Every regular file of the data directory but the recordings and the
    test's filler, with a digest of its bytes."""
    out = {}
    for dirpath, dirs, names in os.walk(data_dir):
        dirs[:] = [d for d in dirs if os.path.join(dirpath, d) != str(data_dir / "recordings")]
        for name in names:
            path = os.path.join(dirpath, name)
            # The control socket is not data, and open() refuses it.
            if path == str(data_dir / FILLER) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                out[os.path.relpath(path, data_dir)] = hashlib.sha256(f.read()).hexdigest()
    assert {"config.a", "tls/cert.pem"} <= set(out), sorted(out)
    return out


def stops_for_disk_full(studio, rid, timeout=30):
    """Waits (bounded) for the recording to finish on its own; checks it
    is a disk-full finish with a detail, and its event. Returns the asset."""
    hmp = studio.hmp
    wait_until("the recording to stop on the full disk",
               lambda: hmp.get(f"/apis/recordings/{rid}").status_code == 404, timeout)
    err(hmp.get(f"/apis/recordings/{rid}"), 404, "040001")
    asset = studio.asset(rid)
    assert (asset["recording"], asset["finish"]) == (False, "disk-full"), asset
    assert asset["size"] > 0 and asset["size"] % PACKET == 0, asset
    stopped = wait_until("the recording-stopped event", lambda: [
        e for e in events_of(hmp, rid) if e["type"] == "recording-stopped"])
    assert [e["reason"] for e in stopped] == ["disk-full"], stopped
    return asset


def refused_for_space(studio):
    doc = err(studio.hmp.post(f"/apis/sessions/{studio.session}/recordings"),
              500, "070027", "InsufficientSpace")
    assert str(MIN_FREE_BYTES) in doc["message"], doc
    return doc


def restart_keeps_everything(studio, rid, untouched):
    """A restart (SIGTERM) on the full disk: makarad starts, the files
    outside the recordings are as they were, and the configuration and the
    asset are there."""
    app = studio.app
    code, in_time = app.server.stop(signal.SIGTERM)
    assert (code, in_time) == (0, True), app.server.log_tail(30)
    assert files_outside_recordings(app.data_dir) == untouched
    app.start()
    studio.relogin()
    kraken_survived(studio)
    assert studio.asset(rid)["finish"] == "disk-full"


def records_again(studio, filler, tmp_path):
    """Once the filler is gone, a recording starts and stops normally."""
    filler.unlink()
    assert free_bytes(studio.app.data_dir) > MIN_FREE_BYTES
    kraken.set_stream_state(studio.app.client, studio.stream_path, "start", "active",
                            timeout=30)
    rid = studio.record()
    time.sleep(3)
    assert studio.hmp.delete(f"/apis/recordings/{rid}").status_code == 200
    asset = studio.asset(rid)
    assert asset["finish"] == "stopped" and asset["detail"] is None, asset
    downloaded(studio.hmp, rid, asset, tmp_path / "after.ts")


def test_a_recording_that_fills_the_disk_stops_at_the_floor_and_harms_nothing(
        small_studio, tmp_path):
    studio = small_studio
    data = studio.app.data_dir
    untouched = files_outside_recordings(data)
    rid = studio.record()
    # The recording itself brings free space under the floor kept free:
    # about a MiB of stream, a few seconds at 2 Mbit/s.
    filler = data / FILLER
    take_space(filler, KEEP_FREE_BYTES + MIB)
    asset = stops_for_disk_full(studio, rid)
    rec_dir = re.escape(str(data / "recordings" / rid))
    found = re.fullmatch(rf"only (\d+) bytes are free on the disk holding {rec_dir}, "
                         rf"less than the {KEEP_FREE_BYTES} kept free", asset["detail"])
    assert found, asset["detail"]
    # Checked every MiB written: the floor is overshot by about that at most.
    assert KEEP_FREE_BYTES - 2 * MIB < int(found[1]) < KEEP_FREE_BYTES, asset["detail"]
    refused_for_space(studio)
    downloaded(studio.hmp, rid, asset, tmp_path / "floor.ts")
    assert studio.app.server.alive()
    kraken.expect(studio.app.client.get("/apis/kraken/streams"), 200)
    assert files_outside_recordings(data) == untouched
    assert not (data / "recordings" / rid / "reserved-space").exists()
    restart_keeps_everything(studio, rid, untouched)
    records_again(studio, filler, tmp_path)


def test_a_disk_filled_by_something_else_stops_the_recording_and_harms_nothing(
        small_studio, tmp_path):
    studio = small_studio
    data = studio.app.data_dir
    untouched = files_outside_recordings(data)
    rid = studio.record()
    # Past the first fsync (every 2 s): that much is on the disk to keep.
    wait_until("the recording to grow", lambda: studio.live_duration(rid) > 2.5)
    # Not a byte left: the recorder's next write fails (ENOSPC), or, if
    # its buffer happens to be empty then, its next check of the free space
    # stops it.
    filler = data / FILLER
    fill(filler)
    asset = stops_for_disk_full(studio, rid)
    # What was not written when the disk filled is lost, the rest is kept.
    assert asset["duration"] >= 1.0, asset
    # Which comes first is a matter of timing; the detail names the
    # failed write's file, or the recording's directory and both numbers.
    rec_dir = re.escape(str(data / "recordings" / rid))
    assert re.fullmatch(
        rf"writing {rec_dir}/track-0\.ts: No space left on device \(os error 28\)"
        rf"|only \d+ bytes are free on the disk holding {rec_dir}, "
        rf"less than the {KEEP_FREE_BYTES} kept free", asset["detail"]), asset["detail"]
    refused_for_space(studio)
    downloaded(studio.hmp, rid, asset, tmp_path / "full.ts")
    assert studio.app.server.alive()
    kraken.expect(studio.app.client.get("/apis/kraken/streams"), 200)
    assert files_outside_recordings(data) == untouched
    restart_keeps_everything(studio, rid, untouched)
    records_again(studio, filler, tmp_path)
