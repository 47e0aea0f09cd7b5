"""The visit1 and ccdvisit1 views of a ConsDB schema.

The Felis model describes ``visit1`` and ``ccdvisit1`` as tables, so that TAP can show them, but
in the database they are views over ``exposure`` and ``ccdexposure``: one visit per exposure that
could see the sky. Revision scripts call these helpers around any change to those two tables.

This module stays free of Felis and SQLAlchemy model imports: every revision script imports it,
and reading the revision graph must stay cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from alembic import context, op


@dataclass(frozen=True)
class ViewRule:
    """How a view's columns are drawn from its base table."""

    base_table: str
    renamed: Mapping[str, str]


VIEW_RULES: dict[str, ViewRule] = {
    "visit1": ViewRule("exposure", {"visit_id": "exposure_id"}),
    "ccdvisit1": ViewRule("ccdexposure", {"ccdvisit_id": "ccdexposure_id", "visit_id": "exposure_id"}),
}

SKY_FILTER_COLUMN = "can_see_sky"


def view_definition(
    schema_name: str,
    view_name: str,
    view_columns: Sequence[str],
    *,
    exposure_columns: Iterable[str],
) -> str:
    """The ``CREATE VIEW`` statement for one view, given the model's column lists.

    The view lists the model's columns in the model's order, so that what TAP describes and what
    the database serves agree column for column.
    """
    rule = VIEW_RULES[view_name]
    select_list = ",\n    ".join(
        f"b.{rule.renamed[column]} AS {column}" if column in rule.renamed else f"b.{column}" for column in view_columns
    )
    source = f"{schema_name}.{rule.base_table} AS b"
    sky = "b" if rule.base_table == "exposure" else "e"
    if rule.base_table != "exposure":
        source += f"\n    JOIN {schema_name}.exposure AS e ON e.exposure_id = b.exposure_id"
    where = f"\nWHERE {sky}.{SKY_FILTER_COLUMN} IS TRUE" if SKY_FILTER_COLUMN in set(exposure_columns) else ""
    return f"CREATE VIEW {schema_name}.{view_name} AS\nSELECT\n    {select_list}\nFROM {source}{where}"


def drop_views(schema_name: str, view_names: Sequence[str]) -> None:
    """Drop the views (dependents first) so that their base tables can change."""
    for view_name in reversed(view_names):
        op.execute(f"DROP VIEW IF EXISTS {schema_name}.{view_name}")


def create_views(schema_name: str, definitions: Sequence[str], view_names: Sequence[str]) -> None:
    """Create the views and grant SELECT on them to the configured reader roles."""
    for definition in definitions:
        op.execute(definition)
    for role in view_readers():
        for view_name in view_names:
            op.execute(f'GRANT SELECT ON {schema_name}.{view_name} TO "{role}"')


def view_readers() -> list[str]:
    """Reader roles: ``-x view_readers=a,b`` for this run, else ``consdb.view_readers`` in the ini."""
    configured = context.get_x_argument(as_dictionary=True).get("view_readers")
    if configured is None:
        configured = context.config.get_main_option("consdb.view_readers") or ""
    return [role.strip() for role in configured.split(",") if role.strip()]
