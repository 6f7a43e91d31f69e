"""Every photo gets a date: ``photos.taken_estimated`` says that ``taken_at`` is the file's
modification time rather than a date the camera wrote (EXIF, XMP, or the file name). Photos
stored before without a date get one here, from their file name or their stored modification
time (clusterids/dates.py), so an upgraded library has no "date unknown" left.

Revision ID: i19_taken_estimated
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clusterids.dates import taken, valid

revision = "i19_taken_estimated"
down_revision = "i16_outbox"
branch_labels = None
depends_on = None

photos = sa.table("photos", sa.column("id", sa.Integer), sa.column("path", sa.Text),
                  sa.column("mtime_ns", sa.BigInteger), sa.column("taken_at", sa.String),
                  sa.column("status", sa.String), sa.column("taken_estimated", sa.Boolean))


def upgrade() -> None:
    bind = op.get_bind()
    if "taken_estimated" not in {c["name"] for c in sa.inspect(bind).get_columns("photos")}:
        op.add_column("photos", sa.Column("taken_estimated", sa.Boolean, nullable=False,
                                          server_default=sa.false()))
    rows = bind.execute(sa.select(photos.c.id, photos.c.path, photos.c.mtime_ns, photos.c.taken_at)
                        .where(photos.c.status == "ok")).all()
    # no date, or EXIF's "0000:00:00 00:00:00" that earlier versions kept
    dated = [(pid, taken(None, path, mtime)) for pid, path, mtime, at in rows if not at or not valid(at)]
    for start in range(0, len(dated), 1000):
        bind.execute(photos.update().where(photos.c.id == sa.bindparam("pid"))
                     .values(taken_at=sa.bindparam("at"), taken_estimated=sa.bindparam("estimated")),
                     [{"pid": pid, "at": when.at, "estimated": when.estimated}
                      for pid, when in dated[start: start + 1000]])


def downgrade() -> None:
    with op.batch_alter_table("photos") as batch:
        batch.drop_column("taken_estimated")
