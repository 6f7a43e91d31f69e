"""The similarity graph: each face's nearest neighbours within a radius, computed once per face.

Re-clustering is then a pass over stored edges instead of all-pairs work (N^2 dot products).
The graph is a cache beside the database (``graph.npz``): faces that arrived since the last
run get their neighbours, faces that left drop theirs. A face keeps at most ``k`` neighbours
of its own (its nearest), which is enough for DBSCAN whenever ``min_samples <= k``.

Two ways to find the neighbours, with the same result but for a rare missed edge:
- exact: blockwise matrix products of the new faces against every face. Its cost grows with
  (new faces x all faces), so it serves a batch of new faces, never a library from scratch;
- approximate: an inverted-file index. k-means (faiss) cuts the faces into about 2 sqrt(N)
  cells; each new face is compared, exactly and by matrix products, with the faces of its
  ``PROBES`` nearest cells only. A face's neighbours within the radius lie in the cells
  nearest to it, so few are missed (ARI of the labels >= 0.999 against the exact graph,
  docs/benchmarks.md), and the work grows as N^1.5 instead of N^2. Partitioning costs a fixed
  amount per face of the library, so it pays once the batch of new faces is large (a first
  recluster, ``--from-scratch``, a reindex). An HNSW graph (faiss, hnswlib) gave the same
  recall only at several times the CPU on face-like vectors (their intrinsic dimension is
  high), and its search is not a matrix product.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import faults

BLOCK_CELLS = 48_000_000  # similarity cells per block (float32: about 190 MB)
# Up to this many (new face, library face) pairs the exact product is used: a few CPU seconds
# (about 1 s per 10^8 pairs at 128-D, 4 s at 512-D), where the cell join's fixed cost (k-means
# and placing every face of the library) would be a large share. Beyond it the join costs less
# (docs/benchmarks.md, "Fast at any size"): at 100k faces beyond 10k new ones, at 1M beyond 1k.
EXACT_MAX_PAIRS = 1_000_000_000
CELLS_PER_ROOT = 2.0  # k-means cells per square root of the library's size
PROBES = 16  # cells searched for each new face
TRAIN_PER_CELL = 64  # k-means trains on this many faces a cell at most (a sample)
QUERY_CHUNK = 65_536  # new faces searched at a time


@dataclass
class Graph:
    """Undirected edges between face ids, each stored once (a < b), with cosine similarity."""

    ids: np.ndarray  # int64, sorted: the faces the graph covers
    a: np.ndarray  # int64 face ids
    b: np.ndarray
    sim: np.ndarray  # float32
    min_sim: float

    @classmethod
    def empty(cls, min_sim: float) -> Graph:
        z = np.zeros(0, np.int64)
        return cls(z, z.copy(), z.copy(), np.zeros(0, np.float32), min_sim)

    def save(self, path: Path) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".graph-", suffix=".npz", dir=path.parent)
        os.close(fd)
        faults.point("graph.before_save")
        np.savez(tmp, ids=self.ids, a=self.a, b=self.b, sim=self.sim, min_sim=np.float32(self.min_sim))
        os.replace(tmp, path)  # a reader sees the old graph or the new one, never half

    @staticmethod
    def readable(path: Path) -> bool:
        try:
            with np.load(path) as z:
                return all(len(z[k]) >= 0 for k in ("ids", "a", "b", "sim")) and z["min_sim"] is not None
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
            return False

    @classmethod
    def load(cls, path: Path, min_sim: float) -> Graph:
        """The stored graph, or an empty one when absent, unreadable or too narrow for ``min_sim``."""
        try:
            with np.load(path) as z:
                stored = float(z["min_sim"])
                if stored > min_sim + 1e-6:
                    return cls.empty(min_sim)
                return cls(z["ids"], z["a"], z["b"], z["sim"], stored)
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
            return cls.empty(min_sim)  # a damaged cache: rebuilt from the database


def _top_k(r: np.ndarray, qid: np.ndarray, bid: np.ndarray, s: np.ndarray,
           k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each query row's ``k`` most similar pairs (r: the row of each pair), itself excluded."""
    keep = qid != bid
    r, qid, bid, s = r[keep], qid[keep], bid[keep], s[keep]
    if len(r) == 0:
        return qid, bid, s.astype(np.float32)
    # by row, then by similarity descending: one float key sorts faster than lexsort's two
    # (exact while rows stay below 2^32: the similarity's float32 steps still show)
    if int(r.max()) < 2**32:
        order = np.argsort(r.astype(np.float64) * 4.0 + (2.0 - s.astype(np.float64)), kind="stable")
    else:
        order = np.lexsort((-s, r))
    r, qid, bid, s = r[order], qid[order], bid[order], s[order]
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    rank = np.arange(len(r)) - np.repeat(starts, np.diff(np.r_[starts, len(r)]))
    keep = rank < k
    return qid[keep], bid[keep], s[keep].astype(np.float32)


def _joined(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not parts:
        z = np.zeros(0, np.int64)
        return z, z.copy(), np.zeros(0, np.float32)
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


def _blocks(queries: np.ndarray, query_ids: np.ndarray, base: np.ndarray, base_ids: np.ndarray,
            min_sim: float, k: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``neighbours``, one block of query rows at a time."""
    n = max(1, len(base))
    rows = max(1, BLOCK_CELLS // n)
    for start in range(0, len(queries), rows):
        block = queries[start : start + rows]
        sims = block @ base.T
        r, c = np.nonzero(sims >= min_sim)
        s = sims[r, c]
        del sims
        if len(r):
            yield _top_k(r, query_ids[start + r], base_ids[c], s, k)


def neighbours(queries: np.ndarray, query_ids: np.ndarray, base: np.ndarray, base_ids: np.ndarray,
               min_sim: float, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each query row, its at most ``k`` nearest base rows with similarity >= min_sim
    (itself excluded). Exact: blockwise matrix products. Returns (query id, base id, sim)."""
    return _joined(list(_blocks(queries, query_ids, base, base_ids, min_sim, k)))


def _row_type(n: int) -> type[np.signedinteger]:
    """Row numbers as int32 while they fit: half the memory of ids for every candidate edge."""
    return np.int32 if n < 2**31 else np.int64


def _exact_chunks(vectors: np.ndarray, rows: np.ndarray, min_sim: float,
                  k: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The rows' neighbours by the exact product, as (query row, base row, sim), a block at a time."""
    row = np.arange(len(vectors), dtype=_row_type(len(vectors)))
    queries = vectors if len(rows) == len(vectors) else vectors[rows]  # all new: no copy of the vectors
    yield from _blocks(queries, row[rows], vectors, row, min_sim, k)


def _cell_chunks(vectors: np.ndarray, rows: np.ndarray, min_sim: float,
                 k: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The rows' neighbours by the k-means cells (see the module's docstring), ``QUERY_CHUNK``
    query rows at a time, as (query row, base row, sim): a chunk's candidates are dropped
    before the next chunk is searched, so what is held beside the vectors is the kept edges."""
    import faiss

    x = np.ascontiguousarray(vectors, np.float32)
    n, dim = x.shape
    row = np.arange(n, dtype=_row_type(n))
    cells = max(1, min(n // 40, int(round(CELLS_PER_ROOT * np.sqrt(n)))))  # faiss wants 39+ a cell
    probes = min(PROBES, cells)
    sample = x[np.random.default_rng(0).choice(n, min(n, cells * TRAIN_PER_CELL), replace=False)]
    kmeans = faiss.Kmeans(dim, cells, niter=10, spherical=True, seed=1, max_points_per_centroid=TRAIN_PER_CELL)
    kmeans.train(sample)
    del sample
    home = np.concatenate([kmeans.index.search(x[i : i + QUERY_CHUNK], 1)[1][:, 0]
                           for i in range(0, n, QUERY_CHUNK)])  # each face lives in its nearest cell
    members = np.argsort(home, kind="stable").astype(row.dtype)
    member_at = np.searchsorted(home[members], np.arange(cells + 1))
    del home
    for i in range(0, len(rows), QUERY_CHUNK):
        chunk = rows[i : i + QUERY_CHUNK]
        _, probe = kmeans.index.search(x[chunk], probes)  # each query looks in its nearest cells
        flat = probe.ravel()
        order = np.argsort(flat, kind="stable")
        query_at = np.searchsorted(flat[order], np.arange(cells + 1))
        query_rows = row[chunk][order // probes]
        del probe, flat, order
        parts = []
        for c in range(cells):
            base = members[member_at[c] : member_at[c + 1]]
            queries = query_rows[query_at[c] : query_at[c + 1]]
            if len(base) and len(queries):
                part = neighbours(x[queries], queries, x[base], base, min_sim, k)
                if len(part[0]):
                    parts.append(part)
        # a face's best k over all its cells (a pair is met in one cell only: a face has one home)
        qa, qb, qs = _joined(parts)
        del parts
        yield _top_k(qa, qa, qb, qs, k)


def approximate_neighbours(vectors: np.ndarray, ids: np.ndarray, rows: np.ndarray, min_sim: float,
                           k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same as ``neighbours(vectors[rows], ids[rows], vectors, ids, ...)``, searching only
    the ``PROBES`` k-means cells nearest to each query row (see the module's docstring). Every
    similarity kept is exact; a neighbour is missed only when it lies in a farther cell."""
    return _joined([(ids[q], ids[b], s) for q, b, s in _cell_chunks(vectors, rows, min_sim, k)])


def _pairs_once(chunks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
                n: int) -> tuple[np.ndarray, np.ndarray]:
    """The chunks' edges between rows (< n), each pair once: its key lo * n + hi (lo < hi),
    sorted, and its similarity. An edge between two new faces is found from both sides; the
    first found is kept. Each chunk becomes 12 bytes an edge at once, and one stable sort of
    the keys finds the pairs met twice (no N x k copies of ids, no 2-D unique)."""
    keys, sims = [], []
    for q, b, s in chunks:
        q64, b64 = q.astype(np.int64), b.astype(np.int64)
        keys.append(np.minimum(q64, b64) * n + np.maximum(q64, b64))
        sims.append(s.astype(np.float32, copy=False))
        del q64, b64
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    key = np.concatenate(keys)
    keys.clear()
    sim = np.concatenate(sims)
    sims.clear()
    order = np.argsort(key, kind="stable")  # stable: of a pair met twice, the first found leads
    key = key[order]
    first = np.ones(len(key), bool)
    np.not_equal(key[1:], key[:-1], out=first[1:])
    keep = order[first]
    del order
    return key[first], sim[keep]


def _after(kept: np.ndarray, new: np.ndarray) -> np.ndarray:
    return np.concatenate([kept, new]) if len(kept) else new  # from scratch: no copy of the new edges


def update(graph: Graph, ids: np.ndarray, vectors: np.ndarray, k: int,
           exact: bool | None = None) -> tuple[Graph, int]:
    """Bring the graph in step with the faces ``ids`` (sorted) and their unit ``vectors``.
    Returns the new graph and how many faces had their neighbours computed. ``exact``: the
    exact product (True) or the index's candidates (False); None chooses by the batch's size.
    New edges come sorted by (a, b) after the kept ones."""
    ids = np.asarray(ids, np.int64)
    present = np.isin(graph.ids, ids)
    a, b, sim = graph.a, graph.b, graph.sim
    if not present.all():
        keep = np.isin(a, ids) & np.isin(b, ids)
        a, b, sim = a[keep], b[keep], sim[keep]
    is_new = ~np.isin(ids, graph.ids)
    new_rows = np.flatnonzero(is_new)
    if len(new_rows):
        if exact is None:
            exact = len(new_rows) * len(ids) <= EXACT_MAX_PAIRS
        find = _exact_chunks if exact else _cell_chunks
        n = len(ids)
        key, new_sim = _pairs_once(find(vectors, new_rows, graph.min_sim, k), n)
        # ids are sorted, so the lower row is the lower id: a < b holds
        a = _after(a, ids[key // n])
        b = _after(b, ids[key % n])
        del key
        sim = _after(sim, new_sim)
    return Graph(ids, a, b, sim, graph.min_sim), int(len(new_rows))
