"""Indexing speed: `clusterids index` vs the seed's per-photo loop vs pure model time, alternated.

    python bench/index_speed.py [PHOTO_FOLDER] [--model PACK] [--photos 100] [--rounds 3]
    python bench/index_speed.py --variants [--faceless N] [--photos 60] [--rounds 3]
    python bench/index_speed.py --decode [--rounds 5]

Without a folder, a synthetic library (bench/synth_library.py: 2-12 MP photos with 1-6 faces)
is composed under bench/out/, plus the Solvay photo. Every arm runs on the same photos with the
same pack, and the arms alternate within each round (A, B, C, D, A, B, C, D, ...), so load from
elsewhere falls on all alike; each arm reports its median over the rounds, and every figure
carries the load average seen while it ran. The arms:
- seed: for each photo, a full-resolution cv2.imread and InsightFace FaceAnalysis.get (every
  module of the pack), one photo at a time: the seed's loop;
- pure model time: our detector and recognizer calls (detect_and_embed, the defaults) on
  photos decoded beforehand, ``workers`` photos at once as index runs them: the limit for the
  same calls; and the same one photo at a time with every core (how the models ran before);
- clusterids index: end to end into a fresh library (read, hash, decode, models, SQLite, Qdrant);
- clusterids index, flip_embed off: the same without any mirror (what flipping costs).

``--variants`` times the detect-and-embed stage of each face-finding option on the same
decoded photos, alternated likewise: release 0.2's (one detector pass, plain embeddings),
each retry and the flip averaging alone (every face, or turned faces only), and today's
defaults. ``--faceless N`` adds N photos without a face (backgrounds), where the retries cost
the most. Decoding is timed too, to give each option's share of indexing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SCRFD_PACK, SHARED, machine  # noqa: E402
from synth_library import compose  # noqa: E402

from clusterids.app import open_core  # noqa: E402
from clusterids.config import Settings, load_settings  # noqa: E402
from clusterids.indexer.embed import detect_and_embed  # noqa: E402
from clusterids.indexer.scan import Seen, scan  # noqa: E402
from clusterids.media.imaging import Decoded, Scratch, decode  # noqa: E402
from clusterids.models.packs import resolve  # noqa: E402

Arm = Callable[[], tuple[float, int]]  # one timed pass: (seconds, faces)


def alternate(arms: dict[str, Arm], rounds: int) -> dict[str, dict[str, Any]]:
    """Run every arm once per round, in turn, and report each arm's median and its load."""
    seconds: dict[str, list[float]] = {name: [] for name in arms}
    faces: dict[str, int] = {}
    load: dict[str, list[float]] = {name: [] for name in arms}
    for r in range(rounds):
        for name, arm in arms.items():
            before = os.getloadavg()[0]
            s, f = arm()
            load[name].append(round((before + os.getloadavg()[0]) / 2, 2))
            seconds[name].append(round(s, 3))
            faces[name] = f
            print(f"round {r + 1}: {name}: {s:.2f} s, {f} faces, load {load[name][-1]}", file=sys.stderr, flush=True)
    return {name: {"median_s": round(statistics.median(seconds[name]), 3), "runs_s": seconds[name],
                   "faces": faces[name], "load_avg": load[name]} for name in arms}


def seed_arm(paths: list[str], pack_dir: Path) -> Arm:
    from insightface.app import FaceAnalysis

    app = FaceAnalysis(name=str(pack_dir), providers=["CPUExecutionProvider"])
    app.prepare(ctx_id=-1, det_size=(640, 640))
    app.get(cv2.imread(paths[0]))  # the first call pays for the sessions' warm-up

    def run() -> tuple[float, int]:
        start = time.perf_counter()
        faces = sum(len(app.get(cv2.imread(p))) for p in paths)
        return time.perf_counter() - start, faces

    return run


def model_arm(decoded: list[Decoded], settings: Settings, spec: str) -> Arm:
    """The models alone as ``index`` runs them: ``workers`` photos at once, each with its share of
    the cores (``model_threads``); with ``workers`` 1 and ``model_threads`` 0, one photo at a time
    on every core (how they ran before)."""
    model = resolve(spec, settings).load(settings)
    detect_and_embed(model, settings, decoded[0])  # load the models outside the timing

    def run() -> tuple[float, int]:
        start = time.perf_counter()
        with ThreadPoolExecutor(settings.workers) as pool:
            faces = sum(pool.map(lambda d: len(detect_and_embed(model, settings, d)), decoded))
        return time.perf_counter() - start, faces

    return run


def index_arm(folder: Path, settings: Settings, tmp: Path, warm: Decoded) -> Arm:
    """``clusterids index`` into a fresh library, its models loaded and warmed on ``warm`` outside
    the timing, as the pure model time's are: a session's first full-size call grows its memory
    (some 25,000 page faults here), once a process, which the pure arms' warm-up keeps out."""
    count = [0]

    def run() -> tuple[float, int]:
        count[0] += 1
        lib_settings = settings.replace(library=tmp / f"lib-{count[0]}")
        with open_core(lib_settings, create=True) as core:
            detect_and_embed(core.lib.model(), lib_settings, warm)  # load and warm the models outside the timing
            start = time.perf_counter()
            report = core.library.index([str(folder)])
            seconds = time.perf_counter() - start
        shutil.rmtree(lib_settings.library, ignore_errors=True)
        return seconds, report.faces_added

    return run


def rescan_seconds(folder: Path, settings: Settings) -> tuple[float, int]:
    with open_core(settings, create=True) as core:
        core.library.index([str(folder)])
        start = time.perf_counter()
        again = core.library.index([str(folder)])
        return time.perf_counter() - start, again.photos_unchanged


def decode_all(paths: list[str], settings: Settings) -> tuple[list[Decoded], float]:
    start = time.perf_counter()
    decoded = [decode(Path(p).read_bytes(), settings.decode_max_side, settings.max_pixels) for p in paths]
    return decoded, time.perf_counter() - start


def compare(folder: Path, paths: list[str], spec: str, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"library": tmp + "/lib", "model": spec, "progress": False})
        decoded, _ = decode_all(paths, settings)
        arms = {
            "seed": seed_arm(paths, Path(spec)),
            "pure model time": model_arm(decoded, settings, spec),
            "pure model time, one photo at a time on every core": model_arm(
                decoded, settings.replace(workers=1, model_threads=0), spec),
            "clusterids index": index_arm(folder, settings, Path(tmp), decoded[0]),
            "clusterids index, flip_embed off": index_arm(folder, settings.replace(flip_embed=False),
                                                          Path(tmp), decoded[0]),
        }
        results = alternate(arms, rounds)
        rescan_s, unchanged = rescan_seconds(folder, settings.replace(library=Path(tmp) / "rescan"))
    n = len(paths)
    for r in results.values():
        r["photos_per_s"] = round(n / r["median_s"], 2)
    ours = results["clusterids index"]["median_s"]
    return {
        "photos": n, "model": spec, "folder": str(folder), "rounds": rounds, "arms": results,
        "speedup_vs_seed": round(results["seed"]["median_s"] / ours, 3),
        "fraction_of_pure_model_time": round(results["pure model time"]["median_s"] / ours, 3),
        # each round's own ratio (its two arms ran a minute apart): the spread says how far load moved it
        "fraction_of_pure_model_time_by_round": [
            round(m / o, 3) for m, o in zip(results["pure model time"]["runs_s"], results["clusterids index"]["runs_s"],
                                            strict=True)],
        "flip_cost_over_no_flip": round(ours / results["clusterids index, flip_embed off"]["median_s"] - 1, 3),
        "rescan_unchanged_s_per_1000": round(rescan_s / n * 1000, 3), "rescan_unchanged": unchanged,
    }


VARIANTS = {
    "0.2 (one pass, plain)": {"retry_padded": False, "retry_turned": False, "flip_embed": False},
    "+ padded retry": {"retry_padded": True, "retry_turned": False, "flip_embed": False},
    "+ turned retry": {"retry_padded": False, "retry_turned": True, "flip_embed": False},
    "+ flip, every face": {"retry_padded": False, "retry_turned": False, "flip_embed": True, "flip_min_yaw": 0.0},
    "+ flip, turned faces only": {"retry_padded": False, "retry_turned": False, "flip_embed": True},
    "defaults": {},
}


def faceless_photos(n: int, settings: Settings, like: Decoded) -> list[Decoded]:
    from synth_library import background

    rng = np.random.default_rng(5)
    out = []
    for _ in range(n):
        w = int(rng.integers(1600, 4000))
        img = np.asarray(background(rng, w, w * 3 // 4).convert("RGB"))[:, :, ::-1]
        f = min(1.0, settings.decode_max_side / w)
        img = np.ascontiguousarray(cv2.resize(img, (round(img.shape[1] * f), round(img.shape[0] * f))))
        out.append(dataclasses.replace(like, bgr=img, scale=1 / f, width=w, height=w * 3 // 4, taken_at=None))
    return out


def variants(paths: list[str], spec: str, faceless: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"library": tmp + "/lib", "model": spec, "progress": False})
        decoded, decode_s = decode_all(paths, settings)
        decoded += faceless_photos(faceless, settings, decoded[0])
        model = resolve(spec, settings).load(settings)
        detect_and_embed(model, settings, decoded[0])

        def arm(over: dict[str, Any]) -> Arm:
            s = settings.replace(**over)  # settings are frozen: a copy per variant

            def run() -> tuple[float, int]:
                start = time.perf_counter()
                faces = sum(len(detect_and_embed(model, s, d)) for d in decoded)
                return time.perf_counter() - start, faces

            return run

        results = alternate({name: arm(over) for name, over in VARIANTS.items()}, rounds)
    base = results["0.2 (one pass, plain)"]["median_s"]
    decode_total = decode_s / len(paths) * len(decoded)  # the faceless photos decode like the others
    for r in results.values():
        r["s_per_photo"] = round(r["median_s"] / len(decoded), 4)
        r["models_cost"] = round(r["median_s"] / base - 1, 3)
        # indexing = decoding + the models (storing is small): the cost as a share of it
        r["index_cost_est"] = round((r["median_s"] - base) / (base + decode_total), 3)
    return {"photos": len(decoded), "faceless": faceless, "rounds": rounds,
            "decode_s_per_photo": round(decode_s / len(paths), 4), "results": results}


def decode_paths(paths: list[str], rounds: int) -> dict[str, Any]:
    """The decode stage alone: Pillow's (the path before 2026-12-02) against the JPEG fast path
    (libjpeg-turbo's reduced decode), into a fresh array a photo and into one scratch as an
    indexing thread decodes, alternated."""
    settings = load_settings({"progress": False})
    datas = [Path(p).read_bytes() for p in paths]
    names = {"Pillow (before)": (False, False), "JPEG fast path": (True, False),
             "JPEG fast path, one scratch (as index)": (True, True)}
    cpu_s: dict[str, list[float]] = {name: [] for name in names}

    def arm(name: str) -> Arm:
        fast, reuse = names[name]

        def run() -> tuple[float, int]:
            scratch = Scratch() if reuse else None
            start, cpu = time.perf_counter(), time.process_time()
            for d in datas:
                decode(d, settings.decode_max_side, settings.max_pixels, fast_jpeg=fast, scratch=scratch)
            cpu_s[name].append(time.process_time() - cpu)
            return time.perf_counter() - start, len(datas)
        return run

    results = alternate({name: arm(name) for name in names}, rounds)
    for name in names:
        results[name]["ms_per_photo"] = round(results[name]["median_s"] / len(datas) * 1000, 2)
        results[name]["median_cpu_s"] = round(statistics.median(cpu_s[name]), 3)
    return {"photos": len(datas), "decode_max_side": settings.decode_max_side, "arms": results,
            "speedup": round(results["Pillow (before)"]["median_s"] / results["JPEG fast path"]["median_s"], 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", action="store_true", help="time each face-finding option (see above)")
    ap.add_argument("--faceless", type=int, default=0, help="with --variants: photos without a face to add")
    ap.add_argument("--decode", action="store_true", help="time the decode stage alone, before and now")
    ap.add_argument("folder", nargs="?", type=Path)
    ap.add_argument("--model", default=str(SCRFD_PACK))
    ap.add_argument("--photos", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = ap.parse_args()
    folder = args.folder
    if folder is None:
        folder = args.out / f"synth-{args.photos}"
        if not folder.is_dir():
            compose(folder, SHARED / "data" / "lfw-dev", args.photos, seed=0)
            shutil.copy(SHARED / "data" / "photos" / "solvay_conference_1927.jpg", folder)
    paths = [f.path for f in scan([folder]) if isinstance(f, Seen)]
    started = os.getloadavg()
    if args.decode:
        out = decode_paths(paths, args.rounds)
    elif args.variants:
        out = variants(paths, args.model, args.faceless, args.rounds)
    else:
        out = compare(folder, paths, args.model, args.rounds)
    out |= {"load_avg_start": [round(v, 2) for v in started], "load_avg_end": [round(v, 2) for v in os.getloadavg()],
            "machine": machine(), "folder": str(folder)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
