"""The similarity graph: each face's nearest neighbours within a radius, computed once per face.

Re-clustering is then a pass over stored edges instead of all-pairs work (N^2 dot products).
The graph is a cache beside the database (``graph.npz``): faces that arrived since the last
run get their neighbours (exact, blockwise matrix products against every face), faces that
left drop theirs. A face keeps at most ``k`` neighbours of its own (its nearest), which is
enough for DBSCAN whenever ``min_samples <= k``.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import faults

BLOCK_CELLS = 48_000_000  # similarity cells per block (float32: about 190 MB)


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


def neighbours(queries: np.ndarray, query_ids: np.ndarray, base: np.ndarray, base_ids: np.ndarray,
               min_sim: float, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each query row, its at most ``k`` nearest base rows with similarity >= min_sim
    (itself excluded). Exact: blockwise matrix products. Returns (query id, base id, sim)."""
    out_a, out_b, out_s = [], [], []
    n = max(1, len(base))
    rows = max(1, BLOCK_CELLS // n)
    for start in range(0, len(queries), rows):
        block = queries[start : start + rows]
        sims = block @ base.T
        r, c = np.nonzero(sims >= min_sim)
        s = sims[r, c]
        del sims
        qid = query_ids[start + r]
        bid = base_ids[c]
        keep = qid != bid
        r, qid, bid, s = r[keep], qid[keep], bid[keep], s[keep]
        if len(r) == 0:
            continue
        # keep each row's k best: sort by row, then by similarity descending, then rank in row
        order = np.lexsort((-s, r))
        r, qid, bid, s = r[order], qid[order], bid[order], s[order]
        first = np.searchsorted(r, r, side="left")
        rank = np.arange(len(r)) - first
        keep = rank < k
        out_a.append(qid[keep])
        out_b.append(bid[keep])
        out_s.append(s[keep].astype(np.float32))
    if not out_a:
        z = np.zeros(0, np.int64)
        return z, z.copy(), np.zeros(0, np.float32)
    return np.concatenate(out_a), np.concatenate(out_b), np.concatenate(out_s)


def update(graph: Graph, ids: np.ndarray, vectors: np.ndarray, k: int) -> tuple[Graph, int]:
    """Bring the graph in step with the faces ``ids`` (sorted) and their unit ``vectors``.
    Returns the new graph and how many faces had their neighbours computed."""
    ids = np.asarray(ids, np.int64)
    present = np.isin(graph.ids, ids)
    a, b, sim = graph.a, graph.b, graph.sim
    if not present.all():
        keep = np.isin(a, ids) & np.isin(b, ids)
        a, b, sim = a[keep], b[keep], sim[keep]
    is_new = ~np.isin(ids, graph.ids)
    new_ids = ids[is_new]
    if len(new_ids):
        qa, qb, qs = neighbours(vectors[is_new], new_ids, vectors, ids, graph.min_sim, k)
        # an edge between two new faces is found from both sides: store each once
        lo, hi = np.minimum(qa, qb), np.maximum(qa, qb)
        both_new = np.isin(lo, new_ids) & np.isin(hi, new_ids)
        pairs = np.stack([lo, hi], axis=1)
        _, first = np.unique(pairs, axis=0, return_index=True)
        once = np.zeros(len(lo), bool)
        once[first] = True
        keep = once | ~both_new
        a = np.concatenate([a, lo[keep]])
        b = np.concatenate([b, hi[keep]])
        sim = np.concatenate([sim, qs[keep]])
    return Graph(ids, a, b, sim, graph.min_sim), int(len(new_ids))
