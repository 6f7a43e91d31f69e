"""Stream agreement: persons made batch by batch by the incremental step vs one full recluster.

    python bench/stream.py [--batches 20 40] [--lfw bench/out/cache-lfw.npz] [--cfp bench/out/cache-cfp-dev-1500.npz]

Real vectors (the recognizer's output for the faces of lfw-dev and cfp-dev, computed once by
bench/face_cache.py) fed to a library whose model pack is a stand-in (no model runs here): the
photos arrive in random order in N batches, each one committed and followed by the one
catch-up, as an index batch is (the instant assignment, then the incremental step of
upkeep/arrivals.py). After the last batch the persons are compared with those of
``recluster --from-scratch`` on the same faces (``full``; it starts from the persons the steps
made, so where two of its clusters hold one person's faces they stay one) and with the full rule
alone (``fresh``: the same faces indexed at once into a library of their own, then reclustered):
BCubed F1 of the incremental persons against each (unknown faces count as persons of their own),
and of all three against the truth (the face nearest each
photo's centre, labelled by its folder, as ``clusterids eval`` scores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LFW, machine  # noqa: E402

from clusterids.config import load_settings  # noqa: E402
from clusterids.core import Core, operations  # noqa: E402
from clusterids.evaluation import scores  # noqa: E402
from clusterids.store import outbox  # noqa: E402
from clusterids.store.db import Face, Photo  # noqa: E402
from clusterids.store.library import Library, PackChoice, open_library  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
CFP = LFW.parent / "cfp-dev"


class Vectors:
    """A ModelSource for a library whose faces come from a cache: nothing to load."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def negotiate(self, stored: PackChoice | None) -> tuple[PackChoice, Any, list[str]]:
        return stored or PackChoice("cached", "sha256:cached", self.dim), None, []

    def load(self, spec: str, key: str | None = None) -> tuple[PackChoice, Any]:
        raise SystemExit("no model runs in this bench")


def faces_of(cache: Path, root: Path) -> list[dict[str, Any]]:
    """One entry per photo with faces: its path, size, label, and faces (box, landmarks, score,
    sharpness, unit vector); ``centre`` is the face scored against the truth."""
    z = np.load(cache)
    photos = json.loads(str(z["photos"]))
    raw = z["raw"]
    vec = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    out: dict[int, dict[str, Any]] = {}
    for i, p in enumerate(z["photo"].tolist()):
        info = photos[p]
        entry = out.setdefault(p, {"path": str(root / info["file"]), "w": info["w"], "h": info["h"],
                                   "label": info["label"], "faces": []})
        entry["faces"].append((z["bbox"][i], z["kps"][i], float(z["score"][i]), float(z["sharp"][i]),
                               vec[i].astype(np.float32), np.linalg.norm(raw[i])))
    for entry in out.values():
        d = [((b[0] + b[2]) / 2 - entry["w"] / 2) ** 2 + ((b[1] + b[3]) / 2 - entry["h"] / 2) ** 2
             for b, *_ in entry["faces"]]
        entry["centre"] = int(np.argmin(d))
    return list(out.values())


def add(lib: Library, photos: list[dict[str, Any]], start: int) -> list[list[int]]:
    """The photos' faces stored as an index batch stores them; the face ids, per photo."""
    ids: list[list[int]] = []
    with lib.db.transaction() as s:
        stored: list[Face] = []
        for n, entry in enumerate(photos, start=start):
            photo = Photo(path=entry["path"], size=1, mtime_ns=1, sha256=f"{n:064x}", width=entry["w"],
                          height=entry["h"])
            s.add(photo)
            s.flush()
            faces = [Face(photo_id=photo.id, x1=float(b[0]), y1=float(b[1]), x2=float(b[2]), y2=float(b[3]),
                          landmarks=kps.tolist(), det_score=score, size_px=float(min(b[2] - b[0], b[3] - b[1])),
                          sharpness=sharp, vector=v.tobytes(), norm=float(norm))
                     for b, kps, score, sharp, v, norm in entry["faces"]]
            s.add_all(faces)
            s.flush()
            stored += faces
            ids.append([f.id for f in faces])
        outbox.mark(s, outbox.VECTOR, [f.id for f in stored])
        outbox.mark(s, outbox.ASSIGN, [f.id for f in stored])
    return ids


def partition(lib: Library, ids: list[int]) -> list[str]:
    """Each face's person as a label; an unknown face a person of its own."""
    owner = {f.id: f.person for f in Core(lib).people.faces()}
    return [f"p{owner[i]}" if owner.get(i) is not None else f"u{i}" for i in ids]


def run(photos: list[dict[str, Any]], batches: int, seed: int, dim: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(photos))
    with tempfile.TemporaryDirectory(prefix="stream-") as tmp:
        settings = load_settings({}, environ={"CLUSTERIDS_LIBRARY": str(Path(tmp) / "library"),
                                              "CLUSTERIDS_PROGRESS": "false"})
        lib = open_library(settings, Vectors(dim), create=True)
        core = Core(lib)
        try:
            core.call(operations.get("people.recluster"), {})  # a library reclustered once (empty): the step runs
            face_ids: list[int] = []
            centre_ids: list[int] = []
            truth: list[str] = []
            step_s: list[float] = []
            for part in np.array_split(order, batches):
                chosen = [photos[i] for i in part]
                ids = add(lib, chosen, start=len(truth))
                started = time.perf_counter()
                core.catch_up()
                step_s.append(time.perf_counter() - started)
                for entry, fids in zip(chosen, ids, strict=True):
                    face_ids += fids
                    centre_ids.append(fids[entry["centre"]])
                    truth.append(entry["label"])
            incremental = partition(lib, face_ids)
            persons_incremental = len({x for x in incremental if x.startswith("p")})
            started = time.perf_counter()
            core.call(operations.get("people.recluster"), {"from_scratch": True})
            full_s = time.perf_counter() - started
            full = partition(lib, face_ids)
        finally:
            lib.close()
    fresh = once(photos, order, dim)
    pos = {f: i for i, f in enumerate(face_ids)}
    at = [pos[f] for f in centre_ids]

    def f1(ref: list[str], labels: list[str]) -> float:
        return round(scores(ref, np.unique(np.array(labels), return_inverse=True)[1])["bcubed_f1"], 4)

    return {"batches": batches, "faces": len(face_ids), "photos": len(photos), "scored": len(at),
            "persons_incremental": persons_incremental, "persons_full": len({x for x in full if x.startswith("p")}),
            "persons_fresh": len({x for x in fresh if x.startswith("p")}),
            "bcubed_f1_incremental_vs_full": f1(full, incremental),
            "bcubed_f1_incremental_vs_fresh": f1(fresh, incremental),
            "bcubed_f1_truth_incremental": f1(truth, [incremental[i] for i in at]),
            "bcubed_f1_truth_full": f1(truth, [full[i] for i in at]),
            "bcubed_f1_truth_fresh": f1(truth, [fresh[i] for i in at]),
            "step_seconds_mean": round(float(np.mean(step_s)), 2), "step_seconds_max": round(float(np.max(step_s)), 2),
            "full_recluster_seconds": round(full_s, 2)}


def once(photos: list[dict[str, Any]], order: np.ndarray, dim: int) -> list[str]:
    """The same faces, in the same order, indexed at once into a library of their own and
    reclustered: the full rule with no persons before it. Labels as ``partition`` gives them."""
    with tempfile.TemporaryDirectory(prefix="stream-fresh-") as tmp:
        settings = load_settings({}, environ={"CLUSTERIDS_LIBRARY": str(Path(tmp) / "library"),
                                              "CLUSTERIDS_PROGRESS": "false"})
        lib = open_library(settings, Vectors(dim), create=True)
        try:
            ids = [f for fids in add(lib, [photos[i] for i in order], start=0) for f in fids]
            core = Core(lib)
            core.catch_up()
            core.call(operations.get("people.recluster"), {"from_scratch": True})
            return partition(lib, ids)
        finally:
            lib.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, nargs="+", default=[20, 40])
    ap.add_argument("--lfw", type=Path, default=OUT / "cache-lfw.npz")
    ap.add_argument("--cfp", type=Path, default=OUT / "cache-cfp-dev-1500.npz")
    ap.add_argument("--limit", type=int, default=0, help="at most this many photos (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    photos: list[dict[str, Any]] = []
    if args.lfw.exists():
        photos += faces_of(args.lfw, OUT / "labelled-lfw-dev-300-300")
    if args.cfp.exists():
        photos += faces_of(args.cfp, CFP)
    if not photos:
        raise SystemExit("no cached faces: run bench/face_cache.py --set lfw and --set cfp-dev --limit 1500 first")
    if args.limit:
        photos = [photos[i] for i in sorted(np.random.default_rng(args.seed).permutation(len(photos))[: args.limit])]
    dim = len(photos[0]["faces"][0][4])
    print(json.dumps({"machine": machine(), "load_average": os.getloadavg()}), flush=True)
    for n in args.batches:
        print(json.dumps(run(photos, n, args.seed, dim) | {"load_average": [round(x, 2) for x in os.getloadavg()]}),
              flush=True)


if __name__ == "__main__":
    main()
