"""A stray face joins a person only when several of the person's trusted faces are near it, not
its centre alone (issue 17): in the composed multi-face library every wrong pair was a one-off
face given to a person of two or three faces by its centre."""

from __future__ import annotations

import numpy as np

from clusterids.clustering.dbscan import edges
from clusterids.clustering.merge import persons

from .vectors import DIM, near, unit

EPS = 0.45  # the open pack's


def rule(vectors: np.ndarray) -> np.ndarray:
    v = vectors.astype(np.float32)
    a, b, s = edges(v, 0.3, 32)  # as the stored graph keeps them
    return persons(v, a, b, s, EPS, 2, EPS, 0.58, 0.5, np.ones(len(v), bool), np.arange(len(v)))


def test_a_one_off_face_near_a_small_person_stays_unknown_and_a_large_one_takes_its_own() -> None:
    rng = np.random.default_rng(2)
    ann, bob = (unit(rng.normal(size=DIM)) for _ in range(2))
    small = [near(ann, 0.9, rng) for _ in range(3)]  # Ann, in three photos
    stranger = near(unit(np.mean(small, axis=0)), 0.5, rng)  # someone else, near Ann's centre only
    large = [near(bob, 0.88, rng) for _ in range(8)]  # Bob, in eight
    blurred = near(unit(np.mean(large, axis=0)), 0.5, rng)  # Bob, one poor photo: near all of his faces
    labels = rule(np.array(small + [stranger] + large + [blurred]))
    assert len(set(labels[:3].tolist())) == 1 and labels[0] >= 0
    assert labels[3] == -1  # before: attached to Ann by her centre
    assert labels[12] == labels[4] >= 0  # Bob keeps his blurred photo
