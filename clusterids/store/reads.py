"""The library database's read queries, for the modules above the store: each takes an open
session and plain arguments and returns plain data (or ORM rows a caller reads or changes in
its own transaction). No module outside the store writes SQL (see store/writes.py too)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Result, distinct, func, or_, select
from sqlalchemy.orm import Session

from ..errors import NotFound, UserError
from .db import Face, Journal, KeepApart, Person, Photo, Rejection

MAX_ID = 2**63 - 1  # larger numbers name nothing, and SQLite cannot even bind them


# -- people -----------------------------------------------------------------------------------

def find_person(session: Session, token: str | int) -> Person:
    """A person by id or exact name; a merged person resolves to the one it joined."""
    text = str(token).strip()
    person = None
    if text.isdigit() and int(text) <= MAX_ID:
        person = session.get(Person, int(text))
    if person is None:
        matches = list(session.scalars(select(Person).where(Person.name == text, Person.merged_into.is_(None))))
        if len(matches) > 1:
            raise UserError(f"{len(matches)} persons are named {text!r}", "give the person's id instead")
        person = matches[0] if matches else None
    if person is None:
        raise NotFound(f"no person {text!r}", "see 'clusterids people --all' for ids and names")
    seen = set()
    while person.merged_into is not None and person.id not in seen:
        seen.add(person.id)
        person = session.get(Person, person.merged_into) or person
    return person


def person_counts(session: Session) -> dict[int, tuple[int, int]]:
    """Per person: how many faces, and in how many photos."""
    return {pid: (nf, np_) for pid, nf, np_ in session.execute(
        select(Face.person_id, func.count(Face.id), func.count(distinct(Face.photo_id)))
        .where(Face.person_id.is_not(None)).group_by(Face.person_id)) if pid is not None}


def valid_covers(session: Session) -> set[int]:
    """The chosen cover faces that are still their person's."""
    return set(session.scalars(select(Face.id).join(Person, Person.cover_face_id == Face.id)
                               .where(Face.person_id == Person.id)))


def newest_taken(session: Session) -> dict[int, str | None]:
    """Per person: the latest date taken of a photo showing them ('' when none is dated)."""
    return {int(pid or 0): when for pid, when in session.execute(
        select(Face.person_id, func.max(func.coalesce(Photo.taken_at, "")))
        .join(Photo, Photo.id == Face.photo_id).where(Face.person_id.is_not(None))
        .group_by(Face.person_id))}


def faces_by_quality(session: Session) -> list[tuple[int | None, int]]:
    """(person, face) of every assigned face, by person, best face (detection score x size) first."""
    return [(pid, fid) for pid, fid in session.execute(
        select(Face.person_id, Face.id).where(Face.person_id.is_not(None))
        .order_by(Face.person_id, (Face.det_score * Face.size_px).desc()))]


def unmerged_persons(session: Session) -> list[Person]:
    """The persons not merged into another, by id."""
    return list(session.scalars(select(Person).where(Person.merged_into.is_(None)).order_by(Person.id)))


def visible_person_ids(session: Session) -> set[int]:
    """The ids of the persons not merged into another."""
    return {p.id for p in unmerged_persons(session)}


def person_names(session: Session) -> dict[int, str | None]:
    """Every person's name (merged ones too), by id."""
    return {pid: p.name for pid, p in persons_by_id(session).items()}


def shown_persons(session: Session) -> list[Person]:
    """The persons neither merged nor hidden."""
    return list(session.scalars(select(Person).where(Person.merged_into.is_(None), Person.hidden.is_(False))))


def kept_apart(session: Session) -> set[tuple[int, int]]:
    """The pairs of persons the user keeps apart (lower id first)."""
    return {(a, b) for a, b in session.execute(select(KeepApart.person_a, KeepApart.person_b))}


def rejected_faces(session: Session, person_id: int) -> set[int]:
    """The faces rejected for a person."""
    return set(session.scalars(select(Rejection.face_id).where(Rejection.person_id == person_id)))


# -- faces ------------------------------------------------------------------------------------

def faces_with_paths(session: Session, person_id: int | None = None,
                     unknown: bool = False) -> list[tuple[Face, str]]:
    """Faces with their photo's path, by id; only ``person_id``'s (when given), only unknown ones
    (``unknown``)."""
    q = select(Face, Photo.path).join(Photo, Face.photo_id == Photo.id).order_by(Face.id)
    if person_id is not None:
        q = q.where(Face.person_id == person_id)
    if unknown:
        q = q.where(Face.person_id.is_(None))
    return [(f, path) for f, path in session.execute(q)]


def person_vectors(session: Session, person_ids: list[int] | None = None) -> Iterator[tuple[int | None, bytes]]:
    """(person, vector) of every assigned face (of ``person_ids`` when given), streamed."""
    q = select(Face.person_id, Face.vector).where(Face.person_id.is_not(None))
    if person_ids is not None:
        q = q.where(Face.person_id.in_(person_ids))
    yield from map(tuple, session.execute(q.execution_options(yield_per=2000)))


def get_face(session: Session, face_id: int) -> Face | None:
    """A face by id, None when there is none."""
    return session.get(Face, face_id)


def photo_faces(session: Session, photo_id: int) -> list[Face]:
    """The faces of one photo."""
    return list(session.scalars(select(Face).where(Face.photo_id == photo_id)))

# -- photos -----------------------------------------------------------------------------------

def photos_showing(session: Session, person_ids: list[int], any_of: bool = False) -> list[str]:
    """Paths of the photos showing all of ``person_ids`` (any of them: ``any_of``), by path."""
    q = (select(Photo.path).join(Face, Face.photo_id == Photo.id).where(Face.person_id.in_(person_ids))
         .group_by(Photo.id).order_by(Photo.path))
    if not any_of:
        q = q.having(func.count(distinct(Face.person_id)) == len(person_ids))
    return list(session.scalars(q))


def get_photo(session: Session, photo_id: int) -> Photo | None:
    """A photo by id, None when there is none."""
    return session.get(Photo, photo_id)


def photo_by_path(session: Session, path: str) -> Photo | None:
    """The photo at ``path``, None when the library has none there."""
    return session.scalar(select(Photo).where(Photo.path == path))


# -- page -------------------------------------------------------------------------------------

def get_person(session: Session, person_id: int) -> Person | None:
    """A person by id (merged ones too), None when there is none."""
    return session.get(Person, person_id)


def unknown_face_count(session: Session) -> int:
    """How many faces belong to no person."""
    return session.scalar(select(func.count(Face.id)).where(Face.person_id.is_(None))) or 0


def person_face_rows(session: Session, person_id: int | None) -> list[tuple[int, int, float]]:
    """(face, photo, detection score) of a person's faces, by id (``person_id`` None: the unknown faces)."""
    q = select(Face.id, Face.photo_id, Face.det_score).order_by(Face.id)
    q = q.where(Face.person_id.is_(None)) if person_id is None else q.where(Face.person_id == person_id)
    return [(fid, photo_id, score) for fid, photo_id, score in session.execute(q)]


def photo_dates(session: Session, photo_ids: list[int]) -> list[tuple[int, str | None]]:
    """(photo, date taken) of each of ``photo_ids``."""
    return [(pid, t) for pid, t in session.execute(select(Photo.id, Photo.taken_at).where(Photo.id.in_(photo_ids)))]


def names_in_photo(session: Session, photo_id: int) -> dict[int, str | None]:
    """The names of the persons with a face in a photo, by person id."""
    return {p.id: p.name for p in session.scalars(select(Person).join(Face, Face.person_id == Person.id)
                                                  .where(Face.photo_id == photo_id))}


# -- thumbnails -------------------------------------------------------------------------------

def faces_unknown_first(session: Session) -> list[tuple[int, int]]:
    """(face, photo) of every face: the unknown faces first, then by id."""
    return [(fid, pid) for fid, pid in session.execute(
        select(Face.id, Face.photo_id).order_by(Face.person_id.is_not(None), Face.id))]


def face_ids(session: Session) -> list[int]:
    """The id of every face."""
    return list(session.scalars(select(Face.id)))


def photo_hashes(session: Session) -> list[tuple[int, str | None]]:
    """(photo, content hash) of every photo."""
    return [(i, sha) for i, sha in session.execute(select(Photo.id, Photo.sha256))]


# -- albums -----------------------------------------------------------------------------------

def album_rows(session: Session, person_ids: list[int]) -> list[tuple[int | None, int, str]]:
    """(person, photo, path) for each photo showing one of ``person_ids``, once each, by person and photo."""
    return [(pid, photo_id, path) for pid, photo_id, path in session.execute(
        select(Face.person_id, Photo.id, Photo.path).join(Photo, Face.photo_id == Photo.id)
        .where(Face.person_id.in_(person_ids)).distinct().order_by(Face.person_id, Photo.id))]


# -- status -----------------------------------------------------------------------------------

def photo_count(session: Session, status: str) -> int:
    """How many photos have this status ('ok' or 'failed')."""
    return session.scalar(select(func.count(Photo.id)).where(Photo.status == status)) or 0


def face_count(session: Session) -> int:
    """How many faces the library holds."""
    return session.scalar(select(func.count(Face.id))) or 0


def failed_files(session: Session) -> list[tuple[str, str | None]]:
    """(path, reason) of every photo that failed, by path."""
    return [(p, e) for p, e in session.execute(
        select(Photo.path, Photo.error).where(Photo.status == "failed").order_by(Photo.path))]


# -- evaluation -------------------------------------------------------------------------------

# (face, x1, y1, x2, y2, photo, path, width, height)
FaceInPhoto = tuple[int, float, float, float, float, int, str, int | None, int | None]


def faces_under(session: Session, prefix: str) -> list[FaceInPhoto]:
    """Every face of a photo whose path starts with ``prefix``, with its box and its photo's size."""
    q = select(Face.id, Face.x1, Face.y1, Face.x2, Face.y2, Photo.id, Photo.path, Photo.width, Photo.height) \
        .join(Photo, Face.photo_id == Photo.id).where(Photo.path.startswith(prefix))
    return _tuples(session.execute(q))


def faceless_photo_count(session: Session, prefix: str) -> int:
    """Photos under ``prefix`` read without error in which no face was found."""
    with_face = select(Face.photo_id).distinct()
    q = select(func.count(Photo.id)).where(Photo.path.startswith(prefix), Photo.status == "ok",
                                           Photo.id.not_in(with_face))
    return int(session.scalar(q) or 0)


# -- carry ------------------------------------------------------------------------------------

# (face, x1, y1, x2, y2, person, pinned, path)
CarriedFace = tuple[int, float, float, float, float, int | None, bool, str]


def rejections(session: Session) -> list[tuple[int, int]]:
    """(face, person) of every rejection."""
    return [(fid, pid) for fid, pid in session.execute(select(Rejection.face_id, Rejection.person_id))]


def faces_with_boxes(session: Session) -> list[CarriedFace]:
    """Every face with its box, person, pin and photo path."""
    q = select(Face.id, Face.x1, Face.y1, Face.x2, Face.y2, Face.person_id, Face.pinned, Photo.path) \
        .join(Photo, Face.photo_id == Photo.id)
    return _tuples(session.execute(q))


def person_ids(session: Session) -> set[int]:
    """The id of every person (merged ones too)."""
    return set(session.scalars(select(Person.id)))


# -- corrections ------------------------------------------------------------------------------

def rejected_persons(session: Session, face_id: int) -> list[int]:
    """The persons a face is rejected for."""
    return list(session.scalars(select(Rejection.person_id).where(Rejection.face_id == face_id)))


def faces_per_photo(session: Session, person_id: int, photo_ids: set[int]) -> list[tuple[int, int]]:
    """(photo, how many faces of ``person_id`` it shows) for each of ``photo_ids`` that shows them."""
    return [(pid, n) for pid, n in session.execute(
        select(Face.photo_id, func.count(Face.id)).where(Face.person_id == person_id, Face.photo_id.in_(photo_ids))
        .group_by(Face.photo_id))]


def faces_of(session: Session, person_ids: list[int]) -> list[Face]:
    """The faces belonging to one of ``person_ids``."""
    return list(session.scalars(select(Face).where(Face.person_id.in_(person_ids))))


def faces_rejected_for(session: Session, person_ids: list[int]) -> list[Face]:
    """The faces rejected for one of ``person_ids``."""
    return list(session.scalars(select(Face).join(Rejection, Rejection.face_id == Face.id)
                                .where(Rejection.person_id.in_(person_ids))))


def person_named(session: Session, name: str, other_than: int) -> Person | None:
    """An unmerged person named ``name``, other than person ``other_than``."""
    return session.scalar(select(Person).where(Person.name == name, Person.merged_into.is_(None),
                                               Person.id != other_than))


def last_journal_entry(session: Session) -> Journal | None:
    """The latest correction not undone yet."""
    return session.scalar(select(Journal).where(Journal.undone.is_(False)).order_by(Journal.id.desc()).limit(1))


# -- recluster --------------------------------------------------------------------------------

# (face, vector, person, pinned, detection score, size, sharpness, landmarks, photo)
FaceRow = tuple[int, bytes, int | None, bool, float, float, float, list[list[float]], int]


def face_rows(session: Session) -> list[FaceRow]:
    """Every face, by id, with what clustering needs of it."""
    return _tuples(session.execute(
        select(Face.id, Face.vector, Face.person_id, Face.pinned, Face.det_score, Face.size_px, Face.sharpness,
               Face.landmarks, Face.photo_id)
        .order_by(Face.id)
    ))


def persons_by_id(session: Session) -> dict[int, Person]:
    """Every person (merged ones too), by id."""
    return {p.id: p for p in session.scalars(select(Person))}


def any_person(session: Session) -> bool:
    """Whether the library has a person at all."""
    return session.scalar(select(Person.id).limit(1)) is not None


def others_in_photo(session: Session, photo_id: int, face_id: int) -> list[int | None]:
    """The persons of the other assigned faces of a photo."""
    return list(session.scalars(select(Face.person_id).where(Face.photo_id == photo_id, Face.id != face_id,
                                                             Face.person_id.is_not(None))))


# -- index ------------------------------------------------------------------------------------

# (photo, path, size, mtime_ns, status, sha256)
PhotoState = tuple[int, str, int, int, str, str | None]


def _under(roots: list[str]) -> ColumnElement[bool]:
    return or_(*[or_(Photo.path == r, Photo.path.startswith(r.rstrip(os.sep) + os.sep)) for r in roots])


def photos_under(session: Session, roots: list[str]) -> list[PhotoState]:
    """The state of every photo at or under one of ``roots``."""
    return _tuples(session.execute(
        select(Photo.id, Photo.path, Photo.size, Photo.mtime_ns, Photo.status, Photo.sha256)
        .where(_under(roots))
    ))


def content_known(session: Session, sha256: str) -> bool:
    """Whether a photo read without error has this content."""
    return session.scalar(select(Photo.id).where(Photo.sha256 == sha256, Photo.status == "ok").limit(1)) is not None


def photo_face_ids(session: Session, photo_id: int) -> list[int]:
    """The ids of a photo's faces."""
    return list(session.scalars(select(Face.id).where(Face.photo_id == photo_id)))


def photo_with_content(session: Session, sha256: str, other_than: str) -> Photo | None:
    """A photo read without error with this content, at a path other than ``other_than``."""
    return session.scalar(
        select(Photo).where(Photo.sha256 == sha256, Photo.status == "ok", Photo.path != other_than).limit(1)
    )


def _tuples(result: Result[Any]) -> list[Any]:
    """Rows as plain tuples (``Result.tuples()`` is deprecated from SQLAlchemy 2.1 on)."""
    return [tuple(row) for row in result]
