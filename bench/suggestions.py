"""How often the suggestions queue is right, and where to cut it (issue 18).

    python bench/suggestions.py [--sets cfp-dev lfw]

On cached model outputs (``bench/face_cache.py --set NAME`` first), each set is clustered by our
rule with the defaults, as a recluster does. Then every pair of persons is a candidate merge
("are these one person?") and every unknown face with its nearest person a candidate face
suggestion ("is this Ann?"), each with the scores a suggestion could be ranked by:

- ``centre``: the cosine of the two mean directions (the queue's rule before issue 18);
- ``best``: the closest pair of faces; ``top3``: the mean of the three closest pairs;
- ``mix``: the mean of ``centre`` and ``top3`` (what the queue ranks merges by since issue 18);
- ``lead`` (faces only): ``mix`` plus its lead over the next person's ``mix``
  (``suggestions.face_score``: what the queue ranks face suggestions by).

A merge is right when both persons' most common identity is the same; a face suggestion when the
face's identity is the person's. Printed per set and score: the lowest cut at which the suggestions
above it are right at least 80% (``likely``) and 95% (``very likely``) of the time, and at the
cut in ``clusterids.core.suggestions`` the precision and the recall (share of split identities,
or of unknown faces whose identity has a person, that get a right suggestion).
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
from common import machine  # noqa: E402
from flip_yaw import ours, selective  # noqa: E402
from quality_sets import Cached  # noqa: E402

from clusterids.clustering.people import params_for  # noqa: E402
from clusterids.config import load_settings  # noqa: E402
from clusterids.core import suggestions as queue  # noqa: E402

SCORES = ("centre", "best", "top3", "mix")
FACE_SCORES = (*SCORES, "lead")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def candidates(vectors: np.ndarray, labels: np.ndarray, truth: list[str],
               rival_floor: float) -> tuple[list[dict[str, Any]], ...]:
    """Every pair of persons and every unknown face's nearest person, with scores and rightness."""
    persons = sorted(set(labels[labels >= 0].tolist()))
    members = {p: np.flatnonzero(labels == p) for p in persons}
    major = {p: Counter(truth[i] for i in members[p]).most_common(1)[0][0] for p in persons}
    centres = _unit(np.stack([vectors[members[p]].mean(0) for p in persons]))
    sim = vectors @ vectors.T
    merges = []
    for a_i, a in enumerate(persons):
        block = sim[members[a]]
        for b_i in range(a_i + 1, len(persons)):
            b = persons[b_i]
            cross = np.sort(block[:, members[b]].ravel())[::-1]
            centre, top3 = float(centres[a_i] @ centres[b_i]), float(cross[:3].mean())
            merges.append({"centre": centre, "best": float(cross[0]), "top3": top3, "mix": (centre + top3) / 2,
                           "right": major[a] == major[b], "identity": major[a]})
    faces = []
    for i in np.flatnonzero(labels < 0):
        best_row: dict[str, Any] | None = None
        mixes = []
        for p_i, p in enumerate(persons):
            cross = np.sort(sim[i, members[p]])[::-1]
            centre, top3 = float(vectors[i] @ centres[p_i]), float(cross[:3].mean())
            row = {"centre": centre, "best": float(cross[0]), "top3": top3, "mix": (centre + top3) / 2,
                   "right": truth[i] == major[p]}
            mixes.append(row["mix"])
            if best_row is None or row["mix"] > best_row["mix"]:
                best_row = row
        if best_row is not None:
            runner_up = sorted(mixes)[-2] if len(mixes) > 1 else None
            best_row["lead"] = queue.face_score(best_row["mix"], runner_up, rival_floor)
            best_row["has_person"] = truth[i] in major.values()
            faces.append(best_row)
    split = {t for t, n in Counter(major.values()).items() if n > 1}
    return merges, faces, [{"split": sorted(split)}]


def cut_for(rows: list[dict[str, Any]], key: str, precision: float) -> float | None:
    """The lowest score above which at least ``precision`` of the rows are right (None: never)."""
    ranked = sorted(rows, key=lambda r: -r[key])
    right, best = 0, None
    for n, r in enumerate(ranked, 1):
        right += r["right"]
        if right / n >= precision:
            best = r[key]
    return None if best is None else round(best, 4)


def recall(kind: str, rows: list[dict[str, Any]], split: list[str], key: str, cut: float | None) -> float | None:
    """Merges: the share of split identities with a right suggestion; faces: the share of unknown
    faces whose identity has a person that get the right one."""
    if cut is None:
        return 0.0
    if kind == "merge":
        found = {r["identity"] for r in rows if r[key] >= cut and r["right"]}
        return round(len(found & set(split)) / len(split), 4) if split else None
    mine = [r for r in rows if r["has_person"]]
    return round(sum(r["right"] and r[key] >= cut for r in mine) / len(mine), 4) if mine else None


def at(rows: list[dict[str, Any]], key: str, cut: float) -> dict[str, Any]:
    shown = [r for r in rows if r[key] >= cut]
    return {"shown": len(shown), "precision": round(sum(r["right"] for r in shown) / len(shown), 4) if shown else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", default=["cfp-dev", "lfw"])
    args = ap.parse_args()
    out: dict[str, Any] = {"machine": machine(), "score": queue.SCORE}
    every_face: list[dict[str, Any]] = []
    for name in args.sets:
        c = Cached(name)
        eps = params_for(c.raw.shape[1], load_settings({"library": "/nonexistent"})).eps
        merge_cut, face_cut = queue.cuts(eps, queue.MERGE_OFFSETS), queue.cuts(eps, queue.FACE_OFFSETS)
        every, _ = selective(c, load_settings({"library": "/nonexistent"}).flip_min_yaw)  # as indexing makes them
        vectors = _unit(every[c.rows].astype(np.float64))  # the labelled face of each photo
        labels = ours(c, every)[c.rows]
        merges, faces, (extra,) = candidates(vectors, labels, c.truth, round(1 - eps - queue.RIVAL_OFFSET, 4))
        for r in faces:
            r["set"] = name
        every_face += faces
        report: dict[str, Any] = {"persons": int(len(set(labels[labels >= 0].tolist()))),
                                  "unknown_faces": int((labels < 0).sum()), "split_identities": len(extra["split"])}
        report["cuts"] = {"merge": merge_cut, "face": face_cut, "one_minus_eps": round(1 - eps, 4)}
        for kind, rows, cuts in (("merge", merges, merge_cut), ("face", faces, face_cut)):
            report[kind] = {}
            for key in (SCORES if kind == "merge" else FACE_SCORES):
                c80, c95 = cut_for(rows, key, 0.8), cut_for(rows, key, 0.95)
                report[kind][key] = {"cut_80": c80, "cut_95": c95,
                                     "recall_at_cut_80": recall(kind, rows, extra["split"], key, c80)}
            likely, very = cuts[0], cuts[1]
            key = queue.SCORE if kind == "merge" else "lead"
            shown = at(rows, key, likely)
            shown["very_likely"] = at(rows, key, very)
            shown["recall"] = recall(kind, rows, extra["split"], key, likely)
            if kind == "face":  # the plain score at its cuts before the lead, same candidates
                old = queue.cuts(eps, queue.OLD_FACE_OFFSETS)
                report[kind]["mix_before_lead"] = {**at(rows, queue.SCORE, old[0]), "cut": old[0],
                                                   "recall": recall(kind, rows, extra["split"], queue.SCORE, old[0])}
            before = at(rows, "centre", queue.OLD_FLOOR)
            report[kind]["at_our_cut"] = shown
            report[kind]["before_issue_18"] = before
        out[name] = report
        print(json.dumps({name: report}), file=sys.stderr, flush=True)
    if len(args.sets) > 1:  # the cuts are calibrated on the sets together: 80% right above "likely"
        out["faces_together"] = {key: {"cut_80": cut_for(every_face, key, 0.8),
                                       "cut_95": cut_for(every_face, key, 0.95)} for key in FACE_SCORES}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
