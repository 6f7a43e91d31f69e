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
    Boolean,
    Engine,
    Float,
    ForeignKey,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


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
    size: Mapped[int] = mapped_column(Integer)
    mtime_ns: Mapped[int] = mapped_column(Integer)
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
    __table_args__ = {"sqlite_autoincrement": True}
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


class KeepApart(Base):
    """'Not the same person': the suggestions never offer to merge this pair again."""

    __tablename__ = "keep_apart"
    person_a: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    person_b: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)


def _initial(engine: Engine) -> None:
    Base.metadata.create_all(engine)


def _i12_people_page(engine: Engine) -> None:
    """A chosen cover face per person, and the pairs of persons the user keeps apart."""
    if "cover_face_id" not in {c["name"] for c in inspect(engine).get_columns("persons")}:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE persons ADD COLUMN cover_face_id INTEGER"))
    if not inspect(engine).has_table("keep_apart"):
        KeepApart.__table__.create(engine)  # type: ignore[attr-defined]


# Named, ordered migrations; each runs once and is recorded in the migrations table.
MIGRATIONS: list[tuple[str, Callable[[Engine], None]]] = [
    ("0001_initial", _initial),
    ("i12_people_page", _i12_people_page),
]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def open_engine(url: str) -> Engine:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine)
    return engine


def migrate(engine: Engine) -> list[str]:
    """Apply the migrations not yet recorded; return their names."""
    if not inspect(engine).has_table("migrations"):
        Migration.__table__.create(engine)  # type: ignore[attr-defined]
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
