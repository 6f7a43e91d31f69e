"""Second stage of clustering: tight clusters joined by their centres, then stray faces attached.

DBSCAN with a radius tight enough never to chain strangers (one weak link suffices) leaves a
person's profiles, or their photos of other decades, in separate clusters. Each such cluster is
represented by the mean of its trusted faces; two clusters whose centres are close are one
person. A mean is steadier than any single face, so this joins a person's views without the
chaining a wider DBSCAN radius brings. A person thus keeps one centre per view (the clusters it
was made of) for attaching: a face left out joins the person whose nearest centre is within
reach, a tighter reach for a face that fails the quality gate.
"""

from __future__ import annotations

import numpy as np

from .graph import neighbours

ROUNDS = 3
# A stray face joins a person only when this many of its trusted faces are near it too, not its
# centre alone; each may be SUPPORT_SLACK farther than the centre's reach (one face is noisier
# than a mean). bench/calibrate.py, docs/benchmarks.md "Calibrated on the union of the dev sets".
ATTACH_SUPPORT = 4
SUPPORT_SLACK = 0.1


def _sums(vectors: np.ndarray, labels: np.ndarray, use: np.ndarray, k: int) -> np.ndarray:
    from scipy.sparse import csr_matrix
    rows = np.flatnonzero(use)
    m = csr_matrix((np.ones(len(rows)), (labels[rows], rows)), shape=(k, len(vectors)))
    return np.asarray(m @ vectors.astype(np.float64))


def _centres(vectors: np.ndarray, labels: np.ndarray, weight: np.ndarray) -> np.ndarray:
    k = int(labels.max()) + 1
    sums = _sums(vectors, labels, (labels >= 0) & weight, k)
    # a cluster without trusted faces (possible after an attach) falls back to all its faces
    empty = ~np.any(sums, axis=1)
    if empty.any():
        sums[empty] = _sums(vectors, labels, (labels >= 0) & empty[np.maximum(labels, 0)], k)[empty]
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return sums.astype(np.float32)


def _photos_of(labels: np.ndarray, group: np.ndarray) -> list[set[int]]:
    out: list[set[int]] = [set() for _ in range(int(labels.max()) + 1)]
    for lb, g in zip(labels.tolist(), group.tolist(), strict=True):
        if lb >= 0:
            out[lb].add(g)
    return out


def join_clusters(vectors: np.ndarray, labels: np.ndarray, min_sim: float, trusted: np.ndarray,
                  group: np.ndarray | None = None) -> np.ndarray:
    """Clusters whose centres have cosine similarity >= ``min_sim`` become one (rounds until
    stable); clusters sharing a photo are never joined. Labels renumbered from 0."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    labels = labels.copy()
    for _ in range(ROUNDS):
        k = int(labels.max()) + 1
        if k < 2:
            break
        centres = _centres(vectors, labels, trusted)
        ids = np.arange(k, dtype=np.int64)
        a, b, _ = neighbours(centres, ids, centres, ids, min_sim, 16)
        keep = a < b
        a, b = a[keep], b[keep]
        if group is not None and len(a):
            photos = _photos_of(labels, group)
            ok = np.array([not (photos[i] & photos[j]) for i, j in zip(a.tolist(), b.tolist(), strict=True)], bool)
            a, b = a[ok], b[ok]
        if not len(a):
            break
        _, comp = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(k, k)), directed=False)
        labels = np.where(labels >= 0, comp[np.maximum(labels, 0)], -1)
    return labels


def attach(vectors: np.ndarray, labels: np.ndarray, centre_labels: np.ndarray, trusted: np.ndarray,
           min_sim: float, weak_min_sim: float, group: np.ndarray | None = None, support: int = 1,
           slack: float = SUPPORT_SLACK) -> np.ndarray:
    """Each face left unknown joins the person of its most similar cluster centre (clusters as
    DBSCAN made them: ``centre_labels``, a person's several views) when within reach, unless
    that person already holds a face of its photo. With ``support`` above 1 the face must also
    be within that reach less ``slack`` of as many of the person's trusted faces (so a person
    with fewer takes no stray face): a centre lies near many strangers, several of one person's
    faces do not (a one-off face near one or two of them is how the composed library's persons
    went wrong)."""
    out = labels.copy()
    noise = np.flatnonzero(out < 0)
    if not len(noise) or centre_labels.max() < 0:
        return out
    centres = _centres(vectors, centre_labels, trusted)
    person_of = np.full(len(centres), -1, np.int64)
    member = centre_labels >= 0
    person_of[centre_labels[member]] = labels[member]
    need = np.where(trusted[noise], min_sim, weak_min_sim)
    # each stray face's 3 nearest centres, blockwise (no noise x centres matrix in memory)
    qa, qb, qs = neighbours(vectors[noise], np.arange(len(noise), dtype=np.int64), centres,
                            np.arange(len(centres), dtype=np.int64) + len(noise), float(min(min_sim, weak_min_sim)), 3)
    order = np.lexsort((-qs, qa))
    photos = _photos_of(out, group) if group is not None else None
    backers = _trusted_members(labels, trusted) if support > 1 else []
    banks: dict[int, np.ndarray] = {}
    for row, c, sim in zip(qa[order].tolist(), (qb[order] - len(noise)).tolist(), qs[order].tolist(), strict=True):
        i = int(noise[row])
        if out[i] >= 0 or sim < need[row]:
            continue
        p = int(person_of[c])
        if p < 0:
            continue
        if support > 1:
            if p not in banks:  # each person's trusted faces gathered once, not per stray face
                banks[p] = vectors[backers[p]]
            near = int(np.count_nonzero(banks[p] @ vectors[i] >= need[row] - slack))
            if near < support:
                continue
        if photos is not None and group is not None:
            if int(group[i]) in photos[p]:
                continue
            photos[p].add(int(group[i]))
        out[i] = p
    return out


def _trusted_members(labels: np.ndarray, trusted: np.ndarray) -> list[np.ndarray]:
    """Each person's trusted faces (rows), as the persons stand before attaching."""
    rows = np.flatnonzero((labels >= 0) & trusted)
    order = rows[np.argsort(labels[rows], kind="stable")]
    cuts = np.searchsorted(labels[order], np.arange(int(labels.max()) + 2))
    return [order[cuts[k]:cuts[k + 1]] for k in range(int(labels.max()) + 1)]


def persons(vectors: np.ndarray, a: np.ndarray, b: np.ndarray, sim: np.ndarray, eps: float, min_samples: int,
            join_eps: float, attach_eps: float, weak_attach_eps: float, trusted: np.ndarray,
            group: np.ndarray | None = None, weak_eps: float | None = None, attach_support: int = ATTACH_SUPPORT,
            support_slack: float = SUPPORT_SLACK) -> np.ndarray:
    """The whole rule: tight DBSCAN over the graph's edges (trusted cores only), clusters
    joined by their centres, stray faces attached (near several of a person's faces), and
    every group whose faces spread too far from their centre clustered again by density
    (clustering/spread.py). A distance of 0 turns a stage off."""
    from .dbscan import _apart, dbscan_graph
    from .spread import split_loose

    n = len(vectors)
    tight = dbscan_graph(n, a, b, sim, eps, min_samples, trusted, group, weak_eps)
    if len(tight) == 0 or tight.max() < 0:
        return tight
    joined = join_clusters(vectors, tight, 1.0 - join_eps, trusted, group) if join_eps else tight
    if group is not None:
        joined = _apart(joined, group, a, b, sim)
    if attach_eps:
        joined = attach(vectors, joined, np.where(joined >= 0, tight, -1), trusted, 1.0 - attach_eps,
                        1.0 - (weak_attach_eps or attach_eps), group, attach_support, support_slack)
    return split_loose(vectors, joined, eps)
