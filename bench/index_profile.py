"""Where an index run's CPU goes, stage by stage, beside the same photos' pure model time.

    python bench/index_profile.py [--rounds 3] [--folder bench/out/synth-100]

Each round runs, alternated, in fresh processes: (a) ``clusterids index`` into a fresh library,
its models loaded and warmed on the first photo outside the timing, with each indexer stage's
thread CPU time and page faults added up over its calls (read, metadata, dedupe, decode,
detect_embed, store); and (b) the pure model time: ``detect_and_embed`` on the same photos
decoded beforehand, ``workers`` at once, twice in one process (the second pass is the
process's steady state: its threads' memory is no longer fresh). Whole-run wall and CPU time
and page faults for each; medians over the rounds in the JSON printed last.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SCRFD_PACK, machine  # noqa: E402

STAGES = ("read", "metadata", "dedupe", "decode_stage", "detect_embed", "store")
DEFAULT = Path(__file__).resolve().parent / "out" / "synth-100"


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt


def _photos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))


def index_once(folder: Path) -> dict[str, Any]:
    from clusterids.app import open_core
    from clusterids.config import load_settings
    from clusterids.indexer import stages
    from clusterids.indexer.embed import detect_and_embed
    from clusterids.media.imaging import decode

    spent: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    lock = threading.Lock()

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            cpu, faults = time.thread_time(), _faults()
            try:
                return fn(*args, **kwargs)
            finally:
                with lock:
                    spent[name][0] += time.thread_time() - cpu
                    spent[name][1] += _faults() - faults
        return run

    for name in STAGES:  # the pipeline calls them through the module
        setattr(stages, name, timed(name, getattr(stages, name)))
    tmp = tempfile.mkdtemp()
    try:
        settings = load_settings({"library": tmp + "/lib", "model": str(SCRFD_PACK), "progress": False})
        with open_core(settings, create=True) as core:
            first = _photos(folder)[0].read_bytes()
            detect_and_embed(core.lib.model(), settings, decode(first, settings.decode_max_side, settings.max_pixels))
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            wall, cpu = time.perf_counter(), time.process_time()
            report = core.library.index([str(folder)])
            out: dict[str, Any] = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
                                   "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0,
                                   "faces": report.faces_added}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["stages"] = {k: {"cpu_s": round(v[0], 3), "faults": int(v[1])} for k, v in spent.items()}
    return out


def pure_once(folder: Path) -> dict[str, Any]:
    from clusterids.config import load_settings
    from clusterids.indexer.embed import detect_and_embed
    from clusterids.media.imaging import decode
    from clusterids.models.packs import resolve

    settings = load_settings({"library": "/nonexistent", "model": str(SCRFD_PACK), "progress": False})
    decoded = [decode(p.read_bytes(), settings.decode_max_side, settings.max_pixels) for p in _photos(folder)]
    model = resolve(str(SCRFD_PACK), settings).load(settings)
    detect_and_embed(model, settings, decoded[0])
    out: dict[str, Any] = {}
    for label in ("first pass", "second pass"):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        wall, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(settings.workers) as pool:
            faces = sum(pool.map(lambda d: len(detect_and_embed(model, settings, d)), decoded))
        out[label] = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
                      "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0, "faces": faces}
    return out


def _child(arm: str, folder: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", arm, "--folder", str(folder)], check=True,
                          capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--folder", type=Path, default=DEFAULT)
    ap.add_argument("--child", choices=["index", "pure"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(index_once(args.folder) if args.child == "index" else pure_once(args.folder)))
        return
    runs: dict[str, list[dict[str, Any]]] = {"index": [], "pure": []}
    for r in range(args.rounds):
        for arm in runs:
            runs[arm].append(_child(arm, args.folder))
            print(f"round {r + 1}: {arm}: {json.dumps(runs[arm][-1])} load {os.getloadavg()[0]:.2f}",
                  file=sys.stderr, flush=True)

    def median(rows: list[dict[str, Any]], key: str) -> float:
        return round(statistics.median(float(x[key]) for x in rows), 3)

    index, pure = runs["index"], [x["second pass"] for x in runs["pure"]]
    cold = [x["first pass"] for x in runs["pure"]]
    summary = {
        "index": {k: median(index, k) for k in ("wall_s", "cpu_s", "faults")},
        "index_stages": {s: {k: round(statistics.median(float(x["stages"][s][k]) for x in index), 3)
                             for k in ("cpu_s", "faults")} for s in STAGES},
        "pure first pass": {k: median(cold, k) for k in ("wall_s", "cpu_s", "faults")},
        "pure second pass": {k: median(pure, k) for k in ("wall_s", "cpu_s", "faults")},
    }
    summary["cpu_over_pure_s"] = round(summary["index"]["cpu_s"] - summary["pure second pass"]["cpu_s"], 3)
    print(json.dumps({"folder": str(args.folder), "rounds": args.rounds, "summary": summary, "runs": runs,
                      "machine": machine()}, indent=1))


if __name__ == "__main__":
    main()
