"""The library database: typed SQLAlchemy models and named migrations.

The database is the source of truth. It keeps each face's vector too, so the vector index
can be rebuilt without running the models again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from ..errors import UserError

if TYPE_CHECKING:
    import numpy as np


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Photo(Base):
    __tablename__ = "photos"
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    width: Mapped[int | None]
    height: Mapped[int | None]
    taken_at: Mapped[str | None] = mapped_column(String(32))
    # taken_at is the file's modification time, not a date the camera wrote (clusterids/dates.py)
    taken_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | failed
    error: Mapped[str | None] = mapped_column(Text)
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # i20: the orientation applied when decoding (EXIF's, or the one a sidecar gives); the
    # signature of its XMP sidecar as last read; what its XMP said and what we wrote there (the
    # shape is store/photos.py's ``xmp_state``). Names read and not yet applied: outbox NAMES.
    orientation: Mapped[int | None] = mapped_column(Integer, default=None)
    xmp_sidecar: Mapped[str | None] = mapped_column(Text, default=None)
    xmp: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    faces: Mapped[list[Face]] = relationship(
        back_populates="photo", cascade="all, delete-orphan", passive_deletes=True
    )


class Person(Base):
    __tablename__ = "persons"
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set by a merge: this person is part of that one from now on.
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The face the user chose to show this person by (None: the best face).
    cover_face_id: Mapped[int | None] = mapped_column(Integer, default=None)
    # "YYYY-MM-DD": photos taken before it (by a date the camera or the file name gave) are not theirs
    born: Mapped[str | None] = mapped_column(String(10), default=None)


class Face(Base):
    __tablename__ = "faces"
    # (person, photo) answers "how many faces and photos per person" from the index alone
    __table_args__ = (Index("ix_faces_person_photo", "person_id", "photo_id"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    x2: Mapped[float] = mapped_column(Float)
    y2: Mapped[float] = mapped_column(Float)
    landmarks: Mapped[list[list[float]]] = mapped_column(JSON)
    det_score: Mapped[float] = mapped_column(Float)
    size_px: Mapped[float] = mapped_column(Float)
    sharpness: Mapped[float] = mapped_column(Float)
    # the recognizer's raw output length before normalisation (None: indexed before it was kept)
    norm: Mapped[float | None] = mapped_column(Float, default=None)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, default=None
    )
    # A manual assignment: every recluster keeps it.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    # i20: "detector", or "metadata" for a face made from a named XMP region the detector missed;
    # "hand" for a face the user marked by hand (a box drawn on the photo)
    origin: Mapped[str] = mapped_column(String(16), default="detector")
    # i18: why the user put the face aside ("ignored", or "not_a_face" for a detection that is no
    # face at all); None: a face like any other. An ignored face is in no person and no suggestion.
    ignored: Mapped[str | None] = mapped_column(String(16), default=None)
    photo: Mapped[Photo] = relationship(back_populates="faces")

    @property
    def bbox(self) -> list[float]:
        return [self.x1, self.y1, self.x2, self.y2]

    def embedding(self) -> np.ndarray:
        import numpy as np  # a read of rows never needs it

        return np.frombuffer(self.vector, dtype=np.float32)


class Rejection(Base):
    """'Not this person': the face never goes to that person again."""

    __tablename__ = "rejections"
    face_id: Mapped[int] = mapped_column(ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)


class Journal(Base):
    """Every correction, with the state it replaced, so that ``undo`` can put it back."""

    __tablename__ = "journal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    op: Mapped[str] = mapped_column(String(32))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    undone: Mapped[bool] = mapped_column(Boolean, default=False)


class QueueItem(Base):
    """A photo waiting for a worker's models; claimed with a token and a lease (epoch seconds)."""

    __tablename__ = "queue"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    enqueued_at: Mapped[datetime] = mapped_column(default=utcnow)
    token: Mapped[str | None] = mapped_column(String(32), default=None)
    worker: Mapped[str | None] = mapped_column(String(128), default=None)
    lease_until: Mapped[float | None] = mapped_column(Float, index=True, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class WorkerRow(Base):
    """A worker process, as it last reported itself."""

    __tablename__ = "workers"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    providers: Mapped[str] = mapped_column(Text)
    started_at: Mapped[float] = mapped_column(Float)
    seen_at: Mapped[float] = mapped_column(Float)
    photos_done: Mapped[int] = mapped_column(BigInteger, default=0)


class KeepApart(Base):
    """'Not the same person': the suggestions never offer to merge this pair again."""

    __tablename__ = "keep_apart"
    person_a: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    person_b: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)


class FaceMove(Base):
    """A face that an edit of its photo replaced, and the face that took over what the user did
    to it (store/edits.py): ``undo`` of a correction made before the edit follows it."""

    __tablename__ = "face_moves"
    old_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    new_id: Mapped[int] = mapped_column(BigInteger)


class Outbox(Base):
    """Derived state still to bring in step with the database (see store/outbox.py)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_kind", "kind", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[int] = mapped_column(BigInteger)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def open_engine(url: str) -> Engine:
    """The library's database, migrated. ``postgresql://`` means psycopg 3 (the ``postgres`` extra)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UserError(f"the database URL is not valid ({url})", "give an SQLAlchemy URL, "
                        "e.g. postgresql://user@host/dbname") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except ImportError as exc:
        raise UserError(f"the driver for {parsed.get_backend_name()} is not installed ({exc.name})",
                        "pip install 'clusterids[postgres]'") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate(engine)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise UserError(f"cannot use the database {parsed.render_as_string(hide_password=True)}: {reason}",
                        "check database_url, and that the server runs and lets this user in") from exc
    return engine


def migrate(engine: Engine) -> list[str]:
    """Bring the schema to the newest revision (Alembic, ``store/migrations``); return the
    revisions applied. An up-to-date library costs one read and never loads Alembic."""
    from .migrations import HEAD

    with engine.connect() as conn:
        current = _revision(conn)
    if current == HEAD:
        return []
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    _copy_before_migration(engine, current)
    config = Config()
    config.set_main_option("script_location", "clusterids.store:migrations")
    script = ScriptDirectory.from_config(config)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        if current is None:
            current = _legacy_revision(conn)
            if current is not None:  # made before Alembic: it had these migrations
                command.stamp(config, current)
        command.upgrade(config, "head")
    return [r.revision for r in reversed(list(script.iterate_revisions("head", current)))]


def _copy_before_migration(engine: Engine, current: str | None) -> None:
    """A library's database is copied before its schema changes (store/backup.py)."""
    from pathlib import Path

    from . import backup

    name = engine.url.database
    if engine.dialect.name != "sqlite" or not name or Path(name).name != backup.DB_FILE:
        return
    with engine.connect() as conn:
        if current is None and not inspect(conn).has_table("photos"):
            return  # a new database: nothing to keep
    backup.make(Path(name).parent)


def _revision(conn: Any) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


LEGACY = ("0001_initial", "i13_bigint", "i13_queue", "i12_people_page", "i9_person_photo_index")


def _legacy_revision(conn: Any) -> str | None:
    """The last of 0.2's and 0.3's named migrations a library had applied (its ``migrations``
    table), in order; None for a new database."""
    if not inspect(conn).has_table("migrations"):
        return None
    done = set(conn.execute(text("SELECT name FROM migrations")).scalars())
    last = None
    for name in LEGACY:
        if name not in done:
            break
        last = name
    return last


def copy_database(src: Engine, dst: Engine) -> None:
    """Copy every row of a library's database into an empty, migrated one (e.g. SQLite to
    PostgreSQL), ids kept; the destination's id sequences then continue after them."""
    tables = [t for t in Base.metadata.sorted_tables if t.name != "migrations"]
    with src.connect() as read, dst.begin() as write:
        for table in tables:
            rows = [dict(r._mapping) for r in read.execute(table.select())]
            for start in range(0, len(rows), 1000):
                write.execute(table.insert(), rows[start : start + 1000])
        if dst.dialect.name == "postgresql":
            for table in tables:
                if "id" in table.columns and isinstance(table.columns["id"].type, Integer):
                    write.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)")


CARRY_PENDING = "carry_pending"  # what a change of model pack has still to hand to new faces (store/grouping.py)


def get_meta(session: Session, key: str) -> str | None:
    row = session.get(Meta, key)
    return row.value if row else None


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
