"""``consdb-bot sandbox``: a private PostgreSQL with bts and summit databases at older revisions and the Summit's
TAP_SCHEMA (as the change's TAP schema container would load it), a second one with usdf-prod, a logical replica
subscribing to the summit's publication, the Slack, Kubernetes, Jira and pqserver stand-ins, the bot itself
(``consdb-bot serve``, HTTP mode, SQLite state), and a page on localhost that acts as a Slack channel. Ctrl-C
(or SIGTERM) stops them all.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import yaml

from bot.config import load_settings
from bot.engine.service import Direction, Engine
from bot.engine.tree import MigrationTree
from bot.errors import ConfigError, PortInUse
from bot.sandbox.claims import FolderLock, claim_port
from bot.sandbox.postgres import PrivatePostgres
from bot.sandbox.replica import PUBLICATION, SUBSCRIPTION, publisher_settings, replicate, subscriber_settings
from bot.sandbox.standins.hinfo import FakeHinfo
from bot.sandbox.standins.jira import JIRA_TOKEN, FakeJira
from bot.sandbox.standins.kubernetes import Deployment, FakeKube
from bot.sandbox.standins.local_server import free_port
from bot.sandbox.standins.pqserver import FakePqServer
from bot.sandbox.standins.slack import BOT_TOKEN, FakeSlack
from bot.sandbox.standins.tap import load_tap_schema
from bot.sandbox.web import Channel, Person, SandboxPage
from bot.services.results_text import change_text

CHANNELS = [Channel("C0CONSDB01", "consdb"), Channel("C0SUMMIT01", "consdb-summit")]
PEOPLE = [
    Person("U0VERA0001", "Vera", "schema author"),
    Person("U0ADA00001", "Ada", "approver"),
    Person("U0GRACE001", "Grace", "approver"),
]
OLDER = {"latiss": "8ebb60eda79d", "lsstcam": "dbd7607b3634"}
"""Where bts, summit and usdf-prod start: each schema's first revision, one behind the tree's head."""
READY_SECONDS = 90
BOT_ATTEMPTS = 3
"""How often the bot is started, each time on another port, should a program take its port first."""
HINFO = {"bts": ("consdb-hinfo-latiss", "s3.ls.lsst.org"), "summit": ("consdb-hinfo-latiss-summit", "s3.cp.lsst.org")}
"""latiss's hinfo deployment at each place, and where its header files are served. One Kubernetes stand-in
answers for the Base's and the Summit's contexts alike, so the Summit's hinfo has a name of its own."""


def run_sandbox(*, port: int, folder: Path, out: TextIO, ready: Callable[[str], None] | None = None) -> None:
    """Claim the folder and the page's port before anything starts (a sandbox running there already, or a
    port taken, is refused in a line), then start everything, say where the page is, and stop it all on
    Ctrl-C or SIGTERM. ``out`` hears how it goes; ``ready``, if given, is handed the page's URL once it
    answers (``--json`` says it so)."""
    lock = FolderLock(folder)
    lock.refuse_if_held()
    listener = claim_port(port)
    with closing(listener), lock.held(f"http://127.0.0.1:{listener.getsockname()[1]}"):
        _run(listener, folder, out, ready)


def _run(listener: socket.socket, folder: Path, out: TextIO, ready: Callable[[str], None] | None) -> None:
    for stale in ("state.sqlite3", "bot.log"):
        (folder / stale).unlink(missing_ok=True)
    signalled: list[int] = []
    previous = {
        number: signal.signal(number, lambda n, _f: signalled.append(n)) for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with ExitStack() as stack:
            out.write("starting PostgreSQL, the stand-ins and the bot...\n")
            out.flush()
            postgres = stack.enter_context(PrivatePostgres(publisher_settings()))
            urls = {name: postgres.create_database(name) for name in ("bts", "summit", "summit_tap")}
            load_tap_schema(urls["summit_tap"], *_served_models())
            usdf = stack.enter_context(PrivatePostgres(subscriber_settings()))
            urls["usdf-prod"] = usdf.create_database("usdf_prod")
            slack = stack.enter_context(FakeSlack())
            slack.state.people.update({person.id: person.name for person in PEOPLE})
            pqservers = {name: stack.enter_context(FakePqServer(urls[name])) for name in ("bts", "summit")}
            kube = stack.enter_context(_cluster(list(pqservers.values())))
            jira = stack.enter_context(FakeJira())
            jira.add_issue("OSW-123", "Add the visit1 quicklook columns", status="In Progress")
            config = _configuration(folder, {name: pqserver.url for name, pqserver in pqservers.items()})
            environ = {
                **os.environ, "BTS_DATABASE_URL": urls["bts"], "SUMMIT_DATABASE_URL": urls["summit"],
                "USDF_PROD_DATABASE_URL": urls["usdf-prod"], "SUMMIT_TAP_SCHEMA_URL": urls["summit_tap"],
                "KUBECONFIG": str(kube.kubeconfig(folder / "kubeconfig", ["base", "summit"])),
                "JIRA_URL": jira.url, "JIRA_TOKEN": JIRA_TOKEN, "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": secrets.token_hex(16), "SLACK_API_URL": slack.url,
            }  # fmt: skip
            tree = _older_revisions(config, environ).schema("latiss")
            replicate(postgres, urls["summit"], urls["usdf-prod"])
            for place, (deployment, host) in HINFO.items():  # from here on, each migration brings exposures
                hinfo = stack.enter_context(FakeHinfo(
                    urls[place], "latiss", schema_name=tree.schema_name, host=host,
                    version_table=(tree.version_table_schema, tree.version_table),
                ))  # fmt: skip
                kube.add(Deployment(deployment, replicas=1, logs=hinfo.log))
            bot, bot_port = start_bot(stack, config, environ, folder / "bot.log")
            page = stack.enter_context(SandboxPage(
                slack, f"http://127.0.0.1:{bot_port}", signing_secret=environ["SLACK_SIGNING_SECRET"],
                people=PEOPLE, channels=CHANNELS, bound=listener,
            ))  # fmt: skip
            out.write(f"consdb-bot sandbox: open {page.url} (Ctrl-C stops everything)\n")
            out.flush()
            if ready is not None:
                ready(page.url)
            pause = threading.Event()  # never set: the loop looks at the signal notes every 0.2 s
            while not signalled and bot.poll() is None:
                pause.wait(0.2)
            if bot.poll() is not None and not signalled:
                raise ConfigError("the bot stopped on its own", hint=f"Its log: {folder / 'bot.log'}")
            out.write("stopping...\n")
            out.flush()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    out.write("stopped; nothing is left running\n")


def _configuration(folder: Path, pqserver_urls: dict[str, str]) -> Path:
    ada, grace = PEOPLE[1].id, PEOPLE[2].id
    config = folder / "consdb-bot.yaml"
    config.write_text(f"""# Written by consdb-bot sandbox: a test stand, a summit and its replica, on this machine.
state_url: sqlite:///{folder / "state.sqlite3"}
schemas: [latiss, lsstcam]
slack: {{announce_channel: {CHANNELS[0].id}}}
jira:
  url: ${{JIRA_URL}}
  project: OSW
kubernetes: {{poll_seconds: 0.2}}
reports: {{daily_at: null, check_minutes: 0}}
environments:
  bts:
    aliases: [base]
    description: Base Test Stand
    test_stand: true
    timezone: America/Santiago
    database_url: ${{BTS_DATABASE_URL}}
    channel: {CHANNELS[0].id}
    kubernetes: {{context: base, namespace: consdb}}
    pqserver: consdb-pq
    pqserver_url: {pqserver_urls["bts"]}
    hinfo: {{latiss: {HINFO["bts"][0]}}}
    hinfo_watch_minutes: 0.5
    approvals: {{required: 1, approvers: [{ada}, {grace}]}}
  summit:
    description: Summit
    timezone: America/Santiago
    database_url: ${{SUMMIT_DATABASE_URL}}
    channel: {CHANNELS[1].id}
    kubernetes: {{context: summit, namespace: consdb}}
    pqserver: consdb-pq
    pqserver_url: {pqserver_urls["summit"]}
    hinfo: {{latiss: {HINFO["summit"][0]}}}
    tap: {{schema_url: "${{SUMMIT_TAP_SCHEMA_URL}}"}}
    approvals: {{required: 2, approvers: [{ada}, {grace}]}}
    requires_ticket: true
    requires_tested_on: bts
  usdf-prod:
    description: USDF production (logical replica of the Summit)
    timezone: America/Los_Angeles
    database_url: ${{USDF_PROD_DATABASE_URL}}
    channel: {CHANNELS[0].id}
    approvals: {{required: 2, approvers: [{ada}, {grace}]}}
    requires_ticket: true
    requires_tested_on: summit
    replica: {{of: summit, subscription: {SUBSCRIPTION}, publication: {PUBLICATION}}}
""")
    return config


def _served_models() -> list[dict[str, Any]]:
    """The Felis models of the tree's head (the installed lsst-sdm-schemas): what TAP serves once the change's
    TAP schema container is deployed."""
    package = resources.files("lsst.sdm.schemas")
    return [yaml.safe_load((package / f"cdb_{name}.yaml").read_text()) for name in OLDER]


def _cluster(pqservers: list[FakePqServer]) -> FakeKube:
    """One Kubernetes stand-in serves the test stand's and the Summit's contexts alike: restarting consdb-pq at
    either restarts both pqservers (each serves its own database)."""

    def restart() -> None:
        for pqserver in pqservers:
            pqserver.restart()

    kube = FakeKube()
    kube.add(Deployment("consdb-pq", on_restart=restart))
    return kube


def _older_revisions(config: Path, environ: dict[str, str]) -> MigrationTree:
    """bts, summit and usdf-prod one revision behind, as real environments wait for a change; the tree."""
    settings = load_settings(config, environ=environ)
    engine = Engine(settings)
    for environment in ("bts", "summit", "usdf-prod"):
        env = settings.environment(environment)
        for schema, revision in OLDER.items():
            result = engine.change(env, [schema], direction=Direction.UPGRADE, to=revision, actor="consdb-bot sandbox")
            if not result.ok:
                raise ConfigError(f"the sandbox could not prepare {environment}", hint=change_text(result))
    return engine.tree


def start_bot(
    stack: ExitStack, config: Path, environ: dict[str, str], log: Path, *, ports: Callable[[], int] = free_port
) -> tuple[subprocess.Popen[bytes], int]:
    """The bot, up (stopped when ``stack`` closes), and its port. A port is free when picked (``ports``), but
    another program may take it before the bot binds it: the bot then says so and stops, and is started again
    on another."""
    for _ in range(BOT_ATTEMPTS):
        port = ports()
        with ExitStack() as attempt:
            bot = attempt.enter_context(_bot(config, environ, port, log))
            if _came_up(bot, port, log):
                stack.push(attempt.pop_all())
                return bot, port
        if str(PortInUse(port)) not in log.read_text(errors="replace"):
            break
    raise ConfigError("the sandbox's bot did not start", hint=f"Its log: {log}")


@contextmanager
def _bot(config: Path, environ: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``consdb-bot serve`` in HTTP mode, stopped with SIGTERM as Kubernetes would."""
    command = [
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--port",
        str(port),
        "--stop-seconds",
        "10",
        "--config",
        str(config),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environ, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            status: int = answer.status
            return status == 200
    except OSError:
        return False


def _came_up(process: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    """Whether the bot came up: its log says it listens on ``port`` (so that it is this bot that answers there,
    not a program that took the port first) and its ``/healthz`` answers; false if it stopped first."""
    deadline, pause = time.monotonic() + READY_SECONDS, threading.Event()
    listening = f"listening on port {port}"
    while not (listening in log.read_text(errors="replace") and _answers(f"http://127.0.0.1:{port}/healthz")):
        if process.poll() is not None:
            return False
        if time.monotonic() > deadline:
            raise ConfigError("the sandbox's bot did not start", hint=f"Its log: {log}")
        pause.wait(0.1)
    return True
