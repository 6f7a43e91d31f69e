"""What clustering decides, as the store writes it: the recluster's plan, the instant
assignment, the incremental step's persons (upkeep/arrivals.py), faces joining a person as
clustering would, and what a face carries across a change of model. None of these is a
correction: no journal entry, nothing for undo (the corrections are in store/people.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from . import outbox, stamps
from .database import Database
from .db import CARRY_PENDING, Face, FaceMove, Meta, Person, Photo, Rejection, set_meta
from .edits import give
from .people import _moved, _new_person


@dataclass
class PlanWrite:
    """A recluster's decision as the store writes it: persons to create (negative keys), and
    each face whose person changes (face id -> person id or key, None: unknown)."""

    new_keys: list[int] = field(default_factory=list)
    moves: dict[int, int | None] = field(default_factory=dict)


def apply_plan(db: Database, plan: PlanWrite) -> dict[int, int]:
    """Create the new persons, move the faces, drop automatic persons left empty; returns the
    new persons' ids by key."""
    with db.transaction() as s:
        created = {key: _new_person(s).id for key in plan.new_keys}
        updates = [{"id": fid, "person_id": created.get(key, key) if key is not None else None}
                   for fid, key in plan.moves.items()]
        if updates:
            s.execute(update(Face), updates)
        _drop_empty_persons(s)
        _moved(s, plan.moves)
        stamps.stamp(s, stamps.LAST_RECLUSTER, persons_created=len(created), faces_moved=len(plan.moves))
        return created


def _drop_empty_persons(session: Session) -> None:
    """Unnamed, visible, unmerged persons with no face left are gone; named ones stay."""
    used = select(Face.person_id).where(Face.person_id.is_not(None)).distinct()
    merged = select(Person.merged_into).where(Person.merged_into.is_not(None)).distinct()
    for person in session.scalars(select(Person).where(Person.id.not_in(used), Person.id.not_in(merged))):
        if not person.name and not person.hidden and person.merged_into is None:
            session.delete(person)


def assign_unknown(db: Database, assigned: Mapping[int, list[int]]) -> int:
    """The instant assignment: each list of faces joins its person, if still unknown."""
    with db.transaction() as s:
        moved: list[int] = []
        for pid, fids in assigned.items():
            moved += _take_unknown(s, fids, pid)
        _moved(s, moved)
        return len(moved)


def _take_unknown(session: Session, face_ids: list[int], person_id: int) -> list[int]:
    """Those of the faces still unknown (not pinned, not ignored) join the person; the faces that did."""
    still = list(session.scalars(select(Face.id).where(Face.id.in_(face_ids), Face.person_id.is_(None),
                                                       Face.pinned.is_(False), Face.ignored.is_(None))))
    if still:
        session.execute(update(Face).where(Face.id.in_(still)).values(person_id=person_id))
    return still


@dataclass(frozen=True)
class Found:
    created: list[int]  # the new persons' ids
    faces_moved: int


def found_persons(db: Database, attached: Mapping[int, list[int]], new: Sequence[list[int]], seen: int,
                  joined: Mapping[int, list[int]] | None = None) -> Found:
    """The incremental step's decision (upkeep/arrivals.py), one transaction: unknown faces join
    known persons (``attached``) or become new persons (each list of ``new``, if two of its faces
    are still unknown); faces of other persons, unpinned, join these (``joined``), and automatic
    persons left empty go, as after a recluster; stamped as the last incremental step over
    ``seen`` new faces."""
    with db.transaction() as s:
        moved: list[int] = []
        for pid, fids in attached.items():
            moved += _take_unknown(s, fids, pid)
        for pid, fids in (joined or {}).items():
            free = list(s.scalars(select(Face.id).where(Face.id.in_(fids), Face.person_id.is_not(None),
                                                        Face.person_id != pid, Face.pinned.is_(False))))
            if free:
                s.execute(update(Face).where(Face.id.in_(free)).values(person_id=pid))
                moved += free
        if joined:
            _drop_empty_persons(s)
        created: list[int] = []
        for fids in new:
            free = list(s.scalars(select(Face.id).where(Face.id.in_(fids), Face.person_id.is_(None),
                                                        Face.pinned.is_(False))))
            if len(free) < min(2, len(fids)):
                continue  # the faces went elsewhere meanwhile: the next step or recluster decides
            person = _new_person(s)
            moved += _take_unknown(s, free, person.id)
            created.append(person.id)
        _moved(s, moved)
        stamps.stamp(s, stamps.LAST_INCREMENTAL, new_faces=seen, persons_created=len(created),
                     faces_moved=len(moved))
        return Found(created, len(moved))


def join(db: Database, person_id: int, face_ids: list[int]) -> list[int]:
    """Faces join a person as clustering would (i20: ``people import`` of a named person's
    members): not pinned, so a recluster may still move them, and no journal entry; pinned faces
    and faces rejected for that person stay where they are. The faces moved."""
    with db.transaction() as s:
        refused = select(Rejection.face_id).where(Rejection.person_id == person_id)
        free = list(s.scalars(select(Face.id).where(Face.id.in_(face_ids), Face.pinned.is_(False),
                                                    Face.ignored.is_(None), Face.id.not_in(refused))))
        if free:
            s.execute(update(Face).where(Face.id.in_(free)).values(person_id=person_id))
            _moved(s, free)
        return free


@dataclass(frozen=True)
class Carried:
    """What a face carried across a change of model: its box, person, pin, rejections, why
    it is ignored, whether the user marked it by hand (then the new pack embeds it again
    from its box where it finds no face there), and its id (an undo of an older correction
    follows it to the new face)."""

    box: tuple[float, float, float, float]
    person: int | None
    pinned: bool
    rejected: tuple[int, ...] = ()
    ignored: str | None = None
    hand: bool = False
    face: int | None = None


def encode_carry(old: Mapping[str, list[Carried]]) -> str:
    """What the old faces carry, kept in the database (meta ``carry_pending``) in the transaction
    that forgets them: a change of model pack cut short by a crash goes on where it was."""
    return json.dumps({path: [[*f.box, f.person, f.pinned, list(f.rejected), f.ignored, f.hand, f.face]
                              for f in faces] for path, faces in old.items()})


def pending_carry(db: Database) -> dict[str, list[Carried]]:
    """What the last change of model pack has not handed over yet (its photos not read again)."""
    return decode_carry(db.meta(CARRY_PENDING))


def decode_carry(text: str | None) -> dict[str, list[Carried]]:
    """What ``encode_carry`` kept (nothing for None)."""
    if not text:
        return {}
    return {path: [Carried((x1, y1, x2, y2), person, bool(pinned), tuple(rejected), ignored, bool(hand), face)
                   for x1, y1, x2, y2, person, pinned, rejected, ignored, hand, face in faces]
            for path, faces in json.loads(text).items()}


def carry_over(db: Database, old: Mapping[str, list[Carried]], match: Any) -> int:
    """Hand each remembered face's person, pin, rejections and ignoring to the new face of its
    photo that ``match(old_box, new_boxes)`` picks (an index, or None); returns how many were
    carried. A new face the instant assignment gave a person leaves it when it is to be ignored.
    A photo not read again yet (it failed, or the run was cut short) keeps what it carries
    pending for the next run; once none is left, the automatic persons left empty go."""
    carried = 0
    with db.transaction() as s:
        persons = set(s.scalars(select(Person.id)))
        moved: list[int] = []
        unknown: list[int] = []
        rest: dict[str, list[Carried]] = {}
        for path, faces in old.items():
            status = s.scalar(select(Photo.status).where(Photo.path == path))
            if status != "ok":
                if Path(path).exists():
                    rest[path] = faces
                continue
            new = list(s.scalars(select(Face).join(Photo, Photo.id == Face.photo_id).where(Photo.path == path)))
            for f in faces:
                i = match(f.box, [(n.x1, n.y1, n.x2, n.y2) for n in new])
                if i is None:
                    continue
                best = new.pop(i)
                if f.face is not None:
                    s.merge(FaceMove(old_id=f.face, new_id=best.id))
                if give(s, best, f.person, f.pinned, f.ignored, f.rejected, persons):
                    moved.append(best.id)
                elif f.person is None and not f.pinned and best.person_id is not None:
                    # unknown before: not the person the run's new persons made of it meanwhile (they
                    # go empty once the others are handed over); offered to the known ones again
                    best.person_id = None
                    moved.append(best.id)
                    unknown.append(best.id)
                carried += 1
        outbox.mark(s, outbox.ASSIGN, unknown)
        _moved(s, moved)
        if rest:
            set_meta(s, CARRY_PENDING, encode_carry(rest))
        else:
            s.execute(delete(Meta).where(Meta.key == CARRY_PENDING))
            _drop_empty_persons(s)
    return carried
