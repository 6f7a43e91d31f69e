"""A library: a folder with the database, the vector index and the config.

One process owns a library at a time (the embedded vector engine locks its folder). The
database is written first and is the source of truth; the vector index follows it through
store/mirror.py, whose generation marks cover the window in which the two may disagree, so
that opening a library after a crash repairs exactly what is needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np
from sqlalchemy import Engine, delete
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from ..config import CONFIG_FILE, Settings
from ..errors import UserError
from . import mirror
from .db import Face, Photo, get_meta, open_engine, set_meta
from .vectors import DamagedIndex, DeferredIndex, EdgeIndex, ServerIndex, VectorIndex

if TYPE_CHECKING:  # typing only: the store never loads a model itself (see ModelSource)
    from ..models.base import FaceModel

DB_FILE = "library.db"
BACKUP_FILE = "library.db.bak"
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
    def __init__(self, settings: Settings, engine: Engine, index: VectorIndex | None, pack_spec: str,
                 pack_key: str, dim: int, notices: list[str], models: ModelSource,
                 open_vectors: Callable[[], VectorIndex] | None = None) -> None:
        self.models = models
        self.settings = settings
        self.root = settings.library
        self.engine = engine
        self._index = index
        self._open_vectors = open_vectors  # a read of the database alone never opens the index
        self.pack_spec = pack_spec
        self.pack_key = pack_key
        self.dim = dim
        self.notices = notices
        self._model: FaceModel | None = None
        self._writes = 0
        self.repaired: dict[str, int] = {}  # what the open found out of step and fixed

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings, models: ModelSource, create: bool = False, repair: bool = True,
             fresh_index: bool = False) -> Library:
        """Open (or create) the library; ``repair=False`` leaves a mirror that is behind as it
        is (``doctor`` looks before it touches) and opens the vector index only when it is first
        used (a read of the database alone never does); ``fresh_index`` replaces an embedded vector
        index that cannot be read by an empty one (``rebuild-index`` then fills it)."""
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
        if not settings.database_url and db_file.exists() and db_file.stat().st_size == 0 \
                and ((root / VECTORS_DIR).exists() or (root / BACKUP_FILE).exists()):
            # SQLite would take an emptied file for a new database and start a library afresh
            raise damaged_database(settings, Exception("the file is empty (0 bytes)"))
        if is_new:
            root.chmod(0o700)  # faces and names are personal: the owner's only
        try:
            engine = open_engine(settings.database_url or f"sqlite:///{root / DB_FILE}")
            with Session(engine) as session, session.begin():
                stored_spec = get_meta(session, "model")
                stored_key = get_meta(session, "model_key")
                stored_dim = get_meta(session, "dim")
                library_id = get_meta(session, "library_id")
                if stored_spec is None and not create and settings.database_url:  # a server with no library yet
                    engine.dispose()
                    raise UserError(f"no library in the database {engine.url.render_as_string(hide_password=True)}",
                                    "run 'clusterids index PATH' first")
                if library_id is None:
                    library_id = uuid.uuid4().hex
                    set_meta(session, "library_id", library_id)
        except DatabaseError as exc:
            raise damaged_database(settings, exc) from exc
        if not settings.database_url:
            for name in (DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm"):
                if (root / name).exists():
                    (root / name).chmod(0o600)
            backup(root, settings.backup_hours)
        stored = None if stored_spec is None or stored_key is None or stored_dim is None \
            else PackChoice(stored_spec, stored_key, int(stored_dim))
        try:
            choice, model, notices = models.negotiate(stored)
        except UserError:
            engine.dispose()
            raise
        spec, key, dim = choice
        if stored is None:
            with Session(engine) as session, session.begin():
                set_meta(session, "model", spec)
                set_meta(session, "model_key", key)
                set_meta(session, "dim", str(dim))
            if not (root / CONFIG_FILE).exists():
                (root / CONFIG_FILE).write_text(CONFIG_HEADER, encoding="utf-8")
        def open_vectors() -> VectorIndex:
            return open_index(settings, root, library_id, dim, key)

        index: VectorIndex | None = None
        if repair or fresh_index:  # the repair compares the index with the database at once
            try:
                try:
                    index = open_vectors()
                except DamagedIndex:
                    if not fresh_index:
                        raise
                    import shutil

                    shutil.rmtree(root / VECTORS_DIR)  # derived data: the database holds every vector
                    index = open_vectors()
            except UserError:
                engine.dispose()
                raise
        lib = cls(settings, engine, index, spec, key, dim, notices, models, open_vectors)
        lib._model = model
        if repair:
            lib.repair()
        return lib

    @classmethod
    def attach(cls, settings: Settings, models: ModelSource) -> Library:
        """The library as a worker sees it: its database, its pack, and the Qdrant server if any."""
        url = settings.database_url
        if not url:
            db = settings.library / DB_FILE
            if not db.is_file():
                raise UserError(f"no library at {settings.library}", "give the library's database_url "
                                "(workers on other machines need PostgreSQL), or --library")
            url = f"sqlite:///{db}"
        engine = open_engine(url)
        with Session(engine) as s:
            spec, key, dim, library_id = (get_meta(s, k) for k in ("model", "model_key", "dim", "library_id"))
        if spec is None or key is None or dim is None or library_id is None:
            engine.dispose()
            raise UserError("the database holds no library yet", "run 'clusterids index --enqueue PATH' first")
        if settings.vector_store_url:
            index = open_index(settings, settings.library, library_id, int(dim), key)
        else:
            index = DeferredIndex(int(dim))
        return cls(settings, engine, index, spec, key, int(dim), [], models)

    @property
    def index(self) -> VectorIndex:
        """The vector index, opened on first use when the library was opened without a repair."""
        if self._index is None:
            assert self._open_vectors is not None
            self._index = self._open_vectors()
        return self._index

    @index.setter
    def index(self, value: VectorIndex) -> None:
        self._index = value

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
        self.engine.dispose()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def private_dirs(self) -> list[Path]:
        """Folders of ours that hold images but are no photos of the user's (the inbox is)."""
        return [self.settings.albums_path, self.root / "thumbs", self.root / VECTORS_DIR]

    # -- the folders this library indexes ---------------------------------------------------

    def roots(self) -> list[str]:
        with self.session() as s:
            return list(json.loads(get_meta(s, "roots") or "[]"))

    def add_roots(self, paths: Sequence[str]) -> None:
        roots = self.roots()
        for p in paths:
            full = os.path.abspath(p)
            if os.path.isdir(full) and not any(full == r or full.startswith(r + os.sep) for r in roots):
                roots = [r for r in roots if not r.startswith(full + os.sep)] + [full]
        with self.session() as s, s.begin():
            set_meta(s, "roots", json.dumps(sorted(roots)))

    # -- the model pack ----------------------------------------------------------------------

    def model(self) -> FaceModel:
        if self._model is None:
            _, self._model = self.models.load(self.pack_spec, self.pack_key)
        return self._model

    # -- sessions and the vector index -------------------------------------------------------

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def vector_write(self) -> Iterator[None]:
        """Vectors are written in here: on entry the vector mirror is marked behind (a crash
        inside leaves the mark, see store/mirror.py), on the outermost exit caught up. Nested
        writes (an API call let in between two commits of a long index run) keep the mark
        until the outermost one ends."""
        if self._writes == 0:
            with self.session() as s, s.begin():
                mirror.mark(s, vectors=True, albums=False)
        self._writes += 1
        try:
            yield
        finally:
            self._writes -= 1
        if self._writes == 0:
            self.index.flush()
            mirror.vectors_caught_up(self)

    def push_vectors(self, faces: Sequence[Face]) -> None:
        if not faces:
            return
        vectors = np.stack([f.embedding() for f in faces])
        self.index.upsert([f.id for f in faces], vectors, [f.person_id for f in faces],
                          [f.photo_id for f in faces])

    def maybe_optimize(self) -> bool:
        """Build the vector index's HNSW graph once it is large enough to pay off (it blocks:
        minutes at 100k+ faces), and again after it grew by half."""
        n = self.index.count()
        with self.session() as s:
            last = int(get_meta(s, "optimized_at") or 0)
        if n < self.settings.hnsw_min_points or n < 1.5 * last:
            return False
        self.index.optimize()
        with self.session() as s, s.begin():
            set_meta(s, "optimized_at", str(n))
        return True

    def repair(self, force: bool = False) -> dict[str, int]:
        """Make the vector index match the database, id for id and payload for payload."""
        result = mirror.reconcile_vectors(self, force=force)
        self.repaired = {k: v for k, v in result.items() if v}
        return result

    def rebuild_index(self) -> int:
        """Recreate the vector index from the database, without running the models: empty it,
        then the repair restores every face's vector."""
        with self.vector_write():
            self.index.delete(list(self.index.ids()))
            return self.repair(force=True)["restored"]

    def reset_pack(self, spec: str) -> None:
        """Forget every face and switch the library to another pack (for ``reindex``)."""
        pack, model = self.models.load(spec)
        with self.vector_write():
            self.index.delete(list(self.index.ids()))
            with self.session() as s, s.begin():
                s.execute(delete(Face))
                s.execute(delete(Photo))
                set_meta(s, "model", pack.spec)
                set_meta(s, "model_key", pack.key)
                set_meta(s, "dim", str(model.dim))
        if model.dim != self.dim or (self.settings.vector_store_url and pack.key != self.pack_key):
            self.index.close()
            if not self.settings.vector_store_url:
                import shutil

                shutil.rmtree(self.root / VECTORS_DIR, ignore_errors=True)
            with self.session() as s:
                library_id = get_meta(s, "library_id") or uuid.uuid4().hex
            self.index = open_index(self.settings, self.root, library_id, model.dim, pack.key)
        self.pack_spec, self.pack_key, self.dim, self._model = pack.spec, pack.key, model.dim, model


def damaged_database(settings: Settings, exc: Exception) -> UserError:
    """One line for a database that cannot be read: what, and the way back."""
    cause = str(getattr(exc, "orig", exc)).splitlines()[0]
    if settings.database_url:
        return UserError(f"the library database cannot be read ({cause})",
                         "check database_url, and restore the database from its backup")
    db, bak = settings.library / DB_FILE, settings.library / BACKUP_FILE
    if not any(sign in cause for sign in ("not a database", "malformed", "empty (0 bytes)")):
        import shutil

        full = shutil.disk_usage(settings.library).free < 1 << 20
        return UserError(f"cannot open the library database ({db}): {cause}",
                         "the disk is full: free some space and run the command again" if full
                         else "check the disk and the file's permissions, then run the command again")
    if bak.exists():
        return UserError(f"the library database is damaged ({db}): {cause}",
                         f"the last good copy is {bak}: move the damaged file aside and copy it back "
                         f"(mv '{db}' '{db}.damaged' && cp '{bak}' '{db}'), then run 'clusterids doctor --repair'")
    return UserError(f"the library database is damaged ({db}): {cause}",
                     f"restore it from your backup; or move it aside (mv '{db}' '{db}.damaged') and run "
                     "'clusterids index FOLDER' to start again (names and corrections are then lost)")


def backup(root: Path, hours: float) -> None:
    """Keep a copy of the database (SQLite's online backup: consistent while in use) at most
    ``hours`` old, as the way back from a damaged file. 0: never."""
    import sqlite3
    import time

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


def collection_name(library_id: str, pack_key: str, dim: int) -> str:
    """One Qdrant collection per library and pack: two never share one, and a reindex to
    another pack starts a new one."""
    return f"clusterids_{library_id}_{pack_key.removeprefix('sha256:')[:12]}_{dim}"


def open_index(settings: Settings, root: Path, library_id: str, dim: int, pack_key: str) -> VectorIndex:
    if settings.vector_store_url:
        return ServerIndex.connect(settings.vector_store_url, settings.vector_store_api_key,
                                   collection_name(library_id, pack_key, dim), dim)
    return EdgeIndex(root / VECTORS_DIR, dim)
