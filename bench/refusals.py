"""What a birth date costs the reads that keep faces from a person (``reads.refusals``) at 100k faces.

    python bench/refusals.py [--faces 100000] [--dated 5] [--rounds 7]

A synthetic SQLite library (rows written straight into the store; no vector index, no models):
``--faces`` faces, two a photo, photos dated from 1990 to 2024, 2,000 persons, a fifth of the
faces unknown, one rejection in a hundred faces, and ``--dated`` persons with a birth date. The
arms alternate in each round (A, B, C, D, A, ...), medians reported:
- ``rejections``: the rejections alone (what every caller read before birth dates);
- ``refusals, every face``: rejections and the pairs a birth date refuses, of every face (the
  recluster's read);
- ``refusals, the unknown faces``: of the unknown faces only (what the suggestions ask since
  the review: their candidates);
- ``refusals, one face``: one face's (the instant assignment's, per new face).
And the same arms with no person dated (the short way: no join at all).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, machine  # noqa: E402

from clusterids.app import open_core  # noqa: E402
from clusterids.config import load_settings  # noqa: E402
from clusterids.store import reads  # noqa: E402
from clusterids.store.db import Face, Person, Photo, Rejection  # noqa: E402

PACK = SHARED / "models" / "scrfd500m-sface"
LANDMARKS = [[30.0, 40.0], [70.0, 40.0], [50.0, 60.0], [35.0, 80.0], [65.0, 80.0]]


def build(lib: Any, n_faces: int, n_persons: int = 2000) -> list[int]:
    rng = np.random.default_rng(0)
    who = rng.integers(0, n_persons, n_faces)
    unknown = rng.random(n_faces) < 0.2
    vec = np.zeros(lib.dim, np.float32).tobytes()
    with lib.db.transaction() as s:
        s.add_all([Person(id=i + 1) for i in range(n_persons)])
        s.flush()
        s.bulk_insert_mappings(Photo, [  # type: ignore[arg-type]
            {"id": i + 1, "path": f"/synthetic/{i // 1000}/IMG_{i:06d}.jpg", "size": 1, "mtime_ns": 1,
             "sha256": f"{i:064x}", "width": 4000, "height": 3000, "status": "ok",
             "taken_at": f"{1990 + (i * 35) // (n_faces // 2):04d}-{1 + i % 12:02d}-15T12:00:00",
             "taken_estimated": bool(i % 10 == 0)} for i in range(n_faces // 2)])
        s.bulk_insert_mappings(Face, [  # type: ignore[arg-type]
            {"id": i + 1, "photo_id": i // 2 + 1, "x1": 0.0, "y1": 0.0, "x2": 100.0, "y2": 100.0,
             "landmarks": LANDMARKS, "det_score": 0.9, "size_px": 100.0, "sharpness": 50.0, "vector": vec,
             "person_id": None if unknown[i] else int(who[i]) + 1} for i in range(n_faces)])
        s.bulk_insert_mappings(Rejection, [  # type: ignore[arg-type]
            {"face_id": i + 1, "person_id": int(who[(i + 7) % n_faces]) + 1} for i in range(0, n_faces, 100)])
    return [i + 1 for i in range(n_faces) if unknown[i]]


def date(lib: Any, n: int) -> None:
    with lib.db.transaction() as s:
        for pid in range(1, 2001):
            s.get(Person, pid).born = f"{2000 + pid % 20}-06-01" if pid <= n else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=int, default=100_000)
    ap.add_argument("--dated", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"CLUSTERIDS_LIBRARY": str(Path(tmp) / "lib"), "CLUSTERIDS_PROGRESS": "false"}
        os.environ.update(env)
        core = open_core(load_settings({"model": str(PACK)}), create=True)
        lib = core.lib
        try:
            unknown = build(lib, args.faces)
            one = unknown[len(unknown) // 2]
            arms = {
                "rejections": lambda s: reads.rejections(s),
                "refusals, every face": lambda s: reads.refusals(s),
                "refusals, the unknown faces": lambda s: reads.refusals(s, unknown),
                "refusals, one face": lambda s: reads.refusals(s, [one]),
            }
            out: dict[str, Any] = {"faces": args.faces, "unknown": len(unknown), "machine": machine(),
                                   "load_avg_start": list(os.getloadavg())}
            for dated in (args.dated, 0):
                date(lib, dated)
                times: dict[str, list[float]] = {k: [] for k in arms}
                pairs: dict[str, int] = {}
                for _ in range(args.rounds):
                    for name, fn in arms.items():
                        with lib.db.read() as s:
                            t = time.perf_counter()
                            pairs[name] = len(fn(s))
                            times[name].append(time.perf_counter() - t)
                out[f"{dated} persons dated"] = {k: {"median_ms": round(1000 * statistics.median(v), 2),
                                                     "pairs": pairs[k]} for k, v in times.items()}
            out["load_avg_end"] = list(os.getloadavg())
        finally:
            lib.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
