"""The library database: typed SQLAlchemy models and named migrations.

The database is the source of truth. It keeps each face's vector too, so the vector index
can be rebuilt without running the models again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
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
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from ..errors import UserError


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Migration(Base):
    __tablename__ = "migrations"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | failed
    error: Mapped[str | None] = mapped_column(Text)
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)
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
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, default=None
    )
    # A manual assignment: every recluster keeps it.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    photo: Mapped[Photo] = relationship(back_populates="faces")

    @property
    def bbox(self) -> list[float]:
        return [self.x1, self.y1, self.x2, self.y2]

    def embedding(self) -> np.ndarray:
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


# The schema of 0.2.0, frozen: later migrations ALTER it, the models above describe the result.
# One text for both engines; only the column types that the two spell differently are filled in.
_TYPES = {
    "sqlite": {"serial": "INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT", "rowid": "INTEGER NOT NULL PRIMARY KEY",
               "ts": "DATETIME", "blob": "BLOB"},
    "postgresql": {"serial": "SERIAL NOT NULL PRIMARY KEY", "rowid": "SERIAL NOT NULL PRIMARY KEY",
                   "ts": "TIMESTAMP WITHOUT TIME ZONE", "blob": "BYTEA"},
}
_MIGRATIONS_DDL = """
CREATE TABLE migrations (
    name VARCHAR(128) NOT NULL,
    applied_at {ts} NOT NULL,
    PRIMARY KEY (name)
)"""
_INITIAL_DDL = """
CREATE TABLE meta (
    "key" VARCHAR(64) NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY ("key")
);
CREATE TABLE photos (
    id {serial},
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 VARCHAR(64),
    width INTEGER,
    height INTEGER,
    taken_at VARCHAR(32),
    status VARCHAR(16) NOT NULL,
    error TEXT,
    indexed_at {ts} NOT NULL,
    UNIQUE (path)
);
CREATE INDEX ix_photos_sha256 ON photos (sha256);
CREATE TABLE persons (
    id {serial},
    name TEXT,
    hidden BOOLEAN NOT NULL,
    merged_into INTEGER,
    created_at {ts} NOT NULL,
    FOREIGN KEY(merged_into) REFERENCES persons (id) ON DELETE SET NULL
);
CREATE TABLE journal (
    id {rowid},
    at {ts} NOT NULL,
    op VARCHAR(32) NOT NULL,
    args JSON NOT NULL,
    "before" JSON NOT NULL,
    undone BOOLEAN NOT NULL
);
CREATE TABLE faces (
    id {serial},
    photo_id INTEGER NOT NULL,
    x1 FLOAT NOT NULL,
    y1 FLOAT NOT NULL,
    x2 FLOAT NOT NULL,
    y2 FLOAT NOT NULL,
    landmarks JSON NOT NULL,
    det_score FLOAT NOT NULL,
    size_px FLOAT NOT NULL,
    sharpness FLOAT NOT NULL,
    vector {blob} NOT NULL,
    person_id INTEGER,
    pinned BOOLEAN NOT NULL,
    FOREIGN KEY(photo_id) REFERENCES photos (id) ON DELETE CASCADE,
    FOREIGN KEY(person_id) REFERENCES persons (id) ON DELETE SET NULL
);
CREATE INDEX ix_faces_photo_id ON faces (photo_id);
CREATE INDEX ix_faces_person_id ON faces (person_id);
CREATE TABLE rejections (
    face_id INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    PRIMARY KEY (face_id, person_id),
    FOREIGN KEY(face_id) REFERENCES faces (id) ON DELETE CASCADE,
    FOREIGN KEY(person_id) REFERENCES persons (id) ON DELETE CASCADE
)
"""


def _ddl(engine: Engine, text_: str) -> list[str]:
    types = _TYPES.get(engine.dialect.name)
    if types is None:
        raise UserError(f"the database engine {engine.dialect.name!r} is not supported",
                        "use SQLite (the default) or PostgreSQL")
    return [stmt.strip().format(**types) for stmt in text_.split(";") if stmt.strip()]


def _execute(engine: Engine, statements: list[str]) -> None:
    with engine.begin() as conn:
        for stmt in statements:
            conn.exec_driver_sql(stmt)


def _missing(engine: Engine, statements: list[str]) -> list[str]:
    """The CREATE statements whose table or index is not there yet (SQLite's DDL is not
    transactional: a migration cut short must be able to run again)."""
    insp = inspect(engine)
    out = []
    for stmt in statements:
        words = stmt.split()
        if words[1] == "TABLE" and insp.has_table(words[2]):
            continue
        if words[1] == "INDEX" and insp.has_table(words[4]) and any(
                ix["name"] == words[2] for ix in insp.get_indexes(words[4])):
            continue
        out.append(stmt)
    return out


class KeepApart(Base):
    """'Not the same person': the suggestions never offer to merge this pair again."""

    __tablename__ = "keep_apart"
    person_a: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    person_b: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)


def _initial(engine: Engine) -> None:
    if inspect(engine).has_table("photos"):  # made by 0.1's create_all before migrations were recorded
        return
    _execute(engine, _ddl(engine, _INITIAL_DDL))


def _i13_bigint(engine: Engine) -> None:
    """File sizes and nanosecond mtimes pass 2^31: 64-bit columns (SQLite's INTEGER already is)."""
    if engine.dialect.name != "postgresql":
        return
    columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("photos")}
    _execute(engine, [f"ALTER TABLE photos ALTER COLUMN {name} TYPE BIGINT" for name in ("size", "mtime_ns")
                      if not isinstance(columns[name], BigInteger)])


_QUEUE_DDL = """
CREATE TABLE queue (
    id {serial},
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    sha256 VARCHAR(64),
    enqueued_at {ts} NOT NULL,
    token VARCHAR(32),
    worker VARCHAR(128),
    lease_until FLOAT,
    attempts INTEGER NOT NULL,
    UNIQUE (path)
);
CREATE INDEX ix_queue_lease_until ON queue (lease_until);
CREATE TABLE workers (
    id VARCHAR(128) NOT NULL,
    host VARCHAR(255) NOT NULL,
    pid INTEGER NOT NULL,
    providers TEXT NOT NULL,
    started_at FLOAT NOT NULL,
    seen_at FLOAT NOT NULL,
    photos_done BIGINT NOT NULL,
    PRIMARY KEY (id)
)
"""


def _i13_queue(engine: Engine) -> None:
    """The work queue of ``clusterids worker`` and the workers' heartbeats."""
    _execute(engine, _missing(engine, _ddl(engine, _QUEUE_DDL)))


def _i12_people_page(engine: Engine) -> None:
    """A chosen cover face per person, and the pairs of persons the user keeps apart."""
    if "cover_face_id" not in {c["name"] for c in inspect(engine).get_columns("persons")}:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE persons ADD COLUMN cover_face_id INTEGER"))
    if not inspect(engine).has_table("keep_apart"):
        KeepApart.__table__.create(engine)  # type: ignore[attr-defined]


def _i9_person_photo_index(engine: Engine) -> None:
    """The people list counts faces and photos per person from one covering index (100k faces:
    0.37 s -> 0.05 s in SQLite) instead of reading every face row, vectors and all."""
    _execute(engine, ["CREATE INDEX IF NOT EXISTS ix_faces_person_photo ON faces (person_id, photo_id)"])


# Named, ordered migrations; each runs once and is recorded in the migrations table.
MIGRATIONS: list[tuple[str, Callable[[Engine], None]]] = [
    ("0001_initial", _initial),
    ("i13_bigint", _i13_bigint),
    ("i13_queue", _i13_queue),
    ("i12_people_page", _i12_people_page),
    ("i9_person_photo_index", _i9_person_photo_index),
]


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
    """Apply the migrations not yet recorded; return their names."""
    if not inspect(engine).has_table("migrations"):
        _execute(engine, _ddl(engine, _MIGRATIONS_DDL))
    with Session(engine) as session:
        done = set(session.scalars(select(Migration.name)))
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        step(engine)
        with Session(engine) as session, session.begin():
            session.add(Migration(name=name))
        applied.append(name)
    return applied


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
