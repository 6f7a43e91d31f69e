"""Stage 1: walk the folders and stat every photo; nothing is opened here."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..media.imaging import EXTENSIONS
from ..store.photos import Seen


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


def printable(path: str) -> str:
    """A path that can be stored and printed even when its name is not valid UTF-8."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def is_photo_name(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in EXTENSIONS


def stat_photo(path: str) -> Seen | Problem | None:
    """Stat one candidate file: a Seen, a Problem to record, or None when it is no photo."""
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
    if not os.path.isfile(path):
        return None
    return Seen(path, st.st_size, st.st_mtime_ns)


def scan(roots: Iterable[Path], skip: Iterable[Path] = ()) -> Iterator[Seen | Problem]:
    """Every photo under ``roots`` (recursively, following links once, hidden names skipped)."""
    skipped = {os.path.realpath(p) for p in skip}
    seen_dirs: set[str] = set()
    for root in roots:
        top = os.path.abspath(root)
        if not os.path.lexists(top):  # gone: its photos leave the library (see plan)
            continue
        if os.path.isfile(top) or os.path.islink(top) and not os.path.isdir(top):
            hit = stat_photo(top)
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
            for name in sorted(filenames):
                if is_photo_name(name):
                    hit = stat_photo(os.path.join(dirpath, name))
                    if hit is not None:
                        yield hit
        for err in errors:
            if err.filename and os.path.realpath(err.filename) not in skipped:
                yield Problem(printable(str(err.filename)), f"cannot read the folder: {err.strerror or err}")
