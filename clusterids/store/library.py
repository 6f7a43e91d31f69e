"""A library: a folder with the database, the vector index and the config, opened in steps.

One process owns a library at a time (the embedded vector engine locks its folder). The
database is the source of truth; the vector index and everything else derived follow it
through the outbox (store/outbox.py) and the catch-up (upkeep/catchup.py), which whoever
opens the library runs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from sqlalchemy.exc import DatabaseError

from ..config import CONFIG_FILE, Settings, check_albums_outside
from ..errors import UserError
from . import backup, corrections_log, modes, outbox, wal
from .database import Database
from .db import CARRY_PENDING, get_meta, open_engine, set_meta
from .vectors import DamagedIndex, DeferredIndex, EdgeIndex, ServerIndex, VectorIndex

if TYPE_CHECKING:  # typing only: the store never loads a model itself (see ModelSource)
    from ..models.base import FaceModel

DB_FILE = "library.db"
OWNER_ONLY = "owner_only"  # meta: the library was walked once and made owner-only (store/modes.py)
WAL_LOST = "wal_lost"  # meta: a lost WAL was found; the catch-up at open compares every vector
VECTORS_DIR = "vectors"
CONFIG_HEADER = """\
# Settings of this library (see 'clusterids config' for every name, value and source).
# The model pack is remembered in the database: change it with 'clusterids reindex --model X'.
# eps = 0.45
# album_link = "symlink"
"""


class PackChoice(NamedTuple):
    """The model pack a library's vectors come from: its name, the key of its files, its width."""

    spec: str
    key: str
    dim: int


class ModelSource(Protocol):
    """Where a library gets its model pack: given by whoever opens it (``app.open_library``),
    so that the store never chooses, installs or loads a model itself."""

    def negotiate(self, stored: PackChoice | None) -> tuple[PackChoice, FaceModel | None, list[str]]:
        """The pack to use (``stored``: the library's, None for a new one), its model when it
        had to be loaded to learn its width, and notices; refuses a pack that would mix."""
        ...

    def load(self, spec: str, key: str | None = None) -> tuple[PackChoice, FaceModel]:
        """Load ``spec``; with ``key``, refuse files that changed since the library was made."""
        ...


class Library:
    """An open library: its settings, its database, its model pack and its vector index (opened
    on first use: a read of the database alone never opens it)."""

    def __init__(self, settings: Settings, db: Database, pack: PackChoice, models: ModelSource,
                 open_vectors: Callable[[int, str], VectorIndex], notices: list[str] | None = None) -> None:
        self.settings = settings
        self.root = settings.library
        self.db = db
        self.pack = pack
        self.models = models
        self.notices = notices or []
        self._open_vectors = open_vectors
        self._index: VectorIndex | None = None
        self._model: FaceModel | None = None
        self.repaired: dict[str, int] = {}  # what the catch-up at open found out of step and fixed

    @property
    def dim(self) -> int:
        return self.pack.dim

    @property
    def index(self) -> VectorIndex:
        if self._index is None:
            try:
                self._index = self._open_vectors(self.pack.dim, self.pack.key)
            except DamagedIndex as exc:
                if self.settings.vector_store_url:
                    raise
                # derived data: made again from the database at once, as rebuild-index does
                self.start_index_afresh()
                self._index = self._open_vectors(self.pack.dim, self.pack.key)
                from .reads import face_ids

                with self.db.transaction() as s:
                    outbox.mark(s, outbox.VECTOR, face_ids(s))
                self.notices.append(f"the vector index could not be read ({exc.what}): it is made again from the "
                                    "database (every face's vector is there)")
        return self._index

    @property
    def index_open(self) -> bool:
        return self._index is not None

    def model(self) -> FaceModel:
        if self._model is None:
            _, self._model = self.models.load(self.pack.spec, self.pack.key)
        return self._model

    def unload_idle_model(self, ttl_seconds: float) -> bool:
        """Give back the models' memory when unused for ``ttl_seconds`` (they load again on use)."""
        return self._model is not None and self._model.unload_if_idle(ttl_seconds)

    def start_index_afresh(self) -> bool:
        """An empty embedded vector index in place of the one there, whatever its files hold
        (derived data: the database keeps every vector). Its lock is taken first, so another
        process using it refuses the change; False for a server's index (emptied point by point)."""
        if self.settings.vector_store_url:
            return False
        if self._index is not None:
            with contextlib.suppress(UserError):  # what it cannot flush is rebuilt anyway
                self._index.close()
            self._index = None
        else:
            with contextlib.suppress(DamagedIndex):  # "in use by another process" is said, and nothing goes
                self._open_vectors(self.pack.dim, self.pack.key).close()
        shutil.rmtree(self.root / VECTORS_DIR, ignore_errors=True)
        return True

    def use_pack(self, pack: PackChoice, model: FaceModel | None) -> None:
        """From now on the library's vectors come from ``pack`` (``reindex``): the database has
        forgotten the old faces; a pack of another width or space gets a fresh vector index."""
        if pack.dim != self.pack.dim or (self.settings.vector_store_url and pack.key != self.pack.key):
            self.index.close()
            self._index = None
            if not self.settings.vector_store_url:
                shutil.rmtree(self.root / VECTORS_DIR, ignore_errors=True)
        self.db.set_meta(model=pack.spec, model_key=pack.key, dim=str(pack.dim))
        self.pack, self._model = pack, model

    def private_dirs(self) -> list[Path]:
        """Folders of ours that hold images but are no photos of the user's (the inbox is)."""
        return [self.settings.albums_path, self.root / "thumbs", self.root / VECTORS_DIR]

    def close(self) -> None:
        try:
            if self._index is not None:
                self._index.close()
        finally:  # an index that cannot flush (a full disk) still lets the database close
            self.db.dispose()
            if not self.settings.database_url:
                wal.closed(self.root / DB_FILE)  # a clean close: the WAL is gone with the last connection
                _light(self.settings)  # what this session made with the umask's modes (albums, the engine)

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- opening, step by step ------------------------------------------------------------------------

def open_library(settings: Settings, models: ModelSource, create: bool = False,
                 fresh_index: bool = False, restoring: bool = False) -> Library:
    """Open (or create) the library; ``fresh_index`` replaces an embedded vector index that cannot
    be read by an empty one (``rebuild-index`` then fills it from the database); ``restoring``:
    the restore that put its database back opens it (any other opener is refused until it ends)."""
    root = settings.library
    if not restoring and not settings.database_url:
        _check_restore(settings)
    is_new = _check_folder(settings, create)
    loss = None if settings.database_url else wal.inspect(root / DB_FILE)
    db = _open_database(settings, create)
    notices: list[str] = []
    keep_marker = False
    try:
        if loss is not None and loss.kind == "gone":
            # remembered in the database: whoever goes on with it compares every vector first
            with contextlib.suppress(DatabaseError):  # a read-only database: the line says it all the same
                db.set_meta(**{WAL_LOST: loss.wal.name})
            lost = _lost_corrections(settings, db)
            if lost:  # what a restore brings back: the user decides first
                raise _wal_gone(settings, db, loss, lost)
            # nothing the journal holds is missing (or SQLite itself removed the WAL after a full
            # checkpoint): photos come back with the next index, vectors are compared; a warning
            notices.append(_wal_gone_warning(loss))
            loss = None
        if not settings.database_url and not is_new and not restoring:
            lost = _journal_ahead(settings, db)
            if lost and (loss is not None or wal.marker_of(root / DB_FILE).exists()):
                keep_marker = True  # refused until the user decides: the marker says so at the next open too
                raise _tail_lost(settings, wal.marker_of(root / DB_FILE), lost)
            if lost:
                notices.append(f"warning: the database lacks what the journal of corrections holds ({lost}): it "
                               f"is older than the journal; {_way_back(settings)}")
        if not settings.database_url:
            _check_identity(settings, db, is_new or restoring)
        check_albums_outside(settings, db.roots())
        if not settings.database_url:
            wal.opened(root / DB_FILE)
            _owner_only(settings, db)
            if settings.backup_hours > 0 and not is_new and not backup.any_copy(root):
                backup.make(root, settings.backup_keep)  # a library made before copies were kept
        pack, model, negotiated = _negotiate(db, models)
        notices += negotiated
        if db.meta(CARRY_PENDING):
            notices.append(f"a change of model pack to {pack.spec} was cut short: some photos' faces wait for "
                           "their names and corrections; run 'clusterids index' (or 'clusterids reindex --model "
                           f"{pack.spec}' again) to finish it")
        if is_new:
            if not (root / CONFIG_FILE).exists():
                (root / CONFIG_FILE).write_text(CONFIG_HEADER, encoding="utf-8")
                (root / CONFIG_FILE).chmod(0o600)
            with db.transaction() as s:  # a new library's album folder is made by its first catch-up
                outbox.mark(s, outbox.ALBUMS)
    except BaseException:
        db.dispose()
        if not settings.database_url and not (loss is not None and loss.kind == "gone") and not keep_marker:
            wal.closed(root / DB_FILE)  # a refusal (a pack that would mix, ...) is a clean close too
        raise
    if loss is not None:  # cut short: SQLite kept the whole frames; the last commits may be lost
        notices.append(_wal_truncated(loss))  # a correction lost among them was refused above
    library_id = db.meta("library_id") or ""
    lib = Library(settings, db, pack, models, lambda dim, key: open_index(settings, root, library_id, dim, key),
                  notices)
    lib._model = model
    if fresh_index:
        try:
            lib.start_index_afresh()  # files the engine opens but cannot read back, or panics over
        except BaseException:
            lib.close()
            raise
    return lib


def _check_identity(settings: Settings, db: Database, claim: bool) -> None:
    """The database is this folder's library's (``library.id``): another library's, copied or
    moved in its place, would be mended to look whole and would push this library's copies out
    of backups/. ``claim``: a new library, or a restore, makes the folder its own."""
    root = settings.library
    here, known = db.meta("library_id") or "", backup.folder_id(root)
    if known is not None and known != here and not claim:
        raise UserError(f"{root / DB_FILE} is another library's database (library {here[:8] or '?'}; this folder "
                        f"holds library {known[:8]})",
                        "put this library's own back: 'clusterids restore' (its newest copy in backups/); to keep "
                        "the other, move it to a folder of its own")
    with contextlib.suppress(OSError):  # a read-only folder: checked again next time
        backup.claim(root, here)


def _check_restore(settings: Settings) -> None:
    """A restore cut short (a crash, a kill) left the database half-way back: nothing may write
    to it before the restore is finished (a correction made now would be lost by the replay)."""
    begun = backup.pending(settings.library)
    if begun is None:
        return
    what = f" of {begun['copy']}" if begun.get("copy") else ""
    raise UserError(f"a restore{what} was cut short, and the library is not whole until it is finished",
                    "run 'clusterids restore' again: it finishes it (the photos indexed again, the corrections "
                    "made after the copy replayed)")


def _check_folder(settings: Settings, create: bool) -> bool:
    """Whether the library is new; refuses a path that cannot be one."""
    root = settings.library
    if root.exists() and not root.is_dir():
        raise UserError(f"the library path is a file, not a folder ({root})", "give --library a folder")
    is_new = not (root / DB_FILE).exists() and not settings.database_url
    if is_new and not create:
        raise UserError(f"no library at {root}", "run 'clusterids index PATH' first, or pass --library")
    try:
        root.mkdir(parents=True, exist_ok=True)
        if not os.access(root, os.W_OK):
            raise PermissionError(root)
    except OSError as exc:
        raise UserError(f"cannot use the library folder ({root}): {exc.strerror or exc}",
                        "choose a folder you can write to with --library") from exc
    db_file = root / DB_FILE
    if not settings.database_url and db_file.exists():
        if db_file.stat().st_size == 0 and ((root / VECTORS_DIR).exists() or backup.any_copy(root)):
            # SQLite would take an emptied file for a new database and start a library afresh
            raise damaged_database(settings, Exception("the file is empty (0 bytes)"))
        truncated = backup.header_says_truncated(db_file)
        if truncated:  # SQLite reads what is left and fails later, or worse, not at all
            raise damaged_database(settings, Exception(truncated))
    if is_new:
        root.chmod(0o700)  # faces and names are personal: the owner's only
    return is_new


def _open_database(settings: Settings, create: bool) -> Database:
    db_file = settings.library / DB_FILE
    if not settings.database_url and db_file.is_dir():  # SQLite would say "unable to open", as for a server
        raise UserError(f"{db_file} is a folder where the library keeps a file (its database)",
                        "move it aside, then 'clusterids restore' puts back the newest copy from backups/")
    try:
        engine = open_engine(settings.database_url or f"sqlite:///{settings.library / DB_FILE}")
        db = Database(engine)
        with db.transaction() as s:
            if get_meta(s, "model") is None and not create and settings.database_url:  # a server, no library yet
                engine.dispose()
                raise UserError(f"no library in the database {db.url}", "run 'clusterids index PATH' first")
            if get_meta(s, "library_id") is None:
                set_meta(s, "library_id", uuid.uuid4().hex)
                if not settings.database_url:  # a journal left beside it is another database's: not lines it lacks
                    last = corrections_log.last_seq(settings.library / corrections_log.LOG_FILE)
                    if last:
                        set_meta(s, "journal_seq", str(last))
    except DatabaseError as exc:
        raise damaged_database(settings, exc) from exc
    return db


def pending_repair(lib: Library) -> str | None:
    """One line when the catch-up has work left (outbox rows, a lost WAL's comparison) for a
    command that opens without running it (a read, doctor): one grouped count, no vector index."""
    with lib.db.read() as s:
        waiting = outbox.waiting(s)
        wal_lost = bool(get_meta(s, WAL_LOST))
    if not waiting and not wal_lost:
        return None
    what = [f"{n} {outbox.WAITING.get(kind, kind)}" for kind, n in waiting.items()]
    what += ["every vector to compare after a lost write-ahead log"] if wal_lost else []
    return (f"a repair is pending ({'; '.join(what)}): 'clusterids status' (or any command that writes) runs it, "
            "and what is shown here may lag until then")


def _lost_corrections(settings: Settings, db: Database) -> str:
    """The corrections the plain journal holds and the database does not (a lost WAL's); "" when none."""
    lines = corrections_log.lines_after(settings.library, int(db.meta("journal_seq") or 0))
    if not lines:
        return ""
    ops = ", ".join(dict.fromkeys(str(line.get("op")) for line in lines))
    n = len(lines)
    return f"{n} correction{'s' if n != 1 else ''} ({ops}) in {corrections_log.LOG_FILE} {'is' if n == 1 else 'are'} " \
           "missing from it"


def _journal_ahead(settings: Settings, db: Database) -> str:
    """``_lost_corrections`` where the journal's last line is past the database's (read from the
    file's tail first: one small read at every open)."""
    last = corrections_log.last_seq(settings.library / corrections_log.LOG_FILE)
    return _lost_corrections(settings, db) if last > int(db.meta("journal_seq") or 0) else ""


def _tail_lost(settings: Settings, marker: Path, what: str) -> UserError:
    return UserError(
        f"the last session did not close, and the database lacks its last commits ({what}): its "
        "write-ahead log was damaged or cut short",
        f"{_way_back(settings)}; or remove {marker} to go on with the database as it is")


def _way_back(settings: Settings) -> str:
    found = backup.copies(settings.library)
    copy = f"the newest copy ({found[0].path}, {found[0].describe()})" if found else "a copy"
    return f"run 'clusterids restore' to put back {copy} and replay the journal of corrections after it"


def _wal_gone_warning(loss: wal.WalLoss) -> str:
    return (f"warning: the database's write-ahead log is gone ({loss.wal}) after a session that did not close: "
            "what it committed after its last checkpoint may be lost (no correction is missing: the journal "
            "holds none the database lacks); photos indexed since are indexed again by the next "
            "'clusterids index', and every vector is compared with the database")


def _wal_gone(settings: Settings, db: Database, loss: wal.WalLoss, what: str) -> UserError:
    return UserError(
        f"the database's write-ahead log is gone ({loss.wal}): the last session did not close, and what it "
        f"committed after its last checkpoint is lost from the database ({what}; photos indexed since are "
        "indexed again by the next 'clusterids index')",
        f"{_way_back(settings)}; or remove {loss.marker} to go on with the database as it is")


def _wal_truncated(loss: wal.WalLoss) -> str:
    return (f"warning: the database's write-ahead log was cut short ({loss.wal}; a full disk or a crash while it "
            "was written): no correction is missing (the journal holds none the database lacks), and a photo whose "
            "commit was lost is indexed again by the next 'clusterids index'")


OWN_DIRS = ("thumbs", "inbox")  # made here, owner-only, before the modules that fill them


def _owner_only(settings: Settings, db: Database) -> None:
    """Every file and folder of the library the owner's only (0600, 0700; store/modes.py): made so
    at creation where the store creates them, fixed at open (in full once, for a library of an
    older release) and at close for what other modules and the engine made with the umask's."""
    root = settings.library
    for name in OWN_DIRS:
        (root / name).mkdir(mode=0o700, exist_ok=True)
    if db.meta(OWNER_ONLY) is None:
        modes.owner_only(root, settings.albums_path)
        with contextlib.suppress(DatabaseError):  # a read-only database: walked again at the next open
            db.set_meta(**{OWNER_ONLY: "1"})
    else:
        _light(settings)


def _light(settings: Settings) -> None:
    albums = settings.albums_path
    inside = albums.resolve().is_relative_to(settings.library.resolve())
    modes.light(settings.library, settings.library / VECTORS_DIR, albums if inside else settings.library / "albums")


def stored_pack(db: Database) -> PackChoice | None:
    spec, key, dim = db.meta("model"), db.meta("model_key"), db.meta("dim")
    return None if spec is None or key is None or dim is None else PackChoice(spec, key, int(dim))


def peek_pack(settings: Settings) -> PackChoice | None:
    """The pack of the library the settings name, read without opening the library: nothing is
    created, migrated or locked (``clusterids config``); None when there is no library yet or
    its database cannot be read."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    url = settings.database_url
    if not url:
        db_file = settings.library / DB_FILE
        if not db_file.is_file():
            return None
        url = f"sqlite:///file:{db_file}?mode=ro&uri=true"
    elif url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ImportError):
        return None
    try:
        with engine.connect() as conn:
            query = text("SELECT key, value FROM meta WHERE key IN ('model', 'model_key', 'dim')")
            meta: dict[str, str] = {str(k): str(v) for k, v in conn.execute(query)}
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    if not {"model", "model_key", "dim"} <= meta.keys() or not str(meta["dim"]).isdigit():
        return None
    return PackChoice(str(meta["model"]), str(meta["model_key"]), int(meta["dim"]))


def _negotiate(db: Database, models: ModelSource) -> tuple[PackChoice, FaceModel | None, list[str]]:
    stored = stored_pack(db)
    pack, model, notices = models.negotiate(stored)
    if stored is None:
        db.set_meta(model=pack.spec, model_key=pack.key, dim=str(pack.dim))
    return pack, model, notices


def attach(settings: Settings, models: ModelSource) -> Library:
    """The library as a worker sees it: its database and its pack. Only the library's owner
    writes the vector index (the outbox tells it what the workers stored)."""
    url = settings.database_url
    if not url:
        db_file = settings.library / DB_FILE
        if not db_file.is_file():
            raise UserError(f"no library at {settings.library}", "give the library's database_url "
                            "(workers on other machines need PostgreSQL), or --library")
        url = f"sqlite:///{db_file}"
    db = Database(open_engine(url))
    if not settings.database_url:
        wal.opened(settings.library / DB_FILE)
    pack = stored_pack(db)
    if pack is None or db.meta("library_id") is None:
        db.dispose()
        if not settings.database_url:
            wal.closed(settings.library / DB_FILE)
        raise UserError("the database holds no library yet", "run 'clusterids index --enqueue PATH' first")
    return Library(settings, db, pack, models, lambda dim, _key: DeferredIndex(dim))


def failure(settings: Settings, exc: BaseException) -> UserError | None:
    """One line for what failed underneath an operation, or None for a fault of ours (a
    traceback is then the honest report): a full disk, a SQLite database found damaged while
    reading it, a file or folder of the library (or its albums) of the wrong kind or not readable."""
    local = not settings.database_url
    if disk_full(exc) and (local or not isinstance(exc, DatabaseError)):  # a server's disk is the server's
        free = -(-shutil.disk_usage(settings.library).free // (1 << 20)) if settings.library.exists() else 0
        return UserError(f"the disk is full ({free} MB free where the library is, {settings.library})",
                         "free some space and run the command again: what was committed before is kept")
    cause = str(getattr(exc, "orig", exc))  # the driver's own words, not the statement and its values
    if local and isinstance(exc, DatabaseError) and ("malformed" in cause or "not a database" in cause):
        return damaged_database(settings, exc)
    filename = getattr(exc, "filename", None)
    if not isinstance(exc, OSError) or not filename or not _ours(settings, Path(str(filename))):
        return None
    if isinstance(exc, (NotADirectoryError, FileExistsError)):
        path = Path(str(filename))
        while path != path.parent and not path.is_file():  # the file in the way of a folder
            path = path.parent
        if not path.is_file():
            return None
        return UserError(f"{path} is a file where the library keeps a folder",
                         "move it aside (its folder is made again) and run the command again")
    if isinstance(exc, IsADirectoryError):
        where = exc.filename2 if exc.filename2 and os.path.isdir(exc.filename2) else filename  # a rename's target
        return UserError(f"{where} is a folder where the library keeps a file",
                         "move it aside and run the command again")
    if isinstance(exc, PermissionError):
        return UserError(f"{filename} cannot be read or written ({exc.strerror})",
                         "give it back to its owner (chmod u+rw, or chown) and run the command again")
    return None


def _ours(settings: Settings, path: Path) -> bool:
    """Whether ``path`` lies in the library folder or its albums folder (not among the photos)."""
    where = os.path.realpath(path)
    return any(where == top or where.startswith(top.rstrip(os.sep) + os.sep)
               for top in (os.path.realpath(settings.library), os.path.realpath(settings.albums_path)))


def disk_full(exc: BaseException) -> bool:
    """A full disk, whichever layer noticed it (the OS, SQLite, the vector engine): the error
    itself or what it was raised from."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(getattr(seen, "orig", seen)).lower()
        if "disk is full" in text or "no space left" in text or "disk full" in text:
            return True
        seen = seen.__cause__
    return False


def damaged_database(settings: Settings, exc: Exception) -> UserError:
    """One line for a database that cannot be read: what, and the way back."""
    cause = str(getattr(exc, "orig", exc)).splitlines()[0]
    if settings.database_url:
        return UserError(f"the library database cannot be read ({cause})",
                         "check database_url, and restore the database from its backup")
    db = settings.library / DB_FILE
    if not any(sign in cause for sign in ("not a database", "malformed", "empty (0 bytes)", "truncated")):
        full = shutil.disk_usage(settings.library).free < 1 << 20
        return UserError(f"cannot open the library database ({db}): {cause}",
                         "the disk is full: free some space and run the command again" if full
                         else "check the disk and the file's permissions, then run the command again")
    found = backup.copies(settings.library)
    if found:
        newest = found[0]
        return UserError(f"the library database is damaged ({db}): {cause}",
                         f"the newest copy is {newest.path} ({newest.describe()}): run 'clusterids restore' "
                         "to put it back (the damaged file is kept), index what came after it and replay "
                         "the corrections made since")
    return UserError(f"the library database is damaged ({db}): {cause}",
                     f"restore it from your backup; or move it aside (mv '{db}' '{db}.damaged') and run "
                     "'clusterids index FOLDER' to start again (names and corrections are then lost)")


def collection_name(library_id: str, pack_key: str, dim: int) -> str:
    """One Qdrant collection per library and pack: two never share one, and a reindex to
    another pack starts a new one."""
    return f"clusterids_{library_id}_{pack_key.removeprefix('sha256:')[:12]}_{dim}"


def open_index(settings: Settings, root: Path, library_id: str, dim: int, pack_key: str) -> VectorIndex:
    if settings.vector_store_url:
        return ServerIndex.connect(settings.vector_store_url, settings.vector_store_api_key,
                                   collection_name(library_id, pack_key, dim), dim)
    return EdgeIndex(root / VECTORS_DIR, dim)
