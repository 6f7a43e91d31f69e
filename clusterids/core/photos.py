"""Operations on photos: those showing some persons, who is in a photo, a photo with its faces,
what became of uploads; and the files the page is served (face crops, previews, album zips),
which are no JSON operations but go through here all the same."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .operations import operation
from .results import FaceInPhoto, Found, Match, PhotoView, Upload

if TYPE_CHECKING:
    from . import Core


class PhotosController:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.lib = core.lib

    @operation(reads_only=True)
    def showing(self, persons: list[str], any_of: bool = False) -> list[str]:
        """Paths of the photos showing all the PERSONS given (or any of them: ANY_OF)."""
        from ..store import reads

        with self.lib.db.read() as s:
            ids = sorted({reads.find_person(s, p).id for p in persons})
            return reads.photos_showing(s, ids, any_of)

    @operation()
    def search(self, photo: str, limit: int = 5) -> list[Found]:
        """Who is in PHOTO (which need not be in the library): per face, persons best first."""
        from ..clustering.people import params
        from ..indexer.embed import embed_photo
        from ..store import reads
        from ..store.rows import label

        _, records = embed_photo(self.lib, Path(photo))
        threshold = 1.0 - params(self.lib).eps
        with self.lib.db.read() as s:
            known = reads.persons(s, merged=False)
        out = []
        for rec in records:
            best: dict[int, float] = {}
            for hit in self.lib.index.search(rec.vector, 50, min_score=threshold):
                if hit.person is not None and hit.person in known:
                    best[hit.person] = max(best.get(hit.person, -1.0), hit.score)
            ranked = sorted(best.items(), key=lambda kv: -kv[1])[: max(1, min(limit, 50))]
            out.append(Found(bbox=list(rec.bbox), matches=[
                Match(person=pid, name=known[pid].name, label=label(pid, known[pid].name), similarity=round(sim, 4))
                for pid, sim in ranked]))
        return out

    @operation(reads_only=True)
    def view(self, photo: int) -> PhotoView:
        """A photo with every face box (in the stored pixels' frame) and its person's label."""
        from ..errors import NotFound
        from ..store import reads

        with self.lib.db.read() as s:
            row = reads.get_photo(s, photo)
            if row is None or row.status != "ok":
                raise NotFound(f"there is no photo {photo}", "go back to the people page")
            faces = reads.faces(s, photo_id=photo)
            persons = reads.persons(s)
        return PhotoView(id=row.id, name=Path(row.path).name, taken=row.taken_at, taken_estimated=row.taken_estimated,
                         width=row.width, height=row.height,
                         faces=[FaceInPhoto(id=f.id, bbox=f.bbox, person=f.person_id,
                                            name=persons[f.person_id].label if f.person_id in persons else None,
                                            ignored=f.ignored)
                                for f in sorted(faces, key=lambda f: f.x1)])

    @operation(reads_only=True)
    def uploads(self, names: list[str]) -> list[Upload]:
        """What became of uploaded files (inbox NAMES): waiting, indexed with N faces, or failed and why."""
        from ..media.inbox import inbox
        from ..store import reads

        folder = inbox(self.lib.root)
        out: list[Upload] = []
        with self.lib.db.read() as s:
            for name in names[:1000]:
                path = folder / os.path.basename(name)
                row = reads.photo_at(s, str(path))
                if row is None:
                    out.append(Upload(name=path.name, state="waiting"))
                elif row.status != "ok":
                    out.append(Upload(name=path.name, state="failed", reason=row.error))
                elif reads.awaiting_assignment(s, row.id):  # who is in it is not settled yet
                    out.append(Upload(name=path.name, state="waiting"))
                else:
                    n = reads.photo_face_counts(s, [row.id]).get(row.id, 0)
                    out.append(Upload(name=path.name, state="ok", faces=n, photo=row.id))
        return out

    # -- files for the page --------------------------------------------------------------------

    def face_crop(self, face: int) -> Path:
        from ..outputs import thumbs

        return thumbs.face_thumb(self.lib, face)

    def cached_face_crop(self, face: int) -> Path | None:
        """A crop made before, found without the database (an index run may hold the writer)."""
        from ..outputs.thumbs import THUMBS

        path = self.lib.root / THUMBS / f"f{face}.jpg"
        return path if path.is_file() else None

    def cached_preview(self, photo: int, large: bool = False) -> Path | None:
        """A preview made before, found by a read (NotFound at once for an unknown photo)."""
        from ..outputs import thumbs

        return thumbs.cached_preview(self.lib, photo, large=large)

    def preview(self, photo: int, large: bool = False) -> Path:
        from ..outputs import thumbs

        return thumbs.photo_thumb(self.lib, photo, large=large)

    def album_zip(self, person: int | None) -> Iterator[bytes]:
        from ..outputs import zips

        return zips.album_zip(self.lib, person)

    def save_upload(self, name: str, stream: BinaryIO) -> Path:
        from ..media.inbox import inbox, save_upload

        return save_upload(inbox(self.lib.root), name, stream)
