"""Scheduled jobs name the task callable where it lives now (bot.scheduler became bot.services.scheduler)

APScheduler keeps each job as a pickled dict whose ``func`` is a textual reference, and drops a job
whose reference no longer imports: without this, the announcements, reports and watches stored before
the move would be deleted at the first start after it. The table is APScheduler's, made after the
upgrade when it is missing (a new state database has no jobs to rewrite).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00.000000
"""

import pickle
from collections.abc import Sequence
from typing import cast

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOBS_TABLE = "scheduled_jobs"
BEFORE = "bot.scheduler:run_task"
AFTER = "bot.services.scheduler:run_task"


def upgrade() -> None:
    _rename_task(BEFORE, AFTER)


def downgrade() -> None:
    _rename_task(AFTER, BEFORE)


def _rename_task(old: str, new: str) -> None:
    """Rewrite the stored jobs whose callable is ``old`` to name ``new``, as APScheduler pickles them."""
    connection = op.get_bind()
    if not sa.inspect(connection).has_table(JOBS_TABLE):
        return
    jobs = sa.table(JOBS_TABLE, sa.column("id", sa.Unicode(191)), sa.column("job_state", sa.LargeBinary()))
    for job_id, job_state in connection.execute(sa.select(jobs.c.id, jobs.c.job_state)).all():
        state = pickle.loads(
            cast(bytes, job_state)
        )  # written by APScheduler in this database, read as APScheduler reads it
        if state.get("func") == old:
            state["func"] = new
            rewritten = pickle.dumps(state, pickle.HIGHEST_PROTOCOL)
            connection.execute(jobs.update().where(jobs.c.id == job_id).values(job_state=rewritten))
