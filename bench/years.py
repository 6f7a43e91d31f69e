"""Faces across the years (issue 17): where one identity ends as two persons, is the pair offered
by the merge suggestions?

    python bench/years.py [--sets lag-dev cfp-dev lfw]

On the face caches (``bench/face_cache.py``), each set is clustered by our rule with the
defaults, as a recluster does; its labelled faces (one a photo) are the persons' faces. An
identity "split in two" has its faces in exactly two persons, each mostly that identity (on
lag-dev mostly one young and one adult person). For each way of scoring a pair of persons, at
the queue's cuts (``clusterids.core.suggestions``, "likely" and "very likely"): the share of
the split-in-two identities whose pair is suggested, and the precision of every suggested pair
(right: both persons' main identity is one); and, for those identities, their two persons' median
score and how often each half's nearest person (by that score) is its other half. Scores:

- ``mix``: the queue's (the mean of the two centres' cosine and of the three closest face pairs);
- ``multi``: the same with several centres per person (its faces cut by average linkage at eps,
  each group of 2 or more a centre, as a person keeps one centre per view when attaching) and
  the closest two centres' cosine in place of the one centre's.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate import Prepared, ours  # noqa: E402
from common import machine  # noqa: E402

from clusterids.clustering.people import params_for  # noqa: E402
from clusterids.config import load_settings  # noqa: E402
from clusterids.core import suggestions as queue  # noqa: E402


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def centres(vectors: np.ndarray, eps: float) -> np.ndarray:
    """A person's centres: its faces cut by average linkage at ``eps``, each group of 2 or more."""
    from sklearn.cluster import AgglomerativeClustering

    if len(vectors) < 3:
        return _unit(vectors.mean(0, keepdims=True))
    cut = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                  distance_threshold=eps).fit_predict(vectors)
    groups = [vectors[cut == k] for k in range(int(cut.max()) + 1) if (cut == k).sum() >= 2]
    return _unit(np.stack([g.mean(0) for g in groups])) if groups else _unit(vectors.mean(0, keepdims=True))


def report(name: str, flip: float) -> dict[str, Any]:
    p = Prepared(name, flip)
    c = p.cached
    eps = params_for(p.vectors.shape[1], load_settings({"library": "/nonexistent"})).eps
    cut = queue.cuts(eps, queue.MERGE_OFFSETS)
    labels = ours(p, {})[c.rows]
    vectors = _unit(p.vectors[c.rows].astype(np.float64))
    persons = sorted(set(labels[labels >= 0].tolist()))
    members = {k: np.flatnonzero(labels == k) for k in persons}
    major = {k: Counter(c.truth[i] for i in members[k]).most_common(1)[0][0] for k in persons}
    by_identity: dict[str, list[int]] = {}
    for k in persons:
        by_identity.setdefault(major[k], []).append(k)
    held = Counter((c.truth[i], int(labels[i])) for i in range(len(labels)) if labels[i] >= 0)
    in_two = {t: ks for t, ks in by_identity.items()
              if len(ks) == 2 and sum(1 for (tt, _k) in held if tt == t) == 2}
    multi = {k: centres(vectors[members[k]], eps) for k in persons}
    one = {k: _unit(vectors[members[k]].mean(0)) for k in persons}
    rows = []
    for i, a in enumerate(persons):
        for b in persons[i + 1:]:
            cross = (vectors[members[a]] @ vectors[members[b]].T).ravel()
            top3 = float(np.sort(cross)[-3:].mean())
            rows.append({"pair": (a, b), "right": major[a] == major[b],
                         "mix": (float(one[a] @ one[b]) + top3) / 2,
                         "multi": (float((multi[a] @ multi[b].T).max()) + top3) / 2})
    out: dict[str, Any] = {"persons": len(persons), "identities_in_two_persons": len(in_two), "cuts": cut}
    score_of = {tuple(sorted(r["pair"])): r for r in rows}
    for key in ("mix", "multi"):  # how near the two halves are, and is each the other's nearest person
        halves = [score_of[tuple(sorted(ks))][key] for ks in in_two.values()]
        nearest = 0
        for ks in in_two.values():
            mine = [r for r in rows if ks[0] in r["pair"]]
            nearest += max(mine, key=lambda r: r[key])["pair"] == tuple(sorted(ks))
        out[f"{key} halves"] = {"median_score": round(float(np.median(halves)), 4) if halves else None,
                                "partner_is_nearest": round(nearest / len(in_two), 4) if in_two else None}
    for key in ("mix", "multi"):
        for level, at in zip(("likely", "very likely"), cut, strict=True):
            shown = [r for r in rows if r[key] >= at]
            pairs = {tuple(sorted(r["pair"])) for r in shown}
            found = sum(tuple(sorted(ks)) in pairs for ks in in_two.values())
            out[f"{key} {level}"] = {
                "suggested": len(shown),
                "precision": round(sum(r["right"] for r in shown) / len(shown), 4) if shown else None,
                "in_two_offered": round(found / len(in_two), 4) if in_two else None}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", default=["lag-dev", "cfp-dev", "lfw"])
    args = ap.parse_args()
    flip = load_settings({"library": "/nonexistent"}).flip_min_yaw
    print(json.dumps({"sets": {n: report(n, flip) for n in args.sets}, "machine": machine()}, indent=1))


if __name__ == "__main__":
    main()
