"""How long the unknown page's groups take (issue 18), without the database.

    python bench/unknown_groups.py [--faces 2000 10000] [--dim 512] [--runs 3] [--library 3000]

N unknown faces at DIM: a third of them in small groups of lookalikes (2 to 6 faces around a
centre), the rest strangers. Timed, each a median of RUNS: the exact neighbours of faces the
stored graph does not cover yet (the worst case: none is covered) and the grouping itself
(clustering/lookalikes.py). The database read and the graph's load come on top (a read of N
vectors; ``np.load`` of the graph).

``--library N``: the whole read on a synthetic library (tests/synthetic.py, SQLite, 16-D
vectors) of N unknown faces, one a photo, as the page asks for it (``unknown.groups``), against
the read the unknown page made before (``people.person unknown``), alternated A, B, A, B.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

from clusterids.clustering.graph import neighbours  # noqa: E402
from clusterids.clustering.lookalikes import lookalike_groups  # noqa: E402


def faces(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    out, grouped = [], n // 3
    while len(out) < grouped:
        centre = rng.normal(size=dim)
        centre /= np.linalg.norm(centre)
        for _ in range(int(rng.integers(2, 7))):
            v = centre + 0.02 * rng.normal(size=dim)
            out.append(v / np.linalg.norm(v))
    rest = rng.normal(size=(n - len(out), dim))
    vectors = np.concatenate([np.array(out), rest / np.linalg.norm(rest, axis=1, keepdims=True)])
    return vectors.astype(np.float32)


def end_to_end(n: int, runs: int) -> dict[str, float | int]:
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from clusterids.core import Core
    from tests.synthetic import DIM, add_photos, synthetic_library

    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp, synthetic_library(Path(tmp)) as lib:
        add_photos(lib, Path(tmp) / "photos", [[v] for v in faces(n, DIM, rng)])
        core = Core(lib)
        groups, before = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            page = core.unknown.groups()
            t1 = time.perf_counter()
            core.people.person("unknown", 0, 120)
            t2 = time.perf_counter()
            groups.append(t1 - t0)
            before.append(t2 - t1)
        return {"faces": n, "groups": page.total_groups, "groups_read_s": round(statistics.median(groups), 3),
                "person_unknown_read_s": round(statistics.median(before), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faces", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--eps", type=float, default=0.5)
    ap.add_argument("--library", type=int, default=0)
    args = ap.parse_args()
    if args.library:
        print(json.dumps({"machine": machine(), "load_average": os.getloadavg()[0], "runs": args.runs,
                          "end_to_end": end_to_end(args.library, args.runs)}, indent=1))
        return
    rng = np.random.default_rng(0)
    rows = []
    for n in args.faces:
        vectors = faces(n, args.dim, rng)
        photos = np.arange(n)
        rows_ = np.arange(n)
        found, grouped, times = [], [], {"neighbours_s": [], "groups_s": []}
        for _ in range(args.runs):
            t0 = time.perf_counter()
            a, b, s = neighbours(vectors, rows_, vectors, rows_, 1.0 - args.eps, 32)
            t1 = time.perf_counter()
            groups = lookalike_groups(vectors, photos, a, b, s, args.eps)
            t2 = time.perf_counter()
            times["neighbours_s"].append(t1 - t0)
            times["groups_s"].append(t2 - t1)
            found, grouped = [len(groups)], [sum(len(g) for g in groups)]
        rows.append({"faces": n, "dim": args.dim, "groups": found[0], "grouped_faces": grouped[0],
                     **{k: round(statistics.median(v), 3) for k, v in times.items()}})
    print(json.dumps({"machine": machine(), "load_average": os.getloadavg()[0], "runs": args.runs, "rows": rows},
                     indent=1))


if __name__ == "__main__":
    main()
