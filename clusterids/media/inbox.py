"""The inbox: uploaded photos land here (a folder the daemon watches) under safe names."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO

from ..errors import UserError
from .imaging import EXTENSIONS

MAX_UPLOAD = 200 * 1024 * 1024
SAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def inbox(library: Path) -> Path:
    """The library's inbox folder (made when missing)."""
    folder = library / "inbox"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # the library is its owner's only (i22.10)
    return folder


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


def save_upload(folder: Path, name: str, stream: BinaryIO) -> Path:
    """Save an uploaded photo into the inbox ``folder`` (a watched one) under a safe, unused name."""
    clean = safe_upload_name(name)
    check_photo_bytes(clean, stream)
    stem, ext = os.path.splitext(clean)
    tmp = folder / f".upload-{secrets.token_hex(8)}"
    size = 0
    # ours alone (never a file or FIFO that was there) and the owner's only, as the library is
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
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
