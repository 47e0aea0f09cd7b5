"""Branch A: add band

Revision ID: b0000000000a
"""

import sqlalchemy as sa
from alembic import op

revision = "b0000000000a"
down_revision = "b00000000001"


def upgrade():
    op.add_column("exposure", sa.Column("band", sa.String(32)), schema="cdb_lsstcam")


def downgrade():
    op.drop_column("exposure", "band", schema="cdb_lsstcam")
