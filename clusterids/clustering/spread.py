"""The spread guard: a person never grows by chaining. DBSCAN links two faces through any chain
of close pairs, and on old, small and blurred photos (a scanned print, a child's face) such
chains run through hundreds of strangers into one "person" whose faces no longer resemble each
other. A real person's faces stay close to their mean; a chain's do not. So each group whose
faces average too far from their centre is clustered again, inside, by density (HDBSCAN: a core
must be dense, not merely reachable), and what finds no dense core is left unknown, where the
suggestions and the next photos can still place it. In many dimensions a chain can lie close to
its mean on average, so a large group in which each face resembles few of the others (within
the radius) is cut again as well. Measured in docs/benchmarks.md ("No giant
persons"): no group on lfw-dev or cfp-dev is this loose; lag-dev's giant is."""

from __future__ import annotations

import numpy as np

# A group must average at least 1 - eps + SPREAD_MARGIN to its centre (0.63 at eps 0.45). At
# 0.05 (0.60) a lag-dev half of the people in 8 held a giant just inside the bound (73 faces of
# 37 people at 0.602): every dev set's persons lie at 0.675 or more, real identities rarely
# below 0.63 (lag-dev's young-and-adult 1st percentile), chains at 0.55-0.62. bench/calibrate.py
# --halves; docs/benchmarks.md "No giant person on any half".
SPREAD_MARGIN = 0.08
INNER_MARGIN = 0.05  # inside a loose group, faces stay together within eps less this, on average
# A chain's faces each resemble few of their group: a group of SPARSE_MIN faces or more in which
# a face has, on average, fewer than SPARSE of the others within eps is loose too, however
# close to its centre it lies on average (the cosine to a mean hides a chain in many dimensions).
SPARSE = 0.1
SPARSE_MIN = 20
SPARSE_SAMPLE = 512  # faces whose neighbours are counted in a larger group (the estimate's error ~2%)
MIN_GROUP = 4  # smaller groups are too few to measure a spread
DENSE = 3  # the least faces of a group found inside a loose group (HDBSCAN's sizes beyond AVERAGE_MAX)
ROUNDS = 4  # how deep a loose group is looked into again (HDBSCAN)
# Average linkage keeps all pairs' distances: up to this many faces (about 128 MB); a larger
# loose group is cut by density (HDBSCAN) first, then each part by average linkage.
AVERAGE_MAX = 4000


def spread(vectors: np.ndarray) -> float:
    """The mean cosine of unit vectors (rows) to their normalised mean: the length of their sum
    over their count."""
    return float(np.linalg.norm(vectors.sum(0, dtype=np.float64)) / max(len(vectors), 1))


def _spreads(vectors: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each group's spread and size, all at once (one sparse product, no loop over groups)."""
    from .merge import _sums

    sums = _sums(vectors, labels, labels >= 0, k)
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    return np.linalg.norm(sums, axis=1) / np.maximum(sizes, 1), sizes


def split_loose(vectors: np.ndarray, labels: np.ndarray, eps: float) -> np.ndarray:
    """Labels with every group looser than the bound cut again by average linkage; faces in no
    group of DENSE or more are left unknown (-1). Renumbered from 0."""
    out = labels.copy()
    if not len(out) or out.max() < 0:
        return out
    floor = 1.0 - eps + SPREAD_MARGIN
    inner = eps - INNER_MARGIN
    nxt = int(out.max()) + 1
    spreads, sizes = _spreads(vectors, out, nxt)
    loose = (sizes >= MIN_GROUP) & (spreads < floor)
    big = np.flatnonzero(~loose & (sizes >= SPARSE_MIN))
    if len(big):
        order = np.argsort(out, kind="stable")  # each group's faces, found once for all groups
        starts = np.concatenate(([0], np.cumsum(sizes))) + int((out < 0).sum())
        for k in big.tolist():
            loose[k] = _alike(vectors, order[starts[k]:starts[k + 1]], 1.0 - eps) < SPARSE
    for k in np.flatnonzero(loose).tolist():
        members = np.flatnonzero(labels == k)
        out[members] = -1
        for group in _average(vectors, members, inner, floor):
            out[group] = nxt
            nxt += 1
    kept = out >= 0  # renumbered from 0, as the later stages and the plan expect
    out[kept] = np.unique(out[kept], return_inverse=True)[1]
    return out


def _alike(vectors: np.ndarray, members: np.ndarray, within: float) -> float:
    """The mean share of a group's other faces within cosine ``within`` of each face (of a seeded
    sample of SPARSE_SAMPLE faces in a larger group)."""
    picked = members
    if len(members) > SPARSE_SAMPLE:
        picked = np.random.default_rng(len(members)).choice(members, SPARSE_SAMPLE, replace=False)
    near = (vectors[picked] @ vectors[members].T >= within).sum(axis=1) - 1
    return float(near.mean() / (len(members) - 1))


def _compact(vectors: np.ndarray, group: np.ndarray, floor: float) -> bool:
    """Whether a group found inside a loose one may stand: close to its centre, and (when large)
    each face like enough of the others, as split_loose asks of every group."""
    if spread(vectors[group]) < floor:
        return False
    return len(group) < SPARSE_MIN or _alike(vectors, group, floor - SPREAD_MARGIN) >= SPARSE


def _average(vectors: np.ndarray, members: np.ndarray, inner: float, floor: float) -> list[np.ndarray]:
    """The groups of DENSE faces or more that average linkage cut at ``inner`` (cosine distance)
    finds among ``members``; beyond AVERAGE_MAX faces, inside each of HDBSCAN's groups."""
    from sklearn.cluster import AgglomerativeClustering

    if len(members) < DENSE:
        return []
    if len(members) > AVERAGE_MAX:
        parts = _dense(vectors, members, floor, ROUNDS)  # each compact by the floor, or small
        return [g for part in parts for g in ([part] if len(part) > AVERAGE_MAX else
                                              _average(vectors, part, inner, floor))]
    cut = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                  distance_threshold=inner).fit_predict(vectors[members])
    sizes = np.bincount(cut)
    return [members[cut == k] for k in np.flatnonzero(sizes >= DENSE).tolist()]


def _dense(vectors: np.ndarray, members: np.ndarray, floor: float, rounds: int) -> list[np.ndarray]:
    """The compact groups HDBSCAN finds among ``members``, looking again inside loose ones
    (a chain close to its mean, too: ``_compact``)."""
    from sklearn.cluster import HDBSCAN

    if rounds == 0 or len(members) < DENSE:
        return []
    inner = HDBSCAN(min_cluster_size=DENSE, min_samples=DENSE, copy=True).fit_predict(vectors[members])
    out: list[np.ndarray] = []
    for k in range(int(inner.max()) + 1):
        group = members[inner == k]
        if len(group) < MIN_GROUP or _compact(vectors, group, floor):
            out.append(group)
        elif len(group) < len(members):  # smaller than before: worth another look
            out += _dense(vectors, group, floor, rounds - 1)
    return out
