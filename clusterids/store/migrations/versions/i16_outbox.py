"""The outbox: what derived state must still follow the database. Each write adds rows in its
own transaction (a face whose vector or payload changed, a photo whose sidecar is behind, the
albums); the catch-up carries them out and deletes them, so a crash in between leaves exactly
the work still to do. It replaces the generation counters of 0.3 (a library of 0.3 whose
counters say it was behind is reconciled in full once).

Revision ID: i16_outbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i16_outbox"
down_revision = "i16_face_norm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table("outbox"):
        op.create_table(
            "outbox",
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("ref", sa.BigInteger, nullable=False),
        )
        op.create_index("ix_outbox_kind", "outbox", ["kind", "id"])


def downgrade() -> None:
    op.drop_table("outbox")
