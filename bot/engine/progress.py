"""Following a run revision by revision, from the statements the child reports.

Alembic writes the version table right after each revision's operations, in the same transaction:
an upgrade writes the id it reached (``INSERT ... VALUES ('id')`` or ``UPDATE ... SET
version_num='id'``), a downgrade names the id it left (``... WHERE version_num = 'id'``). Reading
those ids says which revisions are done and which one was under way when a run failed, with any
env.py, whatever it does with logging, merges included.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.engine.tree import RevisionInfo, SchemaTree, revisions_text

_REACHED = re.compile(r"VALUES\s*\(\s*'([^']+)'|SET\s+version_num\s*=\s*'([^']+)'", re.IGNORECASE)
_LEFT = re.compile(r"WHERE\s+\S*version_num\s*=\s*'([^']+)'", re.IGNORECASE)


_ADDED_COLUMN = re.compile(r"^\s*ALTER\s+TABLE\s+\"?(\w+)\"?\.\"?(\w+)\"?\s+ADD\s+(?:COLUMN\s+)?\"?(\w+)", re.I)


def added_columns(statements: list[str]) -> dict[str, list[str]]:
    """``table: [column, ...]`` for every column the statements added, in order."""
    added: dict[str, list[str]] = {}
    for statement in statements:
        match = _ADDED_COLUMN.match(statement)
        if match and match.group(3).upper() not in ("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK"):
            added.setdefault(match.group(2), []).append(match.group(3))
    return added


def revision_line(info: RevisionInfo, *, up: bool) -> str:
    """``A → B  message``: one revision, as the thread and the terminal show it."""
    below = revisions_text(info.down_revisions)
    start, end = (below, info.short) if up else (info.short, below)
    return f"{start} → {end}  {info.message}"


class RevisionFollower:
    """Called with each executed statement; reports a line for each revision completed.

    A schema refused its lock is rolled back and run again (:meth:`retry`): what it had done is then
    undone, so ``applied`` and ``running`` start again, but a revision already told is not told again.
    """

    def __init__(
        self,
        tree: SchemaTree,
        revisions: list[RevisionInfo],
        *,
        up: bool,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.revisions = revisions
        self.up = up
        self.report = report
        self.done: list[str] = []
        self.told: set[str] = set()
        table = rf'"?{re.escape(tree.version_table_schema)}"?\."?{re.escape(tree.version_table)}"?'
        self._version_write = re.compile(rf"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+{table}\b", re.IGNORECASE)

    def __call__(self, statement: str) -> None:
        if not self._version_write.match(statement):
            return
        planned = {info.revision: info for info in self.revisions}
        for revision in self._moved(statement):
            if revision in planned and revision not in self.done:
                self.done.append(revision)
                if self.report and revision not in self.told:
                    self.report(revision_line(planned[revision], up=self.up))
                self.told.add(revision)

    def retry(self) -> None:
        """The run's transaction was rolled back and it starts again: nothing of it is done any more."""
        self.done = []

    def _moved(self, statement: str) -> list[str]:
        if self.up:
            return [next(filter(None, match.groups())) for match in _REACHED.finditer(statement)]
        return _LEFT.findall(statement)

    @property
    def applied(self) -> list[str]:
        planned = {info.revision: info for info in self.revisions}
        return [revision_line(planned[revision], up=self.up) for revision in self.done]

    @property
    def running(self) -> str | None:
        """The revision that was under way when the run stopped, if any."""
        pending = [info for info in self.revisions if info.revision not in self.done]
        return revision_line(pending[0], up=self.up) if pending else None
