"""Workers against one PostgreSQL: throughput, the queue's overhead, recluster on each engine.

    python bench/workers.py [--photos 80] [--claims 2000] [--faces 100000] [--parts throughput,claims,recluster]

Starts its own PostgreSQL (as the tests do: initdb in a temporary folder, 127.0.0.1 only).

- throughput: ``index --enqueue`` of LFW photos, then 1 and then 2 ``clusterids worker --once``
  processes; photos/s overall and per worker, beside the baseline: one ``clusterids index``
  process on the same database.
- claims: the queue alone, no models: claim 4 rows and close the claim in a transaction, per
  photo, on PostgreSQL and SQLite (what a worker pays the database besides storing faces).
- recluster: a library of N synthetic faces (bench/recluster_scale.py's vectors, 128-d, as the
  open pack's) stored in PostgreSQL and in SQLite; ``recluster`` from scratch on each.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from common import LFW, SHARED, machine  # noqa: E402

from tests.conftest import _pg_bin, postgres_cluster, postgres_database  # noqa: E402


def _env(lib: Path, url: str, models: Path) -> dict[str, str]:
    import os

    env = dict(os.environ, CLUSTERIDS_LIBRARY=str(lib), CLUSTERIDS_MODELS_DIR=str(models),
               CLUSTERIDS_PROGRESS="false", CLUSTERIDS_MODEL="open")
    if url:
        env["CLUSTERIDS_DATABASE_URL"] = url
    return env


def _cli(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "clusterids.cli", *args, "--json"], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def throughput(server: str, n: int, tmp: Path, models: Path) -> dict:
    folder = tmp / "photos"
    folder.mkdir(exist_ok=True)
    photos = sorted(LFW.rglob("*.jpg"))[:n]
    for p in photos:
        shutil.copy(p, folder / f"{p.parent.name}_{p.name}")
    out: dict = {"photos": n}
    with postgres_database(server) as url:  # baseline: one process indexes, models included
        started = time.monotonic()
        r = _cli(_env(tmp / "lib-base", url, models), "index", str(folder))
        out["one_index_process"] = {"photos_per_s": round(n / (time.monotonic() - started), 2),
                                    "seconds": round(time.monotonic() - started, 1), "faces": r["faces_added"]}
    for k in (1, 2):
        with postgres_database(server) as url:
            env = _env(tmp / f"lib-{k}", url, models)
            _cli(env, "index", "--enqueue", str(folder))
            started = time.monotonic()
            procs = [subprocess.Popen([sys.executable, "-m", "clusterids.cli", "worker", "--once", "--json"], env=env,
                                      stdout=subprocess.PIPE, text=True) for _ in range(k)]
            reports = [json.loads(p.communicate()[0]) for p in procs]
            wall = time.monotonic() - started
            out[f"{k}_workers"] = {
                "photos_per_s": round(n / wall, 2), "seconds": round(wall, 1),
                "per_worker_photos_per_s": [round(r["photos"] / r["seconds"], 2) for r in reports],
                "photos_per_worker": [r["photos"] for r in reports], "faces": sum(r["faces"] for r in reports)}
    return out


def claims(server: str, n: int, tmp: Path) -> dict:
    from sqlalchemy.orm import Session

    from clusterids.store import queue
    from clusterids.store.db import open_engine

    out = {}
    for name in ("postgresql", "sqlite"):
        ctx = postgres_database(server) if name == "postgresql" else None
        url = ctx.__enter__() if ctx else f"sqlite:///{tmp / 'claims.db'}"
        engine = open_engine(url)
        with Session(engine) as s, s.begin():
            for i in range(n):
                queue.enqueue(s, f"/p/{i:07d}.jpg", i, i, None)
        started = time.monotonic()
        done = 0
        while True:
            token, got = queue.claim(engine, "bench", 4, 60)
            if not got:
                break
            with Session(engine) as s, s.begin():
                assert queue.complete(s, [c.id for c in got], token)
            done += len(got)
        seconds = time.monotonic() - started
        out[name] = {"photos": done, "ms_per_photo": round(1000 * seconds / done, 3)}
        engine.dispose()
        if ctx:
            ctx.__exit__(None, None, None)
    return out


def recluster(server: str, n: int, tmp: Path, models: Path) -> dict:
    from recluster_scale import vectors
    from sqlalchemy import insert

    from clusterids.app import open_core, open_library
    from clusterids.config import load_settings
    from clusterids.core.results import plain
    from clusterids.store.db import Face, Photo
    from clusterids.upkeep.catchup import catch_up

    x, _ = vectors(n, 128)
    out = {"faces": n}
    for name in ("postgresql", "sqlite"):
        ctx = postgres_database(server) if name == "postgresql" else None
        url = ctx.__enter__() if ctx else ""
        settings = load_settings({}, environ=_env(tmp / f"rc-{name}", url, models))
        with open_library(settings, create=True) as lib:
            with lib.db.transaction() as s:
                s.execute(insert(Photo), [{"id": i + 1, "path": f"/p/{i}.jpg", "size": 1, "mtime_ns": 1}
                                          for i in range(n)])
                for start in range(0, n, 10_000):
                    s.execute(insert(Face), [
                        {"photo_id": i + 1, "x1": 0.0, "y1": 0.0, "x2": 100.0, "y2": 100.0, "landmarks": [],
                         "det_score": 0.9, "size_px": 100.0, "sharpness": 100.0,
                         "vector": np.asarray(x[i], np.float32).tobytes()}
                        for i in range(start, min(n, start + 10_000))])
            catch_up(lib, full=True)
        with open_core(settings) as core:
            started = time.monotonic()
            report = plain(core.people.recluster(from_scratch=True))
            first = time.monotonic() - started
            started = time.monotonic()
            core.people.recluster()
            again = time.monotonic() - started
        out[name] = {"recluster_from_scratch_s": round(first, 1), "recluster_again_s": round(again, 1),
                     "clusters": report["clusters"]}
        print(name, json.dumps(out[name]), file=sys.stderr, flush=True)  # a long run shows its parts
        if ctx:
            ctx.__exit__(None, None, None)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=80)
    ap.add_argument("--claims", type=int, default=2000)
    ap.add_argument("--faces", type=int, default=100_000)
    ap.add_argument("--parts", default="throughput,claims,recluster")
    args = ap.parse_args()
    import signal

    # a timeout's SIGTERM must still stop the PostgreSQL started below (the finally in postgres_cluster)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    bin_dir = _pg_bin()
    if bin_dir is None:
        sys.exit("needs PostgreSQL's binaries (apt-get install postgresql)")
    from clusterids.models import openpack

    result: dict = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmpdir, postgres_cluster(bin_dir) as server:
        tmp = Path(tmpdir)
        models = tmp / "models"
        openpack.install(models / "open", SHARED / "models" / "opencv-zoo")
        parts = args.parts.split(",")
        if "throughput" in parts:
            result["throughput"] = throughput(server, args.photos, tmp, models)
        if "claims" in parts:
            result["claims"] = claims(server, args.claims, tmp)
        if "recluster" in parts:
            result["recluster"] = recluster(server, args.faces, tmp, models)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
