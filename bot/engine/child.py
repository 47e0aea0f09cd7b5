"""Runs Alembic commands (jobs) in a process of its own, one after another, reporting as JSON lines.

Alembic's ``context`` and ``op`` are process-global and env.py reads the process environment,
so every command that executes env.py runs here, never inside the bot. The jobs of one request
(one per schema, each its own transaction) share the process, so Felis and Alembic load once;
the first failure stops the rest. The request is the first line of stdin; the bot keeps stdin
open for as long as it wants the run to go on, and if the bot dies the closed pipe ends the run
(PostgreSQL then rolls the open transaction back).

Events: ``{"event": "job", "index": N}`` as each job starts; ``{"event": "statement", "sql": ...}``
for each statement executed (Alembic's writes to the version table among them, which is how the
bot follows the revisions, whatever logging env.py sets up); ``{"event": "sql", "text": ...}`` in
offline mode; finally ``{"event": "done"}``, or ``{"event": "failed", "error": ...}`` for the job
that failed.
"""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import traceback
from argparse import Namespace
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.engine.phased_run import PhasedRun
from bot.engine.tree import SchemaTree

ABANDONED_EXIT_CODE = 70
_emit_lock = threading.Lock()
# The protocol keeps the original stdout to itself; anything env.py prints goes to stderr instead.
_protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr


def emit(**payload: Any) -> None:
    with _emit_lock:
        _protocol.write(json.dumps(payload) + "\n")
        _protocol.flush()


def _watch_parent() -> None:
    sys.stdin.read()
    os._exit(ABANDONED_EXIT_CODE)


class _Statements:
    """Every statement Alembic executes, as the online run rewrites it (when one is under way), reported."""

    online: PhasedRun | None = None

    def __call__(
        self, _conn: Any, cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        if self.online is not None:
            rewritten = self.online.before_execute(cursor, statement)
            if rewritten != statement and self.online.writes_version(statement):
                emit(event="statement", sql=statement)  # the revision's transactional part is done: say which
            statement = rewritten
        emit(event="statement", sql=statement)
        return statement, parameters

    def after(self, _conn: Any, cursor: Any, _statement: str, _parameters: Any, _context: Any, _many: bool) -> None:
        """Once a statement ran: what the online run checks of it (a table it rewrote)."""
        if self.online is not None:
            self.online.after_execute(cursor)


_statements = _Statements()


def run(ini: str, job: dict[str, Any], options: dict[str, str], *, allow_rewrite: bool = False) -> None:
    buffer = io.StringIO()
    tree = SchemaTree(Path(ini), job["section"])
    config = tree.alembic_config(output_buffer=buffer, stdout=buffer)
    config.cmd_opts = Namespace(x=[f"{key}={value}" for key, value in options.items()])
    operation, target, start = job["operation"], job["target"], job.get("start")
    if operation in ("upgrade", "downgrade"):
        online = PhasedRun(
            os.environ["CONSDB_URL"], tree.version_table_schema, tree.version_table, emit, allow_rewrite=allow_rewrite
        )
        online.begin()
        _statements.online = online
        try:
            (command.upgrade if operation == "upgrade" else command.downgrade)(config, target)
        finally:
            _statements.online = None
        online.finish()
    elif operation == "stamp":
        command.stamp(config, target)
    elif operation in ("upgrade-sql", "downgrade-sql"):
        revision_range = f"{start}:{target}" if start else target
        apply = command.upgrade if operation == "upgrade-sql" else command.downgrade
        apply(config, revision_range, sql=True)
        emit(event="sql", text=buffer.getvalue())
    else:
        raise ValueError(f"unknown operation {operation!r}")


def _error_text(error: BaseException) -> str:
    """One line for what failed; a bare key says nothing, so a lookup error also says where it failed."""
    message = str(error).strip()
    if not isinstance(error, LookupError):
        return message or type(error).__name__
    frame = traceback.extract_tb(error.__traceback__)[-1]
    place = os.path.relpath(frame.filename) if frame.filename.startswith(os.getcwd()) else frame.filename
    return f"{type(error).__name__} {message} in {place}, line {frame.lineno}"


def main() -> None:
    request = json.loads(sys.stdin.readline())
    threading.Thread(target=_watch_parent, daemon=True).start()
    event.listen(Engine, "before_cursor_execute", _statements, retval=True)
    event.listen(Engine, "after_cursor_execute", _statements.after)
    for index, job in enumerate(request["jobs"]):
        emit(event="job", index=index)
        try:
            run(request["ini"], job, request.get("options", {}), allow_rewrite=request.get("allow_rewrite", False))
        except BaseException as error:  # report whatever env.py or a revision raised, then stop
            emit(event="failed", error=_error_text(error))
            os._exit(1)
    emit(event="done")


if __name__ == "__main__":
    main()
