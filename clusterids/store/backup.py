"""The copy of the library database kept as the way back from a damaged file."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

BACKUP_FILE = "library.db.bak"
DB_FILE = "library.db"


def backup(root: Path, hours: float) -> None:
    """Keep a copy of the database (SQLite's online backup: consistent while in use) at most
    ``hours`` old. 0: never."""
    bak = root / BACKUP_FILE
    if hours <= 0 or (bak.exists() and time.time() - bak.stat().st_mtime < hours * 3600):
        return
    tmp = root / (BACKUP_FILE + ".tmp")
    try:
        with contextlib.closing(sqlite3.connect(root / DB_FILE)) as src, \
                contextlib.closing(sqlite3.connect(tmp)) as dst:
            if src.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                return  # never replace a good copy by a damaged one
            src.backup(dst)
        tmp.chmod(0o600)
        os.replace(tmp, bak)
    except (OSError, sqlite3.Error):
        tmp.unlink(missing_ok=True)  # a full disk: the old copy stays, and the work goes on
