"""DBSCAN (cosine) over a stored neighbour graph, with a quality gate on core points."""

from __future__ import annotations

import numpy as np


def dbscan_graph(n: int, a: np.ndarray, b: np.ndarray, sim: np.ndarray, eps: float, min_samples: int,
                 can_core: np.ndarray | None = None, group: np.ndarray | None = None,
                 weak_eps: float | None = None) -> np.ndarray:
    """Labels (-1: noise) for ``n`` points given undirected edges (row indices a, b).

    A point is core when it may be one (``can_core``, the quality gate) and has at least
    ``min_samples`` points, itself included, within ``eps`` (cosine distance). Cores within
    eps of each other share a cluster; any other point joins its most similar core within
    eps, or stays noise. On cores this is exactly DBSCAN; a border point reachable from two
    clusters goes to the nearer one instead of whichever was scanned first.

    A point failing the gate joins a core only within ``weak_eps`` (default: eps). Points of
    one ``group`` (faces of one photo) are cannot-link: their edges are dropped, and where a
    chain still puts two of them in one cluster, the one less tied to it leaves as noise.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    if group is not None:
        apart = group[a] != group[b]
        a, b, sim = a[apart], b[apart], sim[apart]
    within = sim >= 1.0 - eps
    a, b, sim = a[within], b[within], sim[within]
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    core = degree + 1 >= min_samples
    if can_core is not None:
        core &= can_core
    labels = np.full(n, -1, np.int64)
    both = core[a] & core[b]
    cores = np.flatnonzero(core)
    if len(cores):
        pos = np.full(n, -1, np.int64)
        pos[cores] = np.arange(len(cores))
        m = coo_matrix((np.ones(int(both.sum())), (pos[a[both]], pos[b[both]])), shape=(len(cores),) * 2)
        _, comp = connected_components(m, directed=False)
        # number clusters by their smallest member, so labels do not depend on edge order
        first = np.full(comp.max() + 1, n, np.int64)
        np.minimum.at(first, comp, cores)
        rank = np.argsort(np.argsort(first))
        labels[cores] = rank[comp]
    # border points: the most similar core neighbour
    src, dst, s = both_ways(a, b, sim)
    to_core = ~core[src] & core[dst]
    if can_core is not None and weak_eps is not None and weak_eps < eps:
        to_core &= can_core[src] | (s >= 1.0 - weak_eps)
    src, dst, _, first = ranked(src[to_core], dst[to_core], s[to_core])
    labels[src[first]] = labels[dst[first]]
    if group is not None:
        labels = _apart(labels, group, a, b, sim)
    return labels


def both_ways(a: np.ndarray, b: np.ndarray, sim: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected edges as directed ones, each in both directions."""
    return np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([sim, sim])


def ranked(src: np.ndarray, dst: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Directed edges ordered by source, each source's most similar first, and where each
    source's run starts (so ``dst[first]`` is each source's nearest)."""
    order = np.lexsort((-s, src))
    src, dst, s = src[order], dst[order], s[order]
    first = np.flatnonzero(np.r_[True, src[1:] != src[:-1]]) if len(src) else np.zeros(0, np.int64)
    return src, dst, s, first


def _apart(labels: np.ndarray, group: np.ndarray, a: np.ndarray, b: np.ndarray, sim: np.ndarray) -> np.ndarray:
    """Where a cluster holds several points of one group, keep the one with the most similarity
    to the cluster's other points; the others become noise."""
    idx = np.flatnonzero(labels >= 0)
    if len(idx) < 2:
        return labels
    _, inv, counts = np.unique(np.stack([labels[idx], group[idx]], axis=1), axis=0,
                               return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    clash = counts[inv] > 1
    if not clash.any():
        return labels
    src, dst, s = both_ways(a, b, sim.astype(np.float64))
    inside = (labels[src] >= 0) & (labels[src] == labels[dst])
    strength = np.bincount(src[inside], weights=s[inside], minlength=len(labels))
    out = labels.copy()
    pts, keys = idx[clash], inv[clash]
    order = np.lexsort((-strength[pts], keys))
    pts, keys = pts[order], keys[order]
    first = np.r_[True, keys[1:] != keys[:-1]]
    out[pts[~first]] = -1
    return out


def dbscan_exact(vectors: np.ndarray, eps: float, min_samples: int, can_core: np.ndarray | None = None,
                 k: int | None = None, group: np.ndarray | None = None,
                 weak_eps: float | None = None) -> np.ndarray:
    """The same on vectors directly (all pairs, each row keeping at most ``k`` neighbours;
    None: all of them): for small sets, evaluation, and checking the graph path."""
    a, b, s = edges(vectors, 1.0 - eps, k)
    return dbscan_graph(len(vectors), a, b, s, eps, min_samples, can_core, group, weak_eps)


def edges(vectors: np.ndarray, min_sim: float, k: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs of rows with similarity >= ``min_sim``, each row keeping its ``k`` nearest
    (None: all), each pair once (a < b)."""
    from .graph import neighbours

    ids = np.arange(len(vectors), dtype=np.int64)
    qa, qb, qs = neighbours(vectors, ids, vectors, ids, min_sim, k or len(vectors))
    keep = qa < qb
    return qa[keep], qb[keep], qs[keep]
