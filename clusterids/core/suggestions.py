"""The suggestions queue: unknown faces that may be a person, and persons that may be one.

A suggestion is shown only when it is likely to be right. Each is scored from both sides' faces
(a face and a person's, or two persons'): the mean of the cosine of their mean directions and of
the three closest pairs of faces, which on the dev sets ranked better than either alone or the
closest pair. A face suggestion adds the lead of its best person over the next one's score: a
face as close to two persons as to one answers no "is this Ann?". Each is cut where, on lfw-dev
and cfp-dev together, at least 80% of the suggestions above the cut were right ("likely"), and
95% ("very likely"): ``bench/suggestions.py``, docs/benchmarks.md. The cuts are kept relative to
the pack's clustering radius, so a pack calibrated for its own radius gets cuts at the same
place. A clean library gets an empty queue, which is the right answer.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..clustering.people import params
from ..store import reads
from ..store.library import Library
from ..store.rows import label
from .results import FaceSuggestion, MergeSuggestion, Suggestions

SCORE = "mix"  # what bench/suggestions.py ranks by (see score())
# (likely, very likely) as offsets below 1 - eps, the similarity at which two faces join; for the
# open pack (eps 0.45): merges 0.50 and 0.53, faces 0.45 and 0.50 (face_score, not score)
MERGE_OFFSETS = (0.05, 0.02)
FACE_OFFSETS = (0.10, 0.05)
# the least a face's runner-up person counts (0.25 open pack): on the dev sets the second-best
# person's score sits above it; a face alone near one person is not made a sure thing
RIVAL_OFFSET = 0.30
OLD_FACE_OFFSETS = (0.155, 0.12)  # the plain score's cuts before the lead (bench comparison)
OLD_FLOOR = 1.0 - 2 * 0.45  # the cut before issue 18 (open pack), for the bench's comparison
WIDE = 0.25  # candidates are looked for this far below the cut, then scored exactly
MAX_UNKNOWN = 500  # unknown faces looked at for the queue without a person, newest first


def cuts(eps: float, offsets: tuple[float, float]) -> tuple[float, float]:
    return (round(1.0 - eps - offsets[0], 4), round(1.0 - eps - offsets[1], 4))



def likelihood(alike: float, cut: tuple[float, float]) -> str:
    return "very likely" if alike >= cut[1] else "likely"


def _centre(vectors: np.ndarray) -> np.ndarray:
    c = vectors.mean(0)
    return c / (np.linalg.norm(c) or 1.0)


def score(a: np.ndarray, b: np.ndarray) -> float:
    """How alike two sets of unit vectors (rows) are: the mean of their centres' cosine and of
    their three closest pairs."""
    sims = (a @ b.T).ravel()
    k = min(3, sims.size)
    top3 = float(np.partition(sims, sims.size - k)[-k:].mean())
    return (float(_centre(a) @ _centre(b)) + top3) / 2


def face_score(best: float, runner_up: float | None, floor: float) -> float:
    """A face's score for its best person: that person's ``score`` plus its lead over the next
    person's (``floor``, the lowest similarity looked for, when no other person is that near).
    A face equally close to two persons scores no more than its plain score, which is below the cut."""
    return 2 * best - max(floor if runner_up is None else runner_up, floor)


def _matrix(blobs: list[bytes]) -> np.ndarray:
    return np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])


Members = tuple[dict[int, np.ndarray], dict[int, set[int]]]  # each person's face vectors, and photos


def _members(lib: Library, person_ids: list[int]) -> Members:
    """Each person's face vectors (rows) and photos."""
    blobs: dict[int, list[bytes]] = defaultdict(list)
    photos: dict[int, set[int]] = defaultdict(set)
    with lib.db.read() as s:
        for _fid, photo, person, blob in reads.person_points(s, person_ids):
            blobs[int(person or 0)].append(blob)
            photos[int(person or 0)].add(photo)
    return {pid: _matrix(b) for pid, b in blobs.items()}, photos


def _centroids(lib: Library) -> dict[int, np.ndarray]:
    """Each person's mean face direction (unit length), summed while streaming the vectors."""
    sums: dict[int, np.ndarray] = {}
    with lib.db.read() as s:
        for person, blob in reads.vectors(s):
            pid = int(person or 0)
            v = np.frombuffer(blob, dtype=np.float32)
            sums[pid] = sums[pid] + v if pid in sums else v.astype(np.float64)
    return {pid: v / (np.linalg.norm(v) or 1.0) for pid, v in sums.items()}


def _face_suggestions(lib: Library, face_ids: list[int], only: int | None, limit: int) -> list[FaceSuggestion]:
    """For each unknown face, the person whose closest faces are likely its own, clearly more than
    any other person's (``only``: only the faces whose best person is that one); never one it was
    rejected for, nor one already in its photo."""
    cut = cuts(params(lib).eps, FACE_OFFSETS)
    floor = round(1.0 - params(lib).eps - RIVAL_OFFSET, 4)
    with lib.db.read() as s:
        ignored = reads.ignored_ids(s)  # i18: put aside, never a question again
        points = [(fid, photo, blob) for fid, photo, person, blob in reads.points(s, face_ids)
                  if person is None and fid not in ignored]
        persons = reads.persons(s, merged=False)  # hidden ones too: a rival, never a suggestion
        rejected = set(reads.refusals(s, [fid for fid, _, _ in points]))
    near: dict[int, set[int]] = {}
    for fid, _photo, blob in points:
        hits = lib.index.search(np.frombuffer(blob, dtype=np.float32), 30, min_score=cut[0] - WIDE)
        near[fid] = {int(h.person) for h in hits if h.person is not None and int(h.person) in persons
                     and (fid, int(h.person)) not in rejected}
    vecs, photos = _members(lib, sorted(set().union(*near.values()))) if near else ({}, {})
    scored: list[tuple[float, int, int]] = []
    for fid, photo, blob in points:
        v = np.frombuffer(blob, dtype=np.float32)[None]
        ranked = sorted(((score(v, vecs[p]), p) for p in near[fid] if p in vecs and photo not in photos[p]),
                        reverse=True)
        if not ranked or persons[ranked[0][1]].hidden or (only is not None and ranked[0][1] != only):
            continue
        alike = face_score(ranked[0][0], ranked[1][0] if len(ranked) > 1 else None, floor)
        if alike >= cut[0]:
            scored.append((alike, fid, ranked[0][1]))
    scored.sort(reverse=True)
    return [FaceSuggestion(face=fid, person=pid, name=persons[pid].name, label=persons[pid].label,
                           similarity=round(alike, 4), likelihood=likelihood(alike, cut))
            for alike, fid, pid in scored[:limit]]


def suggest_faces(lib: Library, person: str | None, limit: int = 20) -> list[FaceSuggestion]:
    """Unknown faces that are likely ``person`` (or, without one, likely someone), best first."""
    if person is None:
        with lib.db.read() as s:
            ids = reads.unknown_face_ids(s, MAX_UNKNOWN)
        return _face_suggestions(lib, ids, None, limit)
    with lib.db.read() as s:
        target = reads.find_person(s, person)
    vecs = _members(lib, [target.id])[0]
    if target.id not in vecs:
        return []
    centre = _centre(vecs[target.id]).astype(np.float32)
    floor = cuts(params(lib).eps, FACE_OFFSETS)[0] - 2 * WIDE  # a person's spread: faces far from its centre
    ids = [h.id for h in lib.index.search(centre, 400, min_score=floor) if h.person is None]
    return _face_suggestions(lib, ids, target.id, limit)


def suggest_merges(lib: Library, limit: int = 20) -> list[MergeSuggestion]:
    """Pairs of visible persons that are likely one, most likely first; never a kept-apart pair,
    nor two persons seen together in a photo."""
    cut = cuts(params(lib).eps, MERGE_OFFSETS)
    with lib.db.read() as s:
        persons = reads.persons(s, merged=False, hidden=False)
        apart = reads.kept_apart(s)
    centres = {pid: v for pid, v in _centroids(lib).items() if pid in persons}
    if len(centres) < 2:
        return []
    ids = sorted(centres)
    m = np.stack([centres[i] for i in ids])
    sim = m @ m.T
    near = [(ids[i], ids[j]) for i, j in zip(*np.triu_indices(len(ids), k=1), strict=True)
            if sim[i, j] >= cut[0] - WIDE and (ids[i], ids[j]) not in apart]
    vecs, photos = _members(lib, sorted({p for pair in near for p in pair}))
    pairs = []
    for a, b in near:
        if photos[a] & photos[b]:
            continue
        alike = score(vecs[a], vecs[b])
        if alike >= cut[0]:
            pairs.append((alike, a, b))
    pairs.sort(reverse=True)
    return [MergeSuggestion(persons=[a, b], names=[persons[a].name, persons[b].name],
                            labels=[label(a, persons[a].name), label(b, persons[b].name)], similarity=round(alike, 4),
                            likelihood=likelihood(alike, cut))
            for alike, a, b in pairs[:limit]]


def suggestions(lib: Library, person: str | None = None, limit: int = 20) -> Suggestions:
    return Suggestions(faces=suggest_faces(lib, person, limit), merges=suggest_merges(lib, limit))
