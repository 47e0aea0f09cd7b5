"""Add exposure.seeing

Revision ID: r00000000003
"""

import sqlalchemy as sa
from alembic import op

revision = "r00000000003"
down_revision = "r00000000002"


def upgrade():
    op.add_column("exposure", sa.Column("seeing", sa.Float), schema="cdb_latiss")


def downgrade():
    op.drop_column("exposure", "seeing", schema="cdb_latiss")
