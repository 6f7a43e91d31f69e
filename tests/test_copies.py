"""A copy of a photo is one sighting, not two (clustering/merge.py ``COPY_SIM``): a stranger in a
photo kept twice made a person of two, their face and its copy (35 persons for 4 people once a
folder was copied into the library: tests/test_index.py)."""

from __future__ import annotations

import numpy as np

from clusterids.clustering.dbscan import edges
from clusterids.clustering.merge import persons

from .vectors import DIM, near, unit


def rule(vectors: np.ndarray, photos: list[int]) -> np.ndarray:
    v = vectors.astype(np.float32)
    a, b, s = edges(v, 0.3, 32)
    return persons(v, a, b, s, 0.45, 2, 0.45, 0.65, 0.6, np.ones(len(v), bool), np.array(photos))


def test_a_stranger_and_their_copy_are_no_person_and_copies_follow_their_original() -> None:
    rng = np.random.default_rng(5)
    ann = unit(rng.normal(size=DIM))
    anns = [near(ann, 0.9, rng) for _ in range(3)]  # Ann in photos 0, 1, 2
    stranger = unit(rng.normal(size=DIM))  # beside Ann in photo 0
    alone = unit(rng.normal(size=DIM))  # someone in photo 3 only
    v = np.array(anns + [stranger, alone] + anns + [stranger, alone])  # every photo copied: 10-14
    labels = rule(v, [0, 1, 2, 0, 3, 10, 11, 12, 10, 13])
    assert labels[0] >= 0 and set(labels[[0, 1, 2, 5, 6, 7]].tolist()) == {labels[0]}
    assert labels[[3, 4, 8, 9]].tolist() == [-1] * 4  # before: two persons of two


def test_two_shots_of_one_moment_are_two_sightings() -> None:
    rng = np.random.default_rng(6)
    face = unit(rng.normal(size=DIM))
    burst = near(face, 0.995, rng)  # a second shot: as close as any two photos on lag-dev
    labels = rule(np.array([face, burst]), [0, 1])
    assert labels[0] == labels[1] >= 0
