"""No giant persons (issue 17): a chain of faces, each close to the next, never becomes one person
whose faces do not resemble each other; a real person, however large, stays whole. The rule on
vectors (clustering/merge.py persons), the way a recluster runs it over the stored graph."""

from __future__ import annotations

import numpy as np

from clusterids.clustering.dbscan import edges
from clusterids.clustering.merge import persons
from clusterids.clustering.spread import SPREAD_MARGIN, spread

DIM = 128
EPS = 0.45  # the open pack's


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def step(v: np.ndarray, similarity: float, rng: np.random.Generator) -> np.ndarray:
    other = rng.normal(size=DIM)
    other -= (other @ v) * v
    return unit(similarity * v + np.sqrt(1 - similarity**2) * unit(other))


def rule(vectors: np.ndarray) -> np.ndarray:
    a, b, s = edges(vectors.astype(np.float32), 1.0 - EPS - 0.2, 64)
    trusted = np.ones(len(vectors), bool)
    return persons(vectors.astype(np.float32), a, b, s, EPS, 2, EPS, 0.58, 0.5, trusted, np.arange(len(vectors)))


def test_a_chain_of_strangers_is_no_person_and_a_real_one_stays_whole() -> None:
    rng = np.random.default_rng(5)
    chain = [unit(rng.normal(size=DIM))]
    for _ in range(59):  # each face close to the one before: one DBSCAN cluster end to end
        chain.append(step(chain[-1], 0.72, rng))
    centre = unit(rng.normal(size=DIM))
    person = [step(centre, 0.85, rng) for _ in range(40)]  # one person, photographed 40 times
    vectors = np.array(chain + person)
    labels = rule(vectors)
    floor = 1.0 - EPS + SPREAD_MARGIN
    assert spread(vectors[:60]) < floor  # the premise: the chain's faces do not resemble each other
    for k in set(labels[labels >= 0].tolist()):
        assert spread(vectors[labels == k].astype(np.float64)) >= floor, k  # no loose person is left
    assert len(set(labels[60:].tolist())) == 1 and labels[60] >= 0  # the real person is one, whole
    assert not set(labels[:60].tolist()) & {int(labels[60])}
    assert np.bincount(labels[:60][labels[:60] >= 0]).max(initial=0) < 20  # no giant made of the chain
