"""Branch B: add airmass

Revision ID: b0000000000b
"""

import sqlalchemy as sa
from alembic import op

revision = "b0000000000b"
down_revision = "b00000000001"


def upgrade():
    op.add_column("exposure", sa.Column("airmass", sa.Float), schema="cdb_lsstcam")


def downgrade():
    op.drop_column("exposure", "airmass", schema="cdb_lsstcam")
