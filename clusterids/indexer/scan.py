"""Stage 1: walk the folders and stat every photo; nothing is opened here."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..media.imaging import EXTENSIONS, not_a_file
from ..store.photos import Seen
from ..xmp import sidecars as xmp_sidecars


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str
    folder: bool = False  # a folder that could not be listed: what the library holds under it stays


def held_back(folder: str, roots: Iterable[str]) -> str | None:
    """The folder that makes the photos of ``folder`` look like a drive not mounted rather than
    removed, or None: the nearest folder there that is empty (a mount point, at any depth), or one
    of the library's own folders (``roots``) not there. A folder deleted inside one that holds
    anything is a deletion."""
    known = set(roots)
    here = os.path.abspath(folder)
    while not os.path.isdir(here):
        if here in known or os.path.lexists(here):
            return here if here in known else None  # a library folder not there; a file in a folder's place
        up = os.path.dirname(here)
        if up == here:
            return None
        here = up
    try:
        with os.scandir(here) as entries:
            empty = next(entries, None) is None
    except OSError:
        return None  # unreadable: the scan says so, and what is under it is kept
    return here if empty else None


def printable(path: str) -> str:
    """A path that can be stored and printed even when its name is not valid UTF-8."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def is_photo_name(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in EXTENSIONS


def stat_photo(path: str, names: set[str] | None = None, sidecars: bool = False) -> Seen | Problem | None:
    """Stat one candidate file: a Seen, a Problem to record, or None when it is no photo.
    ``sidecars``: look for its XMP sidecar too (among ``names``, its folder's, when given)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return Problem(printable(path), "the file name is not valid UTF-8: rename the file")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Problem(path, "vanished, or a link to nothing")
    except OSError as exc:
        return Problem(path, f"cannot stat: {exc.strerror or exc}")
    if stat.S_ISDIR(st.st_mode):
        return None
    why = not_a_file(st.st_mode)
    if why:  # a FIFO or a device named like a photo: failed with its reason, never opened
        return Problem(path, why)
    return Seen(path, st.st_size, st.st_mtime_ns, *sidecar_of(path, names) if sidecars else (None, None))


def sidecar_of(path: str, names: set[str] | None = None) -> tuple[str | None, str | None]:
    """The photo's XMP sidecar and its signature, (None, None) without one (i20)."""
    sidecar = xmp_sidecars.find(path, names)
    return sidecar, xmp_sidecars.signature(sidecar)


def scan(roots: Iterable[Path], skip: Iterable[Path] = (), sidecars: bool = False) -> Iterator[Seen | Problem]:
    """Every photo under ``roots`` (recursively, following links once, hidden names skipped),
    with its XMP sidecar when ``sidecars`` (found in the folder's listing: no extra look-up)."""
    skipped = {os.path.realpath(p) for p in skip}
    seen_dirs: set[str] = set()
    for root in roots:
        top = os.path.abspath(root)
        if not os.path.lexists(top):  # gone: its photos leave the library (see plan)
            continue
        if os.path.isfile(top) or os.path.islink(top) and not os.path.isdir(top):
            hit = stat_photo(top, sidecars=sidecars)
            if hit is not None:
                yield hit
            continue
        errors: list[OSError] = []
        for dirpath, dirnames, filenames in os.walk(top, followlinks=True, onerror=errors.append):
            real = os.path.realpath(dirpath)
            if real in seen_dirs or real in skipped:  # a link loop, or our own albums
                dirnames[:] = []
                continue
            seen_dirs.add(real)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            names = set(filenames)
            for name in sorted(filenames):
                if is_photo_name(name):
                    hit = stat_photo(os.path.join(dirpath, name), names, sidecars)
                    if hit is not None:
                        yield hit
        for err in errors:
            if err.filename and os.path.realpath(err.filename) not in skipped:
                yield Problem(printable(str(err.filename)), f"cannot read the folder: {err.strerror or err}",
                              folder=True)
