"""What the store's reads return: plain frozen rows, never ORM objects that others could change.

A module above the store reads a row, decides, and asks the store for a change by ids; the
change is the store's own transaction (see store/people.py and store/photos.py).
"""

from __future__ import annotations

import os
import re
import socket
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ..errors import NotFound, UserError

MAX_ID = 2**63 - 1  # larger ids name nothing, and SQLite cannot even bind them


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    name: str | None
    hidden: bool
    merged_into: int | None
    cover_face_id: int | None
    born: str | None = None  # "YYYY-MM-DD"

    @property
    def label(self) -> str:
        return label(self.id, self.name)


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes (x1, y1, x2, y2)."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


LABEL = re.compile(r"person_(\d+)", re.IGNORECASE)  # "Person_12": how person 12 is called until named


def label(person_id: int, name: str | None) -> str:
    """How a person is called where they have no name yet (the album folder's name too)."""
    return name or f"Person_{person_id}"


def name_key(name: str) -> str:
    """What two names that are the same to a person share: case, Unicode forms and spacing
    aside ("diana  KRALL" is "Diana Krall")."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


@dataclass(frozen=True, slots=True)
class FaceRow:
    id: int
    photo_id: int
    x1: float
    y1: float
    x2: float
    y2: float
    det_score: float
    person_id: int | None
    pinned: bool
    ignored: str | None = None  # i18: "ignored" or "not_a_face" when the user put it aside

    @property
    def bbox(self) -> list[float]:
        return [self.x1, self.y1, self.x2, self.y2]


@dataclass(frozen=True, slots=True)
class PhotoRow:
    id: int
    path: str
    size: int
    mtime_ns: int
    sha256: str | None
    width: int | None
    height: int | None
    taken_at: str | None
    status: str
    error: str | None
    taken_estimated: bool = False  # taken_at is the file's modification time
    orientation: int | None = None  # i20: as decoded (None: indexed before it was kept, EXIF's)


@dataclass(frozen=True, slots=True)
class PhotoNames:
    """A photo as the XMP names are read and written for it (i20): its size as displayed, its
    orientation, what its XMP said and what we wrote (``photos.xmp``)."""

    id: int
    path: str
    status: str
    sha256: str | None
    width: int | None
    height: int | None
    orientation: int | None
    xmp: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class PersonCount:
    """A person as the people list shows them: their counts, their cover, their newest photo."""

    person: PersonRow
    faces: int
    photos: int
    cover: int | None = None
    newest: str | None = None
    newest_estimated: bool = False  # the newest date is a file's modification time


class _PersonLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def merged_into(self) -> int | None: ...


P = TypeVar("P", bound=_PersonLike)


def resolve_person(token: str | int, get: Callable[[int], P | None], named: Callable[[str], list[P]]) -> P:
    """A person by id or name (whatever its case); a merged person resolves to the one it joined.
    ``get`` reads a person by id, ``named`` the unmerged persons of a name (the exact spelling
    first): the ORM's reads and the quick reads share this rule and its errors."""
    text = str(token).strip()
    person = None
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:  # "١٢" is a name, not an id
        person = get(int(text))
    if person is None and text:
        matches = named(text)
        exact = [p for p in matches if p.name == text]
        if len(exact) == 1:  # names that differ by case only, from before they were refused
            matches = exact
        if len(matches) > 1:
            raise UserError(f"{len(matches)} persons are named {text!r}", "give the person's id instead")
        person = matches[0] if matches else None
    called = LABEL.fullmatch(text)
    if person is None and called and int(called[1]) <= MAX_ID:  # as an unnamed person is called
        person = get(int(called[1]))
    if person is None:
        raise NotFound(f"no person {text!r}", "see 'clusterids people --all' for ids and names")
    seen = set()
    while person.merged_into is not None and person.id not in seen:
        seen.add(person.id)
        person = get(person.merged_into) or person
    return person


def worker_alive(host: str, pid: int) -> bool:
    """Whether a worker could still be running: one of this machine is asked by its pid (a worker
    killed, or one whose last rows went with a lost WAL, is not live for the rest of its lease)."""
    if host != socket.gethostname():
        return True  # another machine's: its lease says
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
