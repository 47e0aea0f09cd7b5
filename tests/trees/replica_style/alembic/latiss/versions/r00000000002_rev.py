"""Create exposure_flexdata

Revision ID: r00000000002
"""

import sqlalchemy as sa
from alembic import op

revision = "r00000000002"
down_revision = "r00000000001"


def upgrade():
    op.create_table(
        "exposure_flexdata",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("obs_id", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Text),
        schema="cdb_latiss",
    )


def downgrade():
    op.drop_table("exposure_flexdata", schema="cdb_latiss")
