"""Create exposure

Revision ID: d00000000001
"""

import sqlalchemy as sa
from alembic import op

revision = "d00000000001"
down_revision = None


def upgrade():
    op.execute("CREATE SCHEMA IF NOT EXISTS cdb_lsstcomcam")
    op.create_table("exposure", sa.Column("exposure_id", sa.BigInteger, primary_key=True), schema="cdb_lsstcomcam")


def downgrade():
    op.drop_table("exposure", schema="cdb_lsstcomcam")
