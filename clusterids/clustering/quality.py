"""Which faces can be trusted to make and link persons.

A small, blurred, doubtful or strongly turned face has an embedding that lies near many
people at once; letting it be a DBSCAN core chains strangers into one giant person. Such a
face is weak: it never makes or links a cluster, it only joins a person whose trusted faces
are close to it.
"""

from __future__ import annotations

import numpy as np

from ..config import Settings
from ..models.pose import yaw

__all__ = ["trusted", "yaw"]


def trusted(settings: Settings, det_score: np.ndarray, size_px: np.ndarray, sharpness: np.ndarray,
            landmarks: np.ndarray) -> np.ndarray:
    """The quality gate: which faces may be cores."""
    ok = (
        (np.asarray(det_score) >= settings.core_min_det_score)
        & (np.asarray(size_px) >= settings.core_min_face_px)
        & (np.asarray(sharpness) >= settings.core_min_sharpness)
    )
    if settings.core_max_yaw > 0:
        ok &= yaw(landmarks) <= settings.core_max_yaw
    return ok
