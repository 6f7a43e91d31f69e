"""Replaying the plain journal (store/corrections_log.py) onto a database put back from a copy:
each correction made after the copy, in order, through the same store functions that made it.

Persons a replayed correction creates get new ids, and so do faces marked by hand; later lines
that name them are translated.
A line that no longer applies (its face came after the copy and was indexed again under another
id) is skipped with its reason, never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from . import corrections_log, people
from .database import Database
from .db import get_meta, set_meta
from .reads import photo_at


@dataclass
class Replayed:
    applied: int = 0
    skipped: list[str] = field(default_factory=list)  # "3 rename: no person 9"


def replay(db: Database, root: Path) -> Replayed:
    with db.read() as s:
        held = int(get_meta(s, "journal_seq") or 0)
    lines = corrections_log.lines_after(root, held)
    out = Replayed()
    ids: dict[int, int] = {}  # a person the original created -> the one its replay created
    made: dict[int, int] = {}  # a face marked by hand -> the one its replay made
    for line in lines:
        try:
            with corrections_log.replaying(line["seq"]):
                _one(db, str(line.get("op")), dict(line.get("args") or {}), line, ids, made)
            out.applied += 1
        except (UserError, KeyError, TypeError, ValueError) as exc:
            out.skipped.append(f"{line['seq']} {line.get('op')}: {exc}")
    if lines:
        with db.transaction() as s:  # new corrections number after every line, replayed or not
            set_meta(s, "journal_seq", str(max(held, lines[-1]["seq"])))
    return out


def _one(db: Database, op: str, args: dict[str, Any], line: dict[str, Any], ids: dict[int, int],
         made: dict[int, int]) -> None:
    def who(key: str = "person") -> str:
        return str(ids.get(int(args[key]), int(args[key])))

    faces = [made.get(int(f), int(f)) for f in args.get("faces", [])]
    if op == "mark_face":
        with db.read() as s:
            photo = photo_at(s, str(line["path"]))
        if photo is None:
            raise ValueError(f"no photo at {line['path']} now")
        person = line.get("created_name") if "created_name" in line else \
            (who() if args.get("person") is not None else None)
        marked = people.mark_face(db, photo.id, people.made_face(line), person)
        made[int(args["faces"][0])] = marked.face
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
        people.merge(db, [who("into"), *(str(ids.get(int(p), int(p))) for p in args["persons"])], args.get("name"))
    elif op == "split":
        ids[int(args["new"])] = people.split(db, who(), faces, []).new.id
    elif op in ("rename", "hide", "unhide"):
        values = {k: v for k, v in args.items() if k != "person"}
        people.set_person(db, op, who(), **values)
    elif op == "born":
        people.set_born(db, who(), args.get("born"))
    elif op == "cover":
        people.set_cover(db, who(), int(args["face"]))
    elif op == "keep_apart":
        people.keep_apart(db, [str(ids.get(int(p), int(p))) for p in args["persons"]])
    elif op in ("ignore", "unignore"):
        people.ignore(db, faces, args.get("reason") if op == "ignore" else None)
    elif op == "undo":
        people.undo(db)
    else:
        raise ValueError(f"unknown correction {op!r}")
