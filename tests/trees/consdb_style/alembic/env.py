"""Shared env.py, upstream style: CONSDB_URL and SDM_SCHEMAS_DIR are required, the python/
folder is imported, the version table is cdb.<schema>_version."""

import os
import sys
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, pool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from consdb_testing.types import SkyPosition  # noqa: F401 - as upstream imports its types

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

url = os.environ.get("CONSDB_URL")
if not url:
    raise ValueError("CONSDB_URL must be set")
sdm_schemas = os.environ.get("SDM_SCHEMAS_DIR")
if not sdm_schemas:
    raise ValueError("SDM_SCHEMAS_DIR must be set")
schema_name = config.get_main_option("consdb.schema_name")
if not (Path(sdm_schemas) / "yml" / f"{schema_name}.yaml").exists():
    raise ValueError(f"no {schema_name}.yaml under {sdm_schemas}/yml")

options = {"version_table": f"{schema_name}_version", "version_table_schema": "cdb", "target_metadata": None}

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True, **options)
    with context.begin_transaction():
        context.run_migrations()
else:
    with create_engine(url, poolclass=pool.NullPool).connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
