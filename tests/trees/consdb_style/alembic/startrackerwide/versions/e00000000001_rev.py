"""Create exposure after the test's barrier

Revision ID: e00000000001
"""

import sqlalchemy as sa
from alembic import context, op

revision = "e00000000001"
down_revision = None


def upgrade():
    barrier = context.get_x_argument(as_dictionary=True).get("barrier")
    if barrier:
        op.execute(f"SELECT pg_advisory_xact_lock({int(barrier)})")
    op.execute("CREATE SCHEMA IF NOT EXISTS cdb_startrackerwide")
    note = context.get_x_argument(as_dictionary=True).get("note", "none")
    op.create_table("exposure", sa.Column("exposure_id", sa.BigInteger, primary_key=True), schema="cdb_startrackerwide")
    op.execute(f"COMMENT ON TABLE cdb_startrackerwide.exposure IS '{note}'")


def downgrade():
    op.drop_table("exposure", schema="cdb_startrackerwide")
