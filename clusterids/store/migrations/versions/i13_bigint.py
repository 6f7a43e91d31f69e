"""File sizes and nanosecond mtimes pass 2^31: 64-bit columns (SQLite's INTEGER already is).

Revision ID: i13_bigint
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i13_bigint"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    columns = {c["name"]: c["type"] for c in sa.inspect(bind).get_columns("photos")}
    for name in ("size", "mtime_ns"):
        if not isinstance(columns[name], sa.BigInteger):
            op.alter_column("photos", name, type_=sa.BigInteger, existing_nullable=False)


def downgrade() -> None:
    pass  # a 64-bit column holds every 32-bit value
