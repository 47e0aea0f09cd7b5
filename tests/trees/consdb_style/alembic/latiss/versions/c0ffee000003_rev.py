"""Add exposure_time

Revision ID: c0ffee000003
"""

import sqlalchemy as sa
from alembic import op

revision = "c0ffee000003"
down_revision = "a1b2c3000002"


def upgrade():
    op.add_column("exposure", sa.Column("exposure_time", sa.Float), schema="cdb_latiss")


def downgrade():
    op.drop_column("exposure", "exposure_time", schema="cdb_latiss")
