"""Copies of the bundled migration tree with revisions of a test's own on top, as a change under test would be."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

Added = dict[str, list[tuple[str, str]]]
"""Columns a revision adds: ``table: [(name, SQLAlchemy type), ...]``."""


def bundled_copy(folder: Path, *revisions: tuple[str, str, str]) -> Path:
    """The bundled tree copied into ``folder/tree``, with each ``(schema, file name, text)`` revision written into
    its schema's versions."""
    copy = folder / "tree"
    shutil.copytree(REPO / "migrations", copy, ignore=shutil.ignore_patterns("__pycache__"))
    for schema, name, text in revisions:
        (copy / "versions" / schema / name).write_text(text)
    return copy


def columns_revision(schema: str, down: str, revision_id: str, added: Added) -> tuple[str, str, str]:
    """A revision of ``schema`` after ``down`` that adds nullable columns, for :func:`bundled_copy`."""
    ups = [
        f'    op.add_column("{table}", sa.Column("{name}", sa.{kind}(), nullable=True), schema="cdb_{schema}")'
        for table, columns in added.items()
        for name, kind in columns
    ]
    downs = [
        f'    op.drop_column("{table}", "{name}", schema="cdb_{schema}")'
        for table, columns in added.items()
        for name, _ in columns
    ]
    text = "\n".join([
        f'"""Add columns\n\nRevision ID: {revision_id}\nRevises: {down}\n"""', "",
        "import sqlalchemy as sa", "from alembic import op", "",
        f'revision = "{revision_id}"', f'down_revision = "{down}"', "branch_labels = None", "depends_on = None", "", "",
        "def upgrade() -> None:", *ups, "", "", "def downgrade() -> None:", *downs, "",
    ])  # fmt: skip
    return schema, f"{revision_id}_add_columns.py", text
