"""The XMP state kept with each photo (``photos.xmp``, shaped by store/photos.py ``xmp_state``)
as the names step and the sidecar writer change it (i20): which names are applied, what we
wrote, the sidecar's signature after our own write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from . import outbox
from .database import Database
from .db import Face, Photo


def mark_applied(db: Database, applied: Mapping[int, tuple[list[str], frozenset[int]]]) -> None:
    """The names of these photos are corrections now: photo -> (the keys applied, the faces they
    were matched with). A photo whose faces changed meanwhile (a worker stored it again) is left
    to the mark its new faces made."""
    with db.transaction() as s:
        for photo_id, (keys, faces) in applied.items():
            photo = s.get(Photo, photo_id)
            if photo is None or set(s.scalars(select(Face.id).where(Face.photo_id == photo_id))) != faces:
                continue
            photo.xmp = {**(photo.xmp or {}), "applied": keys}


def record_written(db: Database, photo_id: int, state: dict[str, Any], pending: bool, sidecar_sig: str | None = None,
                   content: tuple[int, int, str] | None = None) -> bool:
    """What we wrote into a photo's XMP, as read back: its state; the sidecar's new signature, so
    that our own write is not read as a change; or, after an embed, the photo's own size, mtime
    and hash (``content``: a change made by our hand, not one to index again). ``pending``: the
    XMP gives names not applied yet (another program's). False when the photo is gone."""
    with db.transaction() as s:
        photo = s.get(Photo, photo_id)
        if photo is None:
            return False
        photo.xmp = state or None
        if content is not None:
            photo.size, photo.mtime_ns, photo.sha256 = content
        else:
            photo.xmp_sidecar = sidecar_sig
        if pending:
            outbox.mark(s, outbox.NAMES, [photo_id])
        return True
