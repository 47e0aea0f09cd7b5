"""Add seq_num

Revision ID: a1b2c3000002
"""

import sqlalchemy as sa
from alembic import op

revision = "a1b2c3000002"
down_revision = "a1b2c3000001"


def upgrade():
    op.add_column("exposure", sa.Column("seq_num", sa.Integer), schema="cdb_latiss")


def downgrade():
    op.drop_column("exposure", "seq_num", schema="cdb_latiss")
