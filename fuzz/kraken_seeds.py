#!/usr/bin/env python3
"""Writes the seeds of the kraken_route fuzz target: every example body of
the Kraken contract (tests/integration/seed_bodies.py) behind the request
line that sends it, and a few requests without a body.

    python3 fuzz/kraken_seeds.py fuzz/corpus/kraken_route

Deterministic: the same files every run.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import seed_bodies  # noqa: E402

ID = "f7615c6b-830d-4e73-a132-b315b2c29051"
SERVER = "bc305be293d3"

# Requests with no body: the system, server and NIC paths, an item read
# with the dashless id spelling, and a delete with a trailing slash.
BODILESS = {
    "get-system": "GET /apis/kraken/system",
    "get-nic": f"GET /apis/servers/server{SERVER}/nics/nic-eth0",
    "get-output-dashless": f"GET /apis/kraken/outputs/output{ID}",
    "delete-configuration": f"DELETE /apis/kraken/configurations/config-{ID}/",
    "get-inputs-query": "GET /apis/kraken/inputs?limit=1",
}


def request_line(name):
    """CREATE bodies go to their collection, the others to one item."""
    kind = name.split("_")[0].lower()
    collection = f"/apis/kraken/{kind}s"
    if "_CREATE" in name:
        return f"POST {collection}"
    return f"PUT {collection}/{kind}-{ID}"


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/kraken_route")
    out.mkdir(parents=True, exist_ok=True)
    seeds = {name.lower().replace("_", "-"): f"{request_line(name)}\n{body}"
             for name, body in seed_bodies.ALL.items()}
    seeds.update({name: line + "\n" for name, line in BODILESS.items()})
    for name, text in sorted(seeds.items()):
        path = out / name
        path.write_text(text, encoding="utf-8")
        print(f"{path} ({len(text.encode())} bytes)")


if __name__ == "__main__":
    main()
