"""Cached thumbnails: face crops and photo previews, made once and found by id only, so that
nothing outside the library's photos can be served."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from ..errors import NotFound, UserError
from ..media.imaging import BadImage, decode, read_capped
from ..store import reads
from ..store.library import Library

THUMBS = "thumbs"
FACE_PX = 160
PHOTO_PX = 360
PHOTO_LARGE_PX = 1280  # the photo viewer


def _photo(lib: Library, photo_id: int) -> tuple[Path, str, int | None]:
    """A photo's path, content hash and orientation (i20: a sidecar's may replace its EXIF one),
    by id: the only way a file is found for the page."""
    with lib.db.read() as s:
        photo = reads.get_photo(s, photo_id)
    if photo is None or photo.status != "ok":
        raise NotFound(f"no photo {photo_id}", "reload the page")
    return Path(photo.path), photo.sha256 or "", photo.orientation


def _cached(lib: Library, name: str, make: Any) -> Path:
    folder = lib.root / THUMBS
    folder.mkdir(mode=0o700, exist_ok=True)  # the library is its owner's only (i22.10)
    path = folder / name
    if not path.exists():
        data = make()
        tmp = folder / f".{name}.{secrets.token_hex(4)}"
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    return path


def _jpeg(img: Any) -> bytes:
    import cv2  # loaded by the first thumbnail, not by every command

    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise UserError("cannot encode a thumbnail", "try again")
    return bytes(buf)


def _decoded(lib: Library, path: Path, max_side: int, orientation: int | None = None) -> Any:
    try:  # a regular file only, within its size: a FIFO swapped in for the photo must not block (i22)
        data = read_capped(str(path), lib.settings.max_file_bytes)
        return decode(data, max_side, lib.settings.max_pixels, orientation, slack=1.0)
    except (OSError, BadImage) as exc:
        raise NotFound(f"the photo {path} cannot be read now: {exc}", "index the folder again") from exc


def face_thumb(lib: Library, face_id: int) -> Path:
    """A face's crop, made once: the first request crops every face of its photo from one decode."""
    path = lib.root / THUMBS / f"f{face_id}.jpg"
    if path.exists():
        return path
    with lib.db.read() as s:
        face = reads.get_face(s, face_id)
    if face is None:
        raise NotFound(f"no face {face_id}", "reload the page")
    make_face_thumbs(lib, face.photo_id)
    if not path.exists():
        raise NotFound(f"no face {face_id}", "reload the page")
    return path


def make_face_thumbs(lib: Library, photo_id: int) -> int:
    """Crop and cache every face of one photo that has no crop yet; the number made."""
    folder = lib.root / THUMBS
    with lib.db.read() as s:
        boxes = [(f.id, f.bbox) for f in reads.faces(s, photo_id=photo_id) if not (folder / f"f{f.id}.jpg").exists()]
    if not boxes:
        return 0
    import cv2

    path, _, orientation = _photo(lib, photo_id)
    d = _decoded(lib, path, 2048, orientation)
    h, w = d.bgr.shape[:2]
    for fid, box in boxes:
        x1, y1, x2, y2 = (v / d.scale for v in box)
        m = 0.3 * max(x2 - x1, y2 - y1)
        crop = d.bgr[max(0, int(y1 - m)) : min(h, int(y2 + m)), max(0, int(x1 - m)) : min(w, int(x2 + m))]
        side = max(crop.shape[:2]) or 1
        f = FACE_PX / side
        _cached(lib, f"f{fid}.jpg", lambda c=crop, f=f: _jpeg(cv2.resize(
            c, (max(1, int(c.shape[1] * f)), max(1, int(c.shape[0] * f))), interpolation=cv2.INTER_AREA)))
    return len(boxes)


def photos_needing_crops(lib: Library) -> list[int]:
    """Photos with a face that has no cached crop yet, those with unknown faces first."""
    folder = lib.root / THUMBS
    have = {e.name for e in folder.iterdir()} if folder.is_dir() else set()
    with lib.db.read() as s:
        rows = reads.unknown_first(s)
    return list(dict.fromkeys(pid for fid, pid in rows if f"f{fid}.jpg" not in have))


def warm_face_thumbs(lib: Library, photos: list[int] | None = None, limit: int = 10_000) -> int:
    """The background pass: crops for faces that have none yet, photo by photo; the number made."""
    made = 0
    for pid in (photos_needing_crops(lib) if photos is None else photos)[:limit]:
        try:
            made += make_face_thumbs(lib, pid)
        except UserError:
            continue  # a photo that cannot be read now: its crops are made on request later, or never
    return made


def _preview_name(photo_id: int, sha: str, large: bool) -> str:
    # keyed by content too: a photo changed in place keeps its id but gets a new thumbnail
    return f"p{photo_id}-{sha[:12]}{'-l' if large else ''}.jpg"


def cached_preview(lib: Library, photo_id: int, large: bool = False) -> Path | None:
    """A photo's preview made before (NotFound for a photo the library does not have)."""
    _, sha, _ = _photo(lib, photo_id)
    path = lib.root / THUMBS / _preview_name(photo_id, sha, large)
    return path if path.is_file() else None


def photo_thumb(lib: Library, photo_id: int, large: bool = False) -> Path:
    path, sha, orientation = _photo(lib, photo_id)
    px = PHOTO_LARGE_PX if large else PHOTO_PX

    def make() -> bytes:
        return _jpeg(_decoded(lib, path, px, orientation).bgr)

    return _cached(lib, _preview_name(photo_id, sha, large), make)


def prune_thumbs(lib: Library) -> int:
    """Remove cached thumbnails of faces and photos that are gone or changed."""
    folder = lib.root / THUMBS
    if not folder.is_dir():
        return 0
    with lib.db.read() as s:
        faces = {f"f{i}.jpg" for i in reads.face_ids(s)}
        photos = {f"p{i}-{(sha or '')[:12]}{large}.jpg" for i, sha in reads.photo_hashes(s)
                  for large in ("", "-l")}
    removed = 0
    for entry in folder.iterdir():
        if entry.name not in faces and entry.name not in photos and not entry.name.startswith("."):
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def forget_faces(lib: Library, face_ids: list[int]) -> None:
    """The crops of faces that are gone."""
    folder = lib.root / THUMBS
    for fid in face_ids:
        (folder / f"f{fid}.jpg").unlink(missing_ok=True)
