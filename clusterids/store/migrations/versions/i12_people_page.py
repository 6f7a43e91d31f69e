"""A chosen cover face per person, and the pairs of persons the user keeps apart.

Revision ID: i12_people_page
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i12_people_page"
down_revision = "i13_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    insp = sa.inspect(op.get_bind())
    if "cover_face_id" not in {c["name"] for c in insp.get_columns("persons")}:
        op.add_column("persons", sa.Column("cover_face_id", sa.Integer))
    if not insp.has_table("keep_apart"):
        op.create_table(
            "keep_apart",
            sa.Column("person_a", sa.Integer, sa.ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True),
            sa.Column("person_b", sa.Integer, sa.ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True),
        )


def downgrade() -> None:
    op.drop_table("keep_apart")
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("cover_face_id")
