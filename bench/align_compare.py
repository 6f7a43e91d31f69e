"""The 5-point similarity alignment two ways, on real faces: scikit-image's SimilarityTransform
(what insightface's face_align uses, and what pulls in scipy) against OpenCV's
estimateAffinePartial2D. Same faces, same recognizer: the vectors' cosine per face.

    python bench/align_compare.py [--pack ../shared/models/scrfd500m-sface] [--photos ../shared/data/photos]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED  # noqa: E402

from clusterids.models.base import FaceModel, similarity  # noqa: E402

ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                    [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)


def skimage_matrix(kps: np.ndarray, size: int) -> np.ndarray:
    from skimage.transform import SimilarityTransform

    t = SimilarityTransform.from_estimate(kps, ARCFACE * size / 112.0)
    return t.params[:2]


def cv2_matrix(kps: np.ndarray, size: int, arm: str) -> np.ndarray:
    dst = ARCFACE * size / 112.0
    if arm == "lmeds":
        m, _ = cv2.estimateAffinePartial2D(kps, dst, method=cv2.LMEDS)
    else:  # every point an inlier, then Levenberg-Marquardt over all five: least squares
        m = similarity(kps, size)
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, default=SHARED / "models" / "scrfd500m-sface")
    ap.add_argument("--photos", type=Path, default=SHARED / "data" / "photos")
    args = ap.parse_args()
    det = next(p for p in args.pack.glob("*.onnx") if "scrfd" in p.name or "det" in p.name)
    rec = next(p for p in args.pack.glob("*.onnx") if p != det)
    model = FaceModel("bench", det, rec, 640, 0.5)
    r = model.recognizer()
    arms = ("lmeds", "least_squares")
    ref: list[np.ndarray] = []
    crops: dict[str, list[np.ndarray]] = {k: [] for k in arms}
    worst: dict[str, float] = {k: 0.0 for k in arms}
    for photo in sorted(args.photos.rglob("*.jpg")):
        img = cv2.imread(str(photo))
        for d in model.detect(img):
            want = skimage_matrix(d.kps, r.size)
            ref.append(cv2.warpAffine(img, want, (r.size, r.size), borderValue=0.0))
            for k in arms:
                m = cv2_matrix(d.kps, r.size, k)
                worst[k] = max(worst[k], float(np.abs(m - want).max()))
                crops[k].append(cv2.warpAffine(img, m, (r.size, r.size), borderValue=0.0))
    base = r.embed(np.stack(ref))
    out: dict = {"faces": len(ref)}
    for k in arms:
        cos = np.sum(base * r.embed(np.stack(crops[k])), axis=1)
        out[k] = {"min_cosine": round(float(cos.min()), 6), "median_cosine": round(float(np.median(cos)), 6),
                  "below_0.9999": int((cos < 0.9999).sum()),
                  "max_matrix_difference": round(worst[k], 6)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
