"""Watching: from a settled new photo to its entry in the person's album, through the daemon.

    python bench/watch_latency.py [--photos 10] [--settle 2.0] [--model PACK]

A library is made from 4 LFW people (6 photos each) and reclustered; then `clusterids watch`
runs on it, and new photos of those people are copied in one at a time. For each: the time
from the copy until the album link exists, the settle time, and the model time for that photo
(detector + recognizer, measured separately), so that latency - settle - model = our overhead.
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
from common import LFW, SCRFD_PACK, machine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=10)
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--model", default=str(SCRFD_PACK))
    args = ap.parse_args()
    people = [d for d in sorted(os.listdir(LFW)) if len(os.listdir(LFW / d)) >= 6 + args.photos // 4 + 1][:4]
    with tempfile.TemporaryDirectory() as tmp:
        root, lib = Path(tmp) / "photos", Path(tmp) / "lib"
        for d in people:
            (root / d).mkdir(parents=True)
            for f in sorted(os.listdir(LFW / d))[:6]:
                shutil.copy(LFW / d / f, root / d / f)
        env = dict(os.environ) | {"CLUSTERIDS_LIBRARY": str(lib), "CLUSTERIDS_PROGRESS": "false",
                                  "CLUSTERIDS_SETTLE_SECONDS": str(args.settle)}
        cli = [sys.executable, "-m", "clusterids.cli", "--model", args.model]
        for cmd in (["index", str(root)], ["recluster"]):
            subprocess.run(cli + cmd, env=env, check=True, capture_output=True)
        daemon = subprocess.Popen(cli + ["watch"], env=env, stderr=subprocess.DEVNULL)
        try:
            while not (lib / "daemon.json").exists():
                time.sleep(0.1)
            time.sleep(2)
            from clusterids.config import load_settings
            from clusterids.indexer.embed import detect_and_embed
            from clusterids.media.imaging import decode
            from clusterids.models.packs import resolve

            settings = load_settings({"library": tmp + "/scratch", "model": args.model})

            model = resolve(args.model, settings).load(settings)
            rows = []
            for k in range(args.photos):
                d = people[k % 4]
                f = sorted(os.listdir(LFW / d))[6 + k // 4]
                decoded = decode((LFW / d / f).read_bytes(), settings.decode_max_side, settings.max_pixels)
                t0 = time.perf_counter()
                detect_and_embed(model, settings, decoded)
                model_s = time.perf_counter() - t0
                start = time.perf_counter()
                shutil.copy(LFW / d / f, root / d / f)
                while not any((a / f).exists() for a in (lib / "albums").iterdir() if not a.name.startswith(".")):
                    time.sleep(0.02)
                    if time.perf_counter() - start > 60:
                        raise SystemExit(f"{f} never reached an album")
                latency = time.perf_counter() - start
                rows.append({"photo": f, "latency_s": round(latency, 3), "model_s": round(model_s, 3),
                             "overhead_s": round(latency - args.settle - model_s, 3)})
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
    print(json.dumps({
        "settle_s": args.settle, "model": args.model, "rows": rows,
        "median_latency_s": statistics.median(r["latency_s"] for r in rows),
        "median_overhead_s": statistics.median(r["overhead_s"] for r in rows),
        "max_overhead_s": max(r["overhead_s"] for r in rows),
        "machine": machine(),
    }, indent=1))


if __name__ == "__main__":
    main()
