"""What the database itself must hold whatever happened (``clusterids doctor``): checked by counts
in SQL, so a large library is checked without loading its rows."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .db import Face, Photo, Rejection
from .reads import persons


def database_problems(session: Session) -> list[str]:
    """Each photo once, and every correction intact (pins on a person, rejections obeyed,
    merges pointing at persons that exist)."""
    out = []
    dup = session.execute(select(Photo.path, func.count(Photo.id)).group_by(Photo.path)
                          .having(func.count(Photo.id) > 1)).first()
    if dup is not None:
        out.append(f"the photo {dup[0]} is in the library {dup[1]} times")
    orphans = session.scalar(select(func.count(Face.id)).where(Face.photo_id.not_in(select(Photo.id)))) or 0
    if orphans:
        out.append(f"{orphans} faces belong to no photo")
    known = persons(session)
    lost = session.scalar(select(func.count(Face.id)).where(Face.pinned.is_(True), Face.person_id.is_(None))) or 0
    if lost:
        out.append(f"{lost} pinned faces lost their person")
    ghost = session.scalar(select(func.count(Face.id)).where(Face.person_id.is_not(None),
                                                             Face.person_id.not_in(list(known)))) or 0
    if ghost:
        out.append(f"{ghost} faces point at persons that do not exist")
    aside = session.scalar(select(func.count(Face.id)).where(Face.ignored.is_not(None),
                                                             Face.person_id.is_not(None))) or 0
    if aside:
        out.append(f"{aside} ignored faces belong to a person")
    broken = session.scalar(select(func.count()).select_from(Rejection).join(Face, Face.id == Rejection.face_id)
                            .where(Face.person_id == Rejection.person_id)) or 0
    if broken:
        out.append(f"{broken} faces belong to a person they were rejected from")
    for p in known.values():
        if p.merged_into is not None and p.merged_into not in known:
            out.append(f"person {p.id} was merged into person {p.merged_into}, who does not exist")
    return out
