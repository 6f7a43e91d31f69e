"""Clustering quality on a labelled folder: ours vs the seed, Immich's rule and HDBSCAN.

    python bench/quality.py [--data DIR] [--people 300] [--distractors 300] [--model PACK] [--sweep]
    python bench/quality.py --set cfp-dev|cfp-degraded|lfw|multi [--sweep]
    python bench/quality.py --calibrate

Indexes the subset once (cached under bench/out/), then clusters the same vectors with every
method. ``clusterids eval DIR`` prints the same figures for a folder of your own.

``--set`` works on the model outputs kept by ``bench/face_cache.py`` (run once per set): it
reports detection (photos yielding a face in the first pass, and with the retries) and
clustering on plain and on flip-averaged vectors, ours against the three baselines.
``--calibrate`` picks eps and min_samples on the union of the dev sets.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LFW, SCRFD_PACK, labelled_subset, machine  # noqa: E402

from clusterids import evaluation  # noqa: E402
from clusterids.app import open_library  # noqa: E402
from clusterids.config import load_settings  # noqa: E402
from clusterids.indexer.pipeline import index_paths  # noqa: E402


def main() -> None:
    if "--set" in sys.argv or "--calibrate" in sys.argv:
        from quality_sets import main as sets_main

        sets_main()
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=LFW, help="labelled folder: one sub-folder per identity")
    ap.add_argument("--people", type=int, default=300, help="identities with 2+ photos (0: all)")
    ap.add_argument("--distractors", type=int, default=300, help="identities with one photo (-1: all)")
    ap.add_argument("--model", default=str(SCRFD_PACK), help="model pack")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    ap.add_argument("--eps", type=float, default=0.0)
    ap.add_argument("--min-samples", type=int, default=0)
    ap.add_argument("--sweep", action="store_true", help="also try a grid of eps and min_samples")
    args = ap.parse_args()
    folder = labelled_subset(args.data, args.out, args.people, args.distractors)
    tag = Path(args.model).name
    settings = load_settings({"library": str(args.out / f"lib-{folder.name}-{tag}"), "model": args.model,
                              "progress": False, "database_url": "", "vector_store_url": ""})
    with open_library(settings, create=True) as lib:
        index = index_paths(lib, [folder])
        report = evaluation.evaluate(lib, folder, eps=args.eps or None, min_samples=args.min_samples or None)
        if args.sweep:
            sweep = []
            for eps in (0.35, 0.4, 0.42, 0.45, 0.48, 0.5, 0.55):
                for ms in (2, 3, 4, 5):
                    r = evaluation.evaluate(lib, folder, methods=["clusterids"], eps=eps, min_samples=ms)
                    row = r["results"][0]
                    sweep.append({"eps": eps, "min_samples": ms, "bcubed_f1": row["bcubed_f1"],
                                  "pairwise_f1": row["pairwise_f1"], "unknown": row["unknown"]})
            report["sweep"] = sweep
    report["machine"] = machine()
    report["index_seconds"] = index.seconds
    report["model"] = args.model
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
