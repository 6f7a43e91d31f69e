"""Memory of the daemon while it watches a large folder, and through a burst of changes.

    python bench/watch_memory.py [--photos 100000] [--burst 10000]

The folder holds ``--photos`` files in 1,000 sub-folders: hard links to one small photo with
no face, so that indexing costs a read, a hash and a database row each (the content is known
after the first) and the models stay out of the measure. The daemon catches up with them,
idles, then ``--burst`` files are touched at once (each one an event, settled and re-checked).
Its resident memory (VmRSS) is sampled every half second.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

from clusterids.core import operations  # noqa: E402
from clusterids.core.results import plain  # noqa: E402


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def status(env: dict[str, str]) -> dict:
    """The daemon's status through its API (a CLI process per poll would cost a core)."""
    from clusterids.config import load_settings
    from clusterids.daemon.client import find_daemon
    from clusterids.errors import UserError

    remote = find_daemon(load_settings({}, environ=env))
    try:
        return plain(remote.call(operations.get("library.status"), {})) if remote else {}
    except UserError:
        return {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=100_000)
    ap.add_argument("--burst", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "photos"
        root.mkdir()
        seed = Path(tmp) / "blank.jpg"
        Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(seed)
        files = []
        for i in range(args.photos):
            d = root / f"{i % 1000:04d}"
            d.mkdir(exist_ok=True)
            f = d / f"IMG_{i:06d}.jpg"
            if i % 60_000 == 0:  # a filesystem allows some 65,000 links to one file
                source = Path(tmp) / f"blank{i}.jpg"
                source.write_bytes(seed.read_bytes())
            os.link(source, f)
            files.append(f)
        env = dict(os.environ) | {"CLUSTERIDS_LIBRARY": tmp + "/lib", "CLUSTERIDS_PROGRESS": "false",
                                  "CLUSTERIDS_SETTLE_SECONDS": "1", "CLUSTERIDS_RECLUSTER_MINUTES": "0",
                                  "CLUSTERIDS_RECLUSTER_AFTER_FACES": "0"}
        start = time.perf_counter()
        daemon = subprocess.Popen([sys.executable, "-m", "clusterids.cli", "watch", str(root)], env=env,
                                  stderr=subprocess.DEVNULL)
        samples: list[tuple[float, float, str]] = []

        def sample(phase: str) -> None:
            samples.append((round(time.perf_counter() - start, 1), round(rss_mb(daemon.pid), 1), phase))

        try:
            while not (Path(tmp) / "lib" / "daemon.json").exists():
                time.sleep(0.5)
                sample("starting")
            while status(env).get("photos", 0) < args.photos:
                for _ in range(4):
                    time.sleep(0.5)
                    sample("catching up")
            caught_up = time.perf_counter() - start
            for _ in range(20):
                time.sleep(0.5)
                sample("idle")
            now = time.time()
            for f in files[: args.burst]:
                os.utime(f, (now, now))
            burst_start = time.perf_counter()
            while True:
                time.sleep(0.5)
                sample("burst")
                s = status(env)
                if s.get("daemon", {}).get("queue", 1) == 0 and time.perf_counter() - burst_start > 3:
                    break
            for _ in range(10):
                time.sleep(0.5)
                sample("after")
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)

    def peak(phase: str) -> float:
        return max((s[1] for s in samples if s[2] == phase), default=0.0)

    print(json.dumps({
        "photos": args.photos, "burst": args.burst, "catch_up_s": round(caught_up, 1),
        "rss_mb": {p: peak(p) for p in ("starting", "catching up", "idle", "burst", "after")},
        "samples": len(samples), "machine": machine(),
    }, indent=1))


if __name__ == "__main__":
    main()
