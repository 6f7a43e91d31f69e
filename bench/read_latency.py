"""Reads while the daemon indexes: `people` and the page's people grid against `status` (which
waits for the writer, as every read did before) in the same run.

    python bench/read_latency.py [--photos 400] [--model PACK]

A library of 8 LFW people (3 photos each) is indexed and reclustered; `clusterids watch` runs
on it; then --photos more LFW photos land in the watched folder at once. Until the daemon has
indexed them all, the three requests go round through the API, each a new connection (the
CLI's pattern, with the CLI's client), and their latencies are kept. Issue 21: each round also
runs `clusterids people --json` as a whole process, as a user runs it, and the same command is
timed --idle times on the idle daemon before the photos land (p95 during vs p95 idle).

    python bench/read_latency.py --photos 150 --idle 10   # issue 21's figure
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LFW, SCRFD_PACK, machine, running_daemon  # noqa: E402

from clusterids.core import operations  # noqa: E402

STATUS, PEOPLE = operations.get("library.status"), operations.get("people.persons")


def summary(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"n": len(times), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1), "max_ms": round(times[-1], 1)}


def whole(command: list[str], env: dict[str, str]) -> float:
    """Milliseconds of one run of ``command`` in a fresh process (which must succeed)."""
    t = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return (time.perf_counter() - t) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=400)
    ap.add_argument("--model", default=str(SCRFD_PACK))
    ap.add_argument("--idle", type=int, default=10, help="whole-process runs on the idle daemon first")
    args = ap.parse_args()
    people = sorted(d for d in os.listdir(LFW) if len(os.listdir(LFW / d)) >= 3)
    burst = [LFW / d / f for d in sorted(os.listdir(LFW))[200:] for f in sorted(os.listdir(LFW / d))][:args.photos]
    with tempfile.TemporaryDirectory() as tmp:
        root, lib = Path(tmp) / "photos", Path(tmp) / "lib"
        root.mkdir()
        for d in people[:8]:
            for f in sorted(os.listdir(LFW / d))[:3]:
                shutil.copy(LFW / d / f, root / f)
        env = dict(os.environ) | {"CLUSTERIDS_LIBRARY": str(lib), "CLUSTERIDS_PROGRESS": "false",
                                  "CLUSTERIDS_SETTLE_SECONDS": "0.5", "CLUSTERIDS_RECLUSTER_AFTER_FACES": "0",
                                  "CLUSTERIDS_RECLUSTER_MINUTES": "0"}
        cli = [sys.executable, "-m", "clusterids.cli", "--model", args.model]
        for cmd in (["index", str(root)], ["recluster"]):
            subprocess.run(cli + cmd, env=env, check=True, capture_output=True)
        out: dict = {"photos_added": len(burst)}
        with running_daemon(env) as remote:
            expected = remote.call(STATUS, {}).photos + len(burst)
            command = [sys.executable, "-m", "clusterids.cli", "people", "--json"]
            idle = [whole(command, env) for _ in range(args.idle)]
            for p in burst:
                shutil.copy(p, root / f"burst-{p.name}")
            times: dict[str, list[float]] = {"people (own connection)": [], "page grid (own connection)": [],
                                             "status (waits for the writer)": [],
                                             "clusterids people --json (whole process)": []}
            started = time.monotonic()
            while True:
                t = time.perf_counter()
                remote.call(PEOPLE, {})
                times["people (own connection)"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                status, _ = remote.request("GET", "/api/v1/people/page", timeout=120)
                assert status == 200, status
                times["page grid (own connection)"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                state = remote.call(STATUS, {})
                times["status (waits for the writer)"].append((time.perf_counter() - t) * 1000)
                times["clusterids people --json (whole process)"].append(whole(command, env))
                if state.photos >= expected and state.daemon is not None and state.daemon.queue == 0:
                    break
                time.sleep(0.05)
            out["index_seconds"] = round(time.monotonic() - started, 1)
            out["latency"] = {k: summary(v) for k, v in times.items()}
            out["latency"]["clusterids people --json (whole process, idle)"] = summary(idle)
            out["p95_during_minus_idle_ms"] = round(
                out["latency"]["clusterids people --json (whole process)"]["p95_ms"]
                - out["latency"]["clusterids people --json (whole process, idle)"]["p95_ms"], 1)
            out["load_after"] = round(os.getloadavg()[0], 2)
    out["machine"] = machine()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
