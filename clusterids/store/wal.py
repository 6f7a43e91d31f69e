"""SQLite's write-ahead log, watched (i22.11): a commit lives in ``library.db-wal`` until a
checkpoint copies it into ``library.db``. A WAL deleted or cut short after a crash drops those
commits, and SQLite says nothing: it opens the older database it finds.

So a library keeps a marker beside its database, ``library.db.open``, from the moment it opens
the database until its last connection has closed and SQLite has removed the WAL (a clean
close). At open: a marker with no WAL beside it (or a ``-shm`` with no WAL) means the last
session ended without closing and its WAL has gone since: what it committed after its last
checkpoint is lost from the database, and the corrections among it are still in the plain
journal (store/corrections_log.py), which ``clusterids restore`` replays. A WAL whose length is no
whole number of frames was cut short: its last commits may be lost.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

MARKER_SUFFIX = ".open"
WAL_HEADER, FRAME_HEADER = 32, 24


@dataclass(frozen=True)
class WalLoss:
    kind: str  # "gone" | "truncated"
    wal: Path
    marker: Path


def marker_of(db: Path) -> Path:
    return db.with_name(db.name + MARKER_SUFFIX)


def inspect(db: Path) -> WalLoss | None:
    """What the files beside ``db`` say before SQLite opens it (opening makes a new WAL)."""
    wal, shm, marker = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), marker_of(db)
    if not db.exists():
        return None
    if not wal.exists():
        if marker.exists() or shm.exists():
            return WalLoss("gone", wal, marker)
        return None
    if _cut_short(wal):
        return WalLoss("truncated", wal, marker)
    return None


def _cut_short(wal: Path) -> bool:
    size = wal.stat().st_size
    if size == 0:
        return False  # reset by a checkpoint: nothing in it
    if size < WAL_HEADER:
        return True
    with wal.open("rb") as fh:
        header = fh.read(WAL_HEADER)
    page = struct.unpack(">I", header[8:12])[0]
    if page < 512 or page > 65536 or page & (page - 1):
        return True  # not a WAL header any more
    return (size - WAL_HEADER) % (FRAME_HEADER + page) != 0


def opened(db: Path) -> None:
    """The database is open in this process: a crash from now on leaves the marker."""
    marker = marker_of(db)
    if not marker.exists():
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)


def closed(db: Path) -> None:
    """The engine was disposed: once SQLite has removed the WAL (no other process holds the
    database), the session closed cleanly and the marker goes."""
    wal = db.with_name(db.name + "-wal")
    if not wal.exists():
        marker_of(db).unlink(missing_ok=True)
        if wal.exists():  # another process opened the database meanwhile, and found the marker there
            opened(db)


def forget(db: Path) -> None:
    """A database put back from a copy (store/backup.py ``put_back``): the old WAL's story is over."""
    marker_of(db).unlink(missing_ok=True)
