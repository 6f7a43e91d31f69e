"""The copy rule's effect on quality: each set's faces with COPY_SIM off and on (clustering/merge.py).

    python bench/copies.py [--sets lfw cfp-dev lag-dev multi]

On the face caches of bench/face_cache.py, with the vectors indexing makes (the default
flip_min_yaw) and the defaults, BCubed F1 / pairwise F1 / pairwise precision with the rule that a
face at COPY_SIM or more to a face of another photo is one sighting, and without it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402
from face_cache import OUT  # noqa: E402
from flip_yaw import ours, selective  # noqa: E402
from quality_sets import Cached, score  # noqa: E402

from clusterids.clustering import merge  # noqa: E402
from clusterids.config import load_settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", default=["lfw", "cfp-dev", "lag-dev", "multi"])
    args = ap.parse_args()
    flip = load_settings({"library": str(OUT / "unused-lib")}).flip_min_yaw
    on = merge.COPY_SIM
    rows = []
    for name in args.sets:
        c = Cached(name)
        vectors = selective(c, flip)[0]
        for copy_sim in (2.0, on):  # 2.0: no two faces are that alike, the rule is off
            merge.COPY_SIM = copy_sim
            r = score(c, ours(c, vectors))
            rows.append({"set": name, "copy_rule": copy_sim == on,
                         **{k: r[k] for k in ("bcubed_f1", "pairwise_f1", "pairwise_precision", "unknown")}})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        merge.COPY_SIM = on
    print(json.dumps({"rows": rows, "copy_sim": on, "flip_min_yaw": flip, "machine": machine()}, indent=1))


if __name__ == "__main__":
    main()
