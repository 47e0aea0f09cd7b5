"""Warnings on the SQL a plan would run: what locks or loses data on a populated table.

Each warning names the table and says the safer form, so the approver knows what they approve. The
rules here are ConsDB's own wording of the common dangers, and the views rules (visit1 and ccdvisit1
made again, as upstream makes them, whenever exposure or ccdexposure change); squawk (the maintained
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

from bot.engine.online import created_table, table_key

ONLINE_NOTES = frozenset({"index-concurrently", "foreign-key-not-valid"})
"""The rules that say what an online run does instead of what would lock writers out: notes, not warnings."""


@dataclass(frozen=True)
class LintWarning:
    rule: str
    table: str
    message: str

    @property
    def kind(self) -> str:
        return "note" if self.rule in ONLINE_NOTES else "warning"


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
        "changes the type of {column}, which may rewrite the table under an exclusive lock (unless the new type"
        " is binary-coercible, such as varchar(n) to text); the run refuses a rewrite of a table holding rows"
        " unless --allow-rewrite",
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
        "index-concurrently",
        re.compile(rf"^CREATE (?:UNIQUE )?INDEX CONCURRENTLY IF NOT EXISTS (?P<column>[\w\"]+) ON {_TABLE}", re.I),
        "will build index {column} concurrently, after the transaction commits: writers go on meanwhile",
    ),
    (
        "foreign-key-not-valid",
        re.compile(rf"^ALTER TABLE {_TABLE} ADD CONSTRAINT (?P<column>[\w\"]+) FOREIGN KEY .* NOT VALID$", re.I),
        "will add foreign key {column} NOT VALID in the transaction, then validate its rows on their own:"
        " writers go on meanwhile",
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
# not the migration, picks the types; the views are dropped to be made again; an online run builds its indexes
# concurrently outside the transaction (squawk is told every statement is in one).
_NOT_FOR_CONSDB = [
    "require-lock-timeout", "require-statement-timeout", "prefer-robust-stmts", "transaction-nesting",
    "prefer-bigint-over-int", "prefer-bigint-over-smallint", "prefer-identity", "prefer-text-field",
    "prefer-timestamptz", "ban-drop-view", "ban-concurrent-index-creation-in-transaction",
]  # fmt: skip
_COLUMN_CHANGE = re.compile(
    rf"^ALTER TABLE {_TABLE} (?:ADD|DROP|ALTER|RENAME) (?!CONSTRAINT\b|TO\b)(?:COLUMN )?", re.IGNORECASE
)
_ADD_WITH_DEFAULT = re.compile(
    rf"^ALTER TABLE {_TABLE} ADD (?:COLUMN )?(?:IF NOT EXISTS )?(?P<column>[\w\"]+) .*?\bDEFAULT (?P<default>.*)$",
    re.IGNORECASE,
)
_AFTER_DEFAULT = re.compile(
    r"\s(?:NOT NULL|NULL|CONSTRAINT|CHECK|REFERENCES|UNIQUE|PRIMARY KEY|COLLATE|GENERATED)\b.*$", re.IGNORECASE
)
_CAST = re.compile(r"(?:::|\bAS\s)\s*[\w\s.\"]+(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?", re.IGNORECASE)
_CALL = re.compile(r"(?P<name>[A-Za-z_][\w.]*)\s*\(")
_NOT_VOLATILE = frozenset({
    "now", "current_timestamp", "current_date", "current_time", "localtimestamp", "localtime",
    "transaction_timestamp", "statement_timestamp", "cast",
})  # fmt: skip
"""What a default may call and still be kept as metadata (PostgreSQL 11+): the functions known not to be volatile,
evaluated once for the whole table. A literal or a cast calls nothing."""
_VIEW_BASES = {"exposure": "visit1", "ccdexposure": "ccdvisit1"}
_VIEW_IDS = {"visit1": "visit_id", "ccdvisit1": "ccdvisit_id"}
_CREATE_VIEW = re.compile(
    r"^CREATE (?:OR REPLACE )?VIEW (?P<view>[\w\".]+) AS SELECT (?P<columns>.*?) FROM (?P<source>.*)$", re.IGNORECASE
)


def lint_sql(sql: str) -> list[LintWarning]:
    """The warnings for every statement of ``sql`` (one statement per ``;``). An index on a table the same SQL
    creates holds no writer back: the table is empty."""
    statements = _statements(sql)
    warnings: list[LintWarning] = []
    created: set[str] = set()
    for statement in statements:
        made = created_table(statement)
        if made:
            created.add(made)
        for rule, pattern, template in _RULES:
            match = pattern.search(statement)
            if match and not (rule == "index-not-concurrent" and table_key(match["table"]) in created):
                fields = {key: value.strip('"') for key, value in match.groupdict().items() if value}
                warnings.append(LintWarning(rule, fields["table"], template.format(**fields)))
        warnings += _rewrite(statement, created)
    return warnings + _views_not_rebuilt(statements) + _views_not_as_upstream(statements) + squawk(statements)


def _rewrite(statement: str, created: set[str]) -> list[LintWarning]:
    """A column added to a table the SQL does not create, with a default that calls a function not known to be
    stable or immutable: PostgreSQL computes it for every row, rewriting the table."""
    match = _ADD_WITH_DEFAULT.search(statement)
    if match is None or table_key(match["table"]) in created:
        return []
    default = _AFTER_DEFAULT.sub("", re.sub(r"'(?:[^']|'')*'", "''", match["default"]))
    calls = [call["name"] for call in _CALL.finditer(_CAST.sub(" ", default))]
    volatile = next((name for name in calls if name.rpartition(".")[2].lower() not in _NOT_VOLATILE), None)
    if volatile is None:
        return []
    table, column = _unquoted(match["table"]), _unquoted(match["column"])
    return [
        LintWarning(
            "table-rewrite", table,
            f"adds column {column} with a default that calls {volatile}(), which rewrites the table under an"
            " exclusive lock; the run refuses it unless --allow-rewrite: add the column without a default and fill"
            " it in batches",
        )
    ]  # fmt: skip


def _views_not_rebuilt(statements: list[str]) -> list[LintWarning]:
    """A column of exposure or ccdexposure changes, and its view is not made again after it, with that column."""
    warnings = []
    for position, statement in enumerate(statements):
        match = _COLUMN_CHANGE.search(statement)
        table = _unquoted(match.group("table")) if match else ""
        schema, _, base = table.rpartition(".")
        view = _VIEW_BASES.get(base)
        if view is None:
            continue
        names = {view, f"{schema}.{view}"}
        remade = [made for later in statements[position + 1 :] if (made := _view_made(later)) and made.name in names]
        column = _column_left(statement)
        advice = f"drop {view} first and create it after, with every column of {base}, as upstream does"
        if not remade:
            message = f"changes a column of {table}, but {view} is not made again; {advice}"
        elif column and not remade[-1].shows(column):
            message = f"changes column {column} of {table}, but {view} is made again without it; {advice}"
        else:
            continue
        warnings.append(LintWarning("views-not-rebuilt", table, message))
    return warnings


def _views_not_as_upstream(statements: list[str]) -> list[LintWarning]:
    """A visit1 or ccdvisit1 view made with a row filter, or without its id shown as upstream shows it."""
    warnings = []
    for made in filter(None, map(_view_made, statements)):
        view_id = _VIEW_IDS.get(made.name.rpartition(".")[2])
        if view_id is None:
            continue
        if made.filtered:
            problem = "keeps only some rows (it has a WHERE or a JOIN); upstream's views keep every row"
        elif not made.shows(view_id):
            problem = f"does not show {view_id}; upstream's views show their base table's id as {view_id}"
        else:
            continue
        warnings.append(LintWarning("view-not-as-upstream", made.name, f"{made.name} {problem}"))
    return warnings


@dataclass(frozen=True)
class _MadeView:
    """A ``CREATE VIEW``: the view's name, the columns it shows, whether it filters rows."""

    name: str
    columns: frozenset[str]
    filtered: bool

    def shows(self, column: str) -> bool:
        return column in self.columns or "*" in self.columns


def _view_made(statement: str) -> _MadeView | None:
    match = _CREATE_VIEW.search(statement)
    if match is None:
        return None
    items = match.group("columns").split(",")
    shown = {
        _unquoted(re.split(r"\s+AS\s+", item.strip(), flags=re.IGNORECASE)[-1]).rpartition(".")[2] for item in items
    }
    filtered = bool(re.search(r"\b(?:WHERE|JOIN)\b", match.group("source"), re.IGNORECASE))
    return _MadeView(_unquoted(match.group("view")), frozenset(shown), filtered)


def _column_left(statement: str) -> str:
    """The column an ADD COLUMN or RENAME COLUMN leaves in the table, which the view must show."""
    found = re.search(
        r"\b(?:ADD (?:COLUMN )?(?:IF NOT EXISTS )?|RENAME (?:COLUMN )?[\w\"]+ TO )(?P<column>[\w\"]+)",
        statement,
        re.IGNORECASE,
    )
    return _unquoted(found.group("column")) if found else ""


def _unquoted(name: str) -> str:
    return name.replace('"', "")


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
