"""The instant assignment: between reclusters, a new face joins the person most of its close
neighbours in the vector index belong to (a k-NN vote within the clustering radius)."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from ..clustering.people import params, resolver
from ..store import grouping, reads
from ..store.library import Library


def assign_new_faces(lib: Library, face_ids: list[int]) -> int:
    """Offer these faces (those still unknown) to the known persons; returns how many joined one.
    A face never joins a person it was rejected for, nor one already in its photo; an ignored
    face joins none."""
    if not face_ids:
        return 0
    p = params(lib)
    k = max(10, 2 * p.min_samples)
    assigned: dict[int, list[int]] = defaultdict(list)
    taken: dict[int, set[int]] = defaultdict(set)  # photo -> persons given a face of it in this call
    with lib.db.read() as s:
        if not reads.any_person(s):
            return 0
        persons = reads.persons(s)
        resolve = resolver({pid: x.merged_into for pid, x in persons.items()})
        refused: dict[int, set[int]] = defaultdict(set)  # the rejections and birth dates of them all, read once
        for f, pid in reads.refusals(s, list(face_ids)):
            refused[f].add(pid)
        for fid in face_ids:
            face = reads.get_face(s, fid)
            blob = reads.face_vector(s, fid)
            if face is None or blob is None or face.person_id is not None or face.ignored is not None:
                continue
            rejected = set(refused[fid])
            rejected |= {resolve(x) for x in reads.others_in_photo(s, face.photo_id, fid)}
            rejected |= taken[face.photo_id]
            votes: Counter[int] = Counter()
            best: dict[int, float] = {}
            for h in lib.index.search(np.frombuffer(blob, np.float32), k + 1, min_score=1.0 - p.eps):
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
    return grouping.assign_unknown(lib.db, assigned) if assigned else 0
