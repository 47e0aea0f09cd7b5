"""Create exposure with a sky position

Revision ID: a1b2c3000001
"""

import sqlalchemy as sa
from alembic import op
from consdb_testing.types import SkyPosition

revision = "a1b2c3000001"
down_revision = None


def upgrade():
    op.execute("CREATE SCHEMA IF NOT EXISTS cdb_latiss")
    op.execute("CREATE TYPE cdb_latiss.sky_position AS (ra double precision, dec double precision)")
    op.create_table(
        "exposure",
        sa.Column("exposure_id", sa.BigInteger, primary_key=True),
        sa.Column("day_obs", sa.Integer, nullable=False),
        sa.Column("position", SkyPosition()),
        schema="cdb_latiss",
    )


def downgrade():
    op.drop_table("exposure", schema="cdb_latiss")
    op.execute("DROP TYPE cdb_latiss.sky_position")
