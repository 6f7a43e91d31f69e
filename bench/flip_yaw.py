"""Which faces need their mirror: clustering quality and mirrored share by the flip's yaw threshold.

    python bench/flip_yaw.py [--sets cfp-dev lfw multi] [--yaws 0 0.3 0.5 0.8 99]

On the model outputs kept by bench/face_cache.py (the raw output of each aligned face and of
its mirror), each threshold t gives the vectors indexing makes with ``flip_min_yaw = t``: a
face whose landmark yaw is at least t is the sum of both outputs, any other face its own output
alone (t = 0: every face mirrored, the old default; t = 99: none, flip_embed off). Every
threshold is scored with today's rule and, on the same vectors, the seed's rule, Immich's rule,
DBSCAN(0.5, 2) and HDBSCAN. "mirrored" is the share of faces that pay for a second
recognizer pass, which is what the flip costs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402
from face_cache import OUT  # noqa: E402
from quality_sets import Cached, score  # noqa: E402

from clusterids import evaluation  # noqa: E402
from clusterids.clustering.people import params_for  # noqa: E402
from clusterids.clustering.quality import trusted  # noqa: E402
from clusterids.config import load_settings  # noqa: E402
from clusterids.models.base import unit  # noqa: E402
from clusterids.models.pose import yaw  # noqa: E402


def selective(c: Cached, threshold: float) -> tuple[np.ndarray, float]:
    turned = yaw(c.kps) >= threshold
    return unit(c.raw + c.flip * turned[:, None]), float(turned.mean())


def dbscan_05_2(vectors: np.ndarray) -> np.ndarray:
    from sklearn.cluster import DBSCAN

    return DBSCAN(eps=0.5, min_samples=2, metric="cosine").fit_predict(vectors)


def ours(c: Cached, vectors: np.ndarray) -> np.ndarray:
    s = load_settings({"library": str(OUT / "unused-lib")})
    p = params_for(c.raw.shape[1], s)
    gate = trusted(s, c.score, c.size, c.sharp, c.kps)
    return evaluation.ours(vectors, p.eps, p.min_samples, gate, c.photo, s.weak_eps or None, p.join_eps,
                           p.attach_eps, p.weak_attach_eps, attach_lead=c.leads())


METHODS = {"clusterids": ours, "seed DBSCAN(0.55, 1)": lambda c, v: evaluation.seed_rule(v),
           "Immich rule (0.5, 3)": lambda c, v: evaluation.immich_rule(v),
           "DBSCAN(0.5, 2)": lambda c, v: dbscan_05_2(v), "HDBSCAN(3)": lambda c, v: evaluation.hdbscan_rule(v)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", default=["cfp-dev", "lfw"])
    ap.add_argument("--yaws", nargs="+", type=float, default=[0.0, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 99.0])
    ap.add_argument("--baselines", action="store_true", help="also score the four baselines at each threshold")
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    for name in args.sets:
        c = Cached(name)
        for t in args.yaws:
            vectors, share = selective(c, t)
            methods = METHODS if args.baselines else {"clusterids": ours}
            for method, fn in methods.items():
                r = score(c, fn(c, vectors))
                rows.append({"set": name, "flip_min_yaw": t, "mirrored": round(share, 4), "method": method,
                             **{k: r[k] for k in ("bcubed_f1", "pairwise_f1", "pairwise_precision", "unknown")}})
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    default = load_settings({"library": str(OUT / "unused-lib")}).flip_min_yaw
    print(json.dumps({"rows": rows, "default_flip_min_yaw": default, "machine": machine()}, indent=1))


if __name__ == "__main__":
    main()
