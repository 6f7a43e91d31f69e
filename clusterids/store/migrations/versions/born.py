"""A person's birth date (``persons.born``, "YYYY-MM-DD"): photos taken before it are not that
person's (Immich #17454). NULL for every person an older library had.

Revision ID: born
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "born"
down_revision = "i18_ignore"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "born" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("persons")}:
        op.add_column("persons", sa.Column("born", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("born")
