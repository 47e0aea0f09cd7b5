"""Kubernetes: pqserver restarts and hinfo log excerpts, through the official client.

One :class:`Cluster` per environment (its kubeconfig context and namespace). A restart is what
``kubectl rollout restart`` does, and the wait is what ``kubectl rollout status`` waits for. Logs
are read as tails only (``tailLines``, ``sinceSeconds``, ``limitBytes``), never whole. The client's
errors become ours, and say what to do: 401, 403 (with the RBAC verb that is missing), 404 (with
the name and namespace), time-outs and 5xx.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from bot.config import Environment, KubernetesSettings
from bot.errors import ConfigError, ConsdbBotError, OperationFailed, Refused, UsageError
from bot.metrics import API_ERRORS

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
IN_CLUSTER_CONTEXT = "CONSDB_BOT_IN_CLUSTER_CONTEXT"
"""The name of the context of the cluster the bot runs in: only that one is reached without a kubeconfig."""
COMMITTED = "Committed to exposure and ccdexposure table"
BYTES_PER_LINE = 1024
_PROBLEM = re.compile(r"\b(ERROR|WARNING|CRITICAL)\b|Unable to process column|Traceback")
_COMMITTED_EXPOSURE = re.compile(r"\((\d{8})/(\d+)\)\s*$")
"""A "Committed" line as upstream's hinfo logs it ends with the exposure's day_obs/seq_num: ``Committed to
exposure and ccdexposure table: ATHeaderService_header_AT_O_20261201_000012.yaml (20261201/12)``."""
_HEADER_FILE = re.compile(r"_(\d{8})_(\d{6})\.yaml\b")
"""Else the header file it names tells them (an hinfo whose line does not end so)."""


@dataclass(frozen=True)
class RestartResult:
    deployment: str
    namespace: str
    ok: bool
    seconds: float
    message: str
    events: list[str] = field(default_factory=list)
    log_tails: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class LogExcerpt:
    deployment: str
    namespace: str
    pods: list[str]
    problems: list[str]
    committed: int
    last_exposure: str | None
    tail: list[str]
    truncated: bool = False


class Cluster:
    """One environment's cluster: a kubeconfig context (or the cluster the bot runs in) and a namespace."""

    def __init__(self, env: Environment, settings: KubernetesSettings) -> None:
        if env.kubernetes is None:
            raise ConfigError(
                f"{env.key} has no Kubernetes settings",
                hint=f"Set environments.{env.key}.kubernetes: {{context, namespace}}.",
            )
        self.env = env
        self.namespace = env.kubernetes.namespace
        self.settings = settings
        self._timeout = settings.request_timeout_seconds
        self._api = _api_client(env, settings)
        self.apps = client.AppsV1Api(self._api)
        self.core = client.CoreV1Api(self._api)

    def restart(self, deployment: str, *, on_progress: Callable[[str], None] | None = None) -> RestartResult:
        """Roll the deployment's pods as ``kubectl rollout restart`` does, and wait as ``rollout status`` waits."""
        began = time.monotonic()
        since = datetime.now(UTC)
        with self._translated("get", "deployments", deployment):
            current = self.apps.read_namespaced_deployment(deployment, self.namespace, _request_timeout=self._timeout)
        if current.spec.paused:
            raise Refused(
                f"deployment {deployment} in {self.namespace} at {self.env.key} is paused; a restart would not roll",
                hint=f"Resume it first: kubectl rollout resume deployment/{deployment} -n {self.namespace}.",
            )
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: since.isoformat()}}}}}
        with self._translated("patch", "deployments", deployment):
            self.apps.patch_namespaced_deployment(deployment, self.namespace, patch, _request_timeout=self._timeout)
        done, message, state, said = None, "", current, ""
        while done is None:
            try:
                with self._translated("get", "deployments", deployment):
                    state = self.apps.read_namespaced_deployment(
                        deployment, self.namespace, _request_timeout=self._timeout
                    )
                done, message = rollout_state(state)
            except OperationFailed as error:  # a passing fault: the rollout goes on, so does the wait
                message = f"the API did not answer this time ({error.message})"
            if message != said and on_progress:
                on_progress(f"[{time.monotonic() - began:.0f} s] {message}")
            said = message
            if done is None and time.monotonic() - began > self.settings.rollout_timeout_seconds:
                done, message = False, f"not rolled out after {self.settings.rollout_timeout_seconds:.0f} s"
            if done is None:
                threading.Event().wait(self.settings.poll_seconds)  # not time.sleep: libfaketime breaks it
        seconds = time.monotonic() - began
        if done:
            return RestartResult(deployment, self.namespace, True, seconds, message)
        events, tails = self._diagnose(state, since)
        return RestartResult(deployment, self.namespace, False, seconds, message, events, tails)

    def _diagnose(self, deployment: Any, since: datetime) -> tuple[list[str], dict[str, list[str]]]:
        """Why a rollout failed, as far as can be read: never at the cost of the verdict itself."""
        try:
            pods = self._pods(deployment)
        except ConsdbBotError as error:
            return [f"(the pods could not be listed: {error.message})"], {}
        try:
            events = self._events(deployment, pods, since)
        except ConsdbBotError as error:
            events = [f"(the events could not be read: {error.message})"]
        tails = {}
        for pod in pods:
            if not any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or [])):
                try:
                    tails[pod.metadata.name] = self._log(
                        pod.metadata.name, deployment.metadata.name, lines=20, since=None
                    )
                except ConsdbBotError as error:
                    tails[pod.metadata.name] = [f"(no log: {error.message})"]
        return events, tails

    def _events(self, deployment: Any, pods: list[Any], since: datetime) -> list[str]:
        """The events of this deployment, its replica sets and its pods, since the restart began."""
        names = {deployment.metadata.name} | {pod.metadata.name for pod in pods}
        names |= {owner.name for pod in pods for owner in (pod.metadata.owner_references or [])}
        with self._translated("list", "events", deployment.metadata.name):
            found = self.core.list_namespaced_event(self.namespace, _request_timeout=self._timeout).items
        mine = [e for e in found if e.involved_object.name in names and (_when(e) or since) >= since]
        mine.sort(key=lambda e: _when(e) or since)
        return [
            f"{e.type} {e.reason} {e.involved_object.kind}/{e.involved_object.name}: {e.message}" for e in mine[-20:]
        ]

    def excerpt(
        self, deployment: str, *, since_seconds: int | None, lines: int, grep: str | None = None,
        not_before: datetime | None = None,
    ) -> LogExcerpt:  # fmt: skip
        """What hinfo has been saying: problems first, exposures committed, then the last lines.

        Every pod's tail is read, the lines merged in the order they were written, each marked with
        its pod when there are several. ``grep`` narrows what is shown, never what is counted.
        ``not_before`` drops the lines stamped earlier: ``sinceSeconds`` counts from the cluster's clock
        when it answers, so a reader that must start at a moment asks for a little more and cuts here.
        """
        with self._translated("get", "deployments", deployment):
            found = self.apps.read_namespaced_deployment(deployment, self.namespace, _request_timeout=self._timeout)
        pods = self._pods(found)
        stamped: list[tuple[str, str]] = []
        cut = False
        for pod in pods:
            text, truncated = self._read(pod.metadata.name, deployment, lines=lines, since=since_seconds)
            cut = cut or truncated
            label = f"[{pod.metadata.name}] " if len(pods) > 1 else ""
            for line in text.splitlines():
                stamp, _, rest = line.partition(" ")
                if not_before is None or _stamp_time(stamp) >= not_before:
                    stamped.append((stamp, label + rest))
        collected = [line for _, line in sorted(stamped, key=lambda pair: pair[0])][-lines:]
        committed = [line for line in collected if COMMITTED in line]
        shown = [line for line in collected if grep in line] if grep else collected
        return LogExcerpt(
            deployment=deployment,
            namespace=self.namespace,
            pods=[pod.metadata.name for pod in pods],
            problems=[line for line in shown if _PROBLEM.search(line)],
            committed=len(committed),
            last_exposure=_exposure(committed[-1]) if committed else None,
            tail=shown[-min(lines, 40) :],
            truncated=cut,
        )

    def _pods(self, deployment: Any) -> list[Any]:
        """The deployment's pods: its selector narrows the search, its container name decides.

        Deployments of one chart often share their selector labels (phalanx's consdb ones do).
        """
        name = deployment.metadata.name
        labels = deployment.spec.selector.match_labels or {}
        selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
        with self._translated("list", "pods", name):
            found = self.core.list_namespaced_pod(
                self.namespace, label_selector=selector, _request_timeout=self._timeout
            )
        return [pod for pod in found.items if pod.spec and any(c.name == name for c in pod.spec.containers)]

    def _log(self, pod: str, container: str, *, lines: int, since: int | None) -> list[str]:
        text, _ = self._read(pod, container, lines=lines, since=since)
        return [line.partition(" ")[2] for line in text.splitlines()]

    def _read(self, pod: str, container: str, *, lines: int, since: int | None) -> tuple[str, bool]:
        """The tail of one container's log, each line stamped; and whether ``limitBytes`` cut it short."""
        limit = lines * BYTES_PER_LINE
        options: dict[str, Any] = {"tail_lines": lines, "limit_bytes": limit, "timestamps": True}
        if since:
            options["since_seconds"] = since
        with self._translated("get", "pods/log", pod):
            text = self.core.read_namespaced_pod_log(
                pod, self.namespace, container=container, _request_timeout=self._timeout, **options
            )
        return text, len(text.encode()) >= limit

    @contextmanager
    def _translated(self, verb: str, resource: str, name: str) -> Iterator[None]:
        """Kubernetes' answers as the bot's errors, each saying what to do."""
        where = f"{self.namespace} at {self.env.key}"
        try:
            yield
        except ApiException as error:
            API_ERRORS.labels("kubernetes").inc()
            message = _status_message(error)
            if error.status == 401:
                raise Refused(
                    f"the cluster of {self.env.key} did not accept the bot's credentials (401)",
                    hint="Renew the bot's token or kubeconfig for that context.",
                ) from None
            if error.status == 403:
                raise Refused(
                    f"the bot may not {verb} {resource} in {where} (403: {message})",
                    hint=f"Grant the verb '{verb}' on '{resource}' to the bot's Role"
                    " (deploy/consdb-bot/templates/role.yaml).",
                ) from None
            if error.status == 0:
                raise OperationFailed(
                    f"could not talk to the Kubernetes API of {self.env.key}: {error.reason}",
                    hint="Check the cluster address and its certificate in the kubeconfig.",
                ) from None
            if error.status == 404:
                raise Refused(
                    f"no {resource.split('/', maxsplit=1)[0].rstrip('s')} named {name} in namespace {where}",
                    hint=f"Check environments.{self.env.key} (pqserver, hinfo, kubernetes.namespace).",
                ) from None
            raise OperationFailed(
                f"the Kubernetes API of {self.env.key} answered {error.status} to {verb} {resource}: {message}",
                hint="The cluster may be busy or failing; try again in a minute.",
            ) from None
        except urllib3.exceptions.HTTPError as error:
            API_ERRORS.labels("kubernetes").inc()
            raise OperationFailed(
                f"the Kubernetes API of {self.env.key} did not answer ({type(error).__name__})",
                hint="Check that the cluster is reachable from the bot; try again.",
            ) from None


def pqserver_deployment(env: Environment) -> str:
    if not env.pqserver:
        raise ConfigError(f"{env.key} names no pqserver deployment", hint=f"Set environments.{env.key}.pqserver.")
    return env.pqserver


def hinfo_deployment(env: Environment, instrument: str) -> str:
    deployment = env.hinfo.get(instrument.lower().removeprefix("cdb_"))
    if deployment is None:
        known = ", ".join(env.hinfo) or "none"
        raise UsageError(
            f"{env.key} has no hinfo deployment for {instrument!r}",
            usage=f"instruments with hinfo at {env.key}: {known}",
        )
    return deployment


def hinfo_excerpt(
    env: Environment, settings: KubernetesSettings, instrument: str, *, since_seconds: int | None, lines: int,
    grep: str | None = None, not_before: datetime | None = None,
) -> LogExcerpt:  # fmt: skip
    """``logs hinfo``, one path for the terminal and Slack, so both read the same excerpt the same way."""
    cluster = Cluster(env, settings)
    return cluster.excerpt(
        hinfo_deployment(env, instrument), since_seconds=since_seconds, lines=lines, grep=grep, not_before=not_before
    )


def rollout_state(deployment: Any) -> tuple[bool | None, str]:
    """``kubectl rollout status``' verdict: done (True), failed (False) or not yet (None), and why."""
    status, spec = deployment.status, deployment.spec
    name = deployment.metadata.name
    if (status.observed_generation or 0) < deployment.metadata.generation:
        return None, f"waiting for deployment {name}'s new spec to be observed"
    for condition in status.conditions or []:
        if condition.type == "Progressing" and condition.reason == "ProgressDeadlineExceeded":
            return False, f"deployment {name} exceeded its progress deadline: {condition.message}"
    wanted, updated = spec.replicas or 0, status.updated_replicas or 0
    if updated < wanted:
        return None, f"{updated} of {wanted} new replicas have been updated"
    if (status.replicas or 0) > updated:
        return None, f"{(status.replicas or 0) - updated} old replicas are pending termination"
    if (status.available_replicas or 0) < updated:
        return None, f"{status.available_replicas or 0} of {updated} updated replicas are available"
    return True, f"deployment {name} successfully rolled out"


def _api_client(env: Environment, settings: KubernetesSettings) -> client.ApiClient:
    assert env.kubernetes is not None
    configuration = client.Configuration()
    try:
        kubeconfig = os.environ.get("KUBECONFIG")
        in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
        if in_cluster and env.kubernetes.context == os.environ.get(IN_CLUSTER_CONTEXT):
            config.load_incluster_config(client_configuration=configuration)
        elif in_cluster and not (kubeconfig and os.path.isfile(kubeconfig)):
            raise ConfigException(
                f"the bot runs in the cluster of context {os.environ.get(IN_CLUSTER_CONTEXT)!r},"
                f" not {env.kubernetes.context!r}, and has no kubeconfig (KUBECONFIG={kubeconfig or ''})"
            )
        else:
            config.load_kube_config(
                config_file=kubeconfig,
                context=env.kubernetes.context,
                client_configuration=configuration,
                persist_config=False,
            )
    except (ConfigException, OSError, ValueError, TypeError) as error:
        raise ConfigError(
            f"no Kubernetes access for {env.key} (context {env.kubernetes.context!r}): {error}",
            hint="Set KUBECONFIG to a file with that context, or run the bot in the cluster.",
        ) from None
    configuration.retries = False  # a refusal is reported at once, not retried behind the user's back
    return client.ApiClient(configuration)


def _status_message(error: ApiException) -> str:
    try:
        return str(json.loads(error.body or "{}").get("message") or error.reason)
    except (ValueError, AttributeError):
        return str(error.reason)


def _stamp_time(stamp: str) -> datetime:
    """A log line's RFC 3339 stamp (``timestamps=true``; nanoseconds cut to what Python keeps); a line
    without one counts as written at the start of time."""
    found = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", stamp)
    if found is None:
        return datetime.min.replace(tzinfo=UTC)
    fraction = (found.group(2) or ".0")[:7]
    zone = "+00:00" if found.group(3) == "Z" else found.group(3)
    return datetime.fromisoformat(f"{found.group(1)}{fraction}{zone}")


def _when(event: client.CoreV1Event) -> datetime | None:
    return event.last_timestamp or event.event_time or event.first_timestamp


def _exposure(line: str) -> str | None:
    match = _COMMITTED_EXPOSURE.search(line) or _HEADER_FILE.search(line)
    return f"{match.group(1)}/{int(match.group(2))}" if match else None
