"""The visit1 and ccdvisit1 views of a ConsDB schema, made as lsst-dm/consdb makes them.

The Felis model describes ``visit1`` and ``ccdvisit1`` as tables, so that TAP can show them, but
in the database they are views over ``exposure`` and ``ccdexposure``: every column of the base
table in its order, ``exposure_id`` shown as ``visit_id`` (and ``ccdexposure_id`` as
``ccdvisit_id``), and every row. Production's views are made so, and queries must give the same
answers here. Revision scripts call these helpers around any change to those two tables.

This module stays free of Felis and SQLAlchemy model imports: every revision script imports it,
and reading the revision graph must stay cheap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from alembic import context, op
from psycopg import sql


@dataclass(frozen=True)
class ViewRule:
    """A view's base table, and the base columns the view shows under another name."""

    base_table: str
    renamed: Mapping[str, str]

    def view_columns(self, base_columns: Sequence[str]) -> list[str]:
        """The view's column names, for the base table's columns in their order."""
        return [self.renamed.get(column, column) for column in base_columns]

    def base_columns(self, view_columns: Sequence[str]) -> list[str]:
        """The base table's column names behind the view's columns."""
        original = {shown: column for column, shown in self.renamed.items()}
        return [original.get(column, column) for column in view_columns]


VIEW_RULES: dict[str, ViewRule] = {
    "visit1": ViewRule("exposure", {"exposure_id": "visit_id"}),
    "ccdvisit1": ViewRule("ccdexposure", {"ccdexposure_id": "ccdvisit_id", "exposure_id": "visit_id"}),
}


# A role these helpers grant to: the plain lower-case form, which means the same quoted or not.
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def quoted(*names: str) -> str:
    """A (qualified) identifier as SQL text, quoted whatever it holds.

    Revisions hand SQL text to ``op.execute``, and in offline mode (``--sql``) there is no connection
    to compose against: psycopg's ``sql.Identifier`` renders without one, doubling any double quote,
    as libpq does.
    """
    return sql.Identifier(*names).as_string(None)


def view_definition(schema_name: str, view_name: str, base_columns: Sequence[str]) -> str:
    """The ``CREATE VIEW`` statement for one view, over the given columns of its base table."""
    rule = VIEW_RULES[view_name]
    select_list = ",\n    ".join(
        f"{quoted(column)} AS {quoted(rule.renamed[column])}" if column in rule.renamed else quoted(column)
        for column in base_columns
    )
    return (
        f"CREATE VIEW {quoted(schema_name, view_name)} AS\nSELECT\n    {select_list}\n"
        f"FROM {quoted(schema_name, rule.base_table)}"
    )


def drop_views(schema_name: str, view_names: Sequence[str]) -> None:
    """Drop the views (dependents first) so that their base tables can change."""
    for view_name in reversed(view_names):
        op.execute(f"DROP VIEW IF EXISTS {quoted(schema_name, view_name)}")


def create_views(schema_name: str, definitions: Mapping[str, str]) -> None:
    """Create the views (name: ``CREATE VIEW`` statement) and grant SELECT on them to the reader roles."""
    readers = view_readers()
    for definition in definitions.values():
        op.execute(definition)
    for role in readers:
        for view_name in definitions:
            op.execute(f"GRANT SELECT ON {quoted(schema_name, view_name)} TO {quoted(role)}")


def view_readers() -> list[str]:
    """Reader roles: ``-x view_readers=a,b`` for this run, else ``consdb.view_readers`` in the ini.

    A role that is not a plain lower-case name fails the revision before anything of it runs, however
    it got here (consdb-bot refuses such a value before a request is posted; plain Alembic and the ini
    do not).
    """
    configured = context.get_x_argument(as_dictionary=True).get("view_readers")
    if configured is None:
        configured = context.config.get_main_option("consdb.view_readers") or ""
    roles = [role.strip() for role in configured.split(",") if role.strip()]
    for role in roles:
        if not ROLE_NAME.fullmatch(role):
            raise ValueError(
                f"view_readers: {role[:40]!r} is not a plain role name (lower-case letters, digits and _,"
                " not starting with a digit, at most 63 characters); nothing was granted"
            )
    return roles
