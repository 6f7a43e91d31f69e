"""Questions about people: who is there, their faces, photos showing them, who is in a photo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .clustering.people import params
from .indexer.embed import embed_photo
from .store import reads
from .store.library import Library
from .store.reads import find_person


def people(lib: Library, include_hidden: bool = False, include_empty: bool | None = None,
           covers: bool = False) -> list[dict[str, Any]]:
    """Persons, most faces first. ``include_empty`` defaults to ``include_hidden`` (``--all``);
    ``covers`` adds each person's best face (detection score x size) for the web page."""
    include_empty = include_hidden if include_empty is None else include_empty
    with lib.session() as s:
        counts = reads.person_counts(s)
        best: dict[int, int] = {}
        cover_ok: set[int] = set()
        newest: dict[int, str | None] = {}
        if covers:
            # a chosen cover counts only while that face is still the person's
            cover_ok = reads.valid_covers(s)
            newest = reads.newest_taken(s)
            for pid, fid in reads.faces_by_quality(s):
                if pid is not None:
                    best.setdefault(pid, fid)
        rows: list[dict[str, Any]] = []
        for p in reads.unmerged_persons(s):
            faces, photos = counts.get(p.id, (0, 0))
            if (p.hidden and not include_hidden) or (faces == 0 and not include_empty):
                continue
            row: dict[str, Any] = {"id": p.id, "name": p.name, "faces": faces, "photos": photos, "hidden": p.hidden}
            if covers:
                row["cover"] = p.cover_face_id if p.cover_face_id in cover_ok else best.get(p.id)
                row["newest"] = newest.get(p.id)
            rows.append(row)
    rows.sort(key=lambda r: (-int(r["faces"]), int(r["id"])))
    return rows


def faces(lib: Library, person: str | None = None, unknown: bool = False) -> list[dict[str, Any]]:
    with lib.session() as s:
        person_id = find_person(s, person).id if person is not None else None
        return [{"id": f.id, "photo": path, "bbox": f.bbox, "det_score": f.det_score, "person": f.person_id}
                for f, path in reads.faces_with_paths(s, person_id, unknown)]


def photos(lib: Library, persons: list[str], any_of: bool = False) -> list[str]:
    with lib.session() as s:
        ids = sorted({find_person(s, p).id for p in persons})
        return reads.photos_showing(s, ids, any_of)


def search(lib: Library, photo: Path, limit: int = 5) -> list[dict[str, Any]]:
    """For each face in a photo (in the library or not): the persons it may be, best first."""
    _, records = embed_photo(lib, photo)
    threshold = 1.0 - params(lib).eps
    out = []
    with lib.session() as s:
        visible = reads.visible_person_ids(s)
        names = reads.person_names(s)
    for rec in records:
        best: dict[int, float] = {}
        for hit in lib.index.search(rec.vector, 50, min_score=threshold):
            if hit.person is not None and hit.person in visible:
                best[hit.person] = max(best.get(hit.person, -1.0), hit.score)
        matches = [{"person": pid, "name": names.get(pid), "similarity": round(sim, 4)}
                   for pid, sim in sorted(best.items(), key=lambda kv: -kv[1])[:limit]]
        out.append({"bbox": rec.bbox, "matches": matches})
    return out


def _centroids(lib: Library, person_ids: list[int] | None = None) -> dict[int, np.ndarray]:
    """Each person's mean face direction (unit length), summed while streaming the vectors."""
    sums: dict[int, np.ndarray] = {}
    with lib.session() as s:
        for person, blob in reads.person_vectors(s, person_ids):
            pid = int(person or 0)
            v = np.frombuffer(blob, dtype=np.float32)
            sums[pid] = sums[pid] + v if pid in sums else v.astype(np.float64)
    return {pid: v / (np.linalg.norm(v) or 1.0) for pid, v in sums.items()}


def suggest_faces(lib: Library, person: str, limit: int = 20) -> list[dict[str, Any]]:
    """Unknown faces closest to ``person``, best first, leaving out faces rejected for it."""
    with lib.session() as s:
        target = find_person(s, person)
        pid, name = target.id, target.name
        rejected = reads.rejected_faces(s, pid)
    centre = _centroids(lib, [pid]).get(pid)
    if centre is None:
        return []
    floor = 1.0 - 2 * params(lib).eps  # twice the clustering radius: close, though not close enough to join
    out = []
    for hit in lib.index.search(centre.astype(np.float32), 200 + len(rejected), min_score=floor):
        if hit.person is None and hit.id not in rejected:
            out.append({"face": hit.id, "person": pid, "name": name, "similarity": round(hit.score, 4)})
            if len(out) >= limit:
                break
    return out


def suggest_merges(lib: Library, limit: int = 20) -> list[dict[str, Any]]:
    """Pairs of visible persons whose faces are close, most alike first, leaving out kept-apart pairs."""
    with lib.session() as s:
        persons = {p.id: p for p in reads.shown_persons(s)}
        apart = reads.kept_apart(s)
        names = {pid: p.name for pid, p in persons.items()}
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
    return [{"persons": [a, b], "names": [names[a], names[b]], "similarity": round(score, 4)}
            for score, a, b in pairs[:limit]]


def suggestions(lib: Library, person: str | None = None, limit: int = 20) -> dict[str, Any]:
    """The suggestions queue: faces that may be ``person`` (when given), and persons that may be one."""
    return {"faces": suggest_faces(lib, person, limit) if person is not None else [],
            "merges": suggest_merges(lib, limit)}
