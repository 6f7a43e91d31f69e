"""Re-clustering faces into persons while obeying every manual correction.

DBSCAN gives clusters. Each cluster is matched to the persons it already holds, so ids,
names, hidden flags and albums carry over. The corrections are constraints:

- a pinned face (``assign``, ``split``) stays with its person whatever the clusters say;
- a rejected (face, person) pair never comes back;
- a person merged into another resolves to it (``merged_into``);
- a cluster holding evidence of several persons (pinned faces, or faces of named persons) is
  split between them, each other face going to the nearer person.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import Settings
from ..store import reads
from ..store.library import Library
from .graph import Graph
from .graph import update as update_graph
from .merge import ATTACH_LEAD, leads, persons
from .quality import trusted, yaw

GRAPH_FILE = "graph.npz"
GRAPH_MIN_SIM = 0.3  # the graph keeps edges down to this similarity, so eps up to 0.7 needs no rebuild
# Calibrated on the union of the dev sets (bench/calibrate.py, docs/benchmarks.md; 512-D: not measured here):
# recognizer dim -> (eps, min_samples, join_eps, attach_eps, weak_attach_eps)
PACK_DEFAULTS = {128: (0.45, 2, 0.45, 0.65, 0.6), 512: (0.5, 2, 0.5, 0.63, 0.55)}
NAMED_SHARE = 0.25  # a named person holding this share of a cluster's faces keeps them


@dataclass
class Params:
    eps: float
    min_samples: int
    join_eps: float = 0.0
    attach_eps: float = 0.0
    weak_attach_eps: float = 0.0


def params(lib: Library) -> Params:
    return params_for(lib.dim, lib.settings)


def params_for(dim: int, s: Settings) -> Params:
    eps, min_samples, join, attach, weak = PACK_DEFAULTS.get(dim, (0.5, 3, 0.5, 0.65, 0.55))
    def pick(value: float, default: float) -> float:  # 0: the default, negative: off
        return 0.0 if value < 0 else value or default

    return Params(s.eps or eps, s.min_samples or min_samples, pick(s.join_eps, join), pick(s.attach_eps, attach),
                  pick(s.weak_attach_eps, weak))


@dataclass
class FaceTable:
    ids: np.ndarray
    vectors: np.ndarray
    person: np.ndarray  # -1: unknown
    pinned: np.ndarray
    can_core: np.ndarray
    photo: np.ndarray  # the photo's id: faces of one photo are different people
    norm: np.ndarray | None = None  # the recognizer's raw output length (NaN: not known)
    size: np.ndarray | None = None  # the shorter side of each face's box, in pixels
    yaw: np.ndarray | None = None  # how far each face is turned (models/pose.py)
    found: np.ndarray | None = None  # the detector found it (not a region marked by hand with no face found)

    def leads(self) -> float | np.ndarray:
        """The lead each face needs to be attached (merge.leads; one for all without sizes)."""
        if self.size is None or self.yaw is None:
            return ATTACH_LEAD
        return leads(self.size, self.yaw)


def load_faces(lib: Library, ids: Iterable[int] | None = None) -> FaceTable:
    """Every face (or those of ``ids``: a neighbourhood, upkeep/arrivals.py), sorted by id."""
    s = lib.settings
    with lib.db.read() as session:
        rows = reads.cluster_rows(session, ids)
    n = len(rows)
    vectors = np.zeros((n, lib.dim), np.float32)
    for i, r in enumerate(rows):
        vectors[i] = np.frombuffer(r[1], np.float32)
    det = np.array([r[4] for r in rows], np.float32)
    size = np.array([r[5] for r in rows], np.float32)
    sharp = np.array([r[6] for r in rows], np.float32)
    kps = np.array([r[7] for r in rows], np.float32).reshape(n, 5, 2)
    return FaceTable(
        ids=np.array([r[0] for r in rows], np.int64),
        vectors=vectors,
        person=np.array([-1 if r[2] is None else r[2] for r in rows], np.int64),
        pinned=np.array([bool(r[3]) for r in rows], bool),
        can_core=trusted(s, det, size, sharp, kps),
        photo=np.array([r[8] for r in rows], np.int64),
        norm=np.array([np.nan if r[9] is None else r[9] for r in rows], np.float32),
        size=size,
        yaw=yaw(kps),
        found=det > 0,
    )


def graph_for(lib: Library, faces: FaceTable, from_scratch: bool) -> Graph:
    path = lib.root / GRAPH_FILE
    graph = Graph.empty(GRAPH_MIN_SIM) if from_scratch else Graph.load(path, GRAPH_MIN_SIM)
    graph, computed = update_graph(graph, faces.ids, faces.vectors, lib.settings.neighbors)
    if computed or not path.exists() or len(graph.ids) != len(faces.ids):
        graph.save(path)
    return graph


@dataclass
class Plan:
    """What a recluster decides: each face's person (None: unknown), and the new persons."""

    assignment: dict[int, int | None] = field(default_factory=dict)  # face id -> person key
    new_keys: list[int] = field(default_factory=list)  # negative keys of persons to create


@dataclass(frozen=True)
class Known:
    """What the planner knows of the persons: where each merged one went, which have a name,
    and the persons each face was rejected for."""

    merged_into: dict[int, int | None]
    named: frozenset[int]
    rejected: dict[int, set[int]]


def known(lib: Library) -> Known:
    with lib.db.read() as session:
        persons = reads.persons(session)
        rejected: dict[int, set[int]] = defaultdict(set)
        for f, p in reads.refusals(session):  # rejections, and photos from before a birth date
            rejected[f].add(p)
    return Known({pid: p.merged_into for pid, p in persons.items()},
                 frozenset(pid for pid, p in persons.items() if p.name), dict(rejected))


def resolver(merged_into: dict[int, int | None]) -> Any:
    """person id -> the person it ended up in, following merges."""
    def resolve(pid: int) -> int:
        seen = set()
        while merged_into.get(pid) is not None and pid not in seen:
            seen.add(pid)
            pid = merged_into[pid]  # type: ignore[assignment]
        return pid

    return resolve


def plan(lib: Library, faces: FaceTable, labels: np.ndarray) -> Plan:
    """The recluster's decision for the library as it is (see plan_with)."""
    return plan_with(faces, labels, known(lib))


def plan_with(faces: FaceTable, labels: np.ndarray, known: Known) -> Plan:
    """Faces to persons, from the clusters (``labels``, -1: none) and the corrections: a
    pinned face stays; a cluster goes to the person most of its faces had (a named person
    keeps its share); a face never goes to a person it was rejected for; two faces of one
    photo never stay in one person. Pure: nothing is read or written."""
    resolve = resolver(known.merged_into)
    named, rejected = known.named, known.rejected
    out = Plan()
    members: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        if faces.pinned[i] and faces.person[i] >= 0:
            out.assignment[int(faces.ids[i])] = resolve(int(faces.person[i]))
        elif label < 0:
            out.assignment[int(faces.ids[i])] = None
        if label >= 0:
            members[int(label)].append(i)
    next_key = -1
    for label in sorted(members, key=lambda lb: faces.ids[members[lb][0]]):
        idx = members[label]
        pinned_to: dict[int, list[int]] = defaultdict(list)
        voted_by: dict[int, list[int]] = defaultdict(list)  # person -> its unpinned faces here
        for i in idx:
            if faces.person[i] >= 0:
                pid = resolve(int(faces.person[i]))
                (pinned_to if faces.pinned[i] else voted_by)[pid].append(i)
        anchors: dict[int, list[int]] = {pid: list(v) for pid, v in pinned_to.items()}
        if voted_by:
            votes = Counter({pid: len(v) for pid, v in voted_by.items()})
            top = votes.most_common(1)[0][0]
            voted = sum(votes.values())
            for pid, count in votes.items():
                if pid == top or (pid in named and count >= max(2, NAMED_SHARE * voted)):
                    anchors.setdefault(pid, []).extend(voted_by[pid])
        if not anchors:
            anchors[next_key] = []
            out.new_keys.append(next_key)
            next_key -= 1
        keys = list(anchors)
        if len(keys) > 1:
            centroids = np.stack([faces.vectors[anchors[k]].mean(axis=0) for k in keys])
            centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        for i in idx:
            fid = int(faces.ids[i])
            if faces.pinned[i] and faces.person[i] >= 0:
                continue
            allowed = [k for k in keys if k not in rejected.get(fid, ())]
            if not allowed:
                out.assignment[fid] = None
            elif len(allowed) == 1 or len(keys) == 1:
                out.assignment[fid] = allowed[0]
            else:
                sims = centroids[[keys.index(k) for k in allowed]] @ faces.vectors[i]
                out.assignment[fid] = allowed[int(np.argmax(sims))]
    _keep_apart(faces, out)
    return out


def _keep_apart(faces: FaceTable, out: Plan) -> None:
    """Two faces of one photo are two people: where a person would hold several faces of one
    photo, a pinned one stays, else the one nearest the person's other faces; the rest go
    unknown (a correction can still put mirrors and twins together)."""
    row = {int(f): i for i, f in enumerate(faces.ids.tolist())}
    by_key: dict[int, list[int]] = defaultdict(list)
    for fid, key in out.assignment.items():
        if key is not None:
            by_key[key].append(row[fid])
    for rows in by_key.values():
        photos = Counter(int(faces.photo[i]) for i in rows)
        clashes = [ph for ph, c in photos.items() if c > 1]
        if not clashes:
            continue
        total = faces.vectors[rows].sum(axis=0)
        for ph in clashes:
            same = [i for i in rows if faces.photo[i] == ph]
            # similarity to the person's other faces; a pinned face always wins
            rank = [(bool(faces.pinned[i]), float((total - faces.vectors[i]) @ faces.vectors[i])) for i in same]
            keep = same[max(range(len(same)), key=lambda j: rank[j])]
            for i in same:
                if i != keep and not faces.pinned[i]:
                    out.assignment[int(faces.ids[i])] = None


def diff(faces: FaceTable, result: Plan) -> dict[str, Any]:
    """Persons new, removed, merged and split; faces moved."""
    before: dict[int, set[int]] = defaultdict(set)
    after: dict[int, set[int]] = defaultdict(set)
    moved = 0
    for i, fid in enumerate(faces.ids.tolist()):
        old = int(faces.person[i]) if faces.person[i] >= 0 else None
        new = result.assignment.get(fid)
        if old is not None:
            before[old].add(fid)
        if new is not None:
            after[new].add(fid)
        if old != new:
            moved += 1
    merged, split, removed = [], [], []
    for pid, fids in before.items():
        dest = Counter(result.assignment.get(f) for f in fids)
        dest.pop(None, None)
        if pid not in after:
            if dest:
                merged.append({"person": pid, "into": _show(dest.most_common(1)[0][0])})
            else:
                removed.append(pid)
        elif len([k for k, c in dest.items() if c >= 2]) > 1:
            split.append({"person": pid, "into": sorted(_show(k) for k in dest)})
    return {
        "new": len(result.new_keys),
        "removed": sorted(removed),
        "merged": merged,
        "split": split,
        "faces_moved": moved,
    }


def _show(key: int | None) -> str:
    return "new" if key is None or key < 0 else str(key)


def labels_for(lib: Library, faces: FaceTable, graph: Graph, p: Params) -> np.ndarray:
    """The person rule over the stored graph: each face's cluster (-1: none)."""
    pos = np.searchsorted(faces.ids, graph.a), np.searchsorted(faces.ids, graph.b)
    return persons(faces.vectors, pos[0], pos[1], graph.sim, p.eps, p.min_samples, p.join_eps, p.attach_eps,
                   p.weak_attach_eps, faces.can_core, faces.photo, lib.settings.weak_eps or None,
                   attach_lead=faces.leads(), can_pair=faces.found)


def moves(faces: FaceTable, result: Plan) -> tuple[list[int], dict[int, int | None]]:
    """The plan as the store writes it: the keys of the persons to create, and each face whose
    person changes (to a person id, a new person's key, or None: unknown)."""
    out: dict[int, int | None] = {}
    for i, fid in enumerate(faces.ids.tolist()):
        key = result.assignment.get(fid)
        old = int(faces.person[i]) if faces.person[i] >= 0 else None
        if key != old:
            out[fid] = key
    return list(result.new_keys), out


__all__ = ["params", "load_faces", "graph_for", "plan", "plan_with", "diff", "labels_for", "moves"]
