"""The library database's reads, by subject: persons, faces, photos. Each takes an open session
(``Database.read()``: its own connection, the last commit, never waiting for the writer) and
returns plain values or frozen rows (store/rows.py). No module outside the store writes SQL."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, Result, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from .db import Face, KeepApart, Outbox, Person, Photo, Rejection
from .rows import MAX_ID as MAX_ID  # store/people.py finds it here
from .rows import FaceRow, PersonCount, PersonRow, PhotoNames, PhotoRow, name_key, resolve_person

_ID_CHUNK = 2000  # ids bound in one IN (...)
COVER_ORDER = (Face.det_score * Face.size_px).desc()  # a person's face to show them by, the best first


def _tuples(result: Result[Any]) -> list[Any]:
    """Rows as plain tuples (``Result.tuples()`` is deprecated from SQLAlchemy 2.1 on)."""
    return [tuple(row) for row in result]


# -- persons ----------------------------------------------------------------------------------

def person_row(p: Person) -> PersonRow:
    return PersonRow(p.id, p.name, bool(p.hidden), p.merged_into, p.cover_face_id, p.born)


def _named(session: Session, name: str, other_than: Iterable[int] = ()) -> list[Person]:
    """The unmerged persons called ``name`` (see ``name_key``), except those of ``other_than``;
    one spelled exactly so first. Compared here rather than in SQL, whose lower() knows ASCII
    only in SQLite; only named persons are read, and they are few."""
    key, skip = name_key(name), set(other_than)
    rows = session.scalars(select(Person).where(Person.name.is_not(None), Person.merged_into.is_(None))
                           .order_by(Person.id))
    found = [p for p in rows if p.id not in skip and name_key(p.name or "") == key]
    return sorted(found, key=lambda p: p.name != name.strip())


def find_person(session: Session, token: str | int) -> PersonRow:
    """A person by id or name (whatever its case); a merged person resolves to the one it joined."""
    return person_row(_find_person(session, token))


def _find_person(session: Session, token: str | int) -> Person:
    return resolve_person(token, lambda pid: session.get(Person, pid), lambda text: _named(session, text))


def get_person(session: Session, person_id: int) -> PersonRow | None:
    """A person by id (merged ones too), None when there is none."""
    p = session.get(Person, person_id)
    return person_row(p) if p is not None else None


def persons(session: Session, merged: bool = True, hidden: bool = True) -> dict[int, PersonRow]:
    """Every person by id; ``merged=False`` leaves out those merged into another, ``hidden=False``
    the hidden ones."""
    q = select(Person).order_by(Person.id)
    if not merged:
        q = q.where(Person.merged_into.is_(None))
    if not hidden:
        q = q.where(Person.hidden.is_(False))
    return {p.id: person_row(p) for p in session.scalars(q)}


def person_named(session: Session, name: str, other_than: int) -> PersonRow | None:
    """An unmerged person named ``name`` (whatever its case), other than person ``other_than``."""
    found = _named(session, name, [other_than])
    return person_row(found[0]) if found else None


def person_counts(session: Session, covers: bool = False) -> list[PersonCount]:
    """Every unmerged person with their faces and photos; with ``covers`` also the face to show
    them by (the chosen one while it is still theirs, else the best: detection score x size)
    and the date of their newest photo."""
    counts = {pid: (nf, np_) for pid, nf, np_ in session.execute(
        select(Face.person_id, func.count(Face.id), func.count(distinct(Face.photo_id)))
        .where(Face.person_id.is_not(None)).group_by(Face.person_id)) if pid is not None}
    best: dict[int, int] = {}
    chosen: set[int] = set()
    newest: dict[int, str | None] = {}
    if covers:
        chosen = set(session.scalars(select(Face.id).join(Person, Person.cover_face_id == Face.id)
                                     .where(Face.person_id == Person.id)))
        # the newest date, "~" after it when it is estimated (a tie of two equal dates keeps the mark)
        marked = func.coalesce(Photo.taken_at, "") + case((Photo.taken_estimated.is_(True), "~"), else_="")
        newest = {int(pid or 0): when for pid, when in session.execute(
            select(Face.person_id, func.max(marked))
            .join(Photo, Photo.id == Face.photo_id).where(Face.person_id.is_not(None)).group_by(Face.person_id))}
        for pid, fid in session.execute(select(Face.person_id, Face.id).where(Face.person_id.is_not(None))
                                        .order_by(Face.person_id, COVER_ORDER, Face.id)):
            best.setdefault(int(pid or 0), int(fid))
    out = []
    for p in persons(session, merged=False).values():
        faces, photos = counts.get(p.id, (0, 0))
        cover = (p.cover_face_id if p.cover_face_id in chosen else best.get(p.id)) if covers else None
        when = newest.get(p.id) or None
        out.append(PersonCount(p, faces, photos, cover, when.rstrip("~") if when else None,
                               bool(when and when.endswith("~"))))
    return out


def kept_apart(session: Session) -> set[tuple[int, int]]:
    """The pairs of persons the user keeps apart (lower id first)."""
    return {(a, b) for a, b in session.execute(select(KeepApart.person_a, KeepApart.person_b))}


def rejections(session: Session, person_id: int | None = None, face_id: int | None = None) -> list[tuple[int, int]]:
    """(face, person) of every rejection (of one person, or of one face, when given)."""
    q = select(Rejection.face_id, Rejection.person_id)
    if person_id is not None:
        q = q.where(Rejection.person_id == person_id)
    if face_id is not None:
        q = q.where(Rejection.face_id == face_id)
    return _tuples(session.execute(q))


def refusals(session: Session, face_ids: list[int] | None = None) -> list[tuple[int, int]]:
    """(face, person) of every face that may not be that person: a rejection, or a photo taken
    before the person's birth date (by a date the camera or the file name gave; a face the user
    pinned to that person stays theirs). Of ``face_ids`` only, when given. The dates are paired
    here, not in SQL: the dated persons are few, and a join of every face with them cost more
    than reading the faces' dates (bench/refusals.py)."""
    one = face_ids[0] if face_ids is not None and len(face_ids) == 1 else None
    refused = rejections(session, face_id=one)
    dated = [(int(pid), str(born)) for pid, born in session.execute(
        select(Person.id, Person.born).where(Person.born.is_not(None), Person.merged_into.is_(None)))]
    if not dated:
        return refused
    q = (select(Face.id, Photo.taken_at, Face.person_id, Face.pinned).join(Photo, Face.photo_id == Photo.id)
         .where(Photo.taken_estimated.is_(False), Photo.taken_at.is_not(None),
                Photo.taken_at < max(born for _, born in dated)))
    chunks = [None] if face_ids is None else [face_ids[i: i + 900] for i in range(0, len(face_ids), 900)]
    for chunk in chunks:
        for fid, taken, owner, pinned in session.execute(q if chunk is None else q.where(Face.id.in_(chunk))):
            refused += [(fid, pid) for pid, born in dated if str(taken) < born and not (pinned and owner == pid)]
    return refused


def any_person(session: Session) -> bool:
    return session.scalar(select(Person.id).limit(1)) is not None


# -- faces ------------------------------------------------------------------------------------

_FACE_COLUMNS: tuple[Any, ...] = (Face.id, Face.photo_id, Face.x1, Face.y1, Face.x2, Face.y2, Face.det_score,
                                  Face.person_id, Face.pinned, Face.ignored)


def _face(row: Any) -> FaceRow:
    return FaceRow(int(row[0]), int(row[1]), row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]), row[9])


def _unknown(ignored: bool = False) -> ColumnElement[bool]:
    """Faces in no person and not put aside (``ignored``: those put aside)."""
    put_aside = Face.ignored.is_not(None) if ignored else Face.ignored.is_(None)
    return Face.person_id.is_(None) & put_aside


def get_face(session: Session, face_id: int) -> FaceRow | None:
    row = session.execute(select(*_FACE_COLUMNS).where(Face.id == face_id)).first()
    return _face(row) if row is not None else None


def faces(session: Session, person_id: int | None = None, unknown: bool = False, photo_id: int | None = None,
          ids: list[int] | None = None, ignored: bool = False) -> list[FaceRow]:
    """Faces by id: one person's, the unknown ones (not the ignored ones), the ignored ones, one
    photo's, or those of ``ids``."""
    q = select(*_FACE_COLUMNS).order_by(Face.id)
    if person_id is not None:
        q = q.where(Face.person_id == person_id)
    if unknown or ignored:
        q = q.where(_unknown(ignored))
    if photo_id is not None:
        q = q.where(Face.photo_id == photo_id)
    if ids is not None:
        q = q.where(Face.id.in_(ids))
    return [_face(r) for r in session.execute(q)]


def faces_with_paths(session: Session, person_id: int | None = None, unknown: bool = False,
                     ignored: bool = False) -> list[tuple[FaceRow, str]]:
    """Faces with their photo's path, by id (``person_id``'s, only unknown ones, or only ignored ones)."""
    q = select(*_FACE_COLUMNS, Photo.path).join(Photo, Face.photo_id == Photo.id).order_by(Face.id)
    if person_id is not None:
        q = q.where(Face.person_id == person_id)
    if unknown or ignored:
        q = q.where(_unknown(ignored))
    return [(_face(r), r[-1]) for r in session.execute(q)]


# (face, photo, vector)
UnknownPoint = tuple[int, int, bytes]


def unknown_points(session: Session) -> list[UnknownPoint]:
    """(face, photo, vector) of every unknown face (in no person, not ignored), by id: what the
    unknown page's groups are made of (i18)."""
    return _tuples(session.execute(select(Face.id, Face.photo_id, Face.vector).where(_unknown()).order_by(Face.id)))


def ignored_faces(session: Session) -> list[FaceRow]:
    """The faces put aside (ignored or not a face), the newest faces first: the page's "Ignored" view (i18)."""
    return [_face(r) for r in session.execute(select(*_FACE_COLUMNS).where(_unknown(ignored=True))
                                              .order_by(Face.id.desc()))]


def face_count(session: Session, unknown: bool = False) -> int:
    """Every face, or the unknown ones (the ignored ones are not unknown: they have their place)."""
    q = select(func.count(Face.id))
    return session.scalar(q.where(_unknown()) if unknown else q) or 0


def ignored_ids(session: Session) -> set[int]:
    """The faces the user put aside (i18): never suggested, never in a person."""
    return set(session.scalars(select(Face.id).where(Face.ignored.is_not(None))))


def face_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Face.id)))


def vectors(session: Session, person_ids: list[int] | None = None) -> Iterator[tuple[int | None, bytes]]:
    """(person, vector) of every assigned face (of ``person_ids`` when given), streamed."""
    q = select(Face.person_id, Face.vector).where(Face.person_id.is_not(None))
    if person_ids is not None:
        q = q.where(Face.person_id.in_(person_ids))
    yield from map(tuple, session.execute(q.execution_options(yield_per=2000)))


def face_vector(session: Session, face_id: int) -> bytes | None:
    return session.scalar(select(Face.vector).where(Face.id == face_id))


# (face, photo, person, vector)
PointRow = tuple[int, int, int | None, bytes]


def points(session: Session, ids: list[int]) -> list[PointRow]:
    """What the vector index holds of these faces (those that still exist)."""
    return _tuples(session.execute(select(Face.id, Face.photo_id, Face.person_id, Face.vector)
                                   .where(Face.id.in_(ids))))


def person_points(session: Session, person_ids: list[int]) -> list[PointRow]:
    """(face, photo, person, vector) of every face of these persons."""
    return _tuples(session.execute(select(Face.id, Face.photo_id, Face.person_id, Face.vector)
                                   .where(Face.person_id.in_(person_ids))))


def unknown_face_ids(session: Session, limit: int) -> list[int]:
    """The newest unknown faces (not the ignored ones), newest first."""
    return list(session.scalars(select(Face.id).where(_unknown()).order_by(Face.id.desc()).limit(limit)))


def payloads(session: Session, ids: list[int] | None = None) -> dict[int, tuple[int, int | None]]:
    """What the vector payloads must say: face id -> (photo id, person id)."""
    q = select(Face.id, Face.photo_id, Face.person_id)
    if ids is not None:
        q = q.where(Face.id.in_(ids))
    return {fid: (photo, person) for fid, photo, person in session.execute(q)}


# (face, vector, person, pinned, detection score, size, sharpness, landmarks, photo, norm)
ClusterRow = tuple[int, bytes, int | None, bool, float, float, float, list[list[float]], int, float | None]


def cluster_rows(session: Session, ids: Iterable[int] | None = None) -> list[ClusterRow]:
    """Every face not ignored (or those of ``ids``), by id, with what clustering needs of it (an
    ignored face neither joins a person nor bridges two clusters)."""
    query = select(Face.id, Face.vector, Face.person_id, Face.pinned, Face.det_score, Face.size_px,
                   Face.sharpness, Face.landmarks, Face.photo_id, Face.norm).where(Face.ignored.is_(None)) \
        .order_by(Face.id)
    if ids is None:
        return _tuples(session.execute(query))
    wanted = sorted(set(ids))
    rows: list[ClusterRow] = []
    for start in range(0, len(wanted), _ID_CHUNK):
        rows += _tuples(session.execute(query.where(Face.id.in_(wanted[start : start + _ID_CHUNK]))))
    return rows


def others_in_photo(session: Session, photo_id: int, face_id: int) -> list[int]:
    """The persons of the other assigned faces of a photo."""
    return [int(p or 0) for p in session.scalars(select(Face.person_id).where(
        Face.photo_id == photo_id, Face.id != face_id, Face.person_id.is_not(None)))]


def unknown_first(session: Session) -> list[tuple[int, int]]:
    """(face, photo) of every face: the unknown faces first, then by id (for the crops)."""
    return [(fid, pid) for fid, pid in session.execute(
        select(Face.id, Face.photo_id).order_by(Face.person_id.is_not(None), Face.id))]


# -- photos -----------------------------------------------------------------------------------

_PHOTO_COLUMNS = (Photo.id, Photo.path, Photo.size, Photo.mtime_ns, Photo.sha256, Photo.width, Photo.height,
                  Photo.taken_at, Photo.status, Photo.error, Photo.taken_estimated, Photo.orientation)


def _photo(row: Any) -> PhotoRow:
    return PhotoRow(*row)


def get_photo(session: Session, photo_id: int) -> PhotoRow | None:
    row = session.execute(select(*_PHOTO_COLUMNS).where(Photo.id == photo_id)).first()
    return _photo(row) if row is not None else None


def photo_at(session: Session, path: str) -> PhotoRow | None:
    """The photo at ``path``, None when the library has none there."""
    row = session.execute(select(*_PHOTO_COLUMNS).where(Photo.path == path)).first()
    return _photo(row) if row is not None else None


def photos_showing(session: Session, person_ids: list[int], any_of: bool = False) -> list[str]:
    """Paths of the photos showing all of ``person_ids`` (any of them: ``any_of``), by path."""
    q = (select(Photo.path).join(Face, Face.photo_id == Photo.id).where(Face.person_id.in_(person_ids))
         .group_by(Photo.id).order_by(Photo.path))
    if not any_of:
        q = q.having(func.count(distinct(Face.person_id)) == len(person_ids))
    return list(session.scalars(q))


def photo_dates(session: Session, photo_ids: list[int]) -> list[tuple[int, str | None, bool]]:
    """(photo, date taken, whether that date is estimated) of each of ``photo_ids``."""
    return _tuples(session.execute(select(Photo.id, Photo.taken_at, Photo.taken_estimated)
                                   .where(Photo.id.in_(photo_ids))))


def awaiting_assignment(session: Session, photo_id: int) -> bool:
    """Whether some face of the photo is not yet offered to the known persons (the instant assignment)."""
    faces = select(Face.id).where(Face.photo_id == photo_id)
    return session.scalar(select(Outbox.id).where(Outbox.kind == "assign", Outbox.ref.in_(faces)).limit(1)) is not None


def photo_face_counts(session: Session, photo_ids: list[int]) -> dict[int, int]:
    return {pid: n for pid, n in session.execute(
        select(Face.photo_id, func.count(Face.id)).where(Face.photo_id.in_(photo_ids)).group_by(Face.photo_id))}


def photo_hashes(session: Session) -> list[tuple[int, str | None]]:
    """(photo, content hash) of every photo."""
    return _tuples(session.execute(select(Photo.id, Photo.sha256)))


def photo_count(session: Session, status: str) -> int:
    """How many photos have this status ('ok' or 'failed')."""
    return session.scalar(select(func.count(Photo.id)).where(Photo.status == status)) or 0


def failed_files(session: Session) -> list[tuple[str, str | None]]:
    """(path, reason) of every photo that failed, by path."""
    return _tuples(session.execute(select(Photo.path, Photo.error).where(Photo.status == "failed")
                                   .order_by(Photo.path)))


def album_rows(session: Session, person_ids: list[int]) -> list[tuple[int, int, str]]:
    """(person, photo, path) for each photo showing one of ``person_ids``, once each, by person and photo."""
    return _tuples(session.execute(
        select(Face.person_id, Photo.id, Photo.path).join(Photo, Face.photo_id == Photo.id)
        .where(Face.person_id.in_(person_ids)).distinct().order_by(Face.person_id, Photo.id)))


# (photo, path, size, mtime_ns, status, sha256, the signature of its XMP sidecar as last read)
PhotoState = tuple[int, str, int, int, str, str | None, str | None]


def _under(roots: list[str]) -> ColumnElement[bool]:
    return or_(*[or_(Photo.path == r, Photo.path.startswith(r.rstrip(os.sep) + os.sep)) for r in roots])


def photos_under(session: Session, roots: list[str]) -> list[PhotoState]:
    """The state of every photo at or under one of ``roots``."""
    return _tuples(session.execute(
        select(Photo.id, Photo.path, Photo.size, Photo.mtime_ns, Photo.status, Photo.sha256, Photo.xmp_sidecar)
        .where(_under(roots))))


def photo_with_content(session: Session, sha256: str) -> PhotoRow | None:
    """A photo read without error that has this content (the first, of copies)."""
    row = session.execute(select(*_PHOTO_COLUMNS).where(Photo.sha256 == sha256, Photo.status == "ok")
                          .order_by(Photo.id).limit(1)).first()
    return _photo(row) if row is not None else None


def hand_faces(session: Session) -> set[int]:
    """The faces the user marked by hand."""
    return set(session.scalars(select(Face.id).where(Face.origin == "hand")))


def content_known(session: Session, sha256: str) -> bool:
    """Whether a photo read without error has this content."""
    return session.scalar(select(Photo.id).where(Photo.sha256 == sha256, Photo.status == "ok").limit(1)) is not None


# -- names in XMP, and people carried between libraries (i20) --------------------------------

def photo_names(session: Session, photo_ids: list[int]) -> list[PhotoNames]:
    """These photos (those that exist) with what their XMP said and what we wrote, by id."""
    return [PhotoNames(*row) for row in session.execute(
        select(Photo.id, Photo.path, Photo.status, Photo.sha256, Photo.width, Photo.height, Photo.orientation,
               Photo.xmp).where(Photo.id.in_(photo_ids)).order_by(Photo.id))]


# (photo, x1, y1, x2, y2, name)
NamedFace = tuple[int, float, float, float, float, str]


def named_faces(session: Session, photo_ids: list[int]) -> list[NamedFace]:
    """The faces of ``photo_ids`` whose person is named and shown (not hidden), by photo and id."""
    return _tuples(session.execute(
        select(Face.photo_id, Face.x1, Face.y1, Face.x2, Face.y2, Person.name)
        .join(Person, Person.id == Face.person_id)
        .where(Face.photo_id.in_(photo_ids), Person.name.is_not(None), Person.hidden.is_(False),
               Person.merged_into.is_(None)).order_by(Face.photo_id, Face.id)))


def photos_with_names(session: Session) -> list[int]:
    """Photos showing a named person, or whose XMP we wrote to before: those a sidecar write visits."""
    named = select(Face.photo_id).join(Person, Person.id == Face.person_id).where(Person.name.is_not(None))
    return sorted(set(session.scalars(named.distinct())) | set(session.scalars(
        select(Photo.id).where(Photo.xmp.is_not(None)))))


def photos_by_id(session: Session, photo_ids: list[int] | None = None) -> dict[int, PhotoRow]:
    """These photos by id (None: every photo)."""
    q = select(*_PHOTO_COLUMNS)
    if photo_ids is not None:
        q = q.where(Photo.id.in_(photo_ids))
    return {row[0]: _photo(row) for row in session.execute(q)}


def faces_with_content(session: Session, sha256: str) -> list[tuple[FaceRow, int | None, int | None]]:
    """The faces of the photos read without error that have this content (copies: several), each
    with its photo's width and height."""
    return [(_face(r), r[-2], r[-1]) for r in session.execute(
        select(*_FACE_COLUMNS, Photo.width, Photo.height).join(Photo, Photo.id == Face.photo_id)
        .where(Photo.sha256 == sha256, Photo.status == "ok").order_by(Face.id))]


# -- evaluation and carrying corrections across a change of model ----------------------------

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


# (face, x1, y1, x2, y2, person, pinned, path, ignored, origin)
CarriedFace = tuple[int, float, float, float, float, int | None, bool, str, str | None, str]


def faces_with_boxes(session: Session) -> list[CarriedFace]:
    """Every face with its box, person, pin, photo path, why it is ignored and where it came from."""
    q = select(Face.id, Face.x1, Face.y1, Face.x2, Face.y2, Face.person_id, Face.pinned, Photo.path, Face.ignored,
               Face.origin) \
        .join(Photo, Face.photo_id == Photo.id)
    return _tuples(session.execute(q))

