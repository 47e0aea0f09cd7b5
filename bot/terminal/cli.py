"""The operator's terminal: ``consdb-bot COMMAND ...`` (also ``python -m bot``).

It parses, asks the application, and renders what comes back (:mod:`bot.render.terminal`). Exit
status: 0 done, 1 the operation failed or was refused, 2 the command line (or the configuration) is
wrong. With ``--json`` every answer, errors included, is one JSON document on stdout.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from bot import grammar
from bot.application import Actor, Application, Surface
from bot.application.wiring import SurfaceParts, Wiring, state_store
from bot.clients.jira import JiraDesk
from bot.config import Settings, config_path, load_settings
from bot.engine.service import Engine
from bot.errors import ConsdbBotError, OperationFailed
from bot.render.terminal import TerminalAnswer, answer, error_value
from bot.render.text import error_text, to_json
from bot.store import now
from bot.terminal.init import write_starting_config, written_answer
from bot.terminal.notifier import TerminalNotifier


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(sys.argv[1:] if argv is None else list(argv), out=sys.stdout, err=sys.stderr))


def run(argv: list[str], *, out: TextIO, err: TextIO) -> int:
    as_json = "--json" in argv  # looked for before parsing: a line that does not parse is answered in JSON too
    try:
        invocation = grammar.parse(argv)
    except grammar.HelpRequested as shown:
        out.write(to_json({"help": shown.text}) + "\n" if as_json else shown.text)
        return 0
    except ConsdbBotError as error:
        return _refused(error, out=out, err=err, as_json=as_json)
    try:
        return _command(invocation, as_json=as_json, out=out, err=err)
    except ConsdbBotError as error:
        return _refused(error, out=out, err=err, as_json=as_json)


def _command(invocation: grammar.Invocation, *, as_json: bool, out: TextIO, err: TextIO) -> int:
    """The terminal's own commands (sandbox, init, serve) here, every other one through the application."""
    command = invocation.command
    if isinstance(command, grammar.Sandbox):  # it writes a configuration of its own
        from bot.sandbox.run import run_sandbox  # noqa: PLC0415 - the stand-ins load only for the sandbox

        folder = Path(command.folder).resolve()
        if not as_json:
            run_sandbox(port=command.port, folder=folder, out=out)
            return 0

        def ready(url: str) -> None:  # the one document on stdout; how it goes, on stderr
            out.write(to_json({"page": url, "folder": str(folder)}) + "\n")
            out.flush()

        run_sandbox(port=command.port, folder=folder, out=err, ready=ready)
        return 0
    path = config_path(invocation.config)
    if isinstance(command, grammar.Init):
        written = write_starting_config(path, force=command.force)
        return write_answer(written_answer(written, config=invocation.config), as_json=as_json, out=out, err=err)
    settings = load_settings(path)
    if isinstance(command, grammar.Serve):
        _serve(settings, command)
        return 0
    return _Terminal(settings, as_json=as_json, out=out, err=err).answer(command)


def _refused(error: ConsdbBotError, *, out: TextIO, err: TextIO, as_json: bool) -> int:
    """An error before any answer: with --json, one JSON document on stdout; otherwise said on stderr."""
    if as_json:
        out.write(to_json(error_value(error)) + "\n")
    else:
        err.write(error_text(error) + "\n")
    return error.exit_code


def _serve(settings: Settings, command: grammar.Serve) -> None:
    """The bot itself: Slack's libraries load only here."""
    import handlers  # noqa: PLC0415
    from bot.logs import configure  # noqa: PLC0415
    from bot.slack.app import serve  # noqa: PLC0415
    from bot.slack.context import Context, SlackSettings  # noqa: PLC0415

    slack = SlackSettings.from_environment(os.environ, socket_mode=command.socket_mode)
    configure(os.environ)
    context = Context(settings, slack)
    serve(
        context,
        handlers.register,
        port=command.port,
        socket_mode=command.socket_mode,
        stop_seconds=command.stop_seconds,
    )


SLACK_LOOKUP_SECONDS = 5
"""How long the terminal waits for Slack to name someone (once: after a failure it stops asking)."""


def slack_names(environ: Mapping[str, str]) -> Callable[[str], str]:
    """Names for the Slack user ids the terminal shows, asked of Slack (``users.info``, once per person) when
    this shell has the bot's token (``SLACK_BOT_TOKEN``, as the bot's own pod has; ``SLACK_API_URL`` too);
    without it, or once Slack did not answer, each id stands alone."""
    token = environ.get("SLACK_BOT_TOKEN")
    if not token:
        return str
    from slack_sdk import WebClient  # noqa: PLC0415 - Slack's client loads only where there is a token

    from bot.slack.directory import SlackDirectory  # noqa: PLC0415

    api_url = environ.get("SLACK_API_URL")
    base_url = api_url.rstrip("/") + "/" if api_url else WebClient.BASE_URL
    directory = SlackDirectory(WebClient(token=token, base_url=base_url, timeout=SLACK_LOOKUP_SECONDS))
    answering = True

    def person(user: str) -> str:
        nonlocal answering
        name = directory.name(user) if answering else None
        answering = answering and name is not None
        return name or user

    return person


class _Terminal:
    """One command in this shell: its services built as it needs them, a change approved by ``--yes``
    and run here, its progress written as it goes."""

    def __init__(self, settings: Settings, *, as_json: bool, out: TextIO, err: TextIO) -> None:
        self.as_json = as_json
        self.out = out
        self.err = err
        self.engine = engine = Engine(settings)
        notifier = TerminalNotifier(out if not as_json else None, err)
        self.person = slack_names(os.environ)
        parts = SurfaceParts(
            notifier=notifier, launch=lambda run: run(), tell=notifier.tell, group_members=lambda _group: set(),
            person=self.person, permalink=lambda _channel, _ts: None,
        )  # fmt: skip
        jira = JiraDesk.from_environment(settings.jira, os.environ)
        state = lambda: state_store(settings, clock=now)  # noqa: E731 - reached only by the commands that need it
        self.wiring = Wiring(settings, engine, state, parts, jira=jira, clock=now, open_on_use=True)
        self.application = Application(settings, engine, self.wiring, clock=now, wait_behind=notifier.wait_behind)

    def answer(self, command: grammar.Command) -> int:
        actor = Actor(f"{getpass.getuser()}@{socket.gethostname()} (terminal)", Surface.TERMINAL)
        with self._signals_stop_runs():
            try:
                rendered = answer(self.application.run(command, actor), person=self.person)
            except KeyboardInterrupt:  # the contract's three statuses: an interrupted operation did not complete
                return _refused(_INTERRUPTED, out=self.out, err=self.err, as_json=self.as_json)
            finally:
                self.wiring.close()
        return write_answer(rendered, as_json=self.as_json, out=self.out, err=self.err)

    @contextlib.contextmanager
    def _signals_stop_runs(self) -> Iterator[None]:
        """Ctrl-C or SIGTERM while a change runs stops it as the bot stops its runs: rolled back, its
        locks released, recorded interrupted (a rollout, left at its last step, goes on later). At any other
        moment the command stops at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
        for number in previous:
            signal.signal(number, self._interrupted)
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _interrupted(self, _number: int, _frame: object) -> None:
        if not self.wiring.running():
            raise KeyboardInterrupt
        self.err.write("stopping: the migration under way is rolled back; where the change stands follows\n")
        self.engine.stopping.set()


_INTERRUPTED = OperationFailed("interrupted: nothing more was done", hint="`audit` shows what was.")


def write_answer(rendered: TerminalAnswer, *, as_json: bool, out: TextIO, err: TextIO) -> int:
    """The answer on stdout and its notes on stderr; an error after it on stderr, or with --json in the one
    JSON document (``error``, ``hint``, ``exit``, and the ``answer`` given before it)."""
    for note in rendered.notes:
        err.write(f"note: {note}\n")
    status = rendered.exit_status
    if as_json:
        if rendered.refused is not None:
            value = {**error_value(rendered.refused, exit_status=status), "answer": rendered.value}
        elif rendered.failure is not None:
            value = {"error": rendered.failure, "hint": None, "exit": status, "answer": rendered.value}
        else:
            value = rendered.value
        out.write(to_json(value) + "\n")
        return status
    if rendered.text:
        out.write(rendered.text + "\n")
    if rendered.refused is not None:
        err.write(error_text(rendered.refused) + "\n")
    if rendered.failure is not None:
        err.write(f"error: {rendered.failure}\n")
    return status
