#!/usr/bin/python3
"""SRT relay CPU per Mbit/s: a makarad stream in bypass mode (SRT listener
input -> SRT caller output, configured over the API) against
srt-live-transmit relaying the same way, each fed the same constant-rate
transport stream in real time (driven by scripts/bench-srt; the method is
in docs/benchmarks.md).

The chain, everything on 127.0.0.1:

    TsSender (this process, paced) -> UDP -> srt-live-transmit (caller)
      -> relay under test (SRT listener in, SRT caller out)
      -> srt-live-transmit (listener) -> UDP -> byte counter (this process)

CPU is utime + stime of the relay process (/proc/PID/stat) over the
measured window; throughput is what the counter received in that window.
Rounds alternate which relay goes first. Each round also measures
`makarad serve` with no stream over the same window (its API, supervisor
and housekeeping), and both relays' CPU per thread. Every peer runs under
coreutils `timeout` in its own process group and is ended when its run
ends.
"""

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

import kraken  # noqa: E402
import peers  # noqa: E402
from conftest import Appliance  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
LATENCY_MS = 120
# Seconds between starting the chain and starting the sender: the SRT
# handshakes (and our output's first connect) are done well before.
SETTLE = 3.0
# Seconds after the sender stops for the last bytes to come out.
DRAIN = 2.0


def cpu_seconds(pid):
    """utime + stime of `pid`; the name in field 2 may hold spaces."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def thread_seconds(pid):
    """{thread name: utime + stime} of `pid`'s threads (names summed)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / TICKS
    return out


def child_pid(pid, timeout=5.0):
    """The one child of `pid` (the process `timeout` runs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    raise AssertionError(f"process {pid} started no child")


class Counter:
    """Counts the bytes of the datagrams arriving on a UDP port."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.bytes = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                self.bytes += len(self.sock.recv(65536))
            except socket.timeout:
                pass

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


def srt_transmit(name, source, target, log_dir, limit):
    return peers.Peer(name, ["srt-live-transmit", "-a", "yes", "-ll", "error", source, target],
                      log_dir, limit=limit)


def url(port, mode):
    return peers.srt_url(port, mode, latency=LATENCY_MS)


def measure(pid, counter, sender, args):
    """CPU seconds of `pid` and bytes received and sent over the window."""
    time.sleep(args.warm)
    threads0 = thread_seconds(pid)
    cpu0, got0, sent0, t0 = cpu_seconds(pid), counter.bytes, sender.sent_packets, time.monotonic()
    time.sleep(args.secs)
    cpu1, got1, sent1, t1 = cpu_seconds(pid), counter.bytes, sender.sent_packets, time.monotonic()
    threads = {name: spent - threads0.get(name, 0) for name, spent in thread_seconds(pid).items()}
    return {"cpu_s": cpu1 - cpu0, "window_s": t1 - t0, "received": got1 - got0,
            "sent": (sent1 - sent0) * peers.TS, "threads": threads}


def finish(result, counter, sender):
    """Stops the sender, waits for the last bytes, adds the totals."""
    sender.running = False
    sender.thread.join(timeout=5)
    time.sleep(DRAIN)
    result["sent_total"] = sender.sent_packets * peers.TS
    result["received_total"] = counter.bytes
    secs = result["window_s"]
    result["mbps"] = result["received"] * 8 / secs / 1e6
    result["cores"] = result["cpu_s"] / secs
    result["cpu_ms_per_mbit"] = result["cpu_s"] * 1000 / (result["received"] * 8 / 1e6)
    return result


def run_theirs(data, args, work):
    counter = Counter()
    a, b, feed = peers.free_udp_ports(3)
    limit = int(SETTLE + args.warm + args.secs + DRAIN + 30)
    receiver = srt_transmit("receiver", url(b, "listener"),
                            f"udp://127.0.0.1:{counter.port}", work, limit)
    relay = srt_transmit("relay", url(a, "listener"), url(b, "caller"), work, limit)
    feeder = srt_transmit("feeder", f"udp://127.0.0.1:{feed}", url(a, "caller"), work, limit)
    try:
        with receiver, relay, feeder:
            pid = child_pid(relay.proc.pid)
            time.sleep(SETTLE)
            sender = peers.TsSender(data, feed, args.kbps)
            with sender:
                result = measure(pid, counter, sender, args)
                result = finish(result, counter, sender)
            assert relay.alive(), relay.log()
    finally:
        counter.close()
    return result


def run_ours(data, args, work):
    counter = Counter()
    a, b, feed = peers.free_udp_ports(3)
    limit = int(SETTLE + args.warm + args.secs + DRAIN + 30)
    receiver = srt_transmit("receiver", url(b, "listener"),
                            f"udp://127.0.0.1:{counter.port}", work, limit)
    app = Appliance(Path(tempfile.mkdtemp(dir=work)))
    try:
        api = app.client
        with receiver:
            inp = peers.srt_input(api, srtMode="listener", srtLocalPort=a, srtLatency=LATENCY_MS)
            out = peers.srt_output(api, srtMode="caller", srtAddress="127.0.0.1",
                                   srtRemotePort=b, srtLatency=LATENCY_MS)
            path = peers.make_stream(api, inp, [out], mode="bypass")
            peers.start(api, path)
            feeder = srt_transmit("feeder", f"udp://127.0.0.1:{feed}", url(a, "caller"), work,
                                  limit)
            with feeder:
                time.sleep(SETTLE)
                sender = peers.TsSender(data, feed, args.kbps)
                with sender:
                    result = measure(app.server.proc.pid, counter, sender, args)
                    # After the window: the API's work is not counted.
                    state = kraken.text(peers.get_stream(api, path), "state")
                    result = finish(result, counter, sender)
                el = peers.get_stream(api, path)
            stats = peers.input_stats(el)
            result["stream"] = (f"state {state} while relaying, input packets "
                                f"{peers.number(stats, 'packets'):.0f}, continuityErrors "
                                f"{peers.number(stats, 'continuityErrors'):.0f}")
            peers.stop(api, path)
    finally:
        app.close()
        counter.close()
    return result


def run_idle(args, work):
    """CPU seconds of `makarad serve` with no stream over the window."""
    app = Appliance(Path(tempfile.mkdtemp(dir=work)))
    try:
        time.sleep(args.warm)
        cpu0, t0 = cpu_seconds(app.server.proc.pid), time.monotonic()
        time.sleep(args.secs)
        cpu1, t1 = cpu_seconds(app.server.proc.pid), time.monotonic()
    finally:
        app.close()
    return (cpu1 - cpu0) / (t1 - t0)


def show(name, r):
    print(f"  {name}: {r['cpu_s']:.2f} CPU s in {r['window_s']:.1f} s ({100 * r['cores']:.1f} % "
          f"of a core), {r['mbps']:.2f} Mbit/s received -> {r['cpu_ms_per_mbit']:.2f} CPU ms "
          f"per Mbit; window sent/received {r['sent']}/{r['received']} B; whole run "
          f"sent/received {r['sent_total']}/{r['received_total']} B"
          + (f"; {r['stream']}" if "stream" in r else ""), flush=True)
    busy = sorted(((s, n) for n, s in r["threads"].items() if s > 0), reverse=True)
    print("    threads (CPU s in the window): "
          + ", ".join(f"{n} {s:.2f}" for s, n in busy), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ts", required=True, help="constant-rate TS to relay")
    parser.add_argument("--kbps", type=int, default=20000, help="its mux rate")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warm", type=float, default=5.0)
    parser.add_argument("--secs", type=float, default=20.0)
    parser.add_argument("--makarad", required=True)
    args = parser.parse_args()
    kraken.MAKARAD = args.makarad
    peers.require_tools("srt-live-transmit")
    data = Path(args.ts).read_bytes()
    data = data[:len(data) // peers.TS * peers.TS]
    need = (args.warm + args.secs + 5) * args.kbps * 1000 / 8
    assert len(data) >= need, f"{args.ts}: {len(data)} bytes, the run needs {need:.0f}"
    sides = {"makarad": run_ours, "srt-live-transmit": run_theirs}
    results = {name: [] for name in sides}
    idle = []
    with tempfile.TemporaryDirectory(prefix="makara-bench-srt-") as work:
        for round_ in range(1, args.rounds + 1):
            order = list(sides) if round_ % 2 else list(reversed(sides))
            print(f"== round {round_} of {args.rounds} (load average "
                  f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])})", flush=True)
            for name in order:
                r = sides[name](data, args, Path(work))
                results[name].append(r)
                show(name, r)
            idle.append(run_idle(args, Path(work)))
            print(f"  makarad serve, no stream: {100 * idle[-1]:.2f} % of a core", flush=True)
    print("\n== summary (medians of %d rounds)" % args.rounds)
    print("| relay | CPU ms per Mbit | % of a core | Mbit/s received | window received/sent | "
          "per round (CPU ms per Mbit) |")
    print("|---|---:|---:|---:|---:|---|")
    med = {}
    for name, rs in results.items():
        med[name] = statistics.median(r["cpu_ms_per_mbit"] for r in rs)
        print(f"| {name} | {med[name]:.2f} | "
              f"{statistics.median(100 * r['cores'] for r in rs):.1f} | "
              f"{statistics.median(r['mbps'] for r in rs):.2f} | "
              f"{statistics.median(r['received'] / r['sent'] for r in rs):.4f} | "
              f"{', '.join('%.2f' % r['cpu_ms_per_mbit'] for r in rs)} |")
    print(f"\nmakarad serve with no stream: median {100 * statistics.median(idle):.2f} % of a "
          f"core; per round {', '.join('%.2f' % (100 * x) for x in idle)}")
    ratios = [o["cpu_ms_per_mbit"] / t["cpu_ms_per_mbit"]
              for o, t in zip(results["makarad"], results["srt-live-transmit"])]
    print(f"\nmakarad / srt-live-transmit, CPU per Mbit: median of the medians "
          f"{med['makarad'] / med['srt-live-transmit']:.2f}; per round "
          f"{', '.join(f'{x:.2f}' for x in ratios)}")


if __name__ == "__main__":
    main()
