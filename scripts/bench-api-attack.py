#!/usr/bin/env python3
"""Two makarad binaries side by side under the issue 8 attacks (driven by
scripts/bench-api-attack; the method is in docs/benchmarks.md).

Every measurement is taken on a fresh data directory and server, once per
binary and round, the binaries alternating (base first in odd rounds,
current first in even ones), and the table shows the median of the rounds.
The loads are the integration tests' own loaders, imported from
tests/integration, not copies: test_read_latency's writers and timed GET,
test_attack_connections' Load and signed GET from 127.0.0.1, and
test_attack_auth's unsigned partial body and VmRSS reader. Attackers use
127.0.0.2 and up (Linux routes 127.0.0.0/8 to lo), so per-address limits
apply to them as to distinct clients. Traffic stays on loopback; every load
is bounded in count and time.
"""

import argparse
import contextlib
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

import kraken  # noqa: E402
import test_attack_auth as bodies  # noqa: E402
import test_attack_connections as conns  # noqa: E402
import test_read_latency as reads  # noqa: E402
from conftest import Appliance  # noqa: E402

STREAMS_PATH = "/apis/kraken/streams"
STREAMS = 10
IDLE_SAMPLES = 200
# writer_process reads this module constant when it runs: 4 processes x 8
# = 32 writers; the warm-up and measuring window are the test's (1 s, 6 s).
reads.WRITERS_PER_PROCESS = 8
# legit_get gives up after this long (its requests timeout and its bound).
LEGIT_TIMEOUT = 5.0
conns.LEGIT_BOUND = LEGIT_TIMEOUT
SETTLE_SECONDS = 1.0
UNSIGNED_BODIES = 200
# Descriptors for the loaders; makarad gets its own soft limit (--nofile).
LOADER_FILES = 8192
HEAD_BYTE_BY_BYTE = b"GET /apis/kraken/system HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 64


# --------------------------------------------------------------------------
# One server per measurement
# --------------------------------------------------------------------------

@contextlib.contextmanager
def appliance(binary, nofile, workdir):
    """A fresh data directory and `makarad serve` from `binary`, started
    with the open-file soft limit `nofile` (what a service gets), while
    this process keeps LOADER_FILES for its sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    kraken.MAKARAD = binary
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(nofile, hard), hard))
    try:
        app = Appliance(Path(tempfile.mkdtemp(dir=workdir)))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, LOADER_FILES)), hard))
    try:
        yield app
    finally:
        app.close()


def percentile(samples, pct):
    """Nearest-rank percentile of `samples`."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))]


# --------------------------------------------------------------------------
# Measurements: each returns {row name: value}
# --------------------------------------------------------------------------

def streams_latency(app):
    """GET /streams p50/p99 idle, then while 32 writers create and delete
    inputs (test_read_latency's writers: 4 processes of 8, each process
    from its own address 127.0.0.200 and up)."""
    kit = kraken.Kit(app.client, outputs=2)
    for i in range(STREAMS):
        kit.make_stream(f"bench-{i}")
    reader = app.new_client()
    for _ in range(5):
        reads.timed_get(reader, STREAMS_PATH)
    idle = [reads.timed_get(reader, STREAMS_PATH) for _ in range(IDLE_SAMPLES)]
    try:
        busy, counts, failures, elapsed = reads.reads_under_writers(
            lambda p: reads.WritersFrom(app, reads.writer_address(p)), reader, STREAMS_PATH)
    finally:
        reader.close()
    if failures:
        raise RuntimeError(f"writers failed: {failures}")
    ms = 1000
    return {
        "GET /streams idle p50 (ms)": percentile(idle, 50) * ms,
        "GET /streams idle p99 (ms)": percentile(idle, 99) * ms,
        "GET /streams, 32 writers: p50 (ms)": percentile(busy, 50) * ms,
        "GET /streams, 32 writers: p99 (ms)": percentile(busy, 99) * ms,
        "  reads in the 6 s window": len(busy),
        "  writes/s done by the 32 writers": sum(counts) / (elapsed + reads.WARMUP_SECONDS),
    }


def idle_tls(load, port):
    load.tls(port, 520, conns.peers(2, 18))


def trickling_tls(load, port):
    idle_tls(load, port)
    load.trickle(load.socks, HEAD_BYTE_BY_BYTE)


def half_handshakes(load, port):
    load.half_handshakes(port, 600, conns.peers(2, 20))


def idle_tcp(load, port):
    load.tcp(port, 2000, conns.peers(2, 40))


LOADS = [
    ("idle-tls", "520 idle TLS sessions", idle_tls),
    ("trickle-tls", "520 TLS sessions, headers byte by byte", trickling_tls),
    ("half-handshakes", "600 half-finished TLS handshakes", half_handshakes),
    ("idle-tcp", "2000 idle TCP connections", idle_tcp),
]


def legit_under(name, build):
    """One signed GET /system on a new connection from 127.0.0.1 while the
    load `build` makes is held; inf if not answered 200 within LEGIT_TIMEOUT."""
    def measure(app):
        load = conns.Load()
        try:
            build(load, app.server.port)
            time.sleep(SETTLE_SECONDS)
            held = load.alive()
            started = time.monotonic()
            try:
                took = conns.legit_get(app)
            except AssertionError as e:
                took = float("inf")
                print(f"    {name}: no answer: {str(e).splitlines()[0]} "
                      f"(after {time.monotonic() - started:.1f} s)", flush=True)
        finally:
            load.close()
        return {f"signed GET, {name} (ms)": took * 1000,
                f"  {name}: attacker sockets open": held}
    return measure


def unsigned_bodies_rss(app):
    """VmRSS while 200 connections each hold 1 MiB - 1 of an unsigned body."""
    pid = app.server.proc.pid
    before = bodies.rss_kib(pid)
    held = []
    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            outcomes = list(pool.map(lambda i: bodies.hold_unsigned_body(app.server, i, held),
                                     range(UNSIGNED_BODIES)))
        time.sleep(1.0)
        during = bodies.rss_kib(pid)
    finally:
        for tls in held:
            with contextlib.suppress(OSError):
                tls.close()
    return {
        "VmRSS idle (MiB)": before / 1024,
        "VmRSS, 200 unsigned 1 MiB-1 bodies (MiB)": during / 1024,
        "  bodies sent in full": outcomes.count("sent"),
    }


MEASUREMENTS = [("streams", streams_latency)] + [
    (key, legit_under(name, build)) for key, name, build in LOADS
] + [("rss", unsigned_bodies_rss)]


# --------------------------------------------------------------------------
# Rounds and the table
# --------------------------------------------------------------------------

def show(value):
    if value == float("inf"):
        return f"> {LEGIT_TIMEOUT:.0f} s"
    if isinstance(value, int):
        return str(value)
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def ratio(base, current):
    """base / current; a base that timed out gives a lower bound."""
    if current == float("inf") or current == 0:
        return "–"
    if base == float("inf"):
        return f"> {LEGIT_TIMEOUT * 1000 / current:.0f}×"
    return f"{base / current:.1f}×"


def run(binaries, rounds, nofile, workdir, only):
    results = {version: {} for version in binaries}  # version -> row -> [values]
    rows = []
    for r in range(rounds):
        order = list(binaries) if r % 2 == 0 else list(binaries)[::-1]
        for key, measure in MEASUREMENTS:
            if only and key not in only:
                continue
            for version in order:
                print(f"round {r + 1}/{rounds}: {key} on {version}", flush=True)
                with appliance(binaries[version], nofile, workdir) as app:
                    got = measure(app)
                for row, value in got.items():
                    if row not in rows:
                        rows.append(row)
                    results[version].setdefault(row, []).append(value)
    return rows, results


def table(rows, results):
    lines = ["| measurement | base median | current median | base / current "
             "| base per round | current per round |",
             "|---|---:|---:|---:|---|---|"]
    for row in rows:
        b, c = results["base"][row], results["current"][row]
        mb, mc = statistics.median(b), statistics.median(c)
        indent = row.startswith("  ")
        lines.append(
            f"| {row.strip() if not indent else '↳ ' + row.strip()} | {show(mb)} | {show(mc)} "
            f"| {'' if indent else ratio(mb, mc)} "
            f"| {', '.join(show(v) for v in b)} | {', '.join(show(v) for v in c)} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="makarad before the hardening")
    parser.add_argument("--current", required=True, help="makarad to compare")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--nofile", type=int, default=1024,
                        help="open-file soft limit makarad runs with (systemd's default)")
    parser.add_argument("--only", nargs="*", default=[],
                        help="measurement keys to run: " + ", ".join(k for k, _ in MEASUREMENTS))
    args = parser.parse_args()
    binaries = {"base": args.base, "current": args.current}
    with tempfile.TemporaryDirectory(prefix="makara-bench-attack.") as workdir:
        started = time.monotonic()
        rows, results = run(binaries, args.rounds, args.nofile, workdir, set(args.only))
        print(f"\n{args.rounds} rounds in {time.monotonic() - started:.0f} s; "
              f"makarad open-file soft limit {args.nofile}\n")
        print(table(rows, results))
    kraken.stop_all_servers()


if __name__ == "__main__":
    main()
