"""Clustering rules compared on cached model outputs (see bench/quality.py --set, --calibrate)."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402
from face_cache import OUT  # noqa: E402

from clusterids import evaluation  # noqa: E402
from clusterids.clustering import merge  # noqa: E402
from clusterids.clustering.dbscan import dbscan_exact  # noqa: E402
from clusterids.clustering.people import params_for  # noqa: E402
from clusterids.clustering.quality import trusted, yaw  # noqa: E402
from clusterids.config import load_settings  # noqa: E402
from clusterids.models.base import unit  # noqa: E402

SETS = {"cfp-dev": "cache-cfp-dev.npz", "lag-dev": "cache-lag-dev.npz",
        "cfp-degraded": "cache-cfp-degraded-1400.npz", "lfw": "cache-lfw.npz",
        "multi": "cache-multi.npz"}
DEV_SETS = ("cfp-dev", "cfp-degraded", "lfw")


class Cached:
    def __init__(self, name: str) -> None:
        path = OUT / SETS[name]
        if not path.exists():
            raise SystemExit(f"{path} is missing: run 'python bench/face_cache.py --set {name}' first")
        z = np.load(path)
        self.name = name
        self.photos: list[dict[str, Any]] = json.loads(str(z["photos"]))
        self.photo = z["photo"]
        self.passes = z["passes"]
        self.bbox = z["bbox"]
        self.kps = z["kps"]
        self.score = z["score"]
        self.sharp = z["sharp"]
        self.raw = z["raw"]
        self.flip = z["flip"]
        self.size = np.minimum(self.bbox[:, 2] - self.bbox[:, 0], self.bbox[:, 3] - self.bbox[:, 1])
        self.rows, self.truth = self._labelled()

    def leads(self, lead: float = merge.ATTACH_LEAD, turned: float = merge.ATTACH_LEAD_TURNED) -> np.ndarray:
        """The lead each face needs to be attached, as the recluster gives it (merge.leads)."""
        return merge.leads(self.size, yaw(self.kps), lead, turned)

    def _labelled(self) -> tuple[np.ndarray, list[str]]:
        rows, truth = [], []
        if self.name == "multi":  # each true face: the detected face overlapping it most
            for p, info in enumerate(self.photos):
                mine = np.flatnonzero(self.photo == p)
                for face in json.loads(info["label"]):
                    best, best_iou = -1, 0.3
                    for r in mine:
                        iou = _iou(self.bbox[r], np.array(face["box"], np.float32))
                        if iou > best_iou:
                            best, best_iou = int(r), iou
                    if best >= 0:
                        rows.append(best)
                        truth.append(face["identity"])
            return np.array(rows, np.int64), truth
        cx = (self.bbox[:, 0] + self.bbox[:, 2]) / 2
        cy = (self.bbox[:, 1] + self.bbox[:, 3]) / 2
        for p, info in enumerate(self.photos):
            mine = np.flatnonzero(self.photo == p)
            if len(mine):
                d = (cx[mine] - info["w"] / 2) ** 2 + (cy[mine] - info["h"] / 2) ** 2
                rows.append(int(mine[np.argmin(d)]))
                truth.append(info["label"])
        return np.array(rows, np.int64), truth

    def vectors(self, flip: bool) -> np.ndarray:
        return unit(self.raw + self.flip if flip else self.raw)

    def detection(self) -> dict[str, Any]:
        n = len(self.photos)
        how = [p["pass"] for p in self.photos]
        return {"photos": n, "faces": int(len(self.photo)),
                "with_face_first_pass": round(sum(h == "direct" for h in how) / n, 4),
                "with_face_padded_retry": round(sum(h in ("direct", "padded") for h in how) / n, 4),
                "with_face_all_retries": round(sum(bool(h) for h in how) / n, 4),
                "photos_without_face": sum(not h for h in how)}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def score(c: Cached, labels: np.ndarray) -> dict[str, Any]:
    picked = labels[c.rows]
    row = {k: round(v, 4) for k, v in evaluation.scores(c.truth, picked).items()}
    row["persons"] = int(len(set(picked[picked >= 0].tolist())))
    row["unknown"] = round(float(np.mean(picked < 0)), 4)
    row.update(evaluation.purity(c.truth, picked))
    return row


def ours(c: Cached, flip: bool = True, apart: bool = True, **overrides: Any) -> np.ndarray:
    """Our rule with the defaults, or with settings overridden (eps, join_eps, core_max_yaw...)."""
    s = load_settings({"library": str(OUT / "unused-lib")}).replace(**overrides)
    p = params_for(c.raw.shape[1], s)
    gate = trusted(s, c.score, c.size, c.sharp, c.kps)
    return evaluation.ours(c.vectors(flip), p.eps, p.min_samples, gate, c.photo if apart else None,
                           s.weak_eps or None, p.join_eps, p.attach_eps, p.weak_attach_eps,
                           attach_lead=c.leads())


def v02(c: Cached) -> np.ndarray:
    """Release 0.2's rule: plain vectors, eps 0.45 / min_samples 2, the size-score-sharpness gate."""
    gate = (c.score >= 0.6) & (c.size >= 32) & (c.sharp >= 10.0)
    return dbscan_exact(c.vectors(False), 0.45, 2, gate, k=64)


def report(name: str, sweep: bool) -> dict[str, Any]:
    c = Cached(name)
    out: dict[str, Any] = {"set": name, "detection": c.detection(), "labelled": len(c.truth),
                           "identities": len(set(c.truth)), "yaw_median": round(float(np.median(yaw(c.kps))), 3)}
    rows = []
    for flip in (False, True):
        vec = c.vectors(flip)
        methods: list[tuple[str, Any]] = [
            ("clusterids", lambda f=flip: ours(c, f)),
            ("clusterids, yaw gate 1.5", lambda f=flip: ours(c, f, core_max_yaw=1.5)),
            ("seed DBSCAN(0.55, 1)", lambda v=vec: evaluation.seed_rule(v)),
            ("Immich rule (0.5, 3)", lambda v=vec: evaluation.immich_rule(v)),
            ("HDBSCAN(3)", lambda v=vec: evaluation.hdbscan_rule(v)),
        ]
        if not flip:
            methods.insert(1, ("clusterids 0.2", lambda: v02(c)))
            methods.insert(2, ("clusterids, tight DBSCAN only", lambda: ours(c, False, join_eps=-1, attach_eps=-1)))
        for method, fn in methods:
            start = time.perf_counter()
            labels = fn()
            rows.append({"vectors": "flip" if flip else "plain", "method": method, **score(c, labels),
                         "seconds": round(time.perf_counter() - start, 2)})
    out["results"] = rows
    if sweep:
        out["sweep"] = [{**g, **{k: v for k, v in score(c, ours(c, True, **g)).items() if k in KEYS}} for g in GRID]
    return out


KEYS = ("bcubed_f1", "pairwise_f1", "pairwise_precision", "unknown", "largest_purity", "max_foreign_share")
GRID = [{"eps": e, "join_eps": j, "attach_eps": a, "core_min_face_px": px}
        for e, j, a, px in itertools.product((0.42, 0.45), (0.42, 0.45, 0.48), (-1, 0.55, 0.58, 0.62), (32, 40))]
PRECISION_FLOOR = 0.98  # small, degraded faces may stay unknown; they must not mix people
LFW_FLOOR = (0.985, 0.99)  # BCubed F1, pairwise F1: release 0.2's figures on LFW must not regress


def calibrate() -> dict[str, Any]:
    """The grid point whose worse of LFW and CFP (min of BCubed F1 and pairwise F1) is best,
    among those keeping pairwise precision >= 0.98 on the degraded set and LFW's figures."""
    sets = [Cached(n) for n in DEV_SETS]
    grid = []
    for g in GRID:
        per = {c.name: score(c, ours(c, True, **g)) for c in sets}
        ok = per["cfp-degraded"]["pairwise_precision"] >= PRECISION_FLOOR and \
            per["lfw"]["bcubed_f1"] >= LFW_FLOOR[0] and per["lfw"]["pairwise_f1"] >= LFW_FLOOR[1]
        worst = min(min(r["bcubed_f1"], r["pairwise_f1"]) for n, r in per.items() if n != "cfp-degraded")
        grid.append({**g, "worst": round(worst, 4) if ok else 0.0,
                     **{f"{n}_{k}": r[k] for n, r in per.items() for k in ("bcubed_f1", "pairwise_f1",
                                                                         "pairwise_precision")}})
    grid.sort(key=lambda g: -g["worst"])
    return {"best": grid[0], "top": grid[:10], "grid_points": len(grid)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=list(SETS))
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--calibrate", action="store_true")
    args = ap.parse_args()
    result = calibrate() if args.calibrate else report(args.set, args.sweep)
    result["machine"] = machine()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
