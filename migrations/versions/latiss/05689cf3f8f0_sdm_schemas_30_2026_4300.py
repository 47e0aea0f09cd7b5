"""sdm_schemas 30.2026.4300

Revision ID: 05689cf3f8f0
Revises: 8ebb60eda79d
Create Date: 2026-10-23 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "05689cf3f8f0"
down_revision: str | Sequence[str] | None = "8ebb60eda79d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "idx_ccdexposure_camera_ccdexposure_id",
        "ccdexposure_camera",
        ["ccdexposure_id"],
        unique=False,
        schema="cdb_latiss",
    )
    op.create_index(
        "idx_ccdexposure_flexdata_obs_id_key",
        "ccdexposure_flexdata",
        ["obs_id", "key"],
        unique=False,
        schema="cdb_latiss",
    )
    op.create_index(
        "idx_ccdexposure_quicklook_ccdexposure_id",
        "ccdexposure_quicklook",
        ["ccdexposure_id"],
        unique=False,
        schema="cdb_latiss",
    )
    op.create_index(
        "idx_ccdvisit1_quicklook_ccdvisit_id",
        "ccdvisit1_quicklook",
        ["ccdvisit_id"],
        unique=False,
        schema="cdb_latiss",
    )


def downgrade() -> None:
    op.drop_index("idx_ccdvisit1_quicklook_ccdvisit_id", table_name="ccdvisit1_quicklook", schema="cdb_latiss")
    op.drop_index("idx_ccdexposure_quicklook_ccdexposure_id", table_name="ccdexposure_quicklook", schema="cdb_latiss")
    op.drop_index("idx_ccdexposure_flexdata_obs_id_key", table_name="ccdexposure_flexdata", schema="cdb_latiss")
    op.drop_index("idx_ccdexposure_camera_ccdexposure_id", table_name="ccdexposure_camera", schema="cdb_latiss")
