"""A Kubernetes API stand-in for the official client, reached through a kubeconfig.

It serves what the bot uses, at the real paths and in the real shapes: deployments (get, strategic
merge patch), replica sets, pods, pod logs (``tailLines``, ``sinceSeconds``, ``limitBytes``) and
events; errors are ``Status`` objects with the real codes and messages (401, 403 naming the verb,
404 naming the object, 500). A rollout moves one step each time the deployment is read, so the
bot's own polling is its clock; a test shapes it with ``stuck`` (never ready) and ``paused``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

from bot.sandbox.standins.local_server import LocalServer, QuietHandler

TOKEN = "kube-test-token"


class Log(Protocol):
    """A pod's log as the stand-in reads it: ``count`` lines, the i-th written at ``written(i)`` (seconds
    since the epoch, never decreasing)."""

    @property
    def count(self) -> int: ...

    def line(self, index: int) -> str: ...

    def written(self, index: int) -> float: ...


@dataclass
class PodLog:
    """A pod's log, made line by line on demand: ``count`` lines, the i-th written at ``written(i)``."""

    count: int
    line: Callable[[int], str]
    written: Callable[[int], float]


@dataclass
class Deployment:
    name: str
    replicas: int = 2
    paused: bool = False
    generation: int = 1
    observed: int = 1
    step: int = 0
    revision: int = 1
    stuck: bool = False
    restarted_at: str | None = None
    logs: Log | None = None
    crashing: bool = False
    """A pod of this deployment keeps failing: it has BackOff events, restart or not."""
    log_error: int | None = None
    """When set, reading a pod's log answers this status (a container still being created: 400)."""
    labels: dict[str, str] | None = None
    """Selector labels, shared between deployments as phalanx's charts do; default ``app: NAME``."""
    on_restart: Callable[[], None] | None = None
    """Called when a restart is patched in: what the new pods do on start (a pqserver stand-in reads its
    schemas again)."""

    @property
    def selector(self) -> dict[str, str]:
        return self.labels or {"app": self.name}


@dataclass
class KubeState:
    deployments: dict[str, Deployment] = field(default_factory=dict)
    forbidden: set[tuple[str, str]] = field(default_factory=set)
    allowed: set[tuple[str, str]] | None = None
    held: threading.Event | None = None
    """While set, every request waits for it (up to 5 s) before it is answered: a slow API server."""
    failing: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)


class FakeKube(LocalServer):
    """``with FakeKube() as kube:``; ``kube.kubeconfig(path, contexts)`` writes a kubeconfig for it."""

    def __init__(self, namespace: str = "consdb", *, now: Callable[[], float] = time.time) -> None:
        """``now``: the clock of ``sinceSeconds`` and of events, seconds since the epoch."""
        self.namespace = namespace
        self.now = now
        self.state = KubeState()
        self.lock = threading.Condition()
        super().__init__()

    def add(self, deployment: Deployment) -> Deployment:
        self.state.deployments[deployment.name] = deployment
        return deployment

    def kubeconfig(self, path: Path, contexts: list[str], *, token: str = TOKEN) -> Path:
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "test", "cluster": {"server": self.url}}],
            "users": [{"name": "bot", "user": {"token": token}}],
            "contexts": [{"name": name, "context": {"cluster": "test", "user": "bot"}} for name in contexts],
            "current-context": contexts[0],
        }
        path.write_text(json.dumps(document))
        return path

    def tick(self, name: str) -> None:
        """Move the rollout of ``name`` one step on."""
        with self.lock:
            deployment = self.state.deployments[name]
            if deployment.observed < deployment.generation:
                deployment.observed = deployment.generation
            elif deployment.step < 3 and not (deployment.stuck and deployment.step >= 2):
                deployment.step += 1
            elif deployment.stuck:
                deployment.step = 4
            self.lock.notify_all()

    # --- the objects, as the API serves them -------------------------------------------------

    def _deployment_object(self, d: Deployment) -> dict[str, Any]:
        rolling = d.observed == d.generation and d.generation > 1
        updated, total, available = d.replicas, d.replicas, d.replicas
        if rolling:
            updated, total, available = {0: (0, d.replicas, d.replicas), 1: (1, d.replicas + 1, d.replicas),
                                         2: (d.replicas, d.replicas + 1, d.replicas),
                                         3: (d.replicas, d.replicas, d.replicas),
                                         4: (d.replicas, d.replicas + 1, d.replicas)}[d.step]  # fmt: skip
            if d.stuck and d.step >= 2:
                available = d.replicas - 1
        conditions = [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]
        if d.step == 4:
            timed_out = f'ReplicaSet "{d.name}-{d.revision}" has timed out progressing.'
            conditions.append(
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": timed_out}
            )
        annotations = {"kubectl.kubernetes.io/restartedAt": d.restarted_at} if d.restarted_at else {}
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": d.name, "namespace": self.namespace, "generation": d.generation},
            "spec": {"replicas": d.replicas, "paused": d.paused, "selector": {"matchLabels": d.selector},
                     "template": {"metadata": {"labels": d.selector, "annotations": annotations},
                                  "spec": {"containers": [{"name": d.name, "image": f"{d.name}:1"}]}}},
            "status": {"observedGeneration": d.observed, "replicas": total, "updatedReplicas": updated,
                       "readyReplicas": available, "availableReplicas": available, "conditions": conditions},
        }  # fmt: skip

    def _pods(self, d: Deployment) -> list[dict[str, Any]]:
        pods = [(f"{d.name}-{d.revision}-{index}", True) for index in range(d.replicas)]
        if d.stuck and d.step >= 2:
            pods[-1] = (pods[-1][0], False)
        owner = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{d.name}-{d.revision}", "uid": "u"}]
        return [
            {"metadata": {"name": name, "namespace": self.namespace, "labels": d.selector, "ownerReferences": owner},
             "spec": {"containers": [{"name": d.name, "image": f"{d.name}:1"}]},
             "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}]}}
            for name, ready in pods
        ]  # fmt: skip

    def _events(self) -> list[dict[str, Any]]:
        events = []
        for d in self.state.deployments.values():
            if (d.stuck and d.step >= 2) or d.crashing:
                events.append({"metadata": {"name": f"{d.name}.1", "namespace": self.namespace},
                               "involvedObject": {"kind": "Pod", "name": f"{d.name}-{d.revision}-{d.replicas - 1}"},
                               "type": "Warning", "reason": "BackOff", "lastTimestamp": _stamp(self.now()),
                               "message": "Back-off restarting failed container"})  # fmt: skip
        return events

    def _log(self, d: Deployment, pod_index: int, query: dict[str, str]) -> str:
        """Pod ``pod_index`` wrote every ``replicas``-th line of the deployment's log."""
        logs: Log = d.logs or PodLog(0, str, lambda _i: 0.0)
        share = range(pod_index, logs.count, d.replicas)
        start = max(0, len(share) - int(query["tailLines"])) if "tailLines" in query else 0
        if "sinceSeconds" in query:
            cutoff = self.now() - int(query["sinceSeconds"])
            low, high = start, len(share)
            while low < high:  # the first line written at or after the cutoff (times only grow)
                middle = (low + high) // 2
                low, high = (middle + 1, high) if logs.written(share[middle]) < cutoff else (low, middle)
            start = low
        stamped = query.get("timestamps") == "true"
        text = "".join(
            (_stamp(logs.written(share[k])) + " " if stamped else "") + logs.line(share[k]) + "\n"
            for k in range(start, len(share))
        )
        if "limitBytes" in query:
            text = text.encode()[: int(query["limitBytes"])].decode(errors="ignore")
        return text

    # --- HTTP ---------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        ns = f"/namespaces/{self.namespace}/"
        parts = path.split(ns, 1)
        resource = parts[1].split("/") if len(parts) == 2 else []
        verb = {"GET": "get", "PATCH": "patch"}.get(method, method.lower())
        if resource and len(resource) == 1:
            verb = "list"
        kind = "/".join([resource[0], *resource[2:]]) if resource else ""
        refused = (verb, kind) in self.state.forbidden
        if self.state.allowed is not None and (verb, kind) not in self.state.allowed:
            refused = True
        if refused:
            group = "apps" if "/apis/apps/" in path else '""'
            who = 'User "system:serviceaccount:consdb:consdb-bot"'
            name = resource[1] if len(resource) > 1 else ""
            where = f'resource "{resource[0]}" in API group {group} in the namespace "{self.namespace}"'
            return 403, _status(403, "Forbidden", f'{kind} "{name}" is forbidden: {who} cannot {verb} {where}')
        if self.state.failing:
            self.state.failing -= 1
            return 500, _status(500, "InternalError", "etcdserver: request timed out")
        with self.lock:
            return self._serve(method, resource, query, body)

    def _serve(self, method: str, resource: list[str], query: dict[str, str], body: bytes) -> tuple[int, Any]:
        shape = (resource[0] if resource else "", len(resource), resource[-1] if resource else "")
        handler = {
            ("deployments", 2): self._deployment,
            ("replicasets", 1): self._replica_sets,
            ("pods", 1): self._pod_list,
            ("pods", 3): self._pod_log,
            ("events", 1): self._event_list,
        }.get(shape[:2])  # fmt: skip
        if handler is None:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        return handler(method, resource, query, body)

    def _deployment(self, method: str, resource: list[str], _query: dict[str, str], body: bytes) -> tuple[int, Any]:
        d = self.state.deployments.get(resource[1])
        if d is None:
            return 404, _status(404, "NotFound", f'deployments.apps "{resource[1]}" not found')
        if method == "PATCH":
            annotations = json.loads(body)["spec"]["template"]["metadata"]["annotations"]
            d.restarted_at = annotations["kubectl.kubernetes.io/restartedAt"]
            d.generation, d.step, d.revision = d.generation + 1, 0, d.revision + 1
            if d.on_restart:
                d.on_restart()
        elif d.generation > 1:
            self.tick(d.name)
        return 200, self._deployment_object(d)

    def _replica_sets(self, *_args: Any) -> tuple[int, Any]:
        items = [{"metadata": {"name": f"{d.name}-{d.revision}"}, "spec": {"replicas": d.replicas}}
                 for d in self.state.deployments.values()]  # fmt: skip
        return 200, {"kind": "ReplicaSetList", "apiVersion": "apps/v1", "metadata": {}, "items": items}

    def _event_list(self, *_args: Any) -> tuple[int, Any]:
        return 200, {"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": self._events()}

    def _pod_list(self, _method: str, _resource: list[str], query: dict[str, str], _body: bytes) -> tuple[int, Any]:
        wanted = dict(part.split("=", 1) for part in query.get("labelSelector", "").split(",") if part)
        items = [pod for d in self.state.deployments.values() if wanted.items() <= d.selector.items()
                 for pod in self._pods(d)]  # fmt: skip
        return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}

    def _pod_log(self, _method: str, resource: list[str], query: dict[str, str], _body: bytes) -> tuple[int, Any]:
        owner = resource[1].rsplit("-", 2)[0]  # a pod is named DEPLOYMENT-REVISION-INDEX
        d = self.state.deployments.get(owner)
        if d is None or resource[2] != "log":
            return 404, _status(404, "NotFound", f'pods "{resource[1]}" not found')
        if query.get("container") != d.name:
            return 400, _status(
                400, "BadRequest", f"container {query.get('container')} is not valid for pod {resource[1]}"
            )
        if d.log_error:
            return d.log_error, _status(d.log_error, "BadRequest", f'container "{d.name}" is waiting to start')
        return 200, self._log(d, int(resource[1].rsplit("-", 1)[1]), query)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self._serve("GET", b"")

            def do_PATCH(self) -> None:
                self._serve("PATCH", self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _serve(self, method: str, body: bytes) -> None:
                parsed = urlparse(self.path)
                with fake.lock:
                    fake.state.requests.append((method, parsed.path))
                    fake.lock.notify_all()
                if fake.state.held is not None:
                    fake.state.held.wait(5)
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self.reply(401, _status(401, "Unauthorized", "Unauthorized"))
                    return
                query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
                self.reply(*fake._route(method, parsed.path, query, body))

        return Handler


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}  # fmt: skip
