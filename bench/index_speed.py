"""Indexing speed: `clusterids index` vs the seed's per-photo loop vs pure model time, one run.

    python bench/index_speed.py [PHOTO_FOLDER] [--model PACK] [--photos 100]
    python bench/index_speed.py --variants [--faceless N] [--photos 100]

Without a folder, a synthetic library (bench/synth_library.py: 2-12 MP photos with 1-6 faces)
is composed under bench/out/. The three measurements use the same photos and the same pack:
- seed: for each photo, a full-resolution cv2.imread and FaceAnalysis.get (every module);
- pure model time: detector + recognizer on photos decoded beforehand (the limit);
- clusterids index: end to end into a fresh library (read, hash, decode, models, SQLite, Qdrant).

``--variants`` times the detect-and-embed stage of each face-finding option on the same
decoded photos, rounds interleaved so that load from elsewhere hits all alike: release 0.2's
(one detector pass, plain embeddings), each retry and the flip averaging alone, and today's
defaults. ``--faceless N`` adds N photos without a face (backgrounds) to the synthetic photos,
where the retries cost the most. Decoding is timed too, to give each stage's share of indexing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SCRFD_PACK, SHARED, machine  # noqa: E402
from synth_library import compose  # noqa: E402

from clusterids.app import (
    open_core,  # noqa: E402
    )
from clusterids.config import load_settings  # noqa: E402
from clusterids.indexer.scan import Seen, scan  # noqa: E402
from clusterids.media.imaging import decode  # noqa: E402
from clusterids.models.packs import resolve  # noqa: E402


def seed_loop(paths: list[str], pack_dir: Path) -> tuple[float, int]:
    from insightface.app import FaceAnalysis

    app = FaceAnalysis(name=str(pack_dir), providers=["CPUExecutionProvider"])
    app.prepare(ctx_id=-1, det_size=(640, 640))
    start = time.perf_counter()
    faces = 0
    for p in paths:
        img = cv2.imread(p)
        faces += len(app.get(img))
    return time.perf_counter() - start, faces


def model_only(paths: list[str], settings, spec: str) -> tuple[float, int]:
    from clusterids.indexer.embed import detect_and_embed

    model = resolve(spec, settings).load(settings)
    decoded = [decode(Path(p).read_bytes(), settings.decode_max_side, settings.max_pixels) for p in paths]
    detect_and_embed(model, settings, decoded[0])  # load the models outside the timing
    start = time.perf_counter()
    faces = sum(len(detect_and_embed(model, settings, d)) for d in decoded)
    return time.perf_counter() - start, faces


VARIANTS = {
    "0.2 (one pass, plain)": {"retry_padded": False, "retry_turned": False, "flip_embed": False},
    "+ padded retry": {"retry_padded": True, "retry_turned": False, "flip_embed": False},
    "+ turned retry": {"retry_padded": False, "retry_turned": True, "flip_embed": False},
    "+ flip embedding": {"retry_padded": False, "retry_turned": False, "flip_embed": True},
    "defaults (all)": {"retry_padded": True, "retry_turned": True, "flip_embed": True},
}


def variants(paths: list[str], settings, spec: str, faceless: int, rounds: int = 3) -> dict[str, object]:
    from synth_library import background

    from clusterids.indexer.embed import detect_and_embed

    start = time.perf_counter()
    decoded = [decode(Path(p).read_bytes(), settings.decode_max_side, settings.max_pixels) for p in paths]
    decode_s = time.perf_counter() - start
    rng = np.random.default_rng(5)
    for _ in range(faceless):
        w = int(rng.integers(1600, 4000))
        img = np.asarray(background(rng, w, w * 3 // 4).convert("RGB"))[:, :, ::-1]
        f = min(1.0, settings.decode_max_side / w)
        img = cv2.resize(img, (round(img.shape[1] * f), round(img.shape[0] * f)))
        decoded.append(type(decoded[0])(bgr=img, scale=1 / f, width=w, height=w * 3 // 4, taken_at=None))
    model = resolve(spec, settings).load(settings)
    detect_and_embed(model, settings, decoded[0])
    # per photo and variant, the median over rounds: robust to bursts of load from elsewhere
    times = {name: np.zeros((rounds, len(decoded))) for name in VARIANTS}
    faces = {}
    for r in range(rounds):
        for name, over in VARIANTS.items():
            for k, v in over.items():
                setattr(settings, k, v)
            found = 0
            for j, d in enumerate(decoded):
                start = time.perf_counter()
                found += len(detect_and_embed(model, settings, d))
                times[name][r, j] = time.perf_counter() - start
            faces[name] = found
    per_photo = {name: np.median(t, axis=0) for name, t in times.items()}
    base = per_photo["0.2 (one pass, plain)"].sum()
    decode_total = decode_s / len(paths) * len(decoded)
    return {"photos": len(decoded), "faceless": faceless, "decode_s_per_photo": round(decode_s / len(paths), 4),
            "rounds": rounds,
            "results": [{"variant": n, "s_per_photo": round(float(t.mean()), 4), "faces": faces[n],
                         "models_cost": round(float(t.sum() / base - 1), 3),
                         # indexing = decoding + the models (storing is small): the cost as a share of it
                         "index_cost_est": round(float((t.sum() - base) / (base + decode_total)), 3)}
                        for n, t in per_photo.items()]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", action="store_true", help="time each face-finding option (see above)")
    ap.add_argument("--faceless", type=int, default=0, help="with --variants: photos without a face to add")
    ap.add_argument("folder", nargs="?", type=Path)
    ap.add_argument("--model", default=str(SCRFD_PACK))
    ap.add_argument("--photos", type=int, default=100)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = ap.parse_args()
    folder = args.folder
    if folder is None:
        folder = args.out / f"synth-{args.photos}"
        if not folder.is_dir():
            compose(folder, SHARED / "data" / "lfw-dev", args.photos, seed=0)
            shutil.copy(SHARED / "data" / "photos" / "solvay_conference_1927.jpg", folder)
    paths = [f.path for f in scan([folder]) if isinstance(f, Seen)]
    n = len(paths)
    if args.variants:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings({"library": tmp + "/lib", "model": args.model, "progress": False})
            out = variants(paths, settings, args.model, args.faceless)
        print(json.dumps(out | {"machine": machine(), "folder": str(folder)}, indent=1))
        return
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"library": tmp + "/lib", "model": args.model, "progress": False})
        seed_s, seed_faces = seed_loop(paths, Path(args.model))
        model_s, model_faces = model_only(paths, settings, args.model)
        with open_core(settings, create=True) as core:
            core.lib.model().detect(np.zeros((64, 64, 3), np.uint8))  # load the models outside the timing
            start = time.perf_counter()
            report = core.library.index([str(folder)])
            ours_s = time.perf_counter() - start
            start = time.perf_counter()
            again = core.library.index([str(folder)])
            rescan_s = time.perf_counter() - start
    result = {
        "photos": n, "model": args.model, "folder": str(folder),
        "seed": {"seconds": round(seed_s, 2), "photos_per_s": round(n / seed_s, 2), "faces": seed_faces},
        "model_only": {"seconds": round(model_s, 2), "photos_per_s": round(n / model_s, 2), "faces": model_faces},
        "clusterids": {"seconds": round(ours_s, 2), "photos_per_s": round(n / ours_s, 2),
                       "faces": report.faces_added},
        "speedup_vs_seed": round(seed_s / ours_s, 2),
        "fraction_of_model_limit": round(model_s / ours_s, 2),
        "rescan_unchanged_s_per_1000": round(rescan_s / n * 1000, 3),
        "rescan_unchanged": again.photos_unchanged,
        "machine": machine(),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
