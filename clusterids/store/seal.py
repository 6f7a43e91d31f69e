"""The embedded vector index's seal: its point count, kept beside it when its owner closes it
cleanly, with the name, size and modification time of every file it had then.

A quick ``status`` (cli/quick.py) compares the files with the seal and, where nothing has changed,
takes the count from it without opening the engine (0.2 s at 100k faces). Opening the index
removes its seal first, so a process that stops without closing it leaves none; a file written,
cut, emptied or replaced since the close no longer matches, and the quick read opens the engine
as the full open does, which says what is wrong. The seal is derived: without it a read only
takes longer.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

Files = list[list[str | int]]


def seal_path(folder: Path) -> Path:
    return folder.with_name(folder.name + ".seal")


def fingerprint(folder: Path) -> Files:
    """Every file under ``folder`` as [path relative to it, size, mtime in ns], sorted."""
    out: Files = []
    for here, _dirs, files in os.walk(folder):
        for name in files:
            st = os.stat(os.path.join(here, name))
            out.append([os.path.relpath(os.path.join(here, name), folder), st.st_size, st.st_mtime_ns])
    return sorted(out, key=lambda f: str(f[0]))


def write(folder: Path, count: int) -> None:
    """Seal ``folder`` (closed, flushed) holding ``count`` points; a failure leaves no seal."""
    path = seal_path(folder)
    temp = path.with_name(path.name + ".tmp")
    try:
        body = json.dumps({"points": count, "files": fingerprint(folder)}).encode()
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(temp, path)
    except OSError:  # a full disk or a read-only folder: no seal, and quick reads open the engine
        remove(folder)
        temp.unlink(missing_ok=True)


def remove(folder: Path) -> None:
    with contextlib.suppress(OSError):  # a folder we cannot write: the engine then says so
        seal_path(folder).unlink(missing_ok=True)


def sealed_count(folder: Path) -> int | None:
    """The sealed point count where every file is as the seal says, else None."""
    try:
        seal = json.loads(seal_path(folder).read_bytes())
        if isinstance(seal, dict) and isinstance(seal.get("points"), int) and seal.get("files") == fingerprint(folder):
            return int(seal["points"])
    except (OSError, ValueError):
        pass
    return None
