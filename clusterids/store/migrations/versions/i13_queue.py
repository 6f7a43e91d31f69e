"""The work queue of ``clusterids worker`` and the workers' heartbeats.

Revision ID: i13_queue
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i13_queue"
down_revision = "i13_bigint"
branch_labels = None
depends_on = None


def upgrade() -> None:
    insp = sa.inspect(op.get_bind())
    if not insp.has_table("queue"):  # SQLite's DDL is not transactional: a run cut short runs again
        op.create_table(
            "queue",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("path", sa.Text, nullable=False, unique=True),
            sa.Column("size", sa.BigInteger, nullable=False),
            sa.Column("mtime_ns", sa.BigInteger, nullable=False),
            sa.Column("sha256", sa.String(64)),
            sa.Column("enqueued_at", sa.DateTime, nullable=False),
            sa.Column("token", sa.String(32)),
            sa.Column("worker", sa.String(128)),
            sa.Column("lease_until", sa.Float, index=True),
            sa.Column("attempts", sa.Integer, nullable=False),
        )
    if not insp.has_table("workers"):
        op.create_table(
            "workers",
            sa.Column("id", sa.String(128), primary_key=True),
            sa.Column("host", sa.String(255), nullable=False),
            sa.Column("pid", sa.Integer, nullable=False),
            sa.Column("providers", sa.Text, nullable=False),
            sa.Column("started_at", sa.Float, nullable=False),
            sa.Column("seen_at", sa.Float, nullable=False),
            sa.Column("photos_done", sa.BigInteger, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("workers")
    op.drop_table("queue")
