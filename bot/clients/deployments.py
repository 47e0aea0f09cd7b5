"""An environment's deployments as a change needs them: pqserver restarted and asked what it lists,
hinfo's log read after a migration. Kubernetes through its client, pqserver over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.clients.pqserver import Columns, SchemaCheck, Wanted, check_served
from bot.config import Environment, KubernetesSettings

if TYPE_CHECKING:
    from bot.clients.kube import LogExcerpt, RestartResult

WATCHED_LINES = 5000
"""hinfo's log lines read after a migration: enough for an hour of exposures."""
LOG_MARGIN_SECONDS = 30
"""How much earlier than the migration the hinfo watch asks the log from: Kubernetes counts ``sinceSeconds``
from its own clock when it answers, which on a busy cluster (or bot) can be seconds after the bot measured;
without it the first exposure after the migration can be missed."""


@dataclass(frozen=True)
class EnvironmentRestart:
    """One environment's verdict in ``restart pqserver all``: its restart and pqserver's check, or why it was
    not restarted."""

    environment: str
    restart: RestartResult | None = None
    check: SchemaCheck | None = None
    """After a restart that rolled out."""
    not_restarted: str = ""

    @property
    def ok(self) -> bool:
        return self.restart is not None and self.restart.ok

    @property
    def why(self) -> str:
        """Why it is not restarted (empty when it is)."""
        if self.restart is None:
            return f"not restarted: {self.not_restarted}"
        return "" if self.restart.ok else f"FAILED to restart: {self.restart.message}"


@dataclass(frozen=True)
class Restarts:
    """``restart pqserver all``: each environment's verdict, in the order they were restarted."""

    restarts: list[EnvironmentRestart]

    @property
    def ok(self) -> bool:
        return all(restart.ok for restart in self.restarts)

    @property
    def note(self) -> str:
        """Where it did not restart, and why; empty when every one did."""
        return "; ".join(f"{restart.environment}: {restart.why}" for restart in self.restarts if not restart.ok)


class Deployments:
    def __init__(self, kubernetes: KubernetesSettings) -> None:
        self.kubernetes = kubernetes

    def restart(self, env: Environment, deployment: str, report: Callable[[str], None]) -> RestartResult:
        """A rollout restart, waited for, its progress told line by line."""
        from bot.clients.kube import Cluster  # noqa: PLC0415 - the Kubernetes client loads only when used

        return Cluster(env, self.kubernetes).restart(deployment, on_progress=report)

    def verify(self, env: Environment, wanted: Wanted, database: Columns, *, change: str) -> SchemaCheck:
        """pqserver's columns against the database's, for the tables a change touched."""
        return check_served(env, wanted, database, change=change, timeout=self.kubernetes.request_timeout_seconds)

    def watch(self, env: Environment, instrument: str, since: datetime, *, now: datetime) -> LogExcerpt:
        """hinfo's log since the migration, read as ``logs hinfo`` reads it: asked from a while before it
        (the cluster's clock moves on before it answers), the earlier lines then left out."""
        from bot.clients.kube import hinfo_excerpt  # noqa: PLC0415 - the Kubernetes client loads only when used

        seconds = int((now - since).total_seconds()) + LOG_MARGIN_SECONDS
        return hinfo_excerpt(
            env, self.kubernetes, instrument, since_seconds=seconds, lines=WATCHED_LINES, not_before=since
        )
