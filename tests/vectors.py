"""Synthetic face-like vectors for the clustering tests: unit vectors at a chosen cosine."""

from __future__ import annotations

import numpy as np

DIM = 128  # the open pack's


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def near(centre: np.ndarray, similarity: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector whose cosine to the unit vector ``centre`` is ``similarity``."""
    other = rng.normal(size=len(centre))
    other -= (other @ centre) * centre
    return unit(similarity * centre + np.sqrt(1 - similarity**2) * unit(other))
