"""Questions about people: who is there, their faces, photos showing them, who is in a photo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import distinct, func, select

from .clustering.people import params
from .corrections import find_person
from .indexer.pipeline import embed_photo
from .store.db import Face, KeepApart, Person, Photo, Rejection
from .store.library import Library


def people(lib: Library, include_hidden: bool = False, include_empty: bool | None = None,
           covers: bool = False) -> list[dict[str, Any]]:
    """Persons, most faces first. ``include_empty`` defaults to ``include_hidden`` (``--all``);
    ``covers`` adds each person's best face (detection score x size) for the web page."""
    include_empty = include_hidden if include_empty is None else include_empty
    with lib.session() as s:
        counts = {pid: (nf, np_) for pid, nf, np_ in s.execute(
            select(Face.person_id, func.count(Face.id), func.count(distinct(Face.photo_id)))
            .where(Face.person_id.is_not(None)).group_by(Face.person_id))}
        best: dict[int, int] = {}
        cover_ok: set[int | None] = set()
        newest: dict[int, str | None] = {}
        if covers:
            # a chosen cover counts only while that face is still the person's
            cover_ok = set(s.scalars(select(Face.id).join(Person, Person.cover_face_id == Face.id)
                                     .where(Face.person_id == Person.id)))
            newest = {int(pid or 0): when for pid, when in s.execute(
                select(Face.person_id, func.max(func.coalesce(Photo.taken_at, "")))
                .join(Photo, Photo.id == Face.photo_id).where(Face.person_id.is_not(None))
                .group_by(Face.person_id))}
            for pid, fid in s.execute(
                select(Face.person_id, Face.id).where(Face.person_id.is_not(None))
                .order_by(Face.person_id, (Face.det_score * Face.size_px).desc())
            ):
                if pid is not None:
                    best.setdefault(pid, fid)
        rows: list[dict[str, Any]] = []
        for p in s.scalars(select(Person).where(Person.merged_into.is_(None)).order_by(Person.id)):
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
        q = select(Face, Photo.path).join(Photo, Face.photo_id == Photo.id).order_by(Face.id)
        if person is not None:
            q = q.where(Face.person_id == find_person(s, person).id)
        if unknown:
            q = q.where(Face.person_id.is_(None))
        return [{"id": f.id, "photo": path, "bbox": f.bbox, "det_score": f.det_score, "person": f.person_id}
                for f, path in s.execute(q)]


def photos(lib: Library, persons: list[str], any_of: bool = False) -> list[str]:
    with lib.session() as s:
        ids = sorted({find_person(s, p).id for p in persons})
        q = (select(Photo.path).join(Face, Face.photo_id == Photo.id).where(Face.person_id.in_(ids))
             .group_by(Photo.id).order_by(Photo.path))
        if not any_of:
            q = q.having(func.count(distinct(Face.person_id)) == len(ids))
        return list(s.scalars(q))


def search(lib: Library, photo: Path, limit: int = 5) -> list[dict[str, Any]]:
    """For each face in a photo (in the library or not): the persons it may be, best first."""
    _, records = embed_photo(lib, photo)
    threshold = 1.0 - params(lib).eps
    out = []
    with lib.session() as s:
        visible = {p.id for p in s.scalars(select(Person).where(Person.merged_into.is_(None)))}
        names = {p.id: p.name for p in s.scalars(select(Person))}
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
        q = select(Face.person_id, Face.vector).where(Face.person_id.is_not(None))
        if person_ids is not None:
            q = q.where(Face.person_id.in_(person_ids))
        for person, blob in s.execute(q.execution_options(yield_per=2000)):
            pid = int(person or 0)
            v = np.frombuffer(blob, dtype=np.float32)
            sums[pid] = sums[pid] + v if pid in sums else v.astype(np.float64)
    return {pid: v / (np.linalg.norm(v) or 1.0) for pid, v in sums.items()}


def suggest_faces(lib: Library, person: str, limit: int = 20) -> list[dict[str, Any]]:
    """Unknown faces closest to ``person``, best first, leaving out faces rejected for it."""
    with lib.session() as s:
        target = find_person(s, person)
        pid, name = target.id, target.name
        rejected = set(s.scalars(select(Rejection.face_id).where(Rejection.person_id == pid)))
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
        persons = {p.id: p for p in s.scalars(select(Person).where(Person.merged_into.is_(None),
                                                                   Person.hidden.is_(False)))}
        apart = {(a, b) for a, b in s.execute(select(KeepApart.person_a, KeepApart.person_b))}
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
