"""How fast the command starts: `clusterids --version` and `clusterids people` on a 100k-face
library, with and without the daemon, each against `python -c pass` in the same run.

    python bench/cli_start.py [--faces 100000] [--persons 2000] [--repeat 7]

Every command runs in a fresh process; the runs are interleaved so that load from elsewhere
hits all alike. Wall time is the median; memory is the process's peak RSS (GNU time's %M).
The library is synthetic (bench/query_latency.py's rows and vectors, no models).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, running_daemon  # noqa: E402
from query_latency import PACK, build  # noqa: E402

from clusterids.app import open_library  # noqa: E402
from clusterids.config import load_settings  # noqa: E402


def once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS in MB of one run of ``argv``, started by GNU time (a small
    process: a child forked from this one would report this one's size as its own peak)."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr[-300:]}")
    return wall, int(proc.stderr.split()[-1]) / 1024


def measure(commands: dict[str, list[str]], env: dict[str, str], repeat: int) -> dict[str, dict[str, float]]:
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            runs[name].append(once(argv, env))
    return {name: {"median_s": round(statistics.median(w for w, _ in r), 3),
                   "peak_rss_mb": round(max(m for _, m in r), 1)} for name, r in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=int, default=100_000)
    ap.add_argument("--persons", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    cli = [sys.executable, "-m", "clusterids.cli"]
    commands = {"python -c pass": [sys.executable, "-c", "pass"], "clusterids --version": [*cli, "--version"],
                "clusterids people": [*cli, "people"]}
    out: dict = {"faces": args.faces, "persons": args.persons, "repeat": args.repeat}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"library": tmp + "/lib", "model": str(PACK), "progress": False})
        with open_library(settings, create=True) as lib:
            build(lib, args.faces, args.persons)
        env = dict(os.environ) | {"CLUSTERIDS_LIBRARY": tmp + "/lib", "CLUSTERIDS_RECLUSTER_AFTER_FACES": "0",
                                  "CLUSTERIDS_RECLUSTER_MINUTES": "0"}
        out["without_daemon"] = measure(commands, env, args.repeat)
        watched = Path(tmp) / "watched"
        watched.mkdir()
        with running_daemon(env, str(watched)):
            out["with_daemon"] = measure(commands, env, args.repeat)
    out["machine"] = machine()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
