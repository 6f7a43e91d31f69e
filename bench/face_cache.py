"""Run the models once over a labelled set and keep everything clustering needs in a file.

    python bench/face_cache.py --set cfp-dev|cfp-degraded|lag-dev|lfw|multi [--limit N]

Writes ``bench/out/cache-<set>.npz``: per face its photo, the pass that found it, box,
landmarks, detector score, sharpness, and the recognizer's raw outputs for the aligned face
and for its mirror image; per photo its label and size. ``bench/quality.py --set`` then compares
clustering rules on these vectors without running the models again.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LFW, SCRFD_PACK, SHARED, labelled_subset  # noqa: E402

from clusterids.config import load_settings  # noqa: E402
from clusterids.media.imaging import decode  # noqa: E402
from clusterids.models.base import sharpness  # noqa: E402
from clusterids.models.find import find_faces  # noqa: E402
from clusterids.models.packs import resolve  # noqa: E402

CFP = SHARED / "data" / "cfp-dev"
LAG = SHARED / "data" / "lag-dev"  # the Large Age Gap set's half: young_* and adult_* per person
OUT = Path(__file__).resolve().parent / "out"


def labelled_files(root: Path) -> list[tuple[str, Path]]:
    return [(d, root / d / f) for d in sorted(os.listdir(root)) if (root / d).is_dir()
            for f in sorted(os.listdir(root / d)) if not f.startswith(".")]


def degrade(data: bytes, rng: np.random.Generator) -> bytes:
    """The crop shrunk to 40-60 px on its longer side and saved again as a JPEG of middling
    quality: an old print, a face in the back row."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    side = int(rng.integers(40, 61))
    f = side / max(img.size)
    img = img.resize((max(1, round(img.width * f)), max(1, round(img.height * f))), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(55, 86)))
    return buf.getvalue()


def items(name: str, limit: int) -> Iterator[tuple[str, str, bytes]]:
    rng = np.random.default_rng(0)
    if name in ("cfp-dev", "cfp-degraded"):
        files = labelled_files(CFP)
    elif name == "lag-dev":
        files = labelled_files(LAG)
    elif name == "lfw":
        files = labelled_files(labelled_subset(LFW, OUT, 300, 300))
    elif name == "multi":
        folder = OUT / "synth-multi-200"
        if not folder.is_dir():
            from synth_library import compose

            compose(folder, LFW, 200, seed=1)
        truth = json.loads((folder / "truth.json").read_text())
        for entry in truth[: limit or None]:
            yield json.dumps(entry["faces"]), entry["path"], (folder / entry["path"]).read_bytes()
        return
    else:
        raise SystemExit(f"unknown set {name}")
    for label, path in files[: limit or None]:
        data = path.read_bytes()
        if name == "cfp-degraded":
            data = degrade(data, rng)
        yield label, f"{label}/{path.name}", data


def build(name: str, limit: int = 0, model_spec: str = str(SCRFD_PACK)) -> Path:
    out = OUT / f"cache-{name}{'-' + str(limit) if limit else ''}.npz"
    if out.exists():
        return out
    settings = load_settings({"library": str(OUT / "unused-lib"), "model": model_spec, "progress": False})
    model = resolve(model_spec, settings).load(settings)
    rec = model.recognizer()
    photos: list[dict[str, object]] = []
    cols: dict[str, list[object]] = {k: [] for k in ("photo", "pass", "bbox", "kps", "score", "sharp", "raw", "flip")}
    started = time.perf_counter()
    for n, (label, rel, data) in enumerate(items(name, limit)):
        dec = decode(data, settings.decode_max_side, settings.max_pixels)
        dets, how = find_faces(model, dec.bgr)
        dets = [d for d in dets
                if min(d.bbox[2] - d.bbox[0], d.bbox[3] - d.bbox[1]) * dec.scale >= settings.min_face_px]
        photos.append({"label": label, "file": rel, "w": dec.width, "h": dec.height, "pass": how})
        if dets:
            crops = np.stack([rec.align(dec.bgr, d.kps) for d in dets])
            raw = rec.embed_raw(crops)
            flip = rec.embed_raw(np.ascontiguousarray(crops[:, :, ::-1]))
            for d, c, r, fl in zip(dets, crops, raw, flip, strict=True):
                cols["photo"].append(n)
                cols["pass"].append(how)
                cols["bbox"].append(d.bbox * dec.scale)
                cols["kps"].append(d.kps * dec.scale)
                cols["score"].append(d.score)
                cols["sharp"].append(sharpness(c))
                cols["raw"].append(r)
                cols["flip"].append(fl)
        if n % 200 == 0:
            print(f"{name}: {n} photos, {len(cols['photo'])} faces, {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
    OUT.mkdir(exist_ok=True)
    np.savez(out, photos=json.dumps(photos), photo=np.array(cols["photo"], np.int64),
             passes=np.array(cols["pass"]), bbox=np.array(cols["bbox"], np.float32).reshape(-1, 4),
             kps=np.array(cols["kps"], np.float32).reshape(-1, 5, 2), score=np.array(cols["score"], np.float32),
             sharp=np.array(cols["sharp"], np.float32),
             raw=np.array(cols["raw"], np.float32).reshape(len(cols["photo"]), -1),
             flip=np.array(cols["flip"], np.float32).reshape(len(cols["photo"]), -1),
             seconds=time.perf_counter() - started)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", required=True, choices=["cfp-dev", "cfp-degraded", "lag-dev", "lfw", "multi"])
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    print(build(args.set, args.limit))


if __name__ == "__main__":
    main()
