"""sdm_schemas 30.2026.4300

Revision ID: 8f1ba7d267f3
Revises: 84af47a1aa2b
Create Date: 2026-10-23 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8f1ba7d267f3"
down_revision: str | Sequence[str] | None = "84af47a1aa2b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "idx_ccdexposure_camera_ccdexposure_id",
        "ccdexposure_camera",
        ["ccdexposure_id"],
        unique=False,
        schema="cdb_lsstcomcam",
    )
    op.create_index(
        "idx_ccdexposure_flexdata_obs_id_key",
        "ccdexposure_flexdata",
        ["obs_id", "key"],
        unique=False,
        schema="cdb_lsstcomcam",
    )
    op.create_index(
        "idx_ccdexposure_quicklook_ccdexposure_id",
        "ccdexposure_quicklook",
        ["ccdexposure_id"],
        unique=False,
        schema="cdb_lsstcomcam",
    )
    op.create_index(
        "idx_ccdvisit1_quicklook_ccdvisit_id",
        "ccdvisit1_quicklook",
        ["ccdvisit_id"],
        unique=False,
        schema="cdb_lsstcomcam",
    )


def downgrade() -> None:
    op.drop_index("idx_ccdvisit1_quicklook_ccdvisit_id", table_name="ccdvisit1_quicklook", schema="cdb_lsstcomcam")
    op.drop_index(
        "idx_ccdexposure_quicklook_ccdexposure_id",
        table_name="ccdexposure_quicklook",
        schema="cdb_lsstcomcam",
    )
    op.drop_index("idx_ccdexposure_flexdata_obs_id_key", table_name="ccdexposure_flexdata", schema="cdb_lsstcomcam")
    op.drop_index("idx_ccdexposure_camera_ccdexposure_id", table_name="ccdexposure_camera", schema="cdb_lsstcomcam")
