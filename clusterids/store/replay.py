"""Replaying the plain journal (store/corrections_log.py) onto a database put back from a copy:
each correction made after the copy, in order, through the same store functions that made it.

Persons a replayed correction creates get new ids; later lines that name them are translated.
A person the copy holds under another id (a recluster after the copy numbered the people anew)
is found by a few of its faces that the line recorded (``persons_at``).
Faces are found by where they are: a line records each face's photo and box (``where``), and
the restore indexed the photos that came or changed since the copy again, under other ids, so a
face is the one of that photo whose box overlaps the recorded one most (a face marked by hand
is made again by its own line, with its box). A line from before ``where`` was kept names the
ids alone. A line that no longer applies (its faces are nowhere now) is skipped with its
reason, never guessed at, and so is an ``undo`` of a line that was skipped: it would undo
another correction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from . import corrections_log, people
from .database import Database
from .db import Face, Person, get_meta, set_meta
from .reads import faces as faces_of
from .reads import photo_at
from .rows import box_iou

SAME_PLACE = 0.5  # a face indexed again has its box again; two faces overlap far less
# the corrections with a journal entry, which an ``undo`` line reverts (cover and keep_apart have
# none): a line says so ("undoable"); these are the lines written before it did
JOURNALED = frozenset({"assign", "reject", "ignore", "unignore", "merge", "split", "rename", "hide", "unhide",
                       "mark_face", "born"})


def _undoable(line: dict[str, Any]) -> bool:
    return bool(line.get("undoable", line.get("op") in JOURNALED))


@dataclass
class Replayed:
    applied: int = 0
    skipped: list[str] = field(default_factory=list)  # "3 rename: no person 9"


def replay(db: Database, root: Path, after: int | None = None, upto: int | None = None) -> Replayed:
    """The journal's lines after ``after`` (the database's own number by default) up to ``upto``
    (all by default), replayed onto ``db``. A restore gives both as they were before it indexed
    the photos: a name read from a photo's XMP then is journaled, numbered after the lines to
    replay, and the database's number moved past them."""
    with db.read() as s:
        held = int(get_meta(s, "journal_seq") or 0)
    lines = corrections_log.lines_after(root, held if after is None else after)
    if upto is not None:
        lines = [line for line in lines if line["seq"] <= upto]
    out = Replayed()
    ids: dict[int, int] = {}  # a person the original created -> the one its replay created
    undoable: list[bool] = []  # the journal entries the replay made (True) or skipped (False), in order
    for line in lines:
        op = str(line.get("op"))
        try:
            if op == "undo" and undoable and not undoable.pop():
                raise ValueError("the correction it undid was skipped")
            with corrections_log.replaying(line["seq"]):
                _one(db, op, dict(line.get("args") or {}), line, ids)
            out.applied += 1
            if _undoable(line):
                undoable.append(True)
        except (UserError, KeyError, TypeError, ValueError) as exc:
            out.skipped.append(f"{line['seq']} {op}: {exc}")
            if _undoable(line):
                undoable.append(False)
    if lines:
        with db.transaction() as s:  # new corrections number after every line, replayed or not
            set_meta(s, "journal_seq", str(max(held, lines[-1]["seq"])))
    return out


def _found(db: Database, line: dict[str, Any], key: str = "faces") -> list[int]:
    """The faces a line names, in this database: by their place where the line recorded it."""
    given = _named_faces(line, key)
    where = line.get("where")
    if not isinstance(where, list) or len(where) != len(given):
        return given
    out = [fid for fid in _at_places(db, where) if fid is not None]
    if given and not out:
        raise ValueError(f"{'its face is' if len(given) == 1 else 'its faces are'} not in the library now")
    return out


def _at_places(db: Database, where: list[Any]) -> list[int | None]:
    """The face at each recorded place (photo path and box), None where none is now."""
    out: list[int | None] = []
    on_photo: dict[str, list[tuple[int, tuple[float, float, float, float]]]] = {}  # a line's faces share photos
    with db.read() as s:
        for at in where:
            if not at:
                out.append(None)
                continue
            if str(at[0]) not in on_photo:
                photo = photo_at(s, str(at[0]))
                on_photo[str(at[0])] = [(f.id, (f.x1, f.y1, f.x2, f.y2))
                                        for f in faces_of(s, photo_id=photo.id)] if photo else []
            boxes = on_photo[str(at[0])]
            best = max(((box_iou(at[1:5], b), i) for i, b in boxes), default=(0.0, None))
            out.append(int(best[1]) if best[1] is not None and best[0] >= SAME_PLACE else None)
    return out


def _person_now(db: Database, line: dict[str, Any], pid: int, ids: dict[int, int]) -> int:
    """The person a line named as ``pid``, in this database: the one a replayed line created for
    it, else the one holding most of the faces it had (``persons_at``: a recluster after the copy
    may have numbered the people otherwise), else the same id."""
    if pid in ids:
        return ids[pid]
    known = (line.get("persons_at") or {}).get(str(pid))
    if not isinstance(known, list) or not known:
        return pid
    votes: Counter[int] = Counter()
    with db.read() as s:
        for fid in _at_places(db, known):
            row = s.get(Face, fid) if fid is not None else None
            person = s.get(Person, row.person_id) if row is not None and row.person_id is not None else None
            while person is not None and person.merged_into is not None:
                person = s.get(Person, person.merged_into)
            if person is not None:
                votes[person.id] += 1
    return votes.most_common(1)[0][0] if votes else pid


def _named_faces(line: dict[str, Any], key: str) -> list[int]:
    value = (line.get("args") or {}).get(key)
    return [int(f) for f in value] if isinstance(value, list) else [int(value)] if value is not None else []


def _one(db: Database, op: str, args: dict[str, Any], line: dict[str, Any], ids: dict[int, int]) -> None:
    def now(pid: Any) -> str:
        return str(_person_now(db, line, int(pid), ids))

    def who(key: str = "person") -> str:
        return now(args[key])

    faces = _found(db, line) if op != "mark_face" else []
    if op == "mark_face":
        with db.read() as s:
            photo = photo_at(s, str(line["path"]))
        if photo is None:
            raise ValueError(f"no photo at {line['path']} now")
        person = line.get("created_name") if "created_name" in line else \
            (who() if args.get("person") is not None else None)
        marked = people.mark_face(db, photo.id, people.made_face(line), person)
        if "created_name" in line and marked.person is not None:
            ids[int(args["person"])] = marked.person.id
    elif op == "assign":
        if "created_name" in line:
            done = people.assign(db, line["created_name"], faces)
            ids[int(args["person"])] = done.person.id
        else:
            people.assign(db, who(), faces, create=False)
    elif op == "reject":
        people.reject(db, who(), faces)
    elif op == "merge":
        people.merge(db, [who("into"), *(now(p) for p in args["persons"])], args.get("name"))
    elif op == "split":
        ids[int(args["new"])] = people.split(db, who(), faces, []).new.id
    elif op in ("rename", "hide", "unhide"):
        values = {k: v for k, v in args.items() if k != "person"}
        people.set_person(db, op, who(), **values)
    elif op == "born":
        people.set_born(db, who(), args.get("born"))
    elif op == "cover":
        (face,) = _found(db, line, "face")
        people.set_cover(db, who(), face)
    elif op == "keep_apart":
        people.keep_apart(db, [now(p) for p in args["persons"]])
    elif op in ("ignore", "unignore"):
        people.ignore(db, faces, args.get("reason") if op == "ignore" else None)
    elif op == "undo":
        people.undo(db)
    else:
        raise ValueError(f"unknown correction {op!r}")
