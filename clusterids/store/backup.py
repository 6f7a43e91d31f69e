"""Copies of the library database: the way back from a damaged or emptied file.

A copy is SQLite's online backup (consistent while the database is in use), made after an index
run or a recluster that changed something (at most every ``backup_hours`` while the daemon
works), before a migration and before ``doctor --repair``; the newest ``KEEP`` are kept in
``backups/``, the owner's only. What came after a copy is not lost: the photos are in their
folders (a restore indexes them again) and every correction is in the plain journal beside the
database (store/corrections_log.py), replayed after a restore. On PostgreSQL the server keeps
the backups (pg_dump): nothing here runs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from .. import faults
from ..errors import UserError
from . import wal

BACKUPS_DIR = "backups"
LEGACY_FILE = "library.db.bak"  # the single copy of libraries made before generations
DB_FILE = "library.db"
KEEP = 3

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Copy:
    path: Path
    made: float  # seconds since the epoch
    photos: int
    people: int
    journal_seq: int  # the last correction of the plain journal it holds

    def describe(self, now: float | None = None) -> str:
        """"412 photos, 6 people, 2 hours old"."""
        return f"{_count(self.photos, 'photo')}, {_count(self.people, 'person', 'people')}, " \
               f"{age_words((now or time.time()) - self.made)} old"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def age_words(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            return _count(int(seconds // size), unit)
    return "moments"


def _connect_ro(path: Path, glance: bool = False) -> sqlite3.Connection:
    """Read-only. ``glance`` (a few counts, no copy): a file without a write-ahead log beside it is
    read as immutable, so that none (nor a -shm) is made beside it, as a database about to be
    moved aside would otherwise take new files along."""
    lone = glance and not path.with_name(path.name + "-wal").exists()
    return sqlite3.connect(f"file:{path}?mode=ro{'&immutable=1' if lone else ''}", uri=True)


def read_copy(path: Path) -> Copy | None:
    """What a copy holds; None when it cannot be read as a library."""
    try:
        with contextlib.closing(_connect_ro(path, glance=True)) as conn:
            photos = conn.execute("SELECT count(*) FROM photos WHERE status = 'ok'").fetchone()[0]
            people = conn.execute("SELECT count(*) FROM persons WHERE merged_into IS NULL AND NOT hidden AND "
                                  "id IN (SELECT person_id FROM faces WHERE person_id IS NOT NULL)").fetchone()[0]
            seq = conn.execute("SELECT value FROM meta WHERE key = 'journal_seq'").fetchone()
        return Copy(path, path.stat().st_mtime, int(photos), int(people), int(seq[0]) if seq else 0)
    except (OSError, sqlite3.Error, ValueError):
        return None


def copies(root: Path) -> list[Copy]:
    """The readable copies, newest first (an old library's ``library.db.bak`` last)."""
    found = sorted((root / BACKUPS_DIR).glob("library-*.db"), reverse=True) if (root / BACKUPS_DIR).is_dir() else []
    if (root / LEGACY_FILE).is_file():
        found.append(root / LEGACY_FILE)
    return [c for c in (read_copy(p) for p in found) if c is not None]


def any_copy(root: Path) -> bool:
    return (root / LEGACY_FILE).exists() or any((root / BACKUPS_DIR).glob("library-*.db"))


def due(root: Path, hours: float) -> bool:
    """Whether the newest copy is older than ``hours`` (0: never due)."""
    if hours <= 0:
        return False
    newest = sorted((root / BACKUPS_DIR).glob("library-*.db"), reverse=True)
    return not newest or time.time() - newest[0].stat().st_mtime >= hours * 3600


def make(root: Path, keep: int = KEEP) -> Copy | None:
    """Copy the database now into a new generation and drop the oldest beyond ``keep``; None
    when the database is damaged (a good copy is never pushed out by a bad one) or the disk is
    full (the old copies stay, and the work goes on)."""
    if not (root / DB_FILE).is_file():
        return None
    folder = root / BACKUPS_DIR
    dest = folder / _next_name(folder, time.time())
    tmp = folder / f"{dest.name}.{os.getpid()}.tmp"  # two processes copying at once write apart
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
        with contextlib.closing(_connect_ro(root / DB_FILE)) as src, \
                contextlib.closing(sqlite3.connect(tmp)) as dst:  # read-only: a missing file is not made
            if src.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                tmp.unlink(missing_ok=True)
                return None
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        tmp.chmod(0o600)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        _fsync_dir(folder)
    except (OSError, sqlite3.Error) as exc:
        log.info("no copy of %s was made (%s): the older copies in %s stay", root / DB_FILE, exc, folder)
        tmp.unlink(missing_ok=True)
        return None
    for old in sorted(folder.glob("library-*.db"), reverse=True)[max(1, keep):]:
        old.unlink(missing_ok=True)
    return read_copy(dest)


_STAMPED = re.compile(r"library-\d{8}T\d{6}_\d{6}Z\.db")  # the names _name makes


def _name(at: float) -> str:
    whole = int(at)
    return f"library-{time.strftime('%Y%m%dT%H%M%S', time.gmtime(whole))}_{int((at - whole) * 1e6):06d}Z.db"


def _next_name(folder: Path, now: float) -> str:
    """A new copy's name, from the time it is made, always after every older copy's: the newest
    copy is the last by name, even where the clock was set back between two copies (a file
    named otherwise, by hand, is no copy of ours to follow)."""
    older = sorted(p.name for p in folder.glob("library-*.db") if _STAMPED.fullmatch(p.name)) if folder.is_dir() else []
    if not older or _name(now) > older[-1]:
        return _name(now)
    import calendar  # only here: the reads that import this module never make a copy

    last = calendar.timegm(time.strptime(older[-1][8:23], "%Y%m%dT%H%M%S")) + int(older[-1][24:30]) / 1e6
    return _name(last + 1e-6) if _name(last + 1e-6) > older[-1] else _name(last + 2e-6)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


ID_FILE = "library.id"  # the id of the library this folder holds: another library's database is refused


def folder_id(root: Path) -> str | None:
    """The id of the library this folder was made for (None: not known yet, a library before it)."""
    try:
        return (root / ID_FILE).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def claim(root: Path, library: str) -> None:
    """This folder holds library ``library`` from now on (its making, a restore)."""
    if folder_id(root) == library:
        return
    tmp = root / (ID_FILE + ".tmp")
    tmp.write_text(library + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    os.replace(tmp, root / ID_FILE)


def pick(root: Path, given: str | None) -> Copy | None:
    """The copy ``given`` names (a path, or a file name in ``backups/``), else the newest of this
    folder's own library (another library's copies are never chosen for the user)."""
    if given is None:
        found = copies(root)
        own = folder_id(root)
        mine = [c for c in found if own is None or library_id(c.path) in (own, None)]
        return mine[0] if mine else None
    path = Path(given).expanduser()
    if not path.is_file() and (root / BACKUPS_DIR / given).is_file():
        path = root / BACKUPS_DIR / given
    return read_copy(path) if path.is_file() else None


def why_not_made(root: Path) -> str:
    """What to do when ``make`` made no copy."""
    import shutil

    try:
        free, size = shutil.disk_usage(root).free, (root / DB_FILE).stat().st_size
    except OSError:
        return "run 'clusterids doctor', and check that the disk has room"
    if free < 2 * size + (1 << 20):
        return (f"the disk is full ({free >> 20} MB free, a copy needs {-(-size // (1 << 20))} MB): free some space "
                "and run 'clusterids backup' again")
    return "run 'clusterids doctor', and check that the disk has room"


def why_none(root: Path, given: str | None) -> tuple[str, str]:
    """Why ``pick`` found nothing, and what to do: (the line, the hint)."""
    folder = root / BACKUPS_DIR
    names = sorted(folder.glob("library-*.db"), reverse=True) if folder.is_dir() else []
    listed = ", ".join(p.name for p in names[:3]) + (", ..." if len(names) > 3 else "")
    choose = f"give one of the copies in {folder} ({listed})" if names else \
        "there is no copy to give: 'clusterids backup' makes one (the daemon makes them as it works)"
    if given is not None:
        path = Path(given).expanduser()
        if not path.exists() and not (folder / given).exists():
            return (f"no file {given}" + ("" if path.is_absolute() else f" (nor {folder / given})")), choose
        found = path if path.exists() else folder / given
        if found.is_dir():
            return f"{found} is a folder, not a copy of the library database", choose
        return f"{found} cannot be read as a copy of a library database", choose
    if not names and not (root / LEGACY_FILE).is_file():
        return f"the library has no copy of its database ({folder} holds none)", \
            "'clusterids backup' makes one; 'clusterids doctor' checks and mends the library as it is"
    return (f"none of the {len(names) or 1} copies in {folder} can be read as this library's database",
            "give the path of a copy made elsewhere; 'clusterids doctor' checks and mends the library as it is")


PENDING_FILE = "library.db.restore-pending"  # a restore begun and not finished (what it put back, how far)


def pending(root: Path) -> dict[str, str] | None:
    """The restore begun here and not finished (``copy``, ``stage``: "copying" while the database
    is not in place yet, "replaying" once it is); None when there is none."""
    try:
        found = json.loads((root / PENDING_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError):
        return {"copy": "", "stage": "copying"}  # there but torn: the database may not be in place
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {"copy": "", "stage": "copying"}


def note_pending(root: Path, copy: Path, stage: str, aside: Path | None = None,
                 replay: tuple[int, int] | None = None) -> None:
    """Remember how far a restore got, so that one cut short says so and is finished by the next
    (``replay``: the journal's lines it replays, after and up to: an index run cut short may have
    journaled names read from XMP past them)."""
    tmp = root / (PENDING_FILE + ".tmp")
    fields: dict[str, object] = {"copy": str(copy), "stage": stage, **({"aside": str(aside)} if aside else {})}
    if replay is not None:
        fields["after"], fields["upto"] = replay
    tmp.write_text(json.dumps(fields), encoding="utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, root / PENDING_FILE)
    _fsync_dir(root)


def done_pending(root: Path) -> None:
    (root / PENDING_FILE).unlink(missing_ok=True)
    _fsync_dir(root)


def is_the_database(root: Path, copy: Path) -> bool:
    """Whether ``copy`` is the library's database itself, not a copy of it."""
    try:
        return os.path.samefile(copy, root / DB_FILE)
    except OSError:
        return False


def library_id(path: Path) -> str | None:
    """The id of the library a database or copy belongs to; None when it cannot be read."""
    try:
        with contextlib.closing(_connect_ro(path, glance=True)) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'library_id'").fetchone()
    except (OSError, sqlite3.Error):
        return None
    return str(row[0]) if row else None


def _healthy(db: Path) -> bool:
    """Whether ``db`` reads as a library (a glance: no WAL or lock file is made beside it)."""
    try:
        with contextlib.closing(_connect_ro(db, glance=True)) as conn:
            ok = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            return bool(ok and conn.execute("SELECT value FROM meta WHERE key = 'library_id'").fetchone())
    except sqlite3.Error:
        return False


def put_back(root: Path, copy: Copy) -> Path | None:
    """Put ``copy`` in the database's place. The database there is moved aside, never deleted
    (returned: where it went; None when there was none)."""
    return swap(root, prepare(root, copy))


def prepare(root: Path, copy: Copy) -> Path:
    """The copy made whole beside the database (``library.db.restoring``), the database untouched:
    a crash or a full disk meanwhile leaves it where it was."""
    tmp = root / (DB_FILE + ".restoring")
    tmp.unlink(missing_ok=True)  # a copy a crash left unfinished
    try:
        with contextlib.closing(_connect_ro(copy.path)) as src, contextlib.closing(sqlite3.connect(tmp)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        faults.point("restore.copying")
        tmp.chmod(0o600)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"could not copy {copy.path} beside the library database ({exc})",
                        "check that the disk has room, then run 'clusterids restore' again") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def swap(root: Path, tmp: Path) -> Path | None:
    """The copy ``prepare`` made takes the database's place; the database goes aside."""
    db = root / DB_FILE
    aside = None
    if db.exists():
        how = "replaced" if _healthy(db) else "damaged"  # a restore by choice replaces a sound file
        aside = root / f"{DB_FILE}.{how}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
        n = 1
        while aside.exists():
            aside = aside.with_name(f"{aside.name.split('~')[0]}~{n}")
            n += 1
        os.replace(db, aside)
    for extra in ("-wal", "-shm"):  # they belong to the file moved aside
        side = root / (DB_FILE + extra)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + extra) if aside else side.with_name(side.name + ".old"))
    os.replace(tmp, db)
    wal.forget(db)  # a lost or cut-short WAL of the file moved aside is that file's story
    _fsync_dir(root)
    return aside


def header_says_truncated(db: Path) -> str | None:
    """Why the file is shorter than its own header says (a truncated copy); None when it is
    not, or when a write-ahead log may hold the missing pages."""
    wal = db.with_name(db.name + "-wal")
    try:
        if wal.exists() and wal.stat().st_size > 0:
            return None
        with db.open("rb") as fh:
            head = fh.read(100)
        size = db.stat().st_size
    except OSError:
        return None
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return None
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    if head[24:28] != head[92:96] or pages == 0:  # the size field is not valid in this header
        return None
    want = page * pages
    return f"the file is truncated ({size} of {want} bytes)" if size < want else None
