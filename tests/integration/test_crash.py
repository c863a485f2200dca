"""Crash test: makarad is SIGKILLed at random moments while it takes writes;
after every restart, everything it acknowledged is there.

A loop sends write requests one after another (POST, PUT and DELETE on
outputs and transcoders) while a timer kills the server 20-400 ms after each
start. A write answered 2xx is *acknowledged* and must never be lost. A write
that got no answer is *unknown*: it may or may not have been applied. Every
write carries a unique name, so after the restart the test can tell which
happened, and accepts either (but nothing else: no lost, phantom, duplicated
or half-applied resource). The store must load after every kill.

MAKARA_CRASH_SEED replays a run (the seed is printed on failure).
"""

import os
import random
import signal
import threading
import time

import requests

from kraken import (KINDS, assert_error, body, create_key, created_id, describe, expect,
                    get_one, href_path, items, self_link, text)
from kraken import Client, Server

WRITES = 200
MIN_KILLS = 10
MAX_WRITES = 3000
TIME_BUDGET = 100.0  # seconds of writing, at most
KILL_DELAY = (0.020, 0.400)
MAX_LIVE = 30

CONNECTION_LOST = (requests.ConnectionError, requests.Timeout,
                   requests.exceptions.ChunkedEncodingError)


class Killer:
    """SIGKILLs the server once, at a random moment after ``arm``."""

    def __init__(self, server, rng):
        self.server = server
        self.rng = rng
        self.timer = None
        self.fired = False
        self.kills = 0

    def arm(self):
        self.fired = False
        delay = self.rng.uniform(*KILL_DELAY)
        self.timer = threading.Timer(delay, self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self):
        self.fired = True
        self.kills += 1
        try:
            os.kill(self.server.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def disarm(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer.join()


def state_of(kind, el):
    """What the test tracks of a resource."""
    if kind == "output":
        return {"name": text(el, "name"), "description": text(el, "description")}
    return {"name": text(el, "name"), "videoBitrate": text(el, "videoBitrate")}


def xml_for(kind, state):
    if kind == "output":
        return body("output", [("name", state["name"]), ("url", "udp://127.0.0.1:5000"),
                               ("description", state["description"])])
    return body("transcoder", [("name", state["name"]), ("videoBitrate", state["videoBitrate"])])


class Model:
    """What the server must hold: acknowledged effects, plus at most one
    unknown write (the one in flight when the server died)."""

    def __init__(self):
        self.live = {"output": {}, "transcoder": {}}  # kind -> id -> state
        self.pending = None
        self.counts = {"acknowledged": 0, "unknown": 0, "applied": 0, "not applied": 0}

    def size(self):
        return sum(len(v) for v in self.live.values())


def plan(model, rng, seq):
    """The next write: (op, kind, id, new state)."""
    kind = rng.choice(["output", "transcoder"])
    ids = sorted(model.live[kind])
    if not ids or model.size() < 4:
        op = "create"
    else:
        weights = [15, 45, 40] if model.size() >= MAX_LIVE else [45, 35, 20]
        op = rng.choices(["create", "edit", "delete"], weights)[0]
    rid = None if op == "create" else rng.choice(ids)
    state = None
    if op != "delete":
        name = f"crash-{kind[0]}-{seq}"
        state = ({"name": name, "description": f"{op} {seq}"} if kind == "output"
                 else {"name": name, "videoBitrate": str(150 + seq)})
    return op, kind, rid, state


def send(client, op, kind, rid, state):
    coll = f"/apis/kraken/{KINDS[kind]}"
    if op == "create":
        return client.post(coll, xml_for(kind, state), timeout=10)
    if op == "edit":
        return client.put(f"{coll}/{kind}-{rid}", xml_for(kind, state), timeout=10)
    return client.delete(f"{coll}/{kind}-{rid}", timeout=10)


def acknowledge(model, resp, op, kind, rid, state):
    want = {"create": 201, "edit": 200, "delete": 200}[op]
    assert resp.status_code == want, f"{op} {kind}: expected {want}, got {describe(resp)}"
    if op == "create":
        model.live[kind][created_id(resp, kind)] = state
    elif op == "edit":
        model.live[kind][rid] = state
    else:
        assert href_path(self_link(expect(resp, 200))) == f"/apis/kraken/{KINDS[kind]}"
        del model.live[kind][rid]
    model.counts["acknowledged"] += 1


def listed(client, kind):
    return {text(it, "uuid"): text(it, "name") for it in items(client, kind)}


def resolve_and_check(client, model, where):
    """Resolves the unknown write, then checks the server holds exactly the model."""
    actual = {kind: listed(client, kind) for kind in model.live}
    if model.pending is not None:
        op, kind, rid, state = model.pending
        model.pending = None
        if op == "create":
            found = [i for i, n in actual[kind].items()
                     if n == state["name"] and i not in model.live[kind]]
            assert len(found) <= 1, f"{where}: unknown create of {state['name']} applied twice: {found}"
            applied = bool(found)
            if applied:
                model.live[kind][found[0]] = state
        elif op == "edit":
            assert rid in actual[kind], f"{where}: {kind} {rid} vanished after an unknown edit"
            now = state_of(kind, get_one(client, kind, rid))
            old = model.live[kind][rid]
            assert now in (old, state), (
                f"{where}: {kind} {rid} after an unknown edit is {now}, "
                f"neither the old {old} nor the new {state}")
            applied = now == state
            model.live[kind][rid] = now
        else:
            applied = rid not in actual[kind]
            if applied:
                del model.live[kind][rid]
        model.counts["applied" if applied else "not applied"] += 1
    for kind, expected in model.live.items():
        lost = sorted(set(expected) - set(actual[kind]))
        phantom = sorted(set(actual[kind]) - set(expected))
        assert not lost, f"{where}: acknowledged {kind}s lost: {[expected[i] for i in lost]}"
        assert not phantom, f"{where}: {kind}s nobody created: {[actual[kind][i] for i in phantom]}"
        for rid, state in expected.items():
            now = state_of(kind, get_one(client, kind, rid))
            assert now == state, f"{where}: {kind} {rid} is {now}, acknowledged {state}"


def test_sigkill_during_writes_loses_nothing_acknowledged(tmp_path):
    seed = int(os.environ.get("MAKARA_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    creds = create_key(data_dir)
    server = Server(data_dir, tmp_path).start()
    client = Client(server, creds)
    killer = Killer(server, rng)
    model = Model()
    writes = 0
    restarts = 0
    started = time.monotonic()
    context = lambda: (f"seed {seed}, write {writes}, kill {killer.kills}, "  # noqa: E731
                       f"restart {restarts}")
    try:
        killer.arm()
        while writes < WRITES or killer.kills < MIN_KILLS:
            assert writes < MAX_WRITES and time.monotonic() - started < TIME_BUDGET, (
                f"only {killer.kills} kills after {writes} writes in "
                f"{time.monotonic() - started:.0f}s ({context()})")
            op, kind, rid, state = plan(model, rng, writes)
            writes += 1
            try:
                resp = send(client, op, kind, rid, state)
            except CONNECTION_LOST as e:
                if not killer.fired:
                    time.sleep(0.5)
                assert killer.fired, f"request failed with the server not killed: {e!r} ({context()})"
                model.pending = (op, kind, rid, state)
                model.counts["unknown"] += 1
            else:
                acknowledge(model, resp, op, kind, rid, state)
                if not killer.fired:
                    continue
                if server.alive():
                    # Fired after the answer, before the process died: wait for it.
                    server.proc.wait(timeout=10)
            # The server was killed: restart on the same data dir and check.
            killer.disarm()
            server.proc.wait(timeout=10)
            server.start()
            restarts += 1
            resolve_and_check(client, model, f"after restart {restarts} ({context()})")
            killer.arm()
        killer.disarm()
        # The last acknowledged writes survive a final kill too.
        server.kill()
        server.start()
        resolve_and_check(client, model, f"after the final kill ({context()})")
        assert killer.kills >= MIN_KILLS and writes >= WRITES
        print(f"crash test: seed {seed}, {writes} writes, {killer.kills} kills, "
              f"{restarts} restarts, {model.counts}, {model.size()} resources at the end, "
              f"{time.monotonic() - started:.1f}s")
    finally:
        killer.disarm()
        server.kill()
        client.close()


def test_killed_server_restarts_with_a_usable_store(tmp_path):
    """Kill before any write and right after the first: the store still loads."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    creds = create_key(data_dir)
    server = Server(data_dir, tmp_path).start()
    client = Client(server, creds)
    try:
        server.kill()
        server.start()
        assert_error(client.get("/apis/kraken/outputs"), 1001)
        rid = created_id(client.post("/apis/kraken/outputs",
                                     xml_for("output", {"name": "first", "description": "d"})),
                         "output")
        server.kill()
        server.start()
        assert state_of("output", get_one(client, "output", rid)) == {"name": "first",
                                                                      "description": "d"}
    finally:
        server.kill()
        client.close()
