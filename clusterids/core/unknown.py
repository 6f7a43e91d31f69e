"""Operations on the unknown page (i18): the unknown faces as groups of lookalikes first (naming
one group names them all), single faces after them, and the faces put aside.

The groups are a view over the stored neighbour graph (``graph.npz``), never a decision: nothing
is written, and the next recluster still decides who is who. Faces the graph does not cover yet
(arrived since the last recluster) get their neighbours among the unknown faces here, exactly.
These reads use numpy: the page reaches them through the daemon; no CLI read imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .operations import Count, operation
from .results import FaceCard

if TYPE_CHECKING:
    import numpy as np

    from ..store.library import Library
    from . import Core

MAX_GROUPS = 500  # groups on one page at most; the faces of the others are shown as single faces


# -- what the unknown page shows ---------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class LookalikeGroup:
    faces: list[FaceCard]  # by id
    spread: float  # the mean cosine of its faces to their centre (1: all alike)


@dataclass(frozen=True, kw_only=True)
class UnknownPage:
    total_faces: int  # every unknown face (in no person, not ignored)
    groups: list[LookalikeGroup]  # largest first
    total_groups: int  # the groups found; those past the page's limit are shown as single faces
    singles: list[FaceCard]  # the faces of no group shown, by id, from the offset
    total_singles: int
    ignored: int  # faces put aside (the "Ignored" view)


@dataclass(frozen=True, kw_only=True)
class IgnoredCard:
    id: int
    photo: int
    reason: str  # "ignored" or "not_a_face"


@dataclass(frozen=True, kw_only=True)
class IgnoredPage:
    total: int
    faces: list[IgnoredCard]  # the newest faces first (by id)


class UnknownController:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.lib = core.lib

    @operation(reads_only=True)
    def groups(self, offset: Count = 0, limit: Count = 120, max_groups: Count = 100) -> UnknownPage:
        """The unknown faces: groups of faces that resemble each other (at most MAX_GROUPS, largest
        first), then the single faces (LIMIT of them from OFFSET), and how many are ignored."""
        from ..store import reads

        with self.lib.db.read() as s:
            points = reads.unknown_points(s)
            ignored = len(reads.ignored_ids(s))
        found = _groups(self.lib, points) if len(points) > 1 else []
        shown = found[: min(max_groups, MAX_GROUPS)]
        grouped = {fid for g, _ in shown for fid, _ in g}
        singles = [FaceCard(id=fid, photo=photo, det_score=0.0) for fid, photo, _ in points if fid not in grouped]
        offset, limit = max(offset, 0), min(max(limit, 0), 2000)
        return UnknownPage(
            total_faces=len(points), total_groups=len(found), total_singles=len(singles), ignored=ignored,
            groups=[LookalikeGroup(faces=[FaceCard(id=fid, photo=photo, det_score=0.0) for fid, photo in g],
                                   spread=round(sp, 4)) for g, sp in shown],
            singles=singles[offset: offset + limit])

    @operation(reads_only=True)
    def ignored(self, offset: Count = 0, limit: Count = 120) -> IgnoredPage:
        """The faces put aside (ignored, or not a face), the newest faces first: 'unignore' takes them back."""
        from ..store import reads

        with self.lib.db.read() as s:
            rows = reads.ignored_faces(s)
        offset, limit = max(offset, 0), min(max(limit, 0), 2000)
        return IgnoredPage(total=len(rows), faces=[IgnoredCard(id=f.id, photo=f.photo_id, reason=f.ignored or "ignored")
                                                   for f in rows[offset: offset + limit]])


def _vectors(lib: Library, points: list[tuple[int, int, bytes]]) -> np.ndarray:
    import numpy as np

    return np.frombuffer(b"".join(v for _, _, v in points), np.float32).reshape(len(points), lib.dim)


def _groups(lib: Library, points: list[tuple[int, int, bytes]]) -> list[tuple[list[tuple[int, int]], float]]:
    """The lookalike groups of the unknown faces, as (face, photo) lists with their spread
    (clustering/lookalikes.py)."""
    import numpy as np

    from ..clustering import people as rule
    from ..clustering.graph import Graph, neighbours
    from ..clustering.lookalikes import lookalike_groups
    from ..clustering.spread import spread

    eps = rule.params(lib).eps
    ids = np.array([p[0] for p in points], np.int64)  # ascending: the read sorts by id
    photos = np.array([p[1] for p in points], np.int64)
    vectors = _vectors(lib, points)
    graph = Graph.load(lib.root / rule.GRAPH_FILE, rule.GRAPH_MIN_SIM)
    # the stored edges between two unknown faces
    ia, ib = np.searchsorted(ids, graph.a), np.searchsorted(ids, graph.b)
    ia, ib = np.minimum(ia, len(ids) - 1), np.minimum(ib, len(ids) - 1)
    both = (ids[ia] == graph.a) & (ids[ib] == graph.b)
    a, b, sim = ia[both], ib[both], graph.sim[both]
    # the unknown faces the graph does not cover yet: their neighbours among the unknown faces
    new = np.flatnonzero(~np.isin(ids, graph.ids))
    if len(new):
        qa, qb, qs = neighbours(vectors[new], new, vectors, np.arange(len(ids)), 1.0 - eps, lib.settings.neighbors)
        a, b, sim = np.concatenate([a, qa]), np.concatenate([b, qb]), np.concatenate([sim, qs])
    rows = lookalike_groups(vectors, photos, a, b, sim.astype(np.float32), eps)
    return [([(int(ids[r]), int(photos[r])) for r in g], spread(vectors[g])) for g in rows]
