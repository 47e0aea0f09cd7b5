"""Warnings on the SQL a plan would run: what locks or loses data on a populated table.

Each warning names the table and says the safer form, so the approver knows what they approve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class LintWarning:
    rule: str
    table: str
    message: str


_TABLE = r"(?P<table>[\w\".]+)"
_RULES: list[tuple[str, re.Pattern[str], str]] = [
    (
        "drop-table",
        re.compile(rf"^DROP TABLE (?:IF EXISTS )?{_TABLE}", re.IGNORECASE),
        "drops the table and every row in it; take a backup or rename it aside first",
    ),
    (
        "drop-column",
        re.compile(rf"^ALTER TABLE {_TABLE} DROP COLUMN (?P<column>[\w\"]+)", re.IGNORECASE),
        "drops column {column} and its data; if it was renamed, write a rename instead",
    ),
    (
        "column-type",
        re.compile(rf"^ALTER TABLE {_TABLE} ALTER COLUMN (?P<column>[\w\"]+) TYPE", re.IGNORECASE),
        "changes the type of {column}, which rewrites the table under an exclusive lock",
    ),
    (
        "not-null-without-default",
        re.compile(
            rf"^ALTER TABLE {_TABLE} ADD (?:COLUMN )?(?P<column>[\w\"]+) (?!.*\bDEFAULT\b).*\bNOT NULL\b",
            re.IGNORECASE,
        ),
        "adds NOT NULL column {column} without a default, which fails on a table holding rows;"
        " add it nullable, fill it, then set NOT NULL",
    ),
    (
        "set-not-null",
        re.compile(rf"^ALTER TABLE {_TABLE} ALTER COLUMN (?P<column>[\w\"]+) SET NOT NULL", re.IGNORECASE),
        "sets {column} NOT NULL, which scans the table under an exclusive lock and fails on NULLs",
    ),
    (
        "new-primary-or-unique",
        re.compile(rf"^ALTER TABLE {_TABLE} ADD CONSTRAINT (?P<column>[\w\"]+) (?:PRIMARY KEY|UNIQUE)", re.IGNORECASE),
        "adds constraint {column}, building its index under a lock that blocks writes;"
        " build a unique index CONCURRENTLY first, then add the constraint USING INDEX",
    ),
    (
        "index-not-concurrent",
        re.compile(rf"^CREATE (?:UNIQUE )?INDEX (?!CONCURRENTLY)(?P<column>[\w\"]+) ON {_TABLE}", re.IGNORECASE),
        "builds index {column} without CONCURRENTLY, blocking writes while it builds on a big table",
    ),
]


def lint_sql(sql: str) -> list[LintWarning]:
    """The warnings for every statement of ``sql`` (one statement per ``;``)."""
    warnings: list[LintWarning] = []
    for statement in _statements(sql):
        for rule, pattern, template in _RULES:
            match = pattern.search(statement)
            if match:
                fields = {key: value.strip('"') for key, value in match.groupdict().items() if value}
                warnings.append(LintWarning(rule, fields["table"], template.format(**fields)))
    return warnings


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [" ".join(part.split()) for part in "\n".join(lines).split(";") if part.strip()]
