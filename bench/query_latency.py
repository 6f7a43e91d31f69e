"""Query latency at 100k faces: "photos of a person" and "search by photo", in-process and
through the daemon's API.

    python bench/query_latency.py [--faces 100000] [--persons 2000] [--repeat 50] [--ttl 20] [--memory-only]

The daemon's resident memory (VmRSS) is sampled idle before any query, right after the searches
by photo, once the models' TTL (``--ttl`` seconds, ``model_ttl_seconds``) has passed unused, and
after one more search by photo (whose time is the first search's after the TTL: the models load
again). ``--memory-only`` skips the in-process timings and the recluster (the daemon alone).

The library is synthetic (rows and vectors written straight into the store: the models play
no part in these queries except search's own photo), then `clusterids watch` serves it.
"search by photo" runs the models on the query photo; its vector part is reported alone too.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, machine  # noqa: E402

from clusterids.app import open_core  # noqa: E402
from clusterids.config import load_settings  # noqa: E402
from clusterids.core import operations  # noqa: E402
from clusterids.daemon.client import find_daemon  # noqa: E402
from clusterids.store import outbox  # noqa: E402
from clusterids.store.db import Face, Person, Photo  # noqa: E402
from clusterids.store.library import Library  # noqa: E402

PACK = SHARED / "models" / "scrfd500m-sface"
SHOWING, SEARCH = operations.get("photos.showing"), operations.get("photos.search")
QUERY = SHARED / "data" / "photos" / "solvay_conference_1927.jpg"
LANDMARKS = [[30.0, 40.0], [70.0, 40.0], [50.0, 60.0], [35.0, 80.0], [65.0, 80.0]]  # a frontal face's five points


def build(lib: Library, n_faces: int, n_persons: int) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(n_persons, lib.dim)).astype(np.float32)
    who = rng.integers(0, n_persons, n_faces)
    vecs = centres[who] + rng.normal(scale=0.7 / np.sqrt(lib.dim), size=(n_faces, lib.dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    with lib.db.transaction() as s:
        s.add_all([Person(id=i + 1) for i in range(n_persons)])
        photos = [Photo(id=i + 1, path=f"/synthetic/{i // 1000}/IMG_{i:06d}.jpg", size=1, mtime_ns=1,
                        sha256=f"{i:064x}", width=4000, height=3000) for i in range(n_faces // 2)]
        s.add_all(photos)
        s.flush()
        s.bulk_insert_mappings(Face, [  # type: ignore[arg-type]
            {"id": i + 1, "photo_id": i // 2 + 1, "x1": 0.0, "y1": 0.0, "x2": 100.0, "y2": 100.0,
             "landmarks": LANDMARKS, "det_score": 0.9, "size_px": 100.0, "sharpness": 50.0,
             "vector": vecs[i].tobytes(), "person_id": int(who[i]) + 1} for i in range(n_faces)])
        outbox.mark(s, outbox.VECTOR, range(1, n_faces + 1))


def timed(fn, repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(len(times) * 0.95) - 1], 2)}


def rss_mb(pid: int) -> dict[str, int]:
    """A process's resident memory now (VmRSS), in MB, and its parts: anonymous (the heap) and
    file-backed (shared libraries' code, the vector engine's mapped segments)."""
    fields = {"VmRSS:": "rss", "RssAnon:": "anon", "RssFile:": "file"}
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(" ", 1)[0].split("\t", 1)[0]
        if key in fields:
            out[fields[key]] = int(line.split()[1]) // 1024
    return out


def top_mappings(pid: int, n: int = 12) -> dict[str, int]:
    """The files and kinds of memory that hold most of a process's resident pages, in MB (from
    /proc/PID/smaps): what an RSS figure is made of."""
    rss: dict[str, int] = {}
    name = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        first = line.split(maxsplit=5)
        if "-" in first[0] and not first[0].endswith(":"):
            name = first[5] if len(first) > 5 else "[anonymous]"
            if "/site-packages/" in name:
                name = name.split("/site-packages/", 1)[1]
        elif first[0] == "Rss:":
            rss[name] = rss.get(name, 0) + int(first[1])
    top = sorted(rss.items(), key=lambda kv: -kv[1])[:n]
    return {k: v // 1024 for k, v in top}


def in_process(core, args: argparse.Namespace, out: dict, pids: list[str], rng: np.random.Generator) -> None:
    lib = core.lib
    it = iter(pids * 3)
    t = time.perf_counter()
    first = core.people.recluster()
    out["recluster_first_s"] = round(time.perf_counter() - t, 2)  # builds the neighbour graph
    t = time.perf_counter()
    core.people.recluster()
    out["recluster_again_s"] = round(time.perf_counter() - t, 2)  # the stored graph: the usual case
    out["recluster_clusters"] = first.clusters
    out["in_process"] = {
        "photos_of_a_person": timed(lambda: core.photos.showing([next(it)]), args.repeat),
        "search_by_photo": timed(lambda: core.photos.search(str(QUERY)), 5),
        "search_vectors_only_per_face": timed(
            lambda: lib.index.search(rng.normal(size=lib.dim).astype(np.float32), 50, 0.55), args.repeat),
    }


@contextmanager
def built(library: str, args: argparse.Namespace) -> Iterator[Any]:
    """The synthetic library of ``args`` built at ``library``, open."""
    settings = load_settings({"library": library, "model": str(PACK), "progress": False})
    with open_core(settings, create=True) as core:
        build(core.lib, args.faces, args.persons)
        core.catch_up()
        yield core


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=int, default=100_000)
    ap.add_argument("--persons", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--ttl", type=float, default=20.0, help="the daemon's model_ttl_seconds for the memory samples")
    ap.add_argument("--memory-only", action="store_true", help="the daemon's memory and searches only")
    ap.add_argument("--build-into", help=argparse.SUPPRESS)  # the library built by a child process
    args = ap.parse_args()
    out: dict = {"faces": args.faces, "persons": args.persons}
    if args.build_into:
        with built(args.build_into, args):
            return
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"library": tmp + "/lib", "model": str(PACK), "progress": False})
        rng = np.random.default_rng(1)
        pids = [str(int(p)) for p in rng.integers(1, args.persons + 1, args.repeat)]
        t = time.perf_counter()
        if args.memory_only:  # built in a child: this process maps none of the daemon's libraries
            subprocess.run([sys.executable, __file__, "--faces", str(args.faces), "--persons", str(args.persons),
                            "--build-into", tmp + "/lib"], check=True)
            out["build_s"] = round(time.perf_counter() - t, 1)
        else:
            with built(tmp + "/lib", args) as core:
                out["build_s"] = round(time.perf_counter() - t, 1)
                in_process(core, args, out, pids, rng)
        empty = Path(tmp) / "watched"
        empty.mkdir()
        env = dict(os.environ) | {"CLUSTERIDS_LIBRARY": tmp + "/lib", "CLUSTERIDS_RECLUSTER_AFTER_FACES": "0",
                                  "CLUSTERIDS_RECLUSTER_MINUTES": "0", "CLUSTERIDS_MODEL_TTL_SECONDS": str(args.ttl)}
        daemon = subprocess.Popen([sys.executable, "-m", "clusterids.cli", "watch", str(empty)], env=env,
                                  stderr=subprocess.DEVNULL)
        try:
            while find_daemon(settings) is None:
                time.sleep(0.1)
            remote = find_daemon(settings)
            assert remote is not None
            while True:
                try:
                    remote.call(operations.get("library.status"), {})
                    break
                except Exception:
                    time.sleep(0.2)
            it = iter(pids * 3)
            time.sleep(5)  # the catch-up at start is done; what the idle daemon holds
            memory = {"idle_mb": rss_mb(daemon.pid)}
            out["through_api"] = {
                "photos_of_a_person": timed(lambda: remote.call(SHOWING, {"persons": [next(it)]}), args.repeat),
                "search_by_photo": timed(lambda: remote.call(SEARCH, {"photo": str(QUERY)}), 5),
            }
            memory["after_searches_mb"] = rss_mb(daemon.pid)
            time.sleep(args.ttl + 5)  # the models unused past their TTL: unloaded by the idle loop
            memory[f"after_ttl_{args.ttl:g}s_mb"] = rss_mb(daemon.pid)
            memory["after_ttl_largest_mb"] = top_mappings(daemon.pid)
            memory["benchmark_process_mb"] = rss_mb(os.getpid()) | {
                "models_loaded_here": int(any(m in sys.modules for m in ("onnxruntime", "cv2")))}
            t = time.perf_counter()
            remote.call(SEARCH, {"photo": str(QUERY)})  # the models load again
            out["through_api"]["first_search_after_ttl_ms"] = round((time.perf_counter() - t) * 1000, 1)
            memory["after_one_more_search_mb"] = rss_mb(daemon.pid)
            out["daemon_memory"] = memory
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
    out["machine"] = machine()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
