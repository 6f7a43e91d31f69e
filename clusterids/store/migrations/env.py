"""Alembic's entry point: run the migrations on the connection handed in by ``store.db.migrate``
(or, from the command line, on ``-x url=...``). SQLite runs in batch mode (its ALTER TABLE is
limited: Alembic copies the table where it must)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

config = context.config
connection = config.attributes.get("connection")


def _run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=None, render_as_batch=conn.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # alembic -c alembic.ini -x url=sqlite:///path/library.db upgrade head
    engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])
    with engine.connect() as conn:
        _run(conn)
