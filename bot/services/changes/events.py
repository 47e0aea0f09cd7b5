"""News of a request while it runs and after, as typed events: the service says what happened, and the
renderers say it (``bot.render.blocks.event_line`` in Slack, ``bot.render.text.event_line`` in the
terminal). Slack user ids an event carries are shown as mentions by the Slack renderer alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.clients.pqserver import SchemaCheck
from bot.engine.rollout import RolloutStep, StepDone
from bot.engine.service import Progress
from bot.services.tickets import CommentNews

if TYPE_CHECKING:
    from bot.clients.kube import LogExcerpt
    from bot.services.changes.data import DataCheck

COLUMN_COMPLAINT = "Unable to process column"
"""What hinfo logs when a column of its model is not in the database."""


@dataclass(frozen=True)
class MigrationStep:
    """One step of a migration, as the engine tells it (a revision applied, a schema done); ``place`` names
    the environment where one request migrates several (a rollout)."""

    progress: Progress
    place: str = ""


@dataclass(frozen=True)
class RestartStep:
    """One step of a pqserver restart, as Kubernetes tells it (``[12 s] 1 of 2 replicas updated``)."""

    line: str


@dataclass(frozen=True)
class PqserverChecked:
    """After a restart: what pqserver lists of what the migration added."""

    check: SchemaCheck


@dataclass(frozen=True)
class RestartNotDone:
    """The restart reaction on a migration made no restart request, and why."""

    reason: str


@dataclass(frozen=True)
class HinfoVerdict:
    """A while after a test-stand migration: did hinfo write an exposure, did it complain, and does the
    database have the exposures, with the new columns filled?"""

    schema: str
    minutes: float
    """How long after the migration the log was read."""
    committed: int
    last_exposure: str | None
    column_lines: int
    """Lines saying ``Unable to process column``: hinfo's model has a column the database lacks."""
    last_column_line: str
    other_lines: int
    """Other error or warning lines."""
    data: DataCheck | str | None = None
    """What the database shows since the migration (``check data``), or why it could not be read."""

    @property
    def ok(self) -> bool:
        """hinfo committed exposures without complaining of a column, and the database has them with the new
        columns filled."""
        written = self.data is not None and not isinstance(self.data, str) and self.data.ok
        return self.committed > 0 and self.column_lines == 0 and written

    @classmethod
    def of(cls, schema: str, excerpt: LogExcerpt, minutes: float, data: DataCheck | str | None = None) -> HinfoVerdict:
        columns = [line for line in excerpt.problems if COLUMN_COMPLAINT in line]
        return cls(
            schema=schema, minutes=minutes, committed=excerpt.committed, last_exposure=excerpt.last_exposure,
            column_lines=len(columns), last_column_line=columns[-1] if columns else "",
            other_lines=len(excerpt.problems) - len(columns), data=data,
        )  # fmt: skip


@dataclass(frozen=True)
class HinfoUnreadable:
    """The hinfo watch could not read an instrument's log."""

    schema: str
    reason: str


@dataclass(frozen=True)
class DataVerdict:
    """A while after a migration elsewhere than at a test stand (where the hinfo watch looks): what ``check
    data`` says of one schema hinfo writes there, or why the database could not be read."""

    schema: str
    environment: str
    minutes: float
    """How long after the migration the database was read."""
    data: DataCheck | str


@dataclass(frozen=True)
class RolloutProgress:
    """A step of a rollout finished (its request records it as its step first)."""

    done: StepDone


@dataclass(frozen=True)
class RolloutResumed:
    """The bot stopped while a rollout ran; a bot started again goes on after its last recorded step."""

    after: RolloutStep | None


RequestEvent = (
    MigrationStep | RestartStep | PqserverChecked | RestartNotDone | HinfoVerdict | HinfoUnreadable | DataVerdict
    | RolloutProgress | RolloutResumed | CommentNews
)  # fmt: skip
"""Everything a request's thread may hear; :class:`CommentNews` (its ticket's comment) comes from
``bot.services.tickets``, which does not import changes."""
