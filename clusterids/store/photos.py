"""The indexer's writes: photos and their faces, in transactions of a few photos each.

The database is written first and is the source of truth: each new or dropped face marks its
vector in the outbox in the same transaction, and each new face is marked for the instant
assignment, so the catch-up (upkeep/catchup.py) brings the vector index and the persons in step
after the commit, or after a crash at the next open. What a photo's XMP says of its people is
kept with it (``xmp_state``), and names not applied yet mark it for the catch-up (i20).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from . import edits, outbox, queue
from .database import Database
from .db import Face, Photo, utcnow


@dataclass(frozen=True)
class Seen:
    """A file as the scan saw it: its path, size and modification time."""

    path: str
    size: int
    mtime_ns: int
    sidecar: str | None = None  # its XMP sidecar (i20), looked for when xmp_read is on
    sidecar_sig: str | None = None  # the sidecar's name, size and mtime: its change is the photo's


@dataclass(frozen=True)
class NewFace:
    """A face as the models (or a copy of a known photo) give it, in the photo's own pixels."""

    bbox: tuple[float, float, float, float]
    landmarks: list[list[float]]
    det_score: float
    size_px: float
    sharpness: float
    vector: bytes
    norm: float | None = None
    person_id: int | None = None  # a copy of a known photo keeps its faces' persons
    # "metadata": made from a named XMP region the detector missed (i20); "hand": marked by hand
    origin: str = "detector"
    ignored: str | None = None  # i18: a copy of a known photo keeps its faces put aside


@dataclass(frozen=True)
class PhotoFacts:
    width: int | None
    height: int | None
    taken_at: str | None
    orientation: int | None = None  # the EXIF orientation it was decoded with (i20: a sidecar's may replace it)
    taken_estimated: bool = False  # taken_at is the file's modification time (clusterids/dates.py)


@dataclass(frozen=True)
class XmpSeen:
    """What a photo's XMP says of its people as the indexer read it (xmp/state.py makes it)."""

    said: dict[str, Any]  # its regions and People tags, replacing what was read before
    wanted: frozenset[str]  # the keys of the names it gives, each applied once (outbox NAMES)


WRITTEN = ("ours", "tags")  # photos.xmp keys of what we wrote there: kept whatever is read later


def xmp_state(old: dict[str, Any] | None, said: dict[str, Any], faces_new: bool) -> dict[str, Any] | None:
    """``photos.xmp`` after a read: what we wrote there is kept; the keys of the names already
    applied (``applied``) are kept unless the faces are new (then every name applies again: the
    old faces and their corrections are gone); what the XMP says replaces what it said."""
    state = {k: v for k, v in (old or {}).items() if k in WRITTEN}
    if not faces_new and (old or {}).get("applied"):
        state["applied"] = (old or {})["applied"]
    state.update(said)
    return state or None


def insert_faces(session: Session, photo_id: int, faces: list[NewFace]) -> list[int]:
    """The faces' rows in one bulk INSERT, their ids in the order given: the unit of work's
    objects cost the indexer's one writer more than the statement did."""
    if not faces:
        return []
    rows = [{"photo_id": photo_id, "x1": f.bbox[0], "y1": f.bbox[1], "x2": f.bbox[2], "y2": f.bbox[3],
             "landmarks": f.landmarks, "det_score": f.det_score, "size_px": f.size_px, "sharpness": f.sharpness,
             "vector": f.vector, "norm": f.norm, "person_id": f.person_id, "origin": f.origin,
             "ignored": f.ignored} for f in faces]
    table = cast(Table, Face.__table__)  # Core: no ORM bulk work
    return list(session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


@dataclass
class Gone:
    """The library's photos under the scanned folders that are no longer on disk, by path and
    by content, so that a moved file finds the photo it was in one look-up."""

    by_path: dict[str, int] = field(default_factory=dict)
    by_sha: dict[str, list[str]] = field(default_factory=dict)

    def add(self, path: str, photo_id: int, sha256: str | None) -> None:
        self.by_path[path] = photo_id
        if sha256:
            self.by_sha.setdefault(sha256, []).append(path)

    def take(self, sha256: str) -> str | None:
        """A gone path with this content, which is then no longer gone (it moved)."""
        paths = self.by_sha.get(sha256, [])
        while paths:
            path = paths.pop()
            if self.by_path.pop(path, None) is not None:
                return path
        return None

    def clear(self) -> None:
        self.by_path.clear()
        self.by_sha.clear()


class PhotoWriter:
    """One writer's session over a run: every ``commit_every`` photos a commit, then
    ``after_commit`` (the catch-up of the vectors, and the daemon letting the API in)."""

    def __init__(self, db: Database, commit_every: int = 16,
                 after_commit: Callable[[], None] | None = None) -> None:
        self.session: Session = db.session()
        self.commit_every = commit_every
        self.after_commit = after_commit
        self.pending = 0
        self.added: list[int] = []  # faces added in this run

    def __enter__(self) -> PhotoWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        try:
            if exc_type is None:
                self.commit(last=True)
            else:  # a fault midway: the photos since the last commit are read again next time
                self.session.rollback()
        finally:
            self.session.close()

    def commit(self, last: bool = False) -> None:
        from .. import faults

        self.session.commit()
        faults.point("index.after_commit")
        self.pending = 0
        if self.after_commit is not None and not last:
            self.after_commit()

    def rollback(self) -> None:
        self.session.rollback()
        self.pending = 0

    def _tick(self) -> None:
        self.pending += 1
        if self.commit_every and self.pending >= self.commit_every:
            self.commit()

    def _drop_faces(self, photo: Photo, keep: frozenset[int] = frozenset()) -> None:
        ids = [i for i in self.session.scalars(select(Face.id).where(Face.photo_id == photo.id)) if i not in keep]
        if ids:
            self.session.execute(delete(Face).where(Face.id.in_(ids)))
            self.session.expire(photo, ["faces"])
            outbox.mark(self.session, outbox.VECTOR, ids)
            outbox.mark(self.session, outbox.ALBUMS)

    def _at(self, path: str) -> Photo | None:
        return self.session.scalar(select(Photo).where(Photo.path == path))

    def _emptied(self, photo: Photo | None, path: str, keep: frozenset[int] = frozenset()) -> Photo:
        """``photo``, the row of ``path``, its old faces dropped (but ``keep``); or, for None, a
        new one, written with the session's next flush (one INSERT with everything the caller
        sets on it)."""
        if photo is None:
            photo = Photo(path=path, size=0, mtime_ns=0)
            self.session.add(photo)
        else:
            self._drop_faces(photo, keep)
        return photo

    def _xmp(self, photo: Photo, seen: Seen, xmp: XmpSeen | None, faces_new: bool) -> None:
        """What the photo's XMP says, kept with it; names it gives that are not applied yet mark
        it for the catch-up, which makes them corrections (xmp/names.py)."""
        state = xmp_state(photo.xmp, xmp.said if xmp is not None else {}, faces_new)
        photo.xmp_sidecar, photo.xmp = seen.sidecar_sig, state
        if xmp is not None and xmp.wanted - set((state or {}).get("applied") or []):
            outbox.mark(self.session, outbox.NAMES, [photo.id])

    def _indexed(self, photo: Photo, seen: Seen, sha256: str, facts: PhotoFacts, faces: list[NewFace],
                 xmp: XmpSeen | None = None, old: edits.Before = edits.NOTHING) -> None:
        """The photo's row and its new faces; ``old``: what its faces carried before an edit,
        handed to the new faces before anything is marked or committed (store/edits.py)."""
        photo.size, photo.mtime_ns, photo.sha256 = seen.size, seen.mtime_ns, sha256
        photo.width, photo.height, photo.taken_at = facts.width, facts.height, facts.taken_at
        photo.orientation = facts.orientation
        photo.taken_estimated = facts.taken_estimated
        photo.status, photo.error, photo.indexed_at = "ok", None, utcnow()
        if photo.id is None:  # new: its id, for its faces and marks
            self.session.flush()
        ids = insert_faces(self.session, photo.id, faces)
        carried, lost = edits.hand_over(self.session, photo.id, old) if old.faces else (set(), 0)
        # the names its XMP gives apply again only where a face that held one was not found again
        self._xmp(photo, seen, xmp, faces_new=not old.faces or lost > 0)
        outbox.mark(self.session, outbox.VECTOR, ids)
        outbox.mark(self.session, outbox.ASSIGN, [i for i, f in zip(ids, faces, strict=True)
                                                  if f.person_id is None and f.ignored is None and i not in carried])
        if any(f.person_id is not None for f in faces):
            outbox.mark(self.session, outbox.ALBUMS)
        self.added.extend(ids)
        self._tick()

    def fail(self, path: str, seen: Seen | None, reason: str, sha256: str | None = None) -> None:
        """The file cannot be read now. A photo read before keeps its faces and what was done to
        them: a file half-copied or briefly emptied comes back with its names (store/edits.py
        hands them to the faces found then); one that leaves its folder takes them with it."""
        photo = self._at(path) or self._emptied(None, path)
        photo.status, photo.error, photo.sha256 = "failed", reason, sha256
        if seen is not None:
            photo.size, photo.mtime_ns = seen.size, seen.mtime_ns
        photo.indexed_at = utcnow()
        self._tick()

    def store(self, seen: Seen, sha256: str, facts: PhotoFacts, faces: list[NewFace],
              xmp: XmpSeen | None = None) -> None:
        """The photo with the faces the models found. One indexed before (an edit changed it)
        hands what the user did to its faces over to the new ones (store/edits.py)."""
        photo = self._at(seen.path)
        old = edits.before(self.session, photo, facts.width, facts.height, facts.orientation)
        self._indexed(self._emptied(photo, seen.path, old.keep), seen, sha256, facts, faces, xmp, old)

    def sidecar_only(self, seen: Seen, xmp: XmpSeen | None, orientation: int, exif: int) -> bool:
        """Only the photo's XMP sidecar changed: keep what it says, no models. False when the
        photo must be read again after all (gone meanwhile, or the sidecar turns it another way:
        the boxes must turn). ``exif``: its own orientation, the one a photo indexed before i20
        was decoded with."""
        photo = self._at(seen.path)
        if photo is None or photo.status != "ok" or (exif if photo.orientation is None else photo.orientation) \
                != orientation:
            return False
        photo.orientation = orientation
        self._xmp(photo, seen, xmp, faces_new=False)
        self._tick()
        return True

    def reuse(self, seen: Seen, sha256: str, gone: Gone, xmp: XmpSeen | None = None) -> int | str | None:
        """Give a known content its faces without the models: a move keeps the photo (faces,
        persons, corrections); a copy gets copies of the faces. Returns the faces added,
        "same" for a file touched but not changed, None when no source is left."""
        target = self._at(seen.path)
        if target is not None and target.sha256 == sha256 and target.status == "ok":
            target.size, target.mtime_ns = seen.size, seen.mtime_ns
            self._xmp(target, seen, xmp, faces_new=False)
            self._tick()
            return "same"
        moved_path = gone.take(sha256)
        moved = self.session.scalar(select(Photo).where(Photo.path == moved_path)) if moved_path else None
        if moved is not None:
            if target is not None:  # a changed file took the place of a moved one
                self._drop_faces(target)
                self.session.delete(target)
                self.session.flush()
            moved.path, moved.size, moved.mtime_ns, moved.indexed_at = seen.path, seen.size, seen.mtime_ns, utcnow()
            self._xmp(moved, seen, xmp, faces_new=False)
            outbox.mark(self.session, outbox.ALBUMS)  # album entries are named by path
            self._tick()
            return 0
        src = self.session.scalar(select(Photo).where(Photo.sha256 == sha256, Photo.status == "ok",
                                                      Photo.path != seen.path).limit(1))
        if src is None:
            return None
        copies = [NewFace((f.x1, f.y1, f.x2, f.y2), f.landmarks, f.det_score, f.size_px, f.sharpness, f.vector,
                          f.norm, f.person_id, f.origin, f.ignored) for f in src.faces]
        facts = PhotoFacts(src.width, src.height, src.taken_at, src.orientation, src.taken_estimated)
        # a photo overwritten by a known content: an edit too
        old = edits.before(self.session, target, facts.width, facts.height, facts.orientation)
        self._indexed(self._emptied(target, seen.path, old.keep), seen, sha256, facts, copies, xmp, old)
        return len(copies)

    def enqueue(self, seen: Seen, sha256: str) -> None:
        """Leave the photo to a worker's models (its old faces stay until the worker stores it)."""
        queue.enqueue(self.session, seen.path, seen.size, seen.mtime_ns, sha256)
        self._tick()

    def remove_gone(self, gone: Gone) -> int:
        """Forget photos that left the scanned folders, with their faces."""
        removed = 0
        for photo_id in gone.by_path.values():
            photo = self.session.get(Photo, photo_id)
            if photo is None:
                continue
            self._drop_faces(photo)
            if photo.status == "ok":
                removed += 1
            self.session.delete(photo)
            self._tick()
        return removed

    def close_claim(self, ids: list[int], token: str) -> bool:
        """Delete a worker's claimed queue rows in this transaction; False when the claim was
        lost (another worker took it over): everything since the last commit is rolled back."""
        if not queue.complete(self.session, ids, token):
            self.rollback()
            return False
        return True


def forget_everything(db: Database, **meta: str) -> None:
    """Every face and photo goes (a change of model pack: they are indexed again), with the
    vectors marked to go too; ``meta`` is set in the same transaction."""
    from .db import set_meta

    with db.transaction() as s:
        ids = list(s.scalars(select(Face.id)))
        s.execute(delete(Face))
        s.execute(delete(Photo))
        outbox.mark(s, outbox.VECTOR, ids)
        outbox.mark(s, outbox.ALBUMS)
        for key, value in meta.items():
            set_meta(s, key, value)



def add_faces(db: Database, photo_id: int, faces: list[NewFace]) -> list[int]:
    """More faces for a photo already stored (i20: faces made from named XMP regions the
    detector missed), their vectors marked for the catch-up; the new faces' ids."""
    with db.transaction() as s:
        ids = insert_faces(s, photo_id, faces)
        outbox.mark(s, outbox.VECTOR, ids)
        return ids
