"""The corrections journal as a person reads it: each entry with the persons it names, how they
are called after it and, where the entry recorded it, how they were called before (a merge
may hand one person's name to the other; a rename replaces one).

The journal itself is written by the corrections (store/people.py), one entry each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .database import Database
from .db import Journal, Person
from .rows import label


@dataclass(frozen=True)
class Named:
    id: int
    label: str  # as the correction left them (for one not undone: as they are called now)
    was: str | None  # before the correction, where it recorded that


@dataclass(frozen=True)
class Entry:
    id: int
    at: str  # UTC, ISO 8601 with "Z"
    op: str
    args: dict[str, Any]
    faces: list[int]
    persons: list[Named]  # person or into first, then the merged ones, then a new one
    created: list[int]  # persons the correction created


def _named_ids(args: dict[str, Any]) -> list[int]:
    ids = [args[k] for k in ("person", "into") if isinstance(args.get(k), int)]
    ids += [p for p in args.get("persons", []) if isinstance(p, int)]
    if isinstance(args.get("new"), int):
        ids.append(args["new"])
    return list(dict.fromkeys(ids))


def entry(session: Session, j: Journal) -> Entry:
    """One journal entry, its persons called as they are now."""
    args, before = dict(j.args or {}), dict(j.before or {})
    was = {int(p[0]): label(int(p[0]), p[1]) for p in before.get("persons", [])}
    persons = []
    for pid in _named_ids(args):
        row = session.get(Person, pid)
        persons.append(Named(pid, label(pid, row.name if row is not None else None), was.get(pid)))
    faces = [int(f) for f in args.get("faces", []) if isinstance(f, int)]
    return Entry(j.id, j.at.strftime("%Y-%m-%dT%H:%M:%SZ"), j.op, args, faces, persons,
                 [int(c) for c in before.get("created", [])])


def history(db: Database, limit: int = 20) -> list[Entry]:
    """The latest corrections not undone yet, newest first: the first is what undo reverts."""
    with db.read() as s:
        rows = s.scalars(select(Journal).where(Journal.undone.is_(False)).order_by(Journal.id.desc()).limit(limit))
        return [entry(s, j) for j in rows]
