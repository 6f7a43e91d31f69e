"""The incremental step: after each index batch, the person rule over the neighbourhood of the
new faces, so that a new person appears as soon as their faces form a core.

The same rule as the full recluster (clustering/people.py: tight DBSCAN with the quality gate,
clusters joined by their centres, strays attached; then the planner's pins, rejections, merges
and the same-photo rule), run on a local subgraph: the new faces (whether the instant
assignment placed them or not), the unknown faces within the reach of the rule's attach stage
of them in the vector index, and those within the clustering radius of the unknown ones in turn
(two hops: an unknown face's core test then sees all its neighbours), and every face of each
person found within that reach (so that a new cluster joins, and a stray face attaches to, a
known person as in the full recluster). Unknown
faces join the person the plan gives them or become a new person; a face that has a person
keeps it unless the plan gives its cluster to another known person (``JOIN_PERSONS``: the new
faces joined two views of one person), and never when pinned. A face the local plan leaves out
keeps what it has. What the local view cannot see (a chain through far faces) the periodic
recluster repairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..clustering import people as rule
from ..clustering.dbscan import edges
from ..clustering.graph import Graph
from ..clustering.pairs import pair_reach
from ..store import grouping, reads
from ..store.library import Library

HOPS = 2
# A person wholly in the neighbourhood whose cluster the plan gives to another known person
# (the new faces bridged two views of one person) joins it, as the full recluster would move
# it: unpinned faces only, never to a person they were rejected for.
JOIN_PERSONS = True
MAX_REGION = 20_000  # faces; a person that would make it larger stays out (the recluster sees all)


@dataclass
class Arrived:
    persons_created: list[int] = field(default_factory=list)
    faces_moved: int = 0


def active(lib: Library) -> bool:
    """Whether the step runs: once the library has persons or was reclustered. Before that the
    first recluster groups the whole library at once (the approximate graph, docs/scaling.md)."""
    from ..store import stamps

    with lib.db.read() as s:
        return reads.any_person(s) or stamps.last(s, stamps.LAST_RECLUSTER) is not None


def neighbourhood(lib: Library, face_ids: list[int], p: rule.Params) -> set[int]:
    """The new faces and the faces around them (see the module's docstring)."""
    k = lib.settings.neighbors
    eps = p.eps
    reach = max(eps, p.join_eps, p.attach_eps)  # how far a known person still pulls a face in the full rule
    with lib.db.read() as s:
        rows = reads.cluster_rows(s, face_ids)
    region = {int(r[0]) for r in rows}
    near = {int(r[2]) for r in rows if r[2] is not None}  # persons in reach: their faces come along whole
    frontier = [(int(r[0]), r[1]) for r in rows]  # a face the instant assignment placed still pulls others
    for hop in range(HOPS):
        found: list[int] = []
        for _fid, blob in frontier:
            for h in lib.index.search(np.frombuffer(blob, np.float32), k + 1, min_score=1.0 - reach):
                if h.person is not None:
                    near.add(int(h.person))
                elif h.id not in region:  # an unknown face in reach: it may attach now
                    region.add(int(h.id))
                    if h.score >= min(1.0 - eps, pair_reach(eps)):  # its own neighbours decide a pair
                        found.append(int(h.id))
        if hop + 1 == HOPS or not found:
            break
        with lib.db.read() as s:
            frontier = [(int(r[0]), r[1]) for r in reads.cluster_rows(s, found) if r[2] is None]
    with lib.db.read() as s:
        for pid in sorted(near):
            faces = [f.id for f in reads.faces(s, person_id=pid)]
            if len(region) + len(faces) <= MAX_REGION:
                region.update(faces)
    return region


def plan_locally(lib: Library, region: set[int]) -> tuple[rule.FaceTable, rule.Plan]:
    """The full recluster's rule and planner over the faces of ``region`` alone."""
    p = rule.params(lib)
    faces = rule.load_faces(lib, region)
    a, b, sim = edges(faces.vectors, rule.GRAPH_MIN_SIM, lib.settings.neighbors)
    graph = Graph(faces.ids, faces.ids[a], faces.ids[b], sim, rule.GRAPH_MIN_SIM)
    labels = rule.labels_for(lib, faces, graph, p)
    return faces, rule.plan(lib, faces, labels)


def place_new_faces(lib: Library, face_ids: list[int]) -> Arrived:
    """Run the step for these new faces (those still unknown); writes one transaction."""
    if not face_ids or not active(lib):
        return Arrived()
    region = neighbourhood(lib, face_ids, rule.params(lib))
    if not region:
        return Arrived()
    faces, plan = plan_locally(lib, region)
    if not (faces.person < 0).any():
        return Arrived()
    attached: dict[int, list[int]] = {}
    joined: dict[int, list[int]] = {}
    new: dict[int, list[int]] = {}
    for i, fid in enumerate(faces.ids.tolist()):
        key = plan.assignment.get(fid)
        if key is None:
            continue  # a face the local plan leaves unknown keeps what it has
        if faces.person[i] < 0:
            (new if key < 0 else attached).setdefault(key, []).append(fid)
        elif JOIN_PERSONS and key >= 0 and key != faces.person[i] and not faces.pinned[i]:
            joined.setdefault(key, []).append(fid)
    done = grouping.found_persons(lib.db, _not_twice(lib, faces, attached),
                                  [new[k] for k in sorted(new, reverse=True)], len(face_ids),
                                  joined=_not_twice(lib, faces, joined))
    return Arrived(done.created, done.faces_moved)


def _not_twice(lib: Library, faces: rule.FaceTable, attached: dict[int, list[int]]) -> dict[int, list[int]]:
    """Leave out a face whose photo already has a face of the person it would join (that face
    may lie outside the neighbourhood, where the planner's same-photo rule cannot see it)."""
    photo = dict(zip(faces.ids.tolist(), faces.photo.tolist(), strict=True))
    out: dict[int, list[int]] = {}
    with lib.db.read() as s:
        resolve = rule.resolver({pid: x.merged_into for pid, x in reads.persons(s).items()})
        for pid, fids in attached.items():
            ok = [f for f in fids if pid not in {resolve(x) for x in reads.others_in_photo(s, photo[f], f)}]
            if ok:
                out[pid] = ok
    return out
