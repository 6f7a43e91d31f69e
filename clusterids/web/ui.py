"""What the web page needs beyond the CLI's operations: covers, thumbnails, uploads, zips.

Files are only ever found through the database (a face id, a photo id, a person id), never
from a path the browser sends, so nothing outside the library's photos can be served.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import cv2
from sqlalchemy import func, select

from ..albums import desired
from ..errors import NotFound, UserError
from ..imaging import EXTENSIONS, BadImage, decode
from ..queries import people
from ..store.db import Face, Person, Photo
from ..store.library import Library

THUMBS = "thumbs"
FACE_PX = 160
PHOTO_PX = 360
MAX_UPLOAD = 200 * 1024 * 1024
SAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def inbox(lib: Library) -> Path:
    folder = lib.root / "inbox"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def people_page(lib: Library, include_hidden: bool = False, offset: int = 0, limit: int = 200) -> dict[str, Any]:
    """A page of persons with a cover face each, and the count of unknown faces."""
    rows = people(lib, include_hidden, include_empty=False, covers=True)
    with lib.session() as s:
        unknown = s.scalar(select(func.count(Face.id)).where(Face.person_id.is_(None))) or 0
    return {"total": len(rows), "unknown": unknown, "people": rows[offset : offset + limit]}


def person_page(lib: Library, person: int | None, offset: int = 0, limit: int = 300) -> dict[str, Any]:
    """A person's faces and photos (``person`` None: the unknown faces)."""
    with lib.session() as s:
        q = select(Face.id, Face.photo_id, Face.det_score).order_by(Face.id)
        if person is None:
            q = q.where(Face.person_id.is_(None))
            info: dict[str, Any] = {"id": None, "name": "Unknown faces", "hidden": False}
        else:
            p = s.get(Person, person)
            if p is None or p.merged_into is not None:
                raise NotFound(f"no person {person}", "go back to the people page")
            q = q.where(Face.person_id == person)
            info = {"id": p.id, "name": p.name, "hidden": p.hidden}
        faces = s.execute(q).all()
    photo_ids = sorted({f[1] for f in faces})
    return {**info, "total_faces": len(faces),
            "faces": [{"id": f[0], "photo": f[1], "det_score": f[2]} for f in faces[offset : offset + limit]],
            "photos": photo_ids[:limit]}


def _photo(lib: Library, photo_id: int) -> tuple[Path, str]:
    """A photo's path and content hash, by id: the only way a file is found for the page."""
    with lib.session() as s:
        photo = s.get(Photo, photo_id)
        if photo is None or photo.status != "ok":
            raise NotFound(f"no photo {photo_id}", "reload the page")
        return Path(photo.path), photo.sha256 or ""


def _cached(lib: Library, name: str, make: Any) -> Path:
    folder = lib.root / THUMBS
    folder.mkdir(exist_ok=True)
    path = folder / name
    if not path.exists():
        data = make()
        tmp = folder / f".{name}.{secrets.token_hex(4)}"
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return path


def _jpeg(img: Any) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise UserError("cannot encode a thumbnail", "try again")
    return bytes(buf)


def _decoded(path: Path, max_side: int, max_pixels: int) -> Any:
    try:
        return decode(path.read_bytes(), max_side, max_pixels)
    except (OSError, BadImage) as exc:
        raise NotFound(f"the photo {path} cannot be read now: {exc}", "index the folder again") from exc


def face_thumb(lib: Library, face_id: int) -> Path:
    with lib.session() as s:
        face = s.get(Face, face_id)
        if face is None:
            raise NotFound(f"no face {face_id}", "reload the page")
        box, photo_id = face.bbox, face.photo_id
    key = f"f{face_id}.jpg"

    def make() -> bytes:
        d = _decoded(_photo(lib, photo_id)[0], 2048, lib.settings.max_pixels)
        x1, y1, x2, y2 = (v / d.scale for v in box)
        m = 0.3 * max(x2 - x1, y2 - y1)
        h, w = d.bgr.shape[:2]
        crop = d.bgr[max(0, int(y1 - m)) : min(h, int(y2 + m)), max(0, int(x1 - m)) : min(w, int(x2 + m))]
        side = max(crop.shape[:2]) or 1
        f = FACE_PX / side
        return _jpeg(cv2.resize(crop, (max(1, int(crop.shape[1] * f)), max(1, int(crop.shape[0] * f))),
                                interpolation=cv2.INTER_AREA))

    return _cached(lib, key, make)


def photo_thumb(lib: Library, photo_id: int) -> Path:
    path, sha = _photo(lib, photo_id)

    def make() -> bytes:
        return _jpeg(_decoded(path, PHOTO_PX, lib.settings.max_pixels).bgr)

    # keyed by content too: a photo changed in place keeps its id but gets a new thumbnail
    return _cached(lib, f"p{photo_id}-{sha[:12]}.jpg", make)


def prune_thumbs(lib: Library) -> int:
    """Remove cached thumbnails of faces and photos that are gone or changed."""
    folder = lib.root / THUMBS
    if not folder.is_dir():
        return 0
    with lib.session() as s:
        faces = {f"f{i}.jpg" for i in s.scalars(select(Face.id))}
        photos = {f"p{i}-{(sha or '')[:12]}.jpg" for i, sha in s.execute(select(Photo.id, Photo.sha256))}
    removed = 0
    for entry in folder.iterdir():
        if entry.name not in faces and entry.name not in photos and not entry.name.startswith("."):
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def safe_upload_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    stem, ext = os.path.splitext(base)
    if ext.lower() not in EXTENSIONS:
        raise UserError(f"{base!r} is not a photo we read", "upload JPEG, PNG, WebP, TIFF, BMP or HEIC files")
    stem = SAFE.sub("_", stem).strip(" .") or "photo"
    return f"{stem[:100]}{ext.lower()}"


def is_photo_bytes(head: bytes) -> bool:
    """Whether a file starts like a photo format we read (the name's extension is not proof)."""
    return (head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"BM"))
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") or head[4:8] == b"ftyp")


def check_photo_bytes(name: str, stream: BinaryIO) -> None:
    """Refuse an upload whose first bytes are no photo's; the stream is left at its start."""
    head = stream.read(16)
    stream.seek(0)
    if not is_photo_bytes(head):
        raise UserError(f"{os.path.basename(name)[:100]!r} is not a photo we read (its content is no JPEG, PNG, "
                        "WebP, TIFF, BMP or HEIC)", "upload photos")


def save_upload(lib: Library, name: str, stream: BinaryIO) -> Path:
    """Save an uploaded photo into the inbox (a watched folder) under a safe, unused name."""
    folder = inbox(lib)
    clean = safe_upload_name(name)
    check_photo_bytes(clean, stream)
    stem, ext = os.path.splitext(clean)
    tmp = folder / f".upload-{secrets.token_hex(8)}"
    size = 0
    with tmp.open("wb") as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD:
                out.close()
                tmp.unlink()
                raise UserError(f"{clean} is larger than {MAX_UPLOAD // 2**20} MB", "upload a smaller file")
            out.write(chunk)
    target = folder / clean
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{stem} ({n}){ext}"
    os.replace(tmp, target)
    return target


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are handed out as they come (zip streaming)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.parts.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def album_zip(lib: Library, person: int | None) -> Iterator[bytes]:
    """A zip of one person's album (or all albums), a folder per person, streamed file by file."""
    albums = [a for a in desired(lib) if person is None or a.person == person]
    if person is not None and not albums:
        raise NotFound(f"no album for person {person}", "the person may be hidden or have no photos")

    def chunks() -> Iterator[bytes]:
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as zf:
            for album in albums:
                for entry, original in album.entries.items():
                    try:
                        with open(original, "rb") as src, zf.open(f"{album.folder}/{entry}", "w",
                                                                   force_zip64=True) as dst:
                            while block := src.read(1 << 20):
                                dst.write(block)
                                yield sink.take()
                    except OSError:
                        continue  # a photo that vanished since: the rest of the zip goes on
                    yield sink.take()
        yield sink.take()

    return chunks()
