"""Create exposure as the replica pair has it

Revision ID: r00000000001
"""

from alembic import op

revision = "r00000000001"
down_revision = None


def upgrade():
    op.execute("CREATE SCHEMA IF NOT EXISTS cdb_latiss")
    op.execute("CREATE TABLE IF NOT EXISTS cdb_latiss.exposure (id bigint PRIMARY KEY, note text)")


def downgrade():
    op.execute("DROP TABLE cdb_latiss.exposure")
