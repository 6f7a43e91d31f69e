"""DBSCAN (cosine) over a stored neighbour graph, with a quality gate on core points."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def dbscan_graph(n: int, a: np.ndarray, b: np.ndarray, sim: np.ndarray, eps: float, min_samples: int,
                 can_core: np.ndarray | None = None) -> np.ndarray:
    """Labels (-1: noise) for ``n`` points given undirected edges (row indices a, b).

    A point is core when it may be one (``can_core``, the quality gate) and has at least
    ``min_samples`` points, itself included, within ``eps`` (cosine distance). Cores within
    eps of each other share a cluster; any other point joins its most similar core within
    eps, or stays noise. On cores this is exactly DBSCAN; a border point reachable from two
    clusters goes to the nearer one instead of whichever was scanned first.
    """
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
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    s = np.concatenate([sim, sim])
    to_core = ~core[src] & core[dst]
    src, dst, s = src[to_core], dst[to_core], s[to_core]
    if len(src):
        order = np.lexsort((-s, src))
        src, dst = src[order], dst[order]
        first_of = np.r_[True, src[1:] != src[:-1]]
        labels[src[first_of]] = labels[dst[first_of]]
    return labels


def dbscan_exact(vectors: np.ndarray, eps: float, min_samples: int, can_core: np.ndarray | None = None,
                 k: int | None = None) -> np.ndarray:
    """The same on vectors directly (all pairs, each row keeping at most ``k`` neighbours;
    None: all of them): for small sets, evaluation, and checking the graph path."""
    from .graph import neighbours

    ids = np.arange(len(vectors), dtype=np.int64)
    qa, qb, qs = neighbours(vectors, ids, vectors, ids, 1.0 - eps, k or len(vectors))
    keep = qa < qb
    return dbscan_graph(len(vectors), qa[keep], qb[keep], qs[keep], eps, min_samples, can_core)
