"""Where a photo's sidecar is, and reading a photo's metadata from its bytes and its sidecar.

A sidecar is ``photo.jpg.xmp`` (digiKam, darktable) or ``photo.xmp`` (Lightroom), ``.XMP``
too; when both exist the first wins. Its signature (name, size, mtime) is kept with the
photo, so a changed sidecar counts as a change of its photo without reading the photo again.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import replace

from . import packet
from .regions import Metadata, merged, of

SUFFIXES = (".xmp", ".XMP")
MAX_SIDECAR_BYTES = 4 * 2**20  # digiKam's are a few kB; a larger one is not a sidecar


def candidates(photo: str) -> list[str]:
    """The sidecar names a photo may have, the preferred first."""
    stem = os.path.splitext(photo)[0]
    return [photo + s for s in SUFFIXES] + [stem + s for s in SUFFIXES]


def find(photo: str, names: Collection[str] | None = None) -> str | None:
    """The photo's sidecar, None when it has none. ``names``: the file names of its folder,
    when the caller listed it already (then nothing more is asked of the disk)."""
    for path in candidates(photo):
        if names is not None:
            if os.path.basename(path) in names:
                return path
        elif os.path.isfile(path):
            return path
    return None


def signature(sidecar: str | None) -> str | None:
    """What changes when the sidecar does: its name, size and mtime; None without one."""
    if sidecar is None:
        return None
    try:
        st = os.stat(sidecar)
    except OSError:
        return None
    return f"{os.path.basename(sidecar)}:{st.st_size}:{st.st_mtime_ns}"


def photos_of(sidecar: str) -> list[str]:
    """The photos a sidecar may belong to (for the daemon's events): ``a.jpg.xmp`` is a.jpg's,
    ``a.xmp`` is any ``a.*`` photo's beside it."""
    from ..media.imaging import EXTENSIONS

    base, ext = os.path.splitext(sidecar)
    if ext not in SUFFIXES:
        return []
    if os.path.splitext(base)[1].lower() in EXTENSIONS:
        return [base]
    folder, stem = os.path.split(base)
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return []
    return sorted(os.path.join(folder, n) for n in names
                  if os.path.splitext(n)[0] == stem and os.path.splitext(n)[1].lower() in EXTENSIONS)


def read_sidecar(path: str) -> tuple[Metadata | None, str | None]:
    """A sidecar's metadata, or the one line saying why it cannot be read (it is left alone)."""
    from ..media.imaging import open_regular

    try:
        with open_regular(path) as fh:  # a FIFO named like a sidecar must not stop the index run
            data = fh.read(MAX_SIDECAR_BYTES + 1)
    except OSError as exc:
        return None, f"the sidecar {path} cannot be read: {exc.strerror or exc}"
    if len(data) > MAX_SIDECAR_BYTES:
        return None, f"the sidecar {path} is larger than {MAX_SIDECAR_BYTES} bytes: not read"
    if not data.strip():  # an empty file (a program that made it and wrote nothing yet)
        return Metadata(where="sidecar"), None
    try:
        return packet.read(data, lambda meta: of(meta, "sidecar")), None
    except packet.Damaged as exc:
        return None, f"the sidecar {path} is damaged ({exc}): its names are not read; fix or remove it"


def read(data: bytes, sidecar: str | None) -> Metadata | None:
    """A photo's metadata from its bytes (already in memory) and its sidecar; None when neither
    holds anything we read. Exempi is asked only when a packet names a schema we read, or a
    sidecar exists. Problems (a damaged packet or sidecar) ride along as lines."""
    problems: list[str] = []
    own: Metadata | None = None
    found = packet.find_packet(data)
    if found is not None and packet.wanted(found):
        try:
            # the photo's own orientation is EXIF's (the decoder reads it): only a sidecar's overrides it
            own = replace(packet.read(found, lambda meta: of(meta, "photo")), orientation=None)
        except packet.Damaged as exc:
            problems.append(f"the photo's own XMP is damaged ({exc}): its names are not read")
    side: Metadata | None = None
    if sidecar is not None:
        side, problem = read_sidecar(sidecar)
        if problem:
            problems.append(problem)
    meta = merged(own, side)
    if meta is None:
        return Metadata(problems=problems) if problems else None
    return replace(meta, problems=meta.problems + problems)
