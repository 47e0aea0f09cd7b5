"""Warnings on the SQL a plan would run: what locks or loses data on a populated table.

Each warning names the table and says the safer form, so the approver knows what they approve. The
rules here are ConsDB's own wording of the common dangers, and the views rule; squawk (the maintained
PostgreSQL migration linter, from the squawk-cli package) adds the rest of what it knows, less the
rules these already say and those that do not apply to a ConsDB migration.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


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


# squawk's rules that the rules above already say, in ConsDB's words.
_SAID_ALREADY = [
    "adding-required-field", "ban-drop-column", "ban-drop-table", "changing-column-type",
    "disallowed-unique-constraint", "require-concurrent-index-creation",
]  # fmt: skip
# squawk's rules that do not apply: the bot sets lock_timeout and statement_timeout on every connection
# and runs each schema's revisions in one transaction (Alembic's own BEGIN and COMMIT); the Felis model,
# not the migration, picks the types; the views are dropped to be made again.
_NOT_FOR_CONSDB = [
    "require-lock-timeout", "require-statement-timeout", "prefer-robust-stmts", "transaction-nesting",
    "prefer-bigint-over-int", "prefer-bigint-over-smallint", "prefer-identity", "prefer-text-field",
    "prefer-timestamptz", "ban-drop-view",
]  # fmt: skip
_COLUMN_CHANGE = re.compile(rf"^ALTER TABLE {_TABLE} (?:ADD|DROP|ALTER|RENAME) (?:COLUMN )?", re.IGNORECASE)
_VIEW_BASES = {"exposure": "visit1", "ccdexposure": "ccdvisit1"}


def lint_sql(sql: str) -> list[LintWarning]:
    """The warnings for every statement of ``sql`` (one statement per ``;``)."""
    statements = _statements(sql)
    warnings: list[LintWarning] = []
    for statement in statements:
        for rule, pattern, template in _RULES:
            match = pattern.search(statement)
            if match:
                fields = {key: value.strip('"') for key, value in match.groupdict().items() if value}
                warnings.append(LintWarning(rule, fields["table"], template.format(**fields)))
    return warnings + _views_not_rebuilt(statements) + squawk(statements)


def _views_not_rebuilt(statements: list[str]) -> list[LintWarning]:
    """A column of exposure or ccdexposure changes, and its view is not made again."""
    warnings = []
    for statement in statements:
        match = _COLUMN_CHANGE.search(statement)
        table = match.group("table").strip('"') if match else ""
        view = _VIEW_BASES.get(table.rsplit(".", 1)[-1])
        rebuilt = re.compile(rf"CREATE VIEW [\w.\"]*\b{view}\b", re.IGNORECASE)
        if view and not any(rebuilt.search(other) for other in statements):
            advice = f"drop {view} first and create it with the model's columns after"
            warnings.append(
                LintWarning(
                    "views-not-rebuilt", table, f"changes a column of {table}, but {view} is not made again; {advice}"
                )
            )
    return warnings


def squawk(statements: list[str]) -> list[LintWarning]:
    """What squawk finds, each warning on the table of its statement."""
    if not statements:
        return []
    program = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
    if program is None:
        return [LintWarning("squawk-missing", "-", "squawk is not installed, so only ConsDB's own rules ran;"
                            " install the squawk-cli package")]  # fmt: skip
    answer = subprocess.run(
        [program, "--reporter", "json", "--assume-in-transaction", "--stdin-filepath", "plan.sql",
         f"--exclude={','.join(_SAID_ALREADY + _NOT_FOR_CONSDB)}"],
        input="\n".join(f"{statement};" for statement in statements), capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = json.loads(answer.stdout or "[]")
    return [
        LintWarning(f"squawk:{item['rule_name']}", _table_of(statements[item["line"]]),
                    " ".join(part for part in (item["message"], item.get("help")) if part))
        for item in found
    ]  # fmt: skip


_STATEMENT_TABLE = re.compile(
    r"\b(?:TABLE|ON|INTO|INDEX)\s+(?:IF (?:NOT )?EXISTS\s+)?(?:CONCURRENTLY\s+)?([\w\".]+)", re.IGNORECASE
)


def _table_of(statement: str) -> str:
    match = _STATEMENT_TABLE.search(statement)
    return match.group(1).strip('"') if match else "-"


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [" ".join(part.split()) for part in "\n".join(lines).split(";") if part.strip()]
