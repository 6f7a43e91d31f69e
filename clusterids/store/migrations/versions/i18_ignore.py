"""Faces put aside (issue 18): each face's reason for being ignored, "ignored" or "not_a_face"
(a detection that is no face at all); NULL for every face an older library had.

Revision ID: i18_ignore
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i18_ignore"
down_revision = "i20_xmp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "ignored" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("faces")}:
        op.add_column("faces", sa.Column("ignored", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("faces") as batch:
        batch.drop_column("ignored")
