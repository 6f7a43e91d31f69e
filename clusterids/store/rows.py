"""What the store's reads return: plain frozen rows, never ORM objects that others could change.

A module above the store reads a row, decides, and asks the store for a change by ids; the
change is the store's own transaction (see store/people.py and store/photos.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

MAX_ID = 2**63 - 1  # larger ids name nothing, and SQLite cannot even bind them


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    name: str | None
    hidden: bool
    merged_into: int | None
    cover_face_id: int | None

    @property
    def label(self) -> str:
        return label(self.id, self.name)


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
