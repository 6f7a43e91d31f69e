"""How far a face is turned, from the detector's 5 landmarks (no model, numpy only)."""

from __future__ import annotations

import numpy as np


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
