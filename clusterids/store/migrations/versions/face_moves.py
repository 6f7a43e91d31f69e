"""Faces an edit of their photo replaced (``face_moves``: old face, the face that took over what
the user did to it), so that ``undo`` of a correction made before the edit reaches the new face.
Empty in an older library: its edits went before.

Revision ID: face_moves
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "face_moves"
down_revision = "born"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table("face_moves"):
        op.create_table(
            "face_moves",
            sa.Column("old_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
            sa.Column("new_id", sa.BigInteger, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("face_moves")
