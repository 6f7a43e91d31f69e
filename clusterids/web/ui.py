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
PHOTO_LARGE_PX = 1280  # the photo viewer
MAX_UPLOAD = 200 * 1024 * 1024
SAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def inbox(lib: Library) -> Path:
    folder = lib.root / "inbox"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


SORTS = ("photos", "name", "newest")


def people_page(lib: Library, include_hidden: bool = False, offset: int = 0, limit: int = 200,
                sort: str = "photos", q: str = "", unnamed: bool = True) -> dict[str, Any]:
    """A page of persons with a cover face each, sorted and filtered, and the count of unknown faces."""
    if sort not in SORTS:
        raise UserError(f"cannot sort people by {sort!r}", f"sort by one of: {', '.join(SORTS)}")
    rows = people(lib, include_hidden, include_empty=False, covers=True)
    needle = q.strip().casefold()
    if needle:
        rows = [r for r in rows if needle in (r["name"] or f"Person_{r['id']}").casefold()]
    if not unnamed:
        rows = [r for r in rows if r["name"]]
    if sort == "name":  # named first, alphabetically; then the unnamed by id
        rows.sort(key=lambda r: (r["name"] is None, (r["name"] or "").casefold(), r["id"]))
    elif sort == "newest":
        rows.sort(key=lambda r: (r["newest"] or "", r["id"]), reverse=True)
    with lib.session() as s:
        unknown = s.scalar(select(func.count(Face.id)).where(Face.person_id.is_(None))) or 0
    return {"total": len(rows), "unknown": unknown, "people": rows[offset : offset + limit]}


def person_page(lib: Library, person: int | None, offset: int = 0, limit: int = 300) -> dict[str, Any]:
    """A person's faces and photos, the photos by date taken (``person`` None: the unknown faces)."""
    with lib.session() as s:
        q = select(Face.id, Face.photo_id, Face.det_score).order_by(Face.id)
        if person is None:
            q = q.where(Face.person_id.is_(None))
            info: dict[str, Any] = {"id": None, "name": "Unknown faces", "hidden": False}
        else:
            p = s.get(Person, person)
            if p is None or p.merged_into is not None:
                raise NotFound(f"there is no person {person}", "go back to the people page")
            q = q.where(Face.person_id == person)
            info = {"id": p.id, "name": p.name, "hidden": p.hidden, "cover": p.cover_face_id}
        faces = s.execute(q).all()
        photo_ids = sorted({f[1] for f in faces})
        dated = sorted(((t or "", pid) for pid, t in s.execute(
            select(Photo.id, Photo.taken_at).where(Photo.id.in_(photo_ids[: 20 * limit])))), reverse=True)
    return {**info, "total_faces": len(faces), "has_album": person is not None and not info["hidden"],
            "faces": [{"id": f[0], "photo": f[1], "det_score": f[2]} for f in faces[offset : offset + limit]],
            "total_photos": len(photo_ids),
            "photos": [{"id": pid, "taken": t or None} for t, pid in dated[:limit]]}


def photo_view(lib: Library, photo_id: int) -> dict[str, Any]:
    """A photo with every face box (in the stored pixels' frame) and its person's name."""
    with lib.session() as s:
        photo = s.get(Photo, photo_id)
        if photo is None or photo.status != "ok":
            raise NotFound(f"there is no photo {photo_id}", "go back to the people page")
        names = {p.id: p.name for p in s.scalars(select(Person).join(Face, Face.person_id == Person.id)
                                                   .where(Face.photo_id == photo_id))}
        faces = [{"id": f.id, "bbox": f.bbox, "person": f.person_id,
                  "name": (names.get(f.person_id) or f"Person_{f.person_id}") if f.person_id else None}
                 for f in sorted(photo.faces, key=lambda f: f.x1)]
        return {"id": photo.id, "name": Path(photo.path).name, "taken": photo.taken_at,
                "width": photo.width, "height": photo.height, "faces": faces}


def upload_states(lib: Library, names: list[str]) -> list[dict[str, Any]]:
    """What became of uploaded files (inbox names): waiting, indexed with N faces, or failed and why."""
    folder = inbox(lib)
    out: list[dict[str, Any]] = []
    with lib.session() as s:
        for name in names:
            path = folder / os.path.basename(name)
            photo = s.scalar(select(Photo).where(Photo.path == str(path)))
            if photo is None:
                out.append({"name": path.name, "state": "waiting"})
            elif photo.status != "ok":
                out.append({"name": path.name, "state": "failed", "reason": photo.error})
            else:
                out.append({"name": path.name, "state": "ok", "faces": len(photo.faces)})
    return out


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
    import cv2  # loaded by the first thumbnail, not by every command

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
    """A face's crop, made once: the first request crops every face of its photo from one decode."""
    path = lib.root / THUMBS / f"f{face_id}.jpg"
    if path.exists():
        return path
    with lib.session() as s:
        face = s.get(Face, face_id)
        if face is None:
            raise NotFound(f"no face {face_id}", "reload the page")
        photo_id = face.photo_id
    make_face_thumbs(lib, photo_id)
    if not path.exists():
        raise NotFound(f"no face {face_id}", "reload the page")
    return path


def make_face_thumbs(lib: Library, photo_id: int) -> int:
    """Crop and cache every face of one photo that has no crop yet; the number made."""
    folder = lib.root / THUMBS
    with lib.session() as s:
        boxes = [(f.id, f.bbox) for f in s.scalars(select(Face).where(Face.photo_id == photo_id))
                 if not (folder / f"f{f.id}.jpg").exists()]
    if not boxes:
        return 0
    import cv2

    d = _decoded(_photo(lib, photo_id)[0], 2048, lib.settings.max_pixels)
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
    with lib.session() as s:
        rows = s.execute(select(Face.id, Face.photo_id).order_by(Face.person_id.is_not(None), Face.id)).all()
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


def photo_thumb(lib: Library, photo_id: int, large: bool = False) -> Path:
    path, sha = _photo(lib, photo_id)
    px = PHOTO_LARGE_PX if large else PHOTO_PX

    def make() -> bytes:
        return _jpeg(_decoded(path, px, lib.settings.max_pixels).bgr)

    # keyed by content too: a photo changed in place keeps its id but gets a new thumbnail
    return _cached(lib, f"p{photo_id}-{sha[:12]}{'-l' if large else ''}.jpg", make)


def prune_thumbs(lib: Library) -> int:
    """Remove cached thumbnails of faces and photos that are gone or changed."""
    folder = lib.root / THUMBS
    if not folder.is_dir():
        return 0
    with lib.session() as s:
        faces = {f"f{i}.jpg" for i in s.scalars(select(Face.id))}
        photos = {f"p{i}-{(sha or '')[:12]}{large}.jpg" for i, sha in s.execute(select(Photo.id, Photo.sha256))
                  for large in ("", "-l")}
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
