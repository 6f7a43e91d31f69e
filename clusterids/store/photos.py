"""The indexer's writes: photos and their faces, in transactions of a few photos each.

The database is written first and is the source of truth: each new or dropped face marks its
vector in the outbox in the same transaction, and each new face is marked for the instant
assignment, so the catch-up (upkeep/catchup.py) brings the vector index and the persons in step
after the commit, or after a crash at the next open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import outbox, queue
from .database import Database
from .db import Face, Photo, utcnow


@dataclass(frozen=True)
class Seen:
    """A file as the scan saw it: its path, size and modification time."""

    path: str
    size: int
    mtime_ns: int


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


@dataclass(frozen=True)
class PhotoFacts:
    width: int | None
    height: int | None
    taken_at: str | None
    taken_estimated: bool = False  # taken_at is the file's modification time (clusterids/dates.py)


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

    def _photo(self, path: str) -> Photo:
        photo = self.session.scalar(select(Photo).where(Photo.path == path))
        if photo is None:
            photo = Photo(path=path, size=0, mtime_ns=0)
            self.session.add(photo)
            self.session.flush()
        return photo

    def _drop_faces(self, photo: Photo) -> None:
        ids = list(self.session.scalars(select(Face.id).where(Face.photo_id == photo.id)))
        if ids:
            self.session.execute(delete(Face).where(Face.id.in_(ids)))
            self.session.expire(photo, ["faces"])
            outbox.mark(self.session, outbox.VECTOR, ids)
            outbox.mark(self.session, outbox.ALBUMS)

    def _emptied(self, path: str) -> Photo:
        """The photo row of ``path`` (new if need be), its old faces dropped."""
        photo = self._photo(path)
        self._drop_faces(photo)
        return photo

    def _indexed(self, photo: Photo, seen: Seen, sha256: str, facts: PhotoFacts, faces: list[NewFace]) -> None:
        photo.size, photo.mtime_ns, photo.sha256 = seen.size, seen.mtime_ns, sha256
        photo.width, photo.height, photo.taken_at = facts.width, facts.height, facts.taken_at
        photo.taken_estimated = facts.taken_estimated
        photo.status, photo.error, photo.indexed_at = "ok", None, utcnow()
        added = [Face(photo_id=photo.id, x1=f.bbox[0], y1=f.bbox[1], x2=f.bbox[2], y2=f.bbox[3],
                      landmarks=f.landmarks, det_score=f.det_score, size_px=f.size_px, sharpness=f.sharpness,
                      vector=f.vector, norm=f.norm, person_id=f.person_id) for f in faces]
        self.session.add_all(added)
        self.session.flush()
        ids = [f.id for f in added]
        outbox.mark(self.session, outbox.VECTOR, ids)
        outbox.mark(self.session, outbox.ASSIGN, [f.id for f in added if f.person_id is None])
        if any(f.person_id is not None for f in added):
            outbox.mark(self.session, outbox.ALBUMS)
        self.added.extend(ids)
        self._tick()

    def fail(self, path: str, seen: Seen | None, reason: str, sha256: str | None = None) -> None:
        photo = self._emptied(path)
        photo.status, photo.error, photo.sha256 = "failed", reason, sha256
        if seen is not None:
            photo.size, photo.mtime_ns = seen.size, seen.mtime_ns
        photo.indexed_at = utcnow()
        self._tick()

    def store(self, seen: Seen, sha256: str, facts: PhotoFacts, faces: list[NewFace]) -> None:
        self._indexed(self._emptied(seen.path), seen, sha256, facts, faces)

    def reuse(self, seen: Seen, sha256: str, gone: Gone) -> int | str | None:
        """Give a known content its faces without the models: a move keeps the photo (faces,
        persons, corrections); a copy gets copies of the faces. Returns the faces added,
        "same" for a file touched but not changed, None when no source is left."""
        target = self.session.scalar(select(Photo).where(Photo.path == seen.path))
        if target is not None and target.sha256 == sha256 and target.status == "ok":
            target.size, target.mtime_ns = seen.size, seen.mtime_ns
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
            outbox.mark(self.session, outbox.ALBUMS)  # album entries are named by path
            self._tick()
            return 0
        src = self.session.scalar(select(Photo).where(Photo.sha256 == sha256, Photo.status == "ok",
                                                      Photo.path != seen.path).limit(1))
        if src is None:
            return None
        copies = [NewFace((f.x1, f.y1, f.x2, f.y2), f.landmarks, f.det_score, f.size_px, f.sharpness, f.vector,
                          f.norm, f.person_id) for f in src.faces]
        facts = PhotoFacts(src.width, src.height, src.taken_at, src.taken_estimated)
        self._indexed(self._emptied(seen.path), seen, sha256, facts, copies)
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

