"""The two-level join (clustering/merge.py, JOIN_WIDE; off by default, where the merge suggestions
take that band): two tight clusters a little farther apart than the centre join's reach are one
person only on evidence a person would accept, several of their faces each with a look-alike on
the other side, not one pair or one face. The rule on vectors, as a recluster runs it over the
stored graph."""

from __future__ import annotations

import numpy as np

from clusterids.clustering.dbscan import edges
from clusterids.clustering.merge import JOIN_PAIRS, persons

from .vectors import DIM

EPS = 0.45  # the open pack's, and its join_eps
JOIN_WIDE = 0.05  # as measured (docs/benchmarks.md)


def rule(vectors: np.ndarray) -> np.ndarray:
    v = vectors.astype(np.float32)
    a, b, s = edges(v, 0.3, 32)  # as the stored graph keeps them
    return persons(v, a, b, s, EPS, 2, EPS, 0.65, 0.6, np.ones(len(v), bool), np.arange(len(v)), join_wide=JOIN_WIDE)


def views(bridging: int, back: int, apart: float = 62) -> tuple[np.ndarray, int]:
    """Two views ``apart`` degrees apart on a plane, each 3 faces, plus ``bridging`` faces of the first
    and ``back`` of the second turned 3.4 degrees toward the other; returns the faces and how
    many are in the first view."""
    rng = np.random.default_rng(0)
    f, g = np.eye(DIM)[0], np.eye(DIM)[1]

    def face(angle: float) -> np.ndarray:
        noise = rng.normal(size=DIM)
        noise[:2] = 0
        u = np.cos(np.radians(angle)) * f + np.sin(np.radians(angle)) * g
        return 0.952 * u + np.sqrt(1 - 0.952**2) * noise / np.linalg.norm(noise)

    first = [face(0) for _ in range(3)] + [face(3.4) for _ in range(bridging)]
    second = [face(apart) for _ in range(3)] + [face(apart - 3.4) for _ in range(back)]
    return np.array(first + second), len(first)


def centre_sim(v: np.ndarray, n: int) -> float:
    a, b = v[:n].mean(0), v[n:].mean(0)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_two_views_with_several_look_alike_pairs_are_one_person() -> None:
    v, n = views(JOIN_PAIRS, JOIN_PAIRS)
    cross = v[:n] @ v[n:].T
    assert cross.max() < 1 - EPS  # the premise: no face pair links the views directly...
    assert 1 - EPS - JOIN_WIDE <= centre_sim(v, n) < 1 - EPS  # ...nor do their centres, by the centre rule
    assert np.count_nonzero((cross >= 1 - EPS - JOIN_WIDE).any(axis=1)) >= JOIN_PAIRS
    labels = rule(v)
    assert labels[0] >= 0 and len(set(labels.tolist())) == 1  # without it (join_wide 0): two persons


def test_one_face_near_several_of_the_other_cluster_joins_nothing() -> None:
    v, n = views(JOIN_PAIRS, 1, 61)  # the second cluster's one turned face is the only look-alike
    cross = v[:n] @ v[n:].T
    assert 1 - EPS - JOIN_WIDE <= centre_sim(v, n) < 1 - EPS
    assert np.count_nonzero((cross >= 1 - EPS - JOIN_WIDE).any(axis=1)) >= JOIN_PAIRS
    assert np.count_nonzero((cross >= 1 - EPS - JOIN_WIDE).any(axis=0)) == 1 and cross.max() < 1 - EPS
    labels = rule(v)
    assert labels[0] >= 0 and labels[n] >= 0
    assert len(set(labels[:n].tolist())) == 1 and len(set(labels[n:].tolist())) == 1
    assert labels[0] != labels[n]
