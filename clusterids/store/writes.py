"""The library database's writes that are not the store's own operations: each takes the
caller's session (the caller keeps its transaction) and plain arguments. No module outside
the store writes SQL (see store/reads.py too)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .db import Face, Journal, KeepApart, Person, Photo, Rejection

# -- corrections, carry ----------------------------------------------------------------------


def add_rejection(session: Session, face_id: int, person_id: int) -> bool:
    """'Face is not this person', unless that is recorded already; whether it was added."""
    if session.get(Rejection, (face_id, person_id)) is not None:
        return False
    session.add(Rejection(face_id=face_id, person_id=person_id))
    return True


def insert_rejection(session: Session, face_id: int, person_id: int) -> None:
    """'Face is not this person', known not to be recorded yet."""
    session.add(Rejection(face_id=face_id, person_id=person_id))


def move_rejections(session: Session, from_ids: list[int], to_id: int) -> None:
    """The rejections of ``from_ids`` become rejections of ``to_id`` (a merge)."""
    for r in list(session.scalars(select(Rejection).where(Rejection.person_id.in_(from_ids)))):
        if session.get(Rejection, (r.face_id, to_id)) is None:
            session.add(Rejection(face_id=r.face_id, person_id=to_id))
        session.delete(r)


def delete_rejections(session: Session, face_ids: list[int], person_id: int) -> None:
    """Forget that these faces are not ``person_id``."""
    session.execute(delete(Rejection).where(Rejection.face_id.in_(face_ids), Rejection.person_id == person_id))


def delete_face_rejections(session: Session, face_id: int) -> None:
    """Forget every person a face was rejected for."""
    session.execute(delete(Rejection).where(Rejection.face_id == face_id))


def delete_person_rejections(session: Session, person_id: int) -> None:
    """Forget every face rejected for a person."""
    session.execute(delete(Rejection).where(Rejection.person_id == person_id))


def new_person(session: Session, name: str | None = None) -> Person:
    """A new person (flushed, so it has its id)."""
    person = Person(name=name) if name is not None else Person()
    session.add(person)
    session.flush()
    return person


def restore_person(session: Session, person_id: int, name: str | None, hidden: bool,
                   merged_into: int | None) -> None:
    """Put a person back as it was (made again, same id, when it is gone)."""
    person = session.get(Person, person_id) or Person(id=person_id)
    person.name, person.hidden, person.merged_into = name, hidden, merged_into
    session.add(person)


def delete_person(session: Session, person: Person) -> None:
    session.delete(person)


def keep_apart(session: Session, person_a: int, person_b: int) -> None:
    """The pair is not one person, unless that is recorded already."""
    if session.get(KeepApart, (person_a, person_b)) is None:
        session.add(KeepApart(person_a=person_a, person_b=person_b))


def add_journal(session: Session, op: str, args: dict[str, Any], before: dict[str, Any]) -> None:
    """Record a correction with the state it replaced."""
    session.add(Journal(op=op, args=args, before=before))


# -- recluster --------------------------------------------------------------------------------

def set_persons(session: Session, updates: list[dict[str, Any]]) -> None:
    """Move faces: each of ``updates`` is {"id": face, "person_id": person or None}."""
    session.execute(update(Face), updates)


def assign_faces(session: Session, face_ids: list[int], person_id: int) -> None:
    """These faces belong to ``person_id`` from now on."""
    session.execute(update(Face).where(Face.id.in_(face_ids)).values(person_id=person_id))


def drop_empty_persons(session: Session) -> None:
    """Unnamed, visible, unmerged persons with no face left are gone; named ones stay."""
    used = select(Face.person_id).where(Face.person_id.is_not(None)).distinct()
    merged = select(Person.merged_into).where(Person.merged_into.is_not(None)).distinct()
    for person in session.scalars(select(Person).where(Person.id.not_in(used), Person.id.not_in(merged))):
        if not person.name and not person.hidden and person.merged_into is None:
            session.delete(person)


# -- index ------------------------------------------------------------------------------------

def new_photo(session: Session, path: str) -> Photo:
    """A new photo row for ``path`` (added, not flushed), to be filled in."""
    photo = Photo(path=path, size=0, mtime_ns=0)
    session.add(photo)
    return photo


def delete_faces(session: Session, face_ids: list[int]) -> None:
    session.execute(delete(Face).where(Face.id.in_(face_ids)))


def add_faces(session: Session, photo_id: int, faces: list[dict[str, Any]]) -> list[Face]:
    """New faces of a photo (column values of each), flushed so they have their ids."""
    added = [Face(photo_id=photo_id, **cols) for cols in faces]
    session.add_all(added)
    session.flush()
    return added


def delete_photo(session: Session, photo: Photo) -> None:
    session.delete(photo)
