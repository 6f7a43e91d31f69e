"""What the operations return: declared types that the CLI renders, the page reads and the
OpenAPI schema describes (FastAPI reads them from the controllers' signatures).

Plain frozen dataclasses: the standard library's, so a command that prints them loads nothing
more; ``plain()`` turns any of them into the JSON-able data the API sends.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def plain(value: Any) -> Any:
    """A result as plain JSON-able data (what the API sends and ``--json`` prints)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# -- the library -----------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Failure:
    path: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class NameSkipped:
    path: str
    name: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class NamesRead:
    """What the names other programs gave became (i20): corrections, faces, persons."""

    faces_named: int = 0
    faces_from_metadata: int = 0  # faces the detector had missed, made from named regions
    persons_created: list[str] = field(default_factory=list)
    names_skipped: list[NameSkipped] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Indexed:
    photos_new: int = 0
    photos_changed: int = 0
    photos_unchanged: int = 0
    photos_reused: int = 0
    photos_removed: int = 0
    photos_failed: int = 0
    photos_queued: int = 0
    photos_sidecar: int = 0  # i20: only the XMP sidecar changed: names read again, no models
    faces_added: int = 0
    faces_assigned: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)  # i20: read, with a problem (a damaged sidecar)
    names: NamesRead | None = None  # i20: names from the photos' XMP, when any applied or skipped
    deferred: list[str] = field(default_factory=list)
    index_optimized: bool = False
    faces_carried: int | None = None  # reindex: faces that took over an old face's person
    model: str | None = None  # reindex: the pack now in use


@dataclass(frozen=True, kw_only=True)
class QueueState:
    waiting: int
    claimed: int


@dataclass(frozen=True, kw_only=True)
class WorkerState:
    id: str
    host: str
    pid: int
    providers: list[str]
    photos_done: int
    seen_seconds_ago: float


@dataclass(frozen=True, kw_only=True)
class Fault:
    where: str
    error: str
    count: int
    retry_in: int


@dataclass(frozen=True, kw_only=True)
class DaemonState:
    running: bool
    pid: int
    queue: int
    last_event: str | None
    last_recluster: str | None
    roots: list[str]
    paused: str | None
    faults: list[Fault] = field(default_factory=list)
    restart: str = "clusterids watch"  # the command that starts it again as it was started (for the page)


@dataclass(frozen=True, kw_only=True)
class Status:
    library: str
    model: str
    dim: int
    photos: int
    faces: int
    vectors: int
    failed: int
    queue: QueueState
    workers: list[WorkerState]
    repaired_at_open: dict[str, int] = field(default_factory=dict)
    last_repair: dict[str, Any] | None = None
    last_recluster: dict[str, Any] | None = None  # when and what: the store's stamps (store/stamps.py)
    last_incremental: dict[str, Any] | None = None
    daemon: DaemonState | None = None
    failed_files: list[Failure] | None = None


@dataclass(frozen=True, kw_only=True)
class Doctor:
    ok: bool
    problems: list[str]
    library: str
    repaired: dict[str, Any] | None = None
    after: list[str] | None = None


@dataclass(frozen=True, kw_only=True)
class BackedUp:
    """A copy of the database (i22): where, and what it holds."""

    path: str | None  # None: no copy (PostgreSQL: the server's backups; or a damaged database)
    photos: int = 0
    people: int = 0
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Restored:
    copy: str
    held: str  # what the copy held: "412 photos, 6 people, 2 hours old"
    moved_aside: str | None  # the database that was there, kept
    photos: int  # photos in the library after the restore
    photos_indexed: int  # new or changed since the copy, indexed again from the folders
    corrections_replayed: int
    corrections_skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # corrections the journal lacks, and where they are


@dataclass(frozen=True, kw_only=True)
class Rebuilt:
    vectors: int


@dataclass(frozen=True, kw_only=True)
class Albums:
    albums: int
    written: int
    removed: int
    path: str


# -- names in other programs' files (i20) ------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class XmpWritten:
    written: int
    unchanged: int
    skipped: int
    problems: list[str]


@dataclass(frozen=True, kw_only=True)
class PeopleExported:
    file: str
    persons: int
    faces: int
    rejected: int
    ignored: int = 0  # i18: faces put aside


@dataclass(frozen=True, kw_only=True)
class Unmatched:
    state: str  # assigned | member | rejected | ignored
    reason: str
    photo: str | None = None  # its content hash
    path: str | None = None  # where the exporting library had it
    box: list[float] | None = None
    face: int | None = None  # a face found here whose person is not


@dataclass(frozen=True, kw_only=True)
class PeopleImported:
    persons_matched: int
    persons_created: int
    faces_assigned: int
    faces_joined: int
    faces_rejected: int
    unmatched: list[Unmatched]
    faces_ignored: int = 0  # i18


# -- people ------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Person:
    id: int
    name: str | None
    label: str  # the name, or how the person is called until named
    faces: int
    photos: int
    hidden: bool


@dataclass(frozen=True, kw_only=True)
class Face:
    id: int
    photo: str
    bbox: list[float]
    det_score: float
    person: int | None
    ignored: str | None = None  # i18: "ignored" or "not_a_face" when put aside


@dataclass(frozen=True, kw_only=True)
class Moved:
    person: int
    into: str


@dataclass(frozen=True, kw_only=True)
class Parted:
    person: int
    into: list[str]


@dataclass(frozen=True, kw_only=True)
class Reclustered:
    new: int
    removed: list[int]
    merged: list[Moved]
    split: list[Parted]
    faces_moved: int
    eps: float
    min_samples: int
    faces: int
    clusters: int
    unknown: int
    applied: bool


@dataclass(frozen=True, kw_only=True)
class Assigned:
    face: int
    faces: list[int]
    person: int
    name: str | None
    label: str
    created: bool
    warnings: list[str] = field(default_factory=list)
    shared_photos: list[int] = field(default_factory=list)  # photos that now show the person twice


@dataclass(frozen=True, kw_only=True)
class Marked:
    """A face marked by hand, as one correction."""

    face: int
    photo: int
    bbox: list[float]  # as kept: the box given, inside the photo
    found: bool  # the detector found the face's landmarks inside the box (else ArcFace's template was laid over it)
    person: int | None  # None: an unknown face, which the instant assignment may place
    name: str | None
    label: str | None
    created: bool
    placed: bool = False  # given no person, the library gave it to the one it looks like (undo takes it back)
    warnings: list[str] = field(default_factory=list)  # the photo shows the person twice now


@dataclass(frozen=True, kw_only=True)
class Rejected:
    face: int
    faces: list[int]
    rejected: int
    label: str


@dataclass(frozen=True, kw_only=True)
class Ignored:
    """Faces put aside (or taken back: ``reason`` None), as one correction."""

    faces: list[int]
    reason: str | None  # "ignored", "not_a_face"; None: unignored, unknown faces again
    persons: list[int]  # the persons that lost a face to it (their counts and albums follow)
    labels: list[str]  # how those persons are called


@dataclass(frozen=True, kw_only=True)
class Merged:
    person: int
    merged: list[int]
    faces: int
    name: str | None
    label: str
    merged_labels: list[str]
    kept_label: str = ""  # how the person kept was called before (the label may be a merged one's name now)


@dataclass(frozen=True, kw_only=True)
class Split:
    person: int
    new: int
    faces: list[int]
    label: str
    new_label: str


@dataclass(frozen=True, kw_only=True)
class Renamed:
    person: int
    name: str | None
    label: str


@dataclass(frozen=True, kw_only=True)
class Born:
    """A person's birth date set (or removed: ``born`` None), as one correction."""

    person: int
    born: str | None  # "YYYY-MM-DD"
    label: str
    left: list[int]  # their faces in photos taken before it: unknown faces now
    pinned_before: list[int]  # faces dated before it that the user gave them by hand: kept


@dataclass(frozen=True, kw_only=True)
class Hidden:
    person: int
    hidden: bool
    label: str


@dataclass(frozen=True, kw_only=True)
class Cover:
    person: int
    cover: int


@dataclass(frozen=True, kw_only=True)
class KeptApart:
    persons: list[int]


@dataclass(frozen=True, kw_only=True)
class Named:
    id: int
    label: str  # as the correction left them (for one not undone yet: as they are called now)
    was: str | None = None  # how they were called before it, where it recorded that (merge, rename, hide)


@dataclass(frozen=True, kw_only=True)
class Correction:
    """A correction as the journal keeps it: what ``undo`` reverts, newest first."""

    id: int
    at: str  # when, UTC (ISO 8601, "Z")
    op: str  # assign, reject, ignore, unignore, merge, split, rename, hide, unhide, mark_face
    args: dict[str, Any]
    faces: list[int]
    persons: list[Named]  # person (or into) first, then the merged ones, then the new one of a split
    created: list[int] = field(default_factory=list)  # the persons it created


@dataclass(frozen=True, kw_only=True)
class Undone:
    undone: str
    args: dict[str, Any]
    labels: list[str]  # the persons the correction named, as they are called now
    correction: Correction | None = None  # what was undone, as it read before the undo


@dataclass(frozen=True, kw_only=True)
class FaceSuggestion:
    face: int
    person: int
    name: str | None
    label: str
    similarity: float
    likelihood: str  # "very likely" or "likely": nothing less is suggested


@dataclass(frozen=True, kw_only=True)
class MergeSuggestion:
    persons: list[int]
    names: list[str | None]
    labels: list[str]
    similarity: float
    likelihood: str


@dataclass(frozen=True, kw_only=True)
class Suggestions:
    faces: list[FaceSuggestion]
    merges: list[MergeSuggestion]


# -- photos ------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Match:
    person: int
    name: str | None
    label: str
    similarity: float


@dataclass(frozen=True, kw_only=True)
class Found:
    bbox: list[float]
    matches: list[Match]


# -- the page's views ------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class PersonCard(Person):
    cover: int | None  # the face to show them by
    newest: str | None  # the date of their newest photo (ISO 8601, local time)
    newest_estimated: bool = False  # that date is the file's modification time, not a camera's


@dataclass(frozen=True, kw_only=True)
class PeoplePage:
    total: int
    unknown: int
    people: list[PersonCard]


@dataclass(frozen=True, kw_only=True)
class FaceCard:
    id: int
    photo: int
    det_score: float


@dataclass(frozen=True, kw_only=True)
class PhotoCard:
    id: int
    taken: str | None  # ISO 8601, local time, without a time of day when the source had none
    taken_estimated: bool = False  # the file's modification time, not a date the camera wrote


@dataclass(frozen=True, kw_only=True)
class PersonPage:
    id: int | None
    name: str | None
    label: str
    hidden: bool
    cover: int | None
    total_faces: int
    has_album: bool
    faces: list[FaceCard]
    total_photos: int
    photos: list[PhotoCard]
    born: str | None = None  # "YYYY-MM-DD": photos taken before it are not theirs


@dataclass(frozen=True, kw_only=True)
class FaceInPhoto:
    id: int
    bbox: list[float]
    person: int | None
    name: str | None  # the person's label (None: unknown)
    ignored: str | None = None  # i18: "ignored" or "not_a_face" when put aside


@dataclass(frozen=True, kw_only=True)
class PhotoView:
    id: int
    name: str
    taken: str | None  # as PhotoCard's
    taken_estimated: bool
    width: int | None
    height: int | None
    faces: list[FaceInPhoto]


@dataclass(frozen=True, kw_only=True)
class Upload:
    name: str
    state: str  # waiting | ok | failed
    faces: int | None = None
    photo: int | None = None  # the photo's id once indexed (the page reads who is in it)
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Saved:
    saved: list[str]

