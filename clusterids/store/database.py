"""The library database as the modules above the store see it: reads on their own connection,
and the unit of work of every change.

``read()`` is a session of its own that sees the last commit and never waits for the writer
(SQLite in WAL mode, PostgreSQL). ``transaction()`` is one unit of work: it commits when the
block ends (or rolls back on an error), together with the outbox rows that tell derived state
what changed (store/outbox.py). Only the store's own modules take a transaction.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from .db import get_meta, set_meta


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def session(self) -> Session:
        """A long-lived session for a writer that commits in steps (store/photos.py)."""
        return Session(self.engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()

    # -- small facts kept in meta --------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        with self.read() as s:
            return get_meta(s, key)

    def set_meta(self, **values: str) -> None:
        with self.transaction() as s:
            for key, value in values.items():
                set_meta(s, key, value)

    def roots(self) -> list[str]:
        """The folders this library indexes."""
        return list(json.loads(self.meta("roots") or "[]"))

    def add_roots(self, paths: Sequence[str]) -> None:
        roots = self.roots()
        for p in paths:
            full = os.path.abspath(p)
            if os.path.isdir(full) and not any(full == r or full.startswith(r + os.sep) for r in roots):
                roots = [r for r in roots if not r.startswith(full + os.sep)] + [full]
        self.set_meta(roots=json.dumps(sorted(roots)))
