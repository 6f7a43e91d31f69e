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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import faults
from ..config import Settings
from ..store import mirror, reads, writes
from ..store.library import Library
from .graph import Graph
from .graph import update as update_graph
from .merge import persons
from .quality import trusted

GRAPH_FILE = "graph.npz"
GRAPH_MIN_SIM = 0.3  # the graph keeps edges down to this similarity, so eps up to 0.7 needs no rebuild
# Calibrated on the union of the dev sets (bench/quality.py --calibrate, docs/benchmarks.md):
# recognizer dim -> (eps, min_samples, join_eps, attach_eps, weak_attach_eps)
PACK_DEFAULTS = {128: (0.45, 2, 0.45, 0.58, 0.5), 512: (0.5, 2, 0.5, 0.63, 0.55)}
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


def load_faces(lib: Library) -> FaceTable:
    s = lib.settings
    with lib.session() as session:
        rows = reads.face_rows(session)
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
    )


def graph_readable(path: Path) -> bool:
    return Graph.readable(path)


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
    with lib.session() as session:
        persons = reads.persons_by_id(session)
        rejected: dict[int, set[int]] = defaultdict(set)
        for f, p in reads.rejections(session):
            rejected[f].add(p)
    return Known({pid: p.merged_into for pid, p in persons.items()},
                 frozenset(pid for pid, p in persons.items() if p.name), dict(rejected))


def _resolver(merged_into: dict[int, int | None]) -> Any:
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
    resolve = _resolver(known.merged_into)
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


def apply(lib: Library, faces: FaceTable, result: Plan) -> dict[int, int]:
    """Write the plan: create persons, move faces, drop empty automatic persons, sync Qdrant."""
    created: dict[int, int] = {}
    changed: dict[int | None, list[int]] = defaultdict(list)
    with lib.session() as session, session.begin():
        for new_key in result.new_keys:
            created[new_key] = writes.new_person(session).id
        updates = []
        for i, fid in enumerate(faces.ids.tolist()):
            key = result.assignment.get(fid)
            new: int | None = created.get(key, key) if key is not None else None
            old = int(faces.person[i]) if faces.person[i] >= 0 else None
            if new != old:
                updates.append({"id": fid, "person_id": new})
                changed[new].append(fid)
        if updates:
            writes.set_persons(session, updates)
        writes.drop_empty_persons(session)
        mirror.mark(session)
    faults.point("recluster.after_commit")
    mirror.set_persons(lib, changed)
    return created


def recluster(lib: Library, dry_run: bool = False, from_scratch: bool = False) -> dict[str, Any]:
    p = params(lib)
    faces = load_faces(lib)
    graph = graph_for(lib, faces, from_scratch)
    pos = np.searchsorted(faces.ids, graph.a), np.searchsorted(faces.ids, graph.b)
    labels = persons(faces.vectors, pos[0], pos[1], graph.sim, p.eps, p.min_samples, p.join_eps, p.attach_eps,
                     p.weak_attach_eps, faces.can_core, faces.photo, lib.settings.weak_eps or None)
    result = plan(lib, faces, labels)
    report = diff(faces, result)
    report.update({"eps": p.eps, "min_samples": p.min_samples, "faces": len(faces.ids),
                   "clusters": int(labels.max() + 1) if len(labels) else 0,
                   "unknown": sum(1 for v in result.assignment.values() if v is None),
                   "applied": not dry_run})
    if not dry_run:
        apply(lib, faces, result)
    return report


def assign_new_faces(lib: Library, face_ids: list[int]) -> int:
    """Between reclusters: a new face joins the person most of its close neighbours belong to
    (k-NN vote in the vector index, within the clustering radius). Returns faces assigned."""
    if not face_ids:
        return 0
    p = params(lib)
    k = max(10, 2 * p.min_samples)
    assigned: dict[int, list[int]] = defaultdict(list)
    taken: dict[int, set[int]] = defaultdict(set)  # photo -> persons given a face of it in this call
    with lib.session() as session:
        if not reads.any_person(session):
            return 0
        persons = reads.persons_by_id(session)
        resolve = _resolver({pid: x.merged_into for pid, x in persons.items()})
        for fid in face_ids:
            face = reads.get_face(session, fid)
            if face is None or face.person_id is not None:
                continue
            rejected = set(reads.rejected_persons(session, fid))
            # the persons already in this photo are someone else
            rejected |= {resolve(int(x)) for x in reads.others_in_photo(  # type: ignore[arg-type]
                session, face.photo_id, fid)}
            rejected |= taken.get(face.photo_id, set())
            hits = lib.index.search(face.embedding(), k + 1, min_score=1.0 - p.eps)
            votes: Counter[int] = Counter()
            best: dict[int, float] = {}
            for h in hits:
                if h.id == fid or h.person is None:
                    continue
                pid = resolve(int(h.person))
                if pid in rejected or pid not in persons:  # a payload behind the database
                    continue
                votes[pid] += 1
                best[pid] = max(best.get(pid, -1.0), h.score)
            if votes:
                winner = max(votes, key=lambda x: (votes[x], best[x]))
                assigned[winner].append(fid)
                taken[face.photo_id].add(winner)
    if assigned:
        with lib.session() as session, session.begin():
            for pid, fids in assigned.items():
                writes.assign_faces(session, fids, pid)
            mirror.mark(session)
        mirror.set_persons(lib, assigned)
    return sum(len(v) for v in assigned.values())


__all__ = ["recluster", "assign_new_faces", "params"]
