"""The appliance image's numbers for docs/benchmarks.md: boot-to-API-ready
under TCG (several boots), the initramfs size, and vivid capture through
makarad's V4L2 driver (fps, lost frames, copies_per_frame), with v4l2-ctl
capturing the same modes in the same guest as the reference (x86_64).

Run by scripts/bench-image; prints a Markdown table per architecture.
"""

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from guest import REPO, Guest  # noqa: E402

READY = re.compile(r"API ready ([0-9.]+) s after QEMU start")


def boot_time(arch, workdir):
    """One boot on a fresh disk's second boot (the TLS key already made):
    QEMU start to a TLS handshake and an HTTP answer, as scripts/qemu
    measures it."""
    guest = Guest(arch, workdir, reset_data=False).start()
    try:
        log = workdir / "qemu.log"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            found = READY.findall(log.read_text())
            if len(found) >= 1:
                return float(found[-1])
            time.sleep(0.2)
        raise RuntimeError(f"{arch}: no 'API ready' line in {log}")
    finally:
        guest.stop()
        log = workdir / "qemu.log"
        log.write_text("")


def capture(guest, port, mode, seconds):
    out = guest.shell(f"makarad bench capture --port {port} --mode {mode} --seconds {seconds}")
    values = dict(re.findall(r"\b(fps|delivered_fps|copies_per_frame|frames|lost): ([0-9.]+)",
                             out))
    return {k: float(v) for k, v in values.items()}


def v4l2_ctl(guest, input_index, mode, seconds):
    """v4l2-ctl's mmap capture of the same mode, with as many buffers as
    makarad asks for (6): its own fps reports."""
    tools = "/data/tools"
    out = guest.shell(
        f"{tools}/lib/ld-linux-x86-64.so.2 --library-path {tools}/lib {tools}/v4l2-ctl "
        f"-d /dev/video0 -i {input_index} --set-dv-bt-timings index={mode} "
        f"-v pixelformat=YU12 --stream-mmap=6 --stream-count={seconds * 60} --stream-to=/dev/null 2>&1",
        timeout=seconds * 10 + 60)
    rates = [float(r) for r in re.findall(r"([0-9]+\.[0-9]+) fps", out)]
    if len(rates) < 2:
        raise RuntimeError(f"no fps lines from v4l2-ctl:\n{out[-2000:]}")
    return statistics.median(rates[1:])


def tools_disk(workdir, tools_dir):
    """A data disk holding v4l2-ctl and its libraries under /tools."""
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "makara-data", "-d", str(tools_dir),
                    str(workdir / "data.img"), "256M"], check=True)


def mode_numbers(guest):
    """(HDMI port, {mode id: index}) from `makarad bench capture`'s list."""
    out = guest.shell("makarad bench capture")
    port = re.search(r"^port (\d+): \S+ HDMI", out, re.M)
    modes = dict((m, int(i)) for i, m in re.findall(r"^  mode (\d+): (\S+)$", out, re.M)
                 if port)
    return int(port.group(1)), modes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", action="append", choices=["x86_64", "aarch64"])
    ap.add_argument("--boots", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--tools-dir", type=Path, help="has tools/v4l2-ctl and tools/lib (x86_64)")
    args = ap.parse_args()
    for arch in args.arch or ["x86_64", "aarch64"]:
        image = REPO / "target" / "image" / arch
        size = (image / "initramfs.img").stat().st_size / 2**20
        with tempfile.TemporaryDirectory(prefix=f"bench-{arch}-") as tmp:
            work = Path(tmp)
            reference = arch == "x86_64" and args.tools_dir is not None
            if reference:
                tools_disk(work, args.tools_dir)
            # First boot makes the TLS key (and the disk); not counted.
            first = Guest(arch, work, reset_data=not reference).start()
            first.wait_prompt()
            first.stop()
            (work / "qemu.log").write_text("")
            boots = [boot_time(arch, work) for _ in range(args.boots)]
            guest = Guest(arch, work, reset_data=False).start()
            try:
                guest.wait_prompt()
                port, modes = mode_numbers(guest)
                rows = []
                for mode_id in ("1280x720p60", "1920x1080p60"):
                    runs, refs = [], []
                    for _ in range(args.runs):
                        runs.append(capture(guest, port, modes[mode_id], args.seconds))
                        if reference:
                            # vivid's HDMI input is input 3 of /dev/video0.
                            refs.append(v4l2_ctl(guest, 3, modes[mode_id], args.seconds))
                    rows.append((mode_id, runs, refs))
            finally:
                guest.stop()
        print(f"\n### {arch}\n")
        print(f"- initramfs: {size:.2f} MiB")
        print(f"- boot-to-API-ready, {args.boots} boots: "
              f"{', '.join(f'{b:.1f}' for b in sorted(boots))} s "
              f"(median **{statistics.median(boots):.1f} s**)")
        print("\n| vivid HDMI mode | makarad fps (median; runs) | delivered fps (median) "
              "| lost frames per run | copies_per_frame | v4l2-ctl fps (median; runs) | ratio |")
        print("|---|---|---|---|---|---|---|")
        for mode_id, runs, refs in rows:
            fps = statistics.median(r["fps"] for r in runs)
            lost = ", ".join(str(int(r["lost"])) for r in runs)
            copies = max(r["copies_per_frame"] for r in runs)
            each = ", ".join(f"{r['fps']:.1f}" for r in runs)
            if refs:
                ref = statistics.median(refs)
                ref_text = f"{ref:.1f}; {', '.join(f'{r:.1f}' for r in refs)}"
                ratio = f"{fps / ref:.2f}"
            else:
                ref_text, ratio = "not measured", "-"
            delivered = statistics.median(r["delivered_fps"] for r in runs)
            print(f"| {mode_id} | {fps:.1f}; {each} | {delivered:.1f} | {lost} | {copies:.2f} "
                  f"| {ref_text} | {ratio} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
