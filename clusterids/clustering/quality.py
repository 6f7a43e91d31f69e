"""Which faces can be trusted to make and link persons.

A small, blurred, doubtful or strongly turned face has an embedding that lies near many
people at once; letting it be a DBSCAN core chains strangers into one giant person. Such a
face is weak: it never makes or links a cluster, it only joins a person whose trusted faces
are close to it.
"""

from __future__ import annotations

import numpy as np

from ..config import Settings


def yaw(landmarks: np.ndarray) -> np.ndarray:
    """How far each face is turned, from its 5 landmarks (eyes, nose, mouth corners): 0 for
    a frontal face, about 1 when the nose reaches the outer eye, more for a full profile.

    The nose's position along the eye line, as a share of the eye distance, is 0.5 for a
    frontal face whatever the roll; its distance from 0.5, doubled, grows with the yaw.
    """
    kps = np.asarray(landmarks, np.float64).reshape(-1, 5, 2)
    left, right, nose = kps[:, 0], kps[:, 1], kps[:, 2]
    eyes = right - left
    span = np.maximum(np.einsum("ij,ij->i", eyes, eyes), 1e-6)
    along = np.einsum("ij,ij->i", nose - left, eyes) / span
    return np.abs(along - 0.5) * 2.0


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
