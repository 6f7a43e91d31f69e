"""Questions about people: who is there, their faces, photos showing them, who is in a photo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import distinct, func, select

from .clustering.people import params
from .corrections import find_person
from .indexer.pipeline import embed_photo
from .store.db import Face, Person, Photo
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
        if covers:
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
                row["cover"] = best.get(p.id)
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
