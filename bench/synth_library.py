"""Compose a realistic photo library from a labelled face folder, with a ground-truth file.

    python bench/synth_library.py OUT [--data DIR] [--photos 200] [--seed 0]

Each photo: 1 to 6 faces of different identities at varied sizes and places on a varied
background (gradients and noise), 2 to 12 megapixels, JPEG; about one in six is stored
rotated with an EXIF orientation tag saying so. ``truth.json`` lists, per photo, each face's
identity and box in the photo as displayed (EXIF orientation applied).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LFW  # noqa: E402

ROTATIONS = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270, 3: Image.Transpose.ROTATE_180}


def background(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    small = rng.integers(0, 255, size=(6, 8, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)
    noise = Image.fromarray(rng.integers(0, 40, size=(h // 8, w // 8, 3), dtype=np.uint8)).resize((w, h))
    return Image.blend(img, noise, 0.15)


def compose(out: Path, data: Path, n_photos: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    idents = sorted(d for d in os.listdir(data) if len(os.listdir(data / d)) >= 2)
    files = {d: sorted(os.listdir(data / d)) for d in idents}
    out.mkdir(parents=True, exist_ok=True)
    truth = []
    for k in range(n_photos):
        mp = rng.uniform(2, 12)
        w = int(np.sqrt(mp * 1e6 * 4 / 3))
        h = int(w * 3 / 4)
        canvas = background(rng, w, h)
        n_faces = int(rng.integers(1, 7))
        who = rng.choice(len(idents), size=n_faces, replace=False)
        cols = int(np.ceil(np.sqrt(n_faces)))
        cell_w, cell_h = w // cols, h // int(np.ceil(n_faces / cols))
        faces = []
        for j, ident_idx in enumerate(who):
            ident = idents[int(ident_idx)]
            src = Image.open(data / ident / files[ident][int(rng.integers(0, len(files[ident])))]).convert("RGB")
            side = int(min(cell_w, cell_h) * rng.uniform(0.45, 0.95))
            tile = src.resize((side, side), Image.Resampling.BICUBIC)
            if rng.random() < 0.2:
                tile = tile.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2)))
            cx, cy = (j % cols) * cell_w, (j // cols) * cell_h
            x = cx + int(rng.integers(0, max(1, cell_w - side)))
            y = cy + int(rng.integers(0, max(1, cell_h - side)))
            canvas.paste(tile, (x, y))
            # LFW deep-funneled crops: the face fills roughly the middle third
            faces.append({"identity": ident, "box": [x + side * 0.3, y + side * 0.28, x + side * 0.7, y + side * 0.75]})
        name = f"IMG_{k:05d}.jpg"
        orientation = int(rng.choice([1, 1, 1, 1, 1, 6, 8, 3])) if k % 6 == 5 else 1
        stored = canvas.transpose(ROTATIONS[orientation]) if orientation != 1 else canvas
        # the stored pixels are turned; the EXIF tag tells a viewer how to turn them back
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif.get_ifd(0x8769)[36867] = f"2024:{1 + k % 12:02d}:{1 + k % 28:02d} 12:00:00"
        sub = out / f"{2020 + k % 5}"
        sub.mkdir(exist_ok=True)
        stored.save(sub / name, quality=88, exif=exif)
        truth.append({"path": str((sub / name).relative_to(out)), "width": w, "height": h, "faces": faces})
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--data", type=Path, default=LFW)
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    compose(args.out, args.data, args.photos, args.seed)
    print(f"{args.photos} photos and truth.json in {args.out}")


if __name__ == "__main__":
    main()
