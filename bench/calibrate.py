"""One calibration of the person rule on the union of the dev sets (issue 17).

    python bench/calibrate.py [--sets lfw cfp-dev lag-dev multi] [--quick]
    python bench/calibrate.py --time [--sets lfw cfp-dev lag-dev]   # the support's cost, A/B alternated
    python bench/calibrate.py --quick --wide   # also the two-level join (JOIN_WIDE 0 and 0.05)
    python bench/calibrate.py --jitter 3       # every figure the mean over 3 jittered copies of each set
    python bench/calibrate.py --halves 30      # the defaults and baselines on 30 random halves of each set's people

On the model outputs kept by bench/face_cache.py (the vectors indexing makes with the default
flip_min_yaw), sweeps the rule's few parameters (eps, join_eps and the wider join by
several face pairs, attach_eps and weak_attach_eps, how many of a person's trusted faces a stray face must be near to
join it and how much farther than the centre's reach they may be, and the lead its person must
have over any other, and the smaller lead of a large profile) and prints every set's figures
beside the seed's rule, Immich's rule, DBSCAN(0.5, 2) and HDBSCAN on the same vectors. The
default is picked by one criterion over all the sets at once, never one set's number:

  feasible: LFW BCubed F1 >= 0.985 and pairwise F1 >= 0.99 (release 0.2's), pairwise
            precision >= 0.99 on every set where one of the baselines reaches it, and
            BCubed F1 and pairwise F1 no lower than the rule's before the first calibration on
            lfw, and at least issue 17's 0.955 on cfp-dev (KEEP: a change that wins lag-dev but
            loses cfp-dev or lfw is not taken);
  best:     the highest minimum over the sets of pairwise precision (lag-dev's, where no
            baseline reaches 0.99), then the highest mean over the sets of pairwise F1.

A point picked on these very vectors sits where they happen to favour it. ``--jitter N`` asks
how much of a figure is that: each set is taken N times, every model output moved by seeded
noise to a median cosine of 0.999 with the one before (what a change of JPEG decoder does to
lag-dev's crops), and every figure is the mean over the copies. ``--halves N`` asks what the
held-out halves may show: each set is cut N times into a random half of its identities (all the
photos of each), and the defaults and the baselines are scored on every half (median, worst,
best). One dev set's figure hides a rule's cliffs: a guard just passed on one half is a giant
person there.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402
from face_cache import OUT  # noqa: E402
from flip_yaw import dbscan_05_2, selective  # noqa: E402
from quality_sets import Cached, score  # noqa: E402

from clusterids import evaluation  # noqa: E402
from clusterids.clustering import merge, pairs  # noqa: E402
from clusterids.clustering.people import params_for  # noqa: E402
from clusterids.clustering.quality import trusted  # noqa: E402
from clusterids.config import load_settings  # noqa: E402

KEYS = ("bcubed_f1", "pairwise_f1", "pairwise_precision", "pairwise_recall", "unknown", "largest_person",
        "max_taken_share", "taken_over_2pct", "persons_10", "stray_over_2pct", "max_stray_share_10")
BASELINES = {"seed DBSCAN(0.55, 1)": evaluation.seed_rule, "Immich rule (0.5, 3)": evaluation.immich_rule,
             "DBSCAN(0.5, 2)": dbscan_05_2, "HDBSCAN(3)": evaluation.hdbscan_rule}
GRID = {"eps": (0.42, 0.45), "join_eps": (0.45, 0.48), "attach_eps": (0.58, 0.62, 0.65),
        "weak_attach_eps": (0.5, 0.55, 0.6), "attach_support": (4, 5), "support_slack": (0.1,),
        "attach_lead": (0.05, 0.08, 0.1, 0.12), "turned_lead": (0.05, 0.1)}
QUICK = {"eps": (0.45,), "join_eps": (0.45,), "attach_eps": (0.58, 0.6, 0.62), "weak_attach_eps": (0.5, 0.6),
         "attach_support": (4, 5), "support_slack": (0.05, 0.1), "attach_lead": (0.0, 0.05, 0.08, 0.1),
         "turned_lead": (0.05, 0.1)}
PRECISION = 0.99  # the composed library's target; the baselines reach it on every set but lag-dev
# (BCubed F1, pairwise F1) no point may fall below: on lfw the rule's before the first calibration
# (a23fce1: support 4, slack 0.1, no lead, no wide join, HDBSCAN inside loose groups), on cfp-dev
# issue 17's target (before, the a23fce1 rule's 0.9510 / 0.9459: a point 0.0004 more precise on
# lag-dev but below the target on cfp-dev was picked over one that meets both)
KEEP = {"lfw": (0.9915, 0.9979), "cfp-dev": (0.955, 0.955)}
LFW_FLOOR = (0.985, 0.99)


JITTER = 0.045  # noise per unit of a vector's norm: the median cosine to the vector before is 1/sqrt(1+JITTER^2)


class Prepared:
    """One set's vectors as indexing makes them, its quality gate and photos; with ``jitter``
    (a seed), its model outputs moved by seeded noise (see --jitter)."""

    def __init__(self, name: str, flip_min_yaw: float, jitter: int | None = None) -> None:
        self.cached = Cached(name)
        if jitter is not None:
            rng = np.random.default_rng(jitter)
            for key in ("raw", "flip"):
                x = getattr(self.cached, key)
                noise = rng.standard_normal(x.shape).astype(np.float32)
                scale = np.linalg.norm(x, axis=1, keepdims=True) * JITTER / np.sqrt(x.shape[1])
                setattr(self.cached, key, x + noise * scale)
        self.vectors = selective(self.cached, flip_min_yaw)[0]


def half(p: Prepared, seed: int) -> Prepared:
    """``p`` with a random half of its identities (seeded), and every face of their photos."""
    import copy

    c = p.cached
    truth = np.asarray(c.truth)
    ids = np.unique(truth)
    chosen = set(np.random.default_rng(seed).permutation(ids)[: len(ids) // 2].tolist())
    labelled = np.array([t in chosen for t in truth.tolist()], bool)
    rows = np.flatnonzero(np.isin(c.photo, np.unique(c.photo[c.rows[labelled]])))
    where = np.full(len(c.photo), -1, np.int64)
    where[rows] = np.arange(len(rows))
    out, cached = copy.copy(p), copy.copy(c)
    for key in ("photo", "passes", "bbox", "kps", "score", "sharp", "raw", "flip", "size"):
        setattr(cached, key, getattr(c, key)[rows])
    cached.rows, cached.truth = where[c.rows[labelled]], truth[labelled].tolist()
    out.cached, out.vectors = cached, p.vectors[rows]
    return out


def on_halves(copies: dict[str, list[Prepared]], n: int) -> dict[str, Any]:
    """Every method's figures on ``n`` halves of each set: median, worst and best of each."""
    methods = {"clusterids (defaults)": lambda p: ours(p, {})} | {m: (lambda p, fn=fn: fn(p.vectors))
                                                                  for m, fn in BASELINES.items()}
    out: dict[str, Any] = {}
    for name, each in copies.items():
        parts = [half(each[0], seed) for seed in range(n)]
        mine: list[dict[str, Any]] = []
        for method, fn in methods.items():
            got = [figures(part, fn(part)) for part in parts]
            mine = mine or got
            out.setdefault(method, {})[name] = {
                k: {"median": round(float(np.median([g[k] for g in got])), 4),
                    "worst": round(float(min(g[k] for g in got)), 4), "best": round(float(max(g[k] for g in got)), 4)}
                for k in ("bcubed_f1", "pairwise_f1", "pairwise_precision")}
            if got is not mine:  # on how many halves the defaults are above this baseline
                out[method][name]["defaults_above"] = {
                    k: sum(m[k] > g[k] for m, g in zip(mine, got, strict=True)) for k in ("bcubed_f1", "pairwise_f1")}
    return out


def mean_figures(copies: list[Prepared], labels_of: Any) -> dict[str, Any]:
    """``figures`` of each copy of a set (labels_of(copy) its labels), averaged."""
    each = [figures(p, labels_of(p)) for p in copies]
    return {k: round(float(np.mean([f[k] for f in each])), 4) for k in each[0]}


def figures(p: Prepared, labels: np.ndarray) -> dict[str, Any]:
    r = score(p.cached, np.asarray(labels))
    r.update(evaluation.stray_shares(p.cached.truth, np.asarray(labels)[p.cached.rows]))
    out = {k: r[k] for k in KEYS}
    prec, rec = r["pairwise_precision"], r["pairwise_recall"]
    out["pairwise_f05"] = round(1.25 * prec * rec / (0.25 * prec + rec), 4) if prec + rec else 0.0
    return out


def ours(p: Prepared, point: dict[str, Any]) -> np.ndarray:
    s = load_settings({"library": str(OUT / "unused-lib")})
    d = params_for(p.vectors.shape[1], s)
    c = p.cached
    gate = trusted(s, c.score, c.size, c.sharp, c.kps)
    lead = c.leads(point.get("attach_lead", merge.ATTACH_LEAD), point.get("turned_lead", merge.ATTACH_LEAD_TURNED))
    return evaluation.ours(p.vectors, point.get("eps", d.eps), d.min_samples, gate, c.photo, s.weak_eps or None,
                           point.get("join_eps", d.join_eps), point.get("attach_eps", d.attach_eps),
                           point.get("weak_attach_eps", d.weak_attach_eps),
                           point.get("attach_support", merge.ATTACH_SUPPORT),
                           point.get("support_slack", merge.SUPPORT_SLACK), lead,
                           point.get("join_wide", merge.JOIN_WIDE), point.get("pair_lead", pairs.PAIR_LEAD))


def pick(rows: list[dict[str, Any]], baselines: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any] | None:
    """The criterion of the docstring."""
    sets = list(rows[0]["sets"]) if rows else []
    reach = [n for n in sets if max(b[n]["pairwise_precision"] for b in baselines.values()) >= PRECISION]

    def feasible(r: dict[str, Any]) -> bool:
        f = r["sets"]
        lfw = "lfw" not in f or (f["lfw"]["bcubed_f1"] >= LFW_FLOOR[0] and f["lfw"]["pairwise_f1"] >= LFW_FLOOR[1])
        kept = all(f[n]["bcubed_f1"] >= b and f[n]["pairwise_f1"] >= p for n, (b, p) in KEEP.items() if n in f)
        return lfw and kept and all(f[n]["pairwise_precision"] >= PRECISION for n in reach)

    def key(r: dict[str, Any]) -> tuple[float, float]:
        f = list(r["sets"].values())
        return (min(x["pairwise_precision"] for x in f), round(float(np.mean([x["pairwise_f1"] for x in f])), 4))

    ok = [r for r in rows if feasible(r)]
    return max(ok, key=key) if ok else None


def timing(sets: dict[str, Prepared], rounds: int = 5) -> dict[str, Any]:
    """The rule's time with the support (the default) and without (1), alternated in each round,
    over edges as the stored graph keeps them (down to 0.3, 32 neighbours); medians."""
    import time

    from clusterids.clustering.dbscan import edges
    from clusterids.clustering.merge import persons

    s = load_settings({"library": str(OUT / "unused-lib")})
    out: dict[str, Any] = {}
    for name, p in sets.items():
        c = p.cached
        a, b, sim = edges(p.vectors, 0.3, 32)
        gate = trusted(s, c.score, c.size, c.sharp, c.kps)
        d = params_for(p.vectors.shape[1], s)
        seconds: dict[int, list[float]] = {1: [], merge.ATTACH_SUPPORT: []}
        for _ in range(rounds):
            for support in seconds:
                start = time.perf_counter()
                persons(p.vectors, a, b, sim, d.eps, d.min_samples, d.join_eps, d.attach_eps, d.weak_attach_eps,
                        gate, c.photo, s.weak_eps or None, support)
                seconds[support].append(time.perf_counter() - start)
        out[name] = {f"support {k}": round(float(np.median(v)), 4) for k, v in seconds.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", default=["lfw", "cfp-dev", "lag-dev", "multi"])
    ap.add_argument("--quick", action="store_true", help="only attach_eps and attach_support")
    ap.add_argument("--time", action="store_true", help="only the support's cost in time")
    ap.add_argument("--wide", action="store_true", help="add the two-level join's JOIN_WIDE (0, 0.05) to the grid")
    ap.add_argument("--jitter", type=int, default=0, metavar="N", help="the mean over N jittered copies of each set")
    ap.add_argument("--halves", type=int, default=0, metavar="N",
                    help="only the defaults and baselines, on N random halves of each set's identities")
    args = ap.parse_args()
    flip = load_settings({"library": str(OUT / "unused-lib")}).flip_min_yaw
    seeds: list[int | None] = list(range(args.jitter)) if args.jitter else [None]
    copies = {n: [Prepared(n, flip, seed) for seed in seeds] for n in args.sets}
    if args.halves:
        found = on_halves(copies, args.halves)
        print(json.dumps({"halves": args.halves, "figures": found, "machine": machine()}, indent=1))
        for method, by_set in found.items():
            shown = [f"{n} " + "/".join(f"{x[k]['median']:.4f}" for k in x if k != "defaults_above")
                     + f" (worst precision {x['pairwise_precision']['worst']:.4f}"
                     + ("".join(f", defaults above on {c}/{args.halves} ({k})" for k, c in x["defaults_above"].items())
                        if "defaults_above" in x else "") + ")" for n, x in by_set.items()]
            print(f"{method:22s} " + "  ".join(shown), file=sys.stderr)
        return
    if args.time:
        print(json.dumps({"seconds": timing({n: c[0] for n, c in copies.items()}), "machine": machine()}, indent=1))
        return
    baselines = {m: {n: mean_figures(c, lambda p, fn=fn: fn(p.vectors)) for n, c in copies.items()}
                 for m, fn in BASELINES.items()}
    grid = dict(QUICK if args.quick else GRID)
    if args.wide:
        grid["join_wide"] = (0.0, 0.05)
    rows = []
    for values in itertools.product(*grid.values()):
        point = dict(zip(grid, values, strict=True))
        rows.append({**point, "sets": {n: mean_figures(c, lambda p, pt=point: ours(p, pt)) for n, c in copies.items()}})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    today = {n: mean_figures(c, lambda p: ours(p, {})) for n, c in copies.items()}
    best = pick(rows, baselines)
    print(json.dumps({"criterion": __doc__.split("default is picked")[1].strip() if __doc__ else "",
                      "defaults_now": today, "best": best, "baselines": baselines, "grid": rows,
                      "flip_min_yaw": flip, "jitter": {"copies": args.jitter, "noise": JITTER} if args.jitter else None,
                      "machine": machine()}, indent=1))
    for name, f in [("defaults now", today), ("picked", best["sets"] if best else {})] + list(baselines.items()):
        shown = [f"{n} {x['bcubed_f1']:.4f}/{x['pairwise_f1']:.4f}/{x['pairwise_precision']:.4f}" for n, x in f.items()]
        print(f"{name:22s} " + "  ".join(shown), file=sys.stderr)
    if best:
        print("picked: " + json.dumps({k: v for k, v in best.items() if k != "sets"}), file=sys.stderr)


if __name__ == "__main__":
    main()
