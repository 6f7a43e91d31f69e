"""Reads of a SQLite library on the standard library's ``sqlite3``: what a read-only command
asks when no daemon runs (``cli/quick.py``), without the ORM, the engine or the migrations.

A quick read only ever reads, on a read-only connection. It answers only a library that the
full open (store/library.py) would open as it is: current schema, a library id and a pack, no
first copy to make, files the owner's only, no lost WAL, no repair pending. Anything else is
``None`` from ``open_quick``, and the caller opens the library the full way, which migrates,
repairs or says what is wrong.
The queries are those of store/reads.py (``person_counts``, ``find_person``,
``faces_with_paths``, ``photos_showing``, the counts) and of ``queue.state`` and return the same
rows; tests compare the two.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

from . import backup, journal_tail, wal
from .migrations import HEAD
from .rows import FaceRow, PersonRow, name_key, resolve_person, worker_alive

DB_FILE = "library.db"  # as store/library.py names it
_PERSON = "SELECT id, name, hidden, merged_into, cover_face_id, born FROM persons"
_FACE = ("SELECT faces.id, faces.photo_id, faces.x1, faces.y1, faces.x2, faces.y2, faces.det_score, faces.person_id, "
         "faces.pinned, faces.ignored, photos.path FROM faces JOIN photos ON faces.photo_id = photos.id")


class Unreadable(Exception):
    """The database failed a read (a damaged page): the full way says what, and the way back."""


class QuickLibrary:
    """A read-only connection to a library's database, and the pack it was made with. A read
    that fails inside ``with`` comes out as Unreadable."""

    def __init__(self, conn: sqlite3.Connection, pack: str, dim: int) -> None:
        self.conn = conn
        self.pack = pack
        self.dim = dim

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> QuickLibrary:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        self.close()
        if isinstance(exc, sqlite3.Error):
            raise Unreadable(str(exc)) from exc

    # -- persons ---------------------------------------------------------------------------------

    def person_counts(self) -> list[tuple[PersonRow, int, int]]:
        """Every unmerged person, by id, with their faces and photos (``reads.person_counts``)."""
        counts = {pid: (nf, np_) for pid, nf, np_ in self.conn.execute(
            "SELECT person_id, count(id), count(DISTINCT photo_id) FROM faces WHERE person_id IS NOT NULL "
            "GROUP BY person_id")}
        rows = self.conn.execute(f"{_PERSON} WHERE merged_into IS NULL ORDER BY id")
        return [(p, *counts.get(p.id, (0, 0))) for p in map(_person, rows)]

    def find_person(self, token: str | int) -> PersonRow:
        """A person by id or name (whatever its case); a merged person resolves to the one it
        joined (``reads.find_person``: one rule, ``rows.resolve_person``)."""
        return resolve_person(token, self._get, self._named)

    def _named(self, text: str) -> list[PersonRow]:
        key = name_key(text)
        named = map(_person, self.conn.execute(f"{_PERSON} WHERE name IS NOT NULL AND merged_into IS NULL ORDER BY id"))
        return sorted((p for p in named if name_key(p.name or "") == key), key=lambda p: p.name != text)

    def _get(self, person_id: int) -> PersonRow | None:
        row = self.conn.execute(f"{_PERSON} WHERE id = ?", (person_id,)).fetchone()
        return _person(row) if row is not None else None

    # -- faces and photos ------------------------------------------------------------------------

    def faces_with_paths(self, person_id: int | None = None, unknown: bool = False,
                         ignored: bool = False) -> list[tuple[FaceRow, str]]:
        """Faces with their photo's path, by id (``reads.faces_with_paths``)."""
        where, args = [], []
        if person_id is not None:
            where.append("faces.person_id = ?")
            args.append(person_id)
        if unknown or ignored:
            where.append("faces.person_id IS NULL AND faces.ignored IS " + ("NOT NULL" if ignored else "NULL"))
        sql = _FACE + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY faces.id"
        return [(FaceRow(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9]), r[10])
                for r in self.conn.execute(sql, args)]

    def photos_showing(self, person_ids: list[int], any_of: bool = False) -> list[str]:
        """Paths of the photos showing all of ``person_ids`` (any: ``any_of``), by path."""
        marks = ", ".join("?" * len(person_ids))
        sql = (f"SELECT photos.path FROM photos JOIN faces ON faces.photo_id = photos.id "
               f"WHERE faces.person_id IN ({marks}) GROUP BY photos.id")
        args: list[int] = list(person_ids)
        if not any_of:
            sql += " HAVING count(DISTINCT faces.person_id) = ?"
            args.append(len(person_ids))
        return [path for (path,) in self.conn.execute(sql + " ORDER BY photos.path", args)]


    # -- the library's state ---------------------------------------------------------------------

    def counts(self) -> tuple[int, int, int]:
        """Photos read, faces, photos failed (``reads.photo_count``, ``reads.face_count``)."""
        ok, failed = (self.conn.execute("SELECT count(id) FROM photos WHERE status = ?", (st,)).fetchone()[0]
                      for st in ("ok", "failed"))
        return int(ok), int(self.conn.execute("SELECT count(id) FROM faces").fetchone()[0]), int(failed)

    def failed_files(self) -> list[tuple[str, str | None]]:
        """(path, reason) of every photo that failed, by path (``reads.failed_files``)."""
        return [(p, e) for p, e in self.conn.execute("SELECT path, error FROM photos WHERE status = 'failed' "
                                                      "ORDER BY path")]

    def queue_state(self, lease_seconds: float) -> dict[str, Any]:
        """The queue and the live workers (``queue.state``)."""
        now = time.time()
        claimed = self.conn.execute("SELECT count(id) FROM queue WHERE lease_until >= ?", (now,)).fetchone()[0]
        total = self.conn.execute("SELECT count(id) FROM queue").fetchone()[0]
        rows = self.conn.execute("SELECT id, host, pid, providers, photos_done, seen_at FROM workers "
                                 "WHERE seen_at >= ? ORDER BY id", (now - lease_seconds,))
        workers = [{"id": w, "host": host, "pid": pid, "providers": providers.split(","), "photos_done": done,
                    "seen_seconds_ago": round(now - seen, 1)}
                   for w, host, pid, providers, done, seen in rows if worker_alive(host, pid)]
        return {"queue": {"waiting": total - claimed, "claimed": claimed}, "workers": workers}

    def meta_json(self, key: str) -> dict[str, Any] | None:
        """A stamp kept as JSON in the meta table (``stamps.last``), None when never written."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None


def vector_count(folder: Path) -> int | None:
    """The points in the embedded vector index in ``folder`` (the engine opens it as the full
    open does), or None when it cannot be opened: the full open then says why and what to do."""
    try:
        import qdrant_edge

        shard = qdrant_edge.EdgeShard.load(str(folder))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - any failure (the engine's panics too) is the full open's to report
        return None
    try:
        return int(shard.info().points_count)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001
        return None
    finally:
        with contextlib.suppress(Exception):
            shard.close()


def _person(row: tuple[int, str | None, int, int | None, int | None, str | None]) -> PersonRow:
    return PersonRow(int(row[0]), row[1], bool(row[2]), row[3], row[4], row[5])


def open_quick(root: Path) -> QuickLibrary | None:
    """The library database in ``root`` opened read-only, or None when the full open would do
    more than read it (see the module docstring)."""
    db_file = root / DB_FILE
    try:
        for path in (db_file, root / (DB_FILE + "-wal"), root / (DB_FILE + "-shm")):
            if path.exists() and (path.stat().st_mode & 0o077 or not stat.S_ISREG(path.stat().st_mode)):
                return None  # the full open makes them the owner's only
        if db_file.stat().st_size == 0 or backup.header_says_truncated(db_file) or not backup.any_copy(root):
            return None  # emptied or cut short (the full open says so), or from before copies were kept
        if wal.inspect(db_file) is not None:
            return None  # a lost or cut WAL: the full open says what may be lost
        if (root / backup.PENDING_FILE).exists():
            return None  # a restore cut short: the full open refuses, saying how to finish it
        conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=10.0)
    except (OSError, sqlite3.Error):
        return None
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('library_id', 'model', 'model_key', "
                                 "'dim', 'wal_lost', 'carry_pending', 'journal_seq')").fetchall())
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        # a repair pending (store/library.py pending_repair): the full open's first line says so
        pending = meta.get("wal_lost") or meta.get("carry_pending") or \
            conn.execute("SELECT 1 FROM outbox LIMIT 1").fetchone()
    except sqlite3.Error:
        conn.close()
        return None
    other = backup.folder_id(root) not in (None, meta.get("library_id"))  # the full open says whose it is
    # the journal holds corrections the database lacks: the full open says what to do
    other = other or journal_tail.last_seq(root / journal_tail.LOG_FILE) > int(meta.get("journal_seq") or 0)
    if revision != (HEAD,) or not {"library_id", "model", "model_key", "dim"} <= meta.keys() or pending or other:
        conn.close()
        return None
    return QuickLibrary(conn, str(meta["model"]), int(meta["dim"]))
