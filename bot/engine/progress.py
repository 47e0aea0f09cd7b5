"""Following a run revision by revision, from the statements the child reports.

Alembic writes the version table once per revision, in the revision's own transaction, right
after the revision's operations. Counting those writes says which revisions are done and which
one was running when a run failed, with any env.py, whatever it does with logging.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.engine.tree import RevisionInfo, SchemaTree


def revision_line(info: RevisionInfo, *, up: bool) -> str:
    """``A → B  message``: one revision, as the thread and the terminal show it."""
    below = ", ".join(revision[:12] for revision in info.down_revisions) or "base"
    start, end = (below, info.short) if up else (info.short, below)
    return f"{start} → {end}  {info.message}"


class RevisionFollower:
    """Called with each executed statement; reports a line for each revision completed."""

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
        self.applied: list[str] = []
        table = rf'"?{re.escape(tree.version_table_schema)}"?\."?{re.escape(tree.version_table)}"?'
        self._version_write = re.compile(rf"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+{table}\b", re.IGNORECASE)

    def __call__(self, statement: str) -> None:
        if not self._version_write.match(statement) or len(self.applied) >= len(self.revisions):
            return
        line = revision_line(self.revisions[len(self.applied)], up=self.up)
        self.applied.append(line)
        if self.report:
            self.report(line)

    @property
    def running(self) -> str | None:
        """The revision that was under way when the run stopped, if any."""
        if len(self.applied) < len(self.revisions):
            return revision_line(self.revisions[len(self.applied)], up=self.up)
        return None
