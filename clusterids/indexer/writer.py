"""Stage: store. The one writer: database first (source of truth), then the vector index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import faults
from ..media.imaging import Decoded
from ..store import mirror, queue, reads, writes
from ..store.db import Face, Photo, utcnow
from ..store.library import Library
from .scan import Found

if TYPE_CHECKING:
    from .embed import FaceRecord

COMMIT_EVERY = 16


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


class Writer:
    def __init__(self, lib: Library, after_commit: Callable[[], None] | None = None) -> None:
        self.lib = lib
        self.after_commit = after_commit  # the daemon lets API calls in between commits
        self.session = lib.session()
        self.pending = 0
        self.new_faces: list[Face] = []
        self.dropped: list[int] = []
        self.touched: list[int] = []  # faces added in this run, for the people stage

    def __enter__(self) -> Writer:
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
        """Commit, then write the vectors; between two commits of a run (not after its last:
        the albums follow it first) the daemon lets API calls in."""
        if self.new_faces or self.dropped or self.pending:
            mirror.mark(self.session, first_new_face=min((f.id for f in self.new_faces), default=None))
        self.session.commit()
        faults.point("index.after_commit")
        if self.dropped:
            self.lib.index.delete(self.dropped)
        self.lib.push_vectors(self.new_faces)
        self.touched.extend(f.id for f in self.new_faces)
        self.new_faces, self.dropped, self.pending = [], [], 0
        if self.after_commit is not None and not last:
            self.after_commit()

    def _tick(self) -> None:
        self.pending += 1
        if self.pending >= COMMIT_EVERY:
            self.commit()

    def _photo(self, path: str) -> Photo:
        photo = reads.photo_by_path(self.session, path)
        if photo is None:
            photo = writes.new_photo(self.session, path)
        return photo

    def _drop_faces(self, photo: Photo) -> None:
        if photo.id is None:
            return
        ids = reads.photo_face_ids(self.session, photo.id)
        if ids:
            writes.delete_faces(self.session, ids)
            self.session.expire(photo, ["faces"])
            self.dropped.extend(ids)
            gone = set(ids)
            self.new_faces = [f for f in self.new_faces if f.id not in gone]

    def _emptied(self, path: str) -> Photo:
        """The photo row of ``path`` (new if need be), its old faces dropped."""
        photo = self._photo(path)
        self.session.flush()
        self._drop_faces(photo)
        return photo

    def _indexed(self, photo: Photo, found: Found, sha256: str, width: int | None, height: int | None,
                 taken_at: str | None, faces: list[dict[str, Any]]) -> None:
        """Mark the photo read, with these faces (column values of each)."""
        photo.size, photo.mtime_ns, photo.sha256 = found.size, found.mtime_ns, sha256
        photo.width, photo.height, photo.taken_at = width, height, taken_at
        photo.status, photo.error, photo.indexed_at = "ok", None, utcnow()
        added = writes.add_faces(self.session, photo.id, faces)
        self.new_faces.extend(added)
        self._tick()

    def fail(self, path: str, found: Found | None, reason: str, sha256: str | None = None) -> None:
        photo = self._emptied(path)
        photo.status, photo.error, photo.sha256 = "failed", reason, sha256
        if found is not None:
            photo.size, photo.mtime_ns = found.size, found.mtime_ns
        photo.indexed_at = utcnow()
        self._tick()

    def store(self, found: Found, sha256: str, decoded: Decoded, faces: list[FaceRecord]) -> None:
        photo = self._emptied(found.path)
        self._indexed(photo, found, sha256, decoded.width, decoded.height, decoded.taken_at, [
            {"x1": r.bbox[0], "y1": r.bbox[1], "x2": r.bbox[2], "y2": r.bbox[3], "landmarks": r.landmarks,
             "det_score": r.det_score, "size_px": r.size_px, "sharpness": r.sharpness,
             "vector": np.asarray(r.vector, np.float32).tobytes()}
            for r in faces
        ])

    def reuse(self, found: Found, sha256: str, gone: Gone) -> int | str | None:
        """Give a known content its faces without the models: a move keeps the photo (faces,
        persons, corrections); a copy gets copies of the faces. Returns the faces added,
        "same" for a file touched but not changed, None when no source is left."""
        self.session.flush()
        target = reads.photo_by_path(self.session, found.path)
        if target is not None and target.sha256 == sha256 and target.status == "ok":
            target.size, target.mtime_ns = found.size, found.mtime_ns
            self._tick()
            return "same"
        moved_path = gone.take(sha256)
        moved = reads.photo_by_path(self.session, moved_path) if moved_path else None
        if moved is not None:
            if target is not None:  # a changed file took the place of a moved one
                self._drop_faces(target)
                writes.delete_photo(self.session, target)
                self.session.flush()
            moved.path, moved.size, moved.mtime_ns, moved.indexed_at = (
                found.path, found.size, found.mtime_ns, utcnow())
            self._tick()
            return 0
        src = reads.photo_with_content(self.session, sha256, found.path)
        if src is None:
            return None
        copies = [{"x1": f.x1, "y1": f.y1, "x2": f.x2, "y2": f.y2, "landmarks": f.landmarks,
                   "det_score": f.det_score, "size_px": f.size_px, "sharpness": f.sharpness,
                   "vector": f.vector, "person_id": f.person_id} for f in src.faces]
        self._indexed(self._emptied(found.path), found, sha256, src.width, src.height, src.taken_at, copies)
        return len(copies)

    def enqueue(self, found: Found, sha256: str) -> None:
        """Leave the photo to a worker's models (its old faces stay until the worker stores it)."""
        queue.enqueue(self.session, found.path, found.size, found.mtime_ns, sha256)
        self._tick()

    def remove_gone(self, gone: Gone) -> int:
        """Forget photos that left the scanned folders, with their faces."""
        removed = 0
        for photo_id in gone.by_path.values():
            photo = reads.get_photo(self.session, photo_id)
            if photo is None:
                continue
            self._drop_faces(photo)
            if photo.status == "ok":
                removed += 1
            writes.delete_photo(self.session, photo)
            self._tick()
        self.commit(last=True)
        return removed
