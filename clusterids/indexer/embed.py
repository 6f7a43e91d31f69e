"""The models' stage: detect, align and embed the faces of one decoded photo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config import Settings
from ..errors import UserError
from ..media.imaging import BadImage, Decoded, decode, read_capped
from ..store.library import Library

if TYPE_CHECKING:
    from ..models.base import FaceModel


@dataclass
class FaceRecord:
    bbox: list[float]
    landmarks: list[list[float]]
    det_score: float
    size_px: float
    sharpness: float
    vector: np.ndarray
    norm: float  # L2 norm of the recognizer's raw output for the face as it is (not its mirror)


def detect_and_embed(model: FaceModel, settings: Settings, decoded: Decoded) -> list[FaceRecord]:
    """The models' stages on one decoded photo: detect, align, embed; boxes in original pixels."""
    scale = decoded.scale
    from ..models.base import sharpness  # loaded with the model, not with every command
    from ..models.find import find_faces
    from ..models.pose import yaw

    turned = settings.retry_turned is True or (settings.retry_turned == "auto" and not decoded.says_turn)
    found, _ = find_faces(model, decoded.bgr, settings.retry_padded, turned)
    kept = [d for d in found if min(d.bbox[2] - d.bbox[0], d.bbox[3] - d.bbox[1]) * scale >= settings.min_face_px]
    if not kept:
        return []
    recognizer = model.recognizer()
    crops = np.stack([recognizer.align(decoded.bgr, d.kps) for d in kept])
    # A frontal face and its mirror give nearly one vector: only turned faces pay for a mirror.
    mirror = None
    if settings.flip_embed:
        mirror = yaw(np.stack([d.kps for d in kept])) >= settings.flip_min_yaw
    vectors, norms = recognizer.embed_many(crops, mirror, settings.batch_size)
    records = []
    for d, crop, vec, norm in zip(kept, crops, vectors, norms, strict=True):
        box = (d.bbox * scale).astype(float)
        records.append(FaceRecord(
            bbox=[round(v, 2) for v in box.tolist()],
            landmarks=[[round(float(x) * scale, 2), round(float(y) * scale, 2)] for x, y in d.kps],
            det_score=round(d.score, 4),
            size_px=round(float(min(box[2] - box[0], box[3] - box[1])), 1),
            sharpness=round(sharpness(crop), 2),
            vector=vec,
            norm=round(float(norm), 4),
        ))
    return records


def embed_photo(lib: Library, path: Path) -> tuple[Decoded, list[FaceRecord]]:
    """Detect and embed the faces of one photo that need not be in the library (search)."""
    try:
        data = read_capped(str(path), lib.settings.max_file_bytes)
        decoded = decode(data, lib.settings.decode_max_side, lib.settings.max_pixels)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}", "check the path") from exc
    except BadImage as exc:
        raise UserError(f"{path}: {exc}", "give a JPEG, PNG, WebP, TIFF, BMP or HEIC photo") from exc
    return decoded, detect_and_embed(lib.model(), lib.settings, decoded)
