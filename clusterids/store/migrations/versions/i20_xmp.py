"""Names other programs gave (issue 20): each photo's orientation as decoded (a sidecar's may
replace its EXIF one), the signature of its XMP sidecar as last read and what its XMP said;
where each face came from ('metadata' for a face made from a named region the detector missed).
Names read and not yet applied wait in the outbox (kind 'names'), so no column marks them.

Revision ID: i20_xmp
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i20_xmp"
down_revision = "i19_taken_estimated"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    photos = {c["name"] for c in inspector.get_columns("photos")}
    for name, kind in (("orientation", sa.Integer), ("xmp_sidecar", sa.Text), ("xmp", sa.JSON)):
        if name not in photos:
            op.add_column("photos", sa.Column(name, kind))
    if "origin" not in {c["name"] for c in inspector.get_columns("faces")}:
        op.add_column("faces", sa.Column("origin", sa.String(16), nullable=False, server_default="detector"))


def downgrade() -> None:
    with op.batch_alter_table("faces") as batch:
        batch.drop_column("origin")
    with op.batch_alter_table("photos") as batch:
        for name in ("xmp", "xmp_sidecar", "orientation"):
            batch.drop_column(name)
