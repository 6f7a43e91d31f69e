"""Each face's recognizer norm: the length of the recognizer's raw output before it is made a
unit vector, which carries the face's quality for some recognizers (MagFace, AdaFace). Faces
indexed before have none (NULL).

Revision ID: i16_face_norm
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i16_face_norm"
down_revision = "i9_person_photo_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "norm" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("faces")}:
        op.add_column("faces", sa.Column("norm", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("faces") as batch:
        batch.drop_column("norm")
