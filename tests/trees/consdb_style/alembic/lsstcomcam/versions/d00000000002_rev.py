"""Half-done change that fails

Revision ID: d00000000002
"""

import sqlalchemy as sa
from alembic import op

revision = "d00000000002"
down_revision = "d00000000001"


def upgrade():
    op.add_column("exposure", sa.Column("half_done", sa.Integer), schema="cdb_lsstcomcam")
    op.execute("SELECT no_such_function()")


def downgrade():
    op.drop_column("exposure", "half_done", schema="cdb_lsstcomcam")
