"""The one way database changes reach what is derived from them: vector payloads and albums.

A write that changes faces or persons calls :func:`mark` inside its own database
transaction, so the mark commits (or not) with the change itself. The mark raises a
generation counter per mirror (``vectors_wanted``, ``albums_wanted``); a mirror records the
generation it caught up with (``vectors_done``, ``albums_done``) only after its writes are
through. A crash anywhere in between leaves ``wanted != done``, and the next open (or the
daemon's catch-up) reconciles that mirror with the database, comparing payloads, not only ids.

New faces also record the first id of the run (``assign_from``), so that a crash between
their commit and the instant assignment to known persons is finished at the next open.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .db import Face, Meta, Person, Photo, Rejection, get_meta, set_meta

if TYPE_CHECKING:
    from .library import Library

VECTORS_WANTED, VECTORS_DONE = "vectors_wanted", "vectors_done"
ALBUMS_WANTED, ALBUMS_DONE = "albums_wanted", "albums_done"
ASSIGN_FROM = "assign_from"
LEGACY_DIRTY = "vectors_dirty"  # 0.2's flag, still honoured when found
LAST_REPAIR = "last_repair"
CHUNK = 2048


def _int(value: str | None) -> int:
    return int(value) if value else 0


def _fresh(session: Session, key: str) -> str | None:
    """A meta value read from the database, not from a long-lived session's cache (the
    indexer's writer keeps one session across many commits)."""
    row = session.get(Meta, key, populate_existing=True)
    return row.value if row else None


def mark(session: Session, vectors: bool = True, albums: bool = True, first_new_face: int | None = None) -> None:
    """Inside the transaction of a change: the mirrors must follow it."""
    if vectors:
        set_meta(session, VECTORS_WANTED, str(_int(_fresh(session, VECTORS_WANTED)) + 1))
    if albums:
        set_meta(session, ALBUMS_WANTED, str(_int(_fresh(session, ALBUMS_WANTED)) + 1))
    if first_new_face is not None and not _fresh(session, ASSIGN_FROM):
        set_meta(session, ASSIGN_FROM, str(first_new_face))


def behind(lib: Library) -> dict[str, Any]:
    """Which mirrors have not caught up with the database (after a crash, or a write in flight)."""
    with lib.session() as s:
        return {
            "vectors": _int(get_meta(s, VECTORS_WANTED)) != _int(get_meta(s, VECTORS_DONE))
            or get_meta(s, LEGACY_DIRTY) == "1",
            "albums": _int(get_meta(s, ALBUMS_WANTED)) != _int(get_meta(s, ALBUMS_DONE)),
            "assign_from": _int(get_meta(s, ASSIGN_FROM)) or None,
        }


def vectors_caught_up(lib: Library) -> None:
    with lib.session() as s, s.begin():
        set_meta(s, VECTORS_DONE, get_meta(s, VECTORS_WANTED) or "0")


def albums_generation(lib: Library) -> int:
    with lib.session() as s:
        return _int(get_meta(s, ALBUMS_WANTED))


def albums_caught_up(lib: Library, generation: int) -> None:
    with lib.session() as s, s.begin():
        set_meta(s, ALBUMS_DONE, str(generation))


def assigned(lib: Library) -> None:
    """The instant assignment of the pending new faces is through."""
    with lib.session() as s, s.begin():
        row = get_meta(s, ASSIGN_FROM)
        if row is not None:
            set_meta(s, ASSIGN_FROM, "")


def set_persons(lib: Library, moved: Mapping[int, Sequence[int]] | Mapping[int | None, Sequence[int]]) -> None:
    """Write faces' person ids (None: unknown) to the vector payloads, after the database."""
    with lib.vector_write():
        for person, fids in moved.items():
            if fids:
                lib.index.set_person(list(fids), person)


def reconcile_vectors(lib: Library, force: bool = False) -> dict[str, int]:
    """Make the vector index equal the database, id for id and payload for payload: drop
    stray points, restore missing ones, rewrite points whose photo or person differ."""
    zero = {"removed": 0, "restored": 0, "payloads": 0}
    with lib.session() as s:
        n_faces = s.scalar(select(func.count(Face.id))) or 0
    if not force and not behind(lib)["vectors"] and n_faces == lib.index.count():
        return zero
    # The flag that workers without the vector index raise (see worker.py) is taken down before
    # the comparison reads the database, so that a worker's later commit keeps it raised.
    with lib.session() as s, s.begin():
        if get_meta(s, LEGACY_DIRTY) == "1":
            set_meta(s, LEGACY_DIRTY, "0")
    with lib.vector_write():
        with lib.session() as s:
            db = {fid: (photo, person) for fid, photo, person in
                  s.execute(select(Face.id, Face.photo_id, Face.person_id))}
        held = {pid: (photo, person) for pid, photo, person in lib.index.points()}
        stray = sorted(held.keys() - db.keys())
        missing = sorted(db.keys() - held.keys())
        wrong = sorted(i for i in db.keys() & held.keys() if db[i] != held[i])
        lib.index.delete(stray)
        todo = missing + wrong
        with lib.session() as s:
            for start in range(0, len(todo), CHUNK):
                chunk = todo[start : start + CHUNK]
                lib.push_vectors(list(s.scalars(select(Face).where(Face.id.in_(chunk)))))
    out = {"removed": len(stray), "restored": len(missing), "payloads": len(wrong)}
    if any(out.values()):
        record_repair(lib, {"vectors": out})
    return out


def record_repair(lib: Library, what: Mapping[str, Any]) -> None:
    """Remember the last repair, for ``status``."""
    with lib.session() as s, s.begin():
        set_meta(s, LAST_REPAIR, json.dumps({"at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **what},
                                            sort_keys=True))


def last_repair(lib: Library) -> dict[str, Any] | None:
    with lib.session() as s:
        text = get_meta(s, LAST_REPAIR)
    return json.loads(text) if text else None


def face_payloads(lib: Library) -> dict[int, tuple[int | None, int | None]]:
    """What the vector payloads must say: face id -> (photo id, person id)."""
    with lib.session() as s:
        return {fid: (photo, person) for fid, photo, person in
                s.execute(select(Face.id, Face.photo_id, Face.person_id))}


def pending_faces(lib: Library) -> list[int]:
    """Unknown faces of the last index run (or of one cut short), for the instant assignment."""
    first = behind(lib)["assign_from"]
    if not first:
        return []
    with lib.session() as s:
        return list(s.scalars(select(Face.id).where(Face.id >= first, Face.person_id.is_(None))
                              .order_by(Face.id)))


def database_problems(lib: Library) -> list[str]:
    """What the database itself must hold whatever happened: each photo once, and every
    correction intact (pins on a person, rejections obeyed, merges pointing at persons)."""
    out = []
    with lib.session() as s:
        dup = s.execute(select(Photo.path, func.count(Photo.id)).group_by(Photo.path)
                        .having(func.count(Photo.id) > 1)).first()
        if dup is not None:
            out.append(f"the photo {dup[0]} is in the library {dup[1]} times")
        orphans = s.scalar(select(func.count(Face.id)).where(Face.photo_id.not_in(select(Photo.id)))) or 0
        if orphans:
            out.append(f"{orphans} faces belong to no photo")
        persons = {p.id: p for p in s.scalars(select(Person))}
        lost = s.scalar(select(func.count(Face.id)).where(Face.pinned.is_(True), Face.person_id.is_(None))) or 0
        if lost:
            out.append(f"{lost} pinned faces lost their person")
        ghost = s.scalar(select(func.count(Face.id)).where(Face.person_id.is_not(None),
                                                            Face.person_id.not_in(list(persons)))) or 0
        if ghost:
            out.append(f"{ghost} faces point at persons that do not exist")
        broken = s.scalar(select(func.count()).select_from(Rejection).join(Face, Face.id == Rejection.face_id)
                          .where(Face.person_id == Rejection.person_id)) or 0
        if broken:
            out.append(f"{broken} faces belong to a person they were rejected from")
        for p in persons.values():
            if p.merged_into is not None and p.merged_into not in persons:
                out.append(f"person {p.id} was merged into person {p.merged_into}, who does not exist")
    return out
