"""The suggestions queue: unknown faces that may be a person, and persons that may be one."""

from __future__ import annotations

import numpy as np

from ..clustering.people import params
from ..store import reads
from ..store.library import Library
from ..store.rows import label
from .results import FaceSuggestion, MergeSuggestion, Suggestions


def _centroids(lib: Library, person_ids: list[int] | None = None) -> dict[int, np.ndarray]:
    """Each person's mean face direction (unit length), summed while streaming the vectors."""
    sums: dict[int, np.ndarray] = {}
    with lib.db.read() as s:
        for person, blob in reads.vectors(s, person_ids):
            pid = int(person or 0)
            v = np.frombuffer(blob, dtype=np.float32)
            sums[pid] = sums[pid] + v if pid in sums else v.astype(np.float64)
    return {pid: v / (np.linalg.norm(v) or 1.0) for pid, v in sums.items()}


def suggest_faces(lib: Library, person: str, limit: int = 20) -> list[FaceSuggestion]:
    """Unknown faces closest to ``person``, best first, leaving out faces rejected for it and
    ignored faces."""
    with lib.db.read() as s:
        target = reads.find_person(s, person)
        rejected = {f for f, _ in reads.rejections(s, person_id=target.id)}
        rejected |= reads.ignored_ids(s)  # i18: put aside, never a question again
    centre = _centroids(lib, [target.id]).get(target.id)
    if centre is None:
        return []
    floor = 1.0 - 2 * params(lib).eps  # twice the clustering radius: close, though not close enough to join
    out = []
    for hit in lib.index.search(centre.astype(np.float32), 200 + len(rejected), min_score=floor):
        if hit.person is None and hit.id not in rejected:
            out.append(FaceSuggestion(face=hit.id, person=target.id, name=target.name, label=target.label,
                                      similarity=round(hit.score, 4)))
            if len(out) >= limit:
                break
    return out


def suggest_merges(lib: Library, limit: int = 20) -> list[MergeSuggestion]:
    """Pairs of visible persons whose faces are close, most alike first, leaving out kept-apart pairs."""
    with lib.db.read() as s:
        persons = reads.persons(s, merged=False, hidden=False)
        apart = reads.kept_apart(s)
    centres = {pid: v for pid, v in _centroids(lib).items() if pid in persons}
    if len(centres) < 2:
        return []
    ids = sorted(centres)
    m = np.stack([centres[i] for i in ids])
    sim = m @ m.T
    floor = 1.0 - 2 * params(lib).eps
    pairs = []
    for i, j in zip(*np.triu_indices(len(ids), k=1), strict=True):
        a, b = ids[i], ids[j]
        if sim[i, j] >= floor and (a, b) not in apart:
            pairs.append((float(sim[i, j]), a, b))
    pairs.sort(reverse=True)
    return [MergeSuggestion(persons=[a, b], names=[persons[a].name, persons[b].name],
                            labels=[label(a, persons[a].name), label(b, persons[b].name)], similarity=round(score, 4))
            for score, a, b in pairs[:limit]]


def suggestions(lib: Library, person: str | None = None, limit: int = 20) -> Suggestions:
    return Suggestions(faces=suggest_faces(lib, person, limit) if person is not None else [],
                       merges=suggest_merges(lib, limit))
