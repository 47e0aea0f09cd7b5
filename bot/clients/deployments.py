"""An environment's deployments as a change needs them: pqserver restarted and asked what it lists,
hinfo's log read after a migration. Kubernetes through its client, pqserver over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.clients.pqserver import Expected, SchemaCheck, schema_check
from bot.config import Environment, KubernetesSettings

if TYPE_CHECKING:
    from bot.clients.kube import LogExcerpt, RestartResult

WATCHED_LINES = 5000
"""hinfo's log lines read after a migration: enough for an hour of exposures."""


class Deployments:
    def __init__(self, kubernetes: KubernetesSettings) -> None:
        self.kubernetes = kubernetes

    def restart(self, env: Environment, deployment: str, report: Callable[[str], None]) -> RestartResult:
        """A rollout restart, waited for, its progress told line by line."""
        from bot.clients.kube import Cluster  # noqa: PLC0415 - the Kubernetes client loads only when used

        return Cluster(env, self.kubernetes).restart(deployment, on_progress=report)

    def verify(self, env: Environment, expected: Expected) -> SchemaCheck:
        """Whether pqserver lists the columns a migration added."""
        return schema_check(env, expected, timeout=self.kubernetes.request_timeout_seconds)

    def watch(self, env: Environment, instrument: str, since_seconds: int) -> LogExcerpt:
        """hinfo's log since the migration, read as ``logs hinfo`` reads it."""
        from bot.clients.kube import hinfo_excerpt  # noqa: PLC0415 - the Kubernetes client loads only when used

        return hinfo_excerpt(env, self.kubernetes, instrument, since_seconds=since_seconds, lines=WATCHED_LINES)
