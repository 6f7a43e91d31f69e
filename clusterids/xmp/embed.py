"""Faces made from boxes no detected face is under (a face the detector missed: small, turned
away, in the distance): named regions another program wrote, so that a name the user gave is
not lost, and faces the user marks by hand (core/marks.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..config import Settings
from ..media.imaging import Decoded
from ..store.photos import NewFace
from .orient import Box

if TYPE_CHECKING:
    from ..models.base import FaceModel

# ArcFace's five landmarks in its 112-pixel crop: placed in a region where no detector found them
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                     [70.7299, 92.2041]], np.float32) / 112.0


def region_faces(model: FaceModel, settings: Settings, decoded: Decoded, boxes: list[Box],
                 origin: str = "metadata") -> list[NewFace]:
    """Faces embedded from boxes (in the photo's own pixels, as displayed): the
    detector's landmarks where it finds the face inside a padded crop of the region, else the
    landmarks of ArcFace's template laid over the region."""
    from ..models.base import sharpness
    from ..models.find import find_faces

    recognizer = model.recognizer()
    img, scale = decoded.bgr, decoded.scale
    crops, found = [], []
    for box in boxes:
        x1, y1, x2, y2 = (v / scale for v in box)
        m = 0.5 * max(x2 - x1, y2 - y1)
        cx1, cy1 = max(0, int(x1 - m)), max(0, int(y1 - m))
        cx2, cy2 = min(img.shape[1], int(x2 + m)), min(img.shape[0], int(y2 + m))
        kps, score = None, 0.0
        if cx2 - cx1 >= 8 and cy2 - cy1 >= 8:
            dets, _ = find_faces(model, np.ascontiguousarray(img[cy1:cy2, cx1:cx2]), True, False)
            inside = [d for d in dets if x1 <= (d.bbox[0] + d.bbox[2]) / 2 + cx1 <= x2
                      and y1 <= (d.bbox[1] + d.bbox[3]) / 2 + cy1 <= y2]
            if inside:
                best = max(inside, key=lambda d: d.score)
                kps, score = best.kps + np.array([cx1, cy1], np.float32), float(best.score)
        if kps is None:
            kps = TEMPLATE * np.array([x2 - x1, y2 - y1], np.float32) + np.array([x1, y1], np.float32)
        crops.append(recognizer.align(img, kps))
        found.append((box, kps, score))
    vectors = recognizer.embed(np.stack(crops), settings.batch_size, flip=settings.flip_embed)
    return [NewFace(bbox=(round(box[0], 2), round(box[1], 2), round(box[2], 2), round(box[3], 2)),
                    landmarks=[[round(float(x) * scale, 2), round(float(y) * scale, 2)] for x, y in kps],
                    det_score=round(score, 4), size_px=round(min(box[2] - box[0], box[3] - box[1]), 1),
                    sharpness=round(sharpness(crop), 2), vector=np.asarray(vec, np.float32).tobytes(),
                    origin=origin)
            for (box, kps, score), crop, vec in zip(found, crops, vectors, strict=True)]
