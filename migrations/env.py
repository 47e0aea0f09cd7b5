"""Alembic environment shared by every schema of the bundled ConsDB tree.

The section chosen with ``-n`` names the schema (``consdb.schema_name``). The target model is the
Felis YAML of that schema, from ``SDM_SCHEMAS_DIR`` (an sdm_schemas checkout, as upstream) or from
the installed lsst-sdm-schemas package. All revisions of one run share one transaction, so a
failing revision leaves the schema exactly as it was.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from alembic import context
from cdb_views import VIEW_RULES, quoted
from felis.datamodel import Schema
from felis.metadata import MetaDataBuilder
from sqlalchemy import MetaData, create_engine, pool

config = context.config
schema_name = config.get_main_option("consdb.schema_name")
if not schema_name:
    raise SystemExit(f"section [{config.config_ini_section}] of {config.config_file_name} has no consdb.schema_name")
version_table_schema = config.get_main_option("consdb.version_table_schema", "cdb")
version_table = config.get_main_option("consdb.version_table", f"{schema_name}_version")


def model_file() -> Path:
    """Where the Felis YAML of this schema is: an sdm_schemas checkout, or the installed package."""
    checkout = os.environ.get("SDM_SCHEMAS_DIR")
    if checkout:
        for candidate in (Path(checkout) / "yml", Path(checkout) / "python/lsst/sdm/schemas", Path(checkout)):
            if (candidate / f"{schema_name}.yaml").is_file():
                return candidate / f"{schema_name}.yaml"
        raise SystemExit(f"SDM_SCHEMAS_DIR={checkout} holds no {schema_name}.yaml (looked in yml/ and python/)")
    return Path(str(resources.files("lsst.sdm.schemas") / f"{schema_name}.yaml"))


def target_metadata() -> MetaData:
    """The model's tables, less those the database serves as views."""
    with model_file().open() as stream:
        schema = Schema.model_validate(yaml.safe_load(stream), context={"id_generation": True})
    metadata = MetaDataBuilder(schema).build()
    for view_name in VIEW_RULES:
        table = metadata.tables.get(f"{schema_name}.{view_name}")
        if table is not None:
            metadata.remove(table)
    return metadata


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Look at this schema only: other instruments and the version tables are not ours."""
    if type_ == "schema":
        return name == schema_name
    return True


def include_object(obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
    """Leave out what the database cannot or need not hold as the model says.

    The views are managed by explicit SQL in the revisions. A unique constraint on exactly the
    primary key's columns is implied by the primary key, and PostgreSQL keeps only the key.
    """
    if type_ == "table":
        return name not in VIEW_RULES
    if type_ == "unique_constraint":
        primary_key = {column.name for column in obj.table.primary_key.columns}
        return {column.name for column in obj.columns} != primary_key
    return True


def configure_options() -> dict[str, Any]:
    return {
        "target_metadata": target_metadata(),
        "version_table": version_table,
        "version_table_schema": version_table_schema,
        "include_schemas": True,
        "include_name": include_name,
        "include_object": include_object,
    }


def database_url() -> str:
    url = os.environ.get("CONSDB_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set CONSDB_URL to the database to migrate")
    return url


def run_in_one_transaction() -> None:
    """Every revision of this run, and the version table's schema, in one transaction."""
    with context.begin_transaction():
        context.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted(version_table_schema)}")
        context.run_migrations()


def run_migrations_offline() -> None:
    """Write the SQL of the migration instead of running it (``--sql``)."""
    context.configure(url=database_url(), literal_binds=True, **configure_options())
    run_in_one_transaction()


def run_migrations_online() -> None:
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, **configure_options())
        run_in_one_transaction()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
