"""A face the detector missed, marked by hand: the box checked against the photo and its faces,
the photo read again, the face embedded from the box (xmp/embed.py: the detector's landmarks
where it finds the face inside the box, else ArcFace's template laid over it)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import NotFound, UserError

if TYPE_CHECKING:
    from ..store.library import Library
    from ..store.photos import NewFace
    from ..store.rows import PhotoRow

SAME_FACE = 0.5  # a box covering half a face already there (or half of it covered by one) is that face


def photo_of(lib: Library, photo: str) -> PhotoRow:
    """The photo ``photo`` names: its id, or its path."""
    import os

    from ..store import reads

    text = photo.strip()
    with lib.db.read() as s:
        row = reads.get_photo(s, int(text)) if text.isascii() and text.isdigit() and int(text) <= reads.MAX_ID \
            else reads.photo_at(s, os.path.abspath(text))
    if row is None or row.status != "ok":
        raise NotFound(f"there is no indexed photo {photo}",
                       "give its path, or its number from the page's address (#/photo/N)")
    return row


def checked_box(lib: Library, photo: PhotoRow, box: list[float]) -> tuple[float, float, float, float]:
    """``box`` (x1, y1, x2, y2 in the photo's pixels as shown) inside the photo, large enough for
    a face, and over no face the photo has; else why not, in one line that names the photo."""
    import os

    from ..store import reads

    if len(box) != 4 or not all(math.isfinite(v) for v in box):
        given = f"{len(box)} numbers" if len(box) != 4 else _box(box)
        raise UserError(f"a face's box is four numbers x1,y1,x2,y2, not {given}",
                        "give the corners in the photo's pixels")
    w, h = photo.width or 0, photo.height or 0
    named = f"photo {photo.id} ({os.path.basename(photo.path)}" + (f", {w}x{h})" if w and h else ")")
    lo_x, hi_x, lo_y, hi_y = min(box[0], box[2]), max(box[0], box[2]), min(box[1], box[3]), max(box[1], box[3])
    if w and h and (hi_x <= 0 or hi_y <= 0 or lo_x >= w or lo_y >= h):
        raise UserError(f"the box {_box(box)} is outside {named}", "give corners inside it")
    x1, y1, x2, y2 = max(0.0, lo_x), max(0.0, lo_y), min(float(w), hi_x), min(float(h), hi_y)
    least = max(8.0, lib.settings.min_face_px / 2)
    if min(x2 - x1, y2 - y1) < least:
        raise UserError(f"the box {_box(box)} is too small for a face in {named}",
                        f"draw it around the whole face, at least {least:g} pixels a side")
    with lib.db.read() as s:
        faces = reads.faces(s, photo_id=photo.id)
    for f in faces:
        if covered((x1, y1, x2, y2), f.bbox) >= SAME_FACE:
            raise UserError(f"{named} has a box on this face already (face {f.id})", "choose that face to name it")
    return round(x1, 2), round(y1, 2), round(x2, 2), round(y2, 2)


def covered(a: Sequence[float], b: Sequence[float]) -> float:
    """How much of the smaller of two boxes the other covers: a loose box drawn around a face
    covers all of it, however much larger (the page asks the same before it asks a name)."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0


def embedded(lib: Library, photo: PhotoRow, box: tuple[float, float, float, float]) -> NewFace:
    """The face in ``box``, embedded by the library's models from the photo as it is now."""
    from ..xmp.embed import region_faces
    from ..xmp.names import decoded_now

    decoded = decoded_now(lib, photo)
    if isinstance(decoded, str):
        raise UserError(f"{photo.path} {decoded}", "check that the photo is there and readable")
    if (decoded.width, decoded.height) != (photo.width, photo.height):
        raise UserError(f"{photo.path} changed since it was indexed",
                        "let the daemon read it again (or run 'clusterids index'), then mark the face")
    return region_faces(lib.model(), lib.settings, decoded, [box], origin="hand")[0]


def _box(box: list[float]) -> str:
    return ",".join(f"{v:g}" for v in box)
