"""The one parser of the command language, shared by Slack (``/consdb ...``) and the terminal.

It is pure: words in, a command object out, or :class:`UsageError` with the right form and an
example, or :class:`HelpRequested` with the help text. Names (environments, schemas) are checked
later against the configuration; this module knows only the shape of a command.
"""

from __future__ import annotations

import argparse
import functools
import re
import shlex
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from bot.errors import ECHOED, UsageError, did_you_mean, echoed
from bot.when import WHEN_FORMS, When, WhenError

# Bounds of what may be typed: each fits where it is kept (bot/store/models.py: names in String(64),
# revisions in String(64), tickets in String(32), ids in Integer) and where it is used (timedelta,
# LIMIT, ports). A value beyond one is a usage error that says the bound, never a crash further on.
MAX_NAME = 64
MAX_REVISION = 64
MAX_OPTION_KEY = 64
MAX_OPTION_VALUE = 256
MAX_NOTE = 500
MAX_TEXT = 200
MAX_PATH = 4096
MAX_AUDIT_LIMIT = 1000
MAX_LOG_LINES = 10_000
MAX_BOOKING_ID = 2**31 - 1
MOST_ECHOED = 400  # characters of an argparse message, which may repeat every word it did not take
MAX_DURATION_DAYS = 365
MAX_PORT = 65_535
MAX_STOP_SECONDS = 3600

TICKET = re.compile(r"^[A-Z][A-Z0-9]{1,19}-[0-9]{1,9}$", re.IGNORECASE)
LOOKS_LIKE_TICKET = re.compile(r"^[A-Z][A-Z0-9]+-[0-9]+$", re.IGNORECASE)
TICKET_FORM = "write it as DM-12345 or OSW-123 (a project of 2 to 20 letters and digits, a number of 1 to 9 digits)"
OPTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*=.*$")
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
REVISION = re.compile(r"^[A-Za-z0-9_.@+-]+$")


class HelpRequested(Exception):
    """Not an error: the user asked for help, and this is it."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class Status:
    names: tuple[str, ...] = ()
    verbose: bool = False


@dataclass(frozen=True)
class History:
    schema: str
    verbose: bool = False


@dataclass(frozen=True)
class Plan:
    environment: str
    schemas: tuple[str, ...] = ()
    to: str | None = None
    sql: bool = False
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Drift:
    environment: str
    schemas: tuple[str, ...] = ()


@dataclass(frozen=True)
class Audit:
    environment: str | None = None
    limit: int = 20


@dataclass(frozen=True)
class Restart:
    environment: str
    ticket: str | None = None
    yes: bool = False


@dataclass(frozen=True)
class Logs:
    instrument: str
    environment: str
    since_seconds: int = 15 * 60
    lines: int = 200
    grep: str | None = None


@dataclass(frozen=True)
class ReplicaTables:
    """The publication's tables against the publisher's ConsDB tables, for one replica environment or all."""

    environment: str | None = None


@dataclass(frozen=True)
class CheckTap:
    """TAP_SCHEMA's columns of each schema against the Felis model at the revision the environment records."""

    environment: str
    schemas: tuple[str, ...] = ()


@dataclass(frozen=True)
class Serve:
    socket_mode: bool = False
    port: int = 8080
    stop_seconds: int = 30


@dataclass(frozen=True)
class Upgrade:
    environment: str
    schemas: tuple[str, ...] = ()
    to: str | None = None
    ticket: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    yes: bool = False
    wait: bool = False
    allow_rewrite: bool = False
    """A statement may rewrite a table holding rows (``--allow-rewrite``); refused otherwise."""


@dataclass(frozen=True)
class Downgrade:
    environment: str
    schema: str
    revision: str
    ticket: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    yes: bool = False
    wait: bool = False
    allow_rewrite: bool = False


@dataclass(frozen=True)
class Stamp:
    environment: str
    schema: str
    revision: str
    ticket: str | None = None
    yes: bool = False
    wait: bool = False
    force: bool = False


@dataclass(frozen=True)
class Prepare:
    environment: str
    schemas: tuple[str, ...] = ()
    ticket: str | None = None
    yes: bool = False


@dataclass(frozen=True)
class Rollout:
    """The Summit and its replicas as one request (the Summit: the environment replicas name in ``replica.of``)."""

    schemas: tuple[str, ...]
    ticket: str
    to: str | None = None
    yes: bool = False
    allow_rewrite: bool = False


@dataclass(frozen=True)
class Book:
    environment: str
    when: When
    seconds: int
    ticket: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Sandbox:
    port: int = 8000
    folder: str = ".consdb-sandbox"


@dataclass(frozen=True)
class Init:
    """Write a starting configuration where ``--config`` (or the default) points; ``force`` replaces a file."""

    force: bool = False


@dataclass(frozen=True)
class Ticket:
    key: str


@dataclass(frozen=True)
class Rename:
    """A column rename the operator confirmed (``--rename TABLE.OLD:NEW``)."""

    table: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.table}.{self.old}:{self.new}"


@dataclass(frozen=True)
class Generate:
    message: str
    schemas: tuple[str, ...] = ()
    sdm_schemas: str | None = None
    renames: tuple[Rename, ...] = ()
    drop_and_add: bool = False


@dataclass(frozen=True)
class Bookings:
    environment: str | None = None


@dataclass(frozen=True)
class Cancel:
    booking: int


@dataclass(frozen=True)
class Extend:
    booking: int
    seconds: int


@dataclass(frozen=True)
class CheckData:
    """The exposures written at an environment since the latest migration of the instrument's schema
    (or in the last ``--since``), and how many fill each column that migration added."""

    environment: str
    instrument: str
    since_seconds: int | None = None


@dataclass(frozen=True)
class Board:
    """The rollout board of a ticket: each step of the process, its state, who, when, and what is next."""

    key: str


@dataclass(frozen=True)
class Done:
    """A step of a ticket's rollout board that the bot cannot see (a merge, a tag, an announcement), ticked
    by whoever did it."""

    key: str
    step: str


Command = (
    Status | History | Plan | Drift | Audit | Logs | ReplicaTables | Upgrade | Downgrade | Stamp | Prepare | Restart
    | Rollout | Serve | Book | Bookings | Cancel | Extend | Ticket | Generate | Sandbox | CheckData | CheckTap
    | Board | Done | Init
)  # fmt: skip


@dataclass(frozen=True)
class Invocation:
    """A parsed command line: the command, and the terminal's own options."""

    command: Command
    config: str | None = None
    json: bool = False


_EXAMPLES = {
    "status": ["status", "status bts", "status summit latiss lsstcam -v"],
    "history": ["history latiss", "history lsstcam -v"],
    "plan": ["plan bts", "plan summit latiss --sql", "plan bts latiss --to +1"],
    "drift": ["drift bts", "drift summit latiss"],
    "audit": ["audit", "audit summit --limit 50"],
    "replica": ["replica tables", "replica tables usdf-prod"],
    "check tap": ["check tap usdf-prod", "check tap usdf-prod latiss lsstcam"],
    "serve": ["serve --socket-mode", "serve --port 8080"],
    "sandbox": ["sandbox", "sandbox --port 8001"],
    "init": ["init", "init --config /etc/consdb-bot.yaml", "init --force"],
    "restart": [
        "restart pqserver bts --yes",
        "restart pqserver summit --ticket OSW-123 --yes",
        "restart pqserver all --ticket OSW-123 --yes",
    ],
    "logs": ["logs hinfo latiss bts", "logs hinfo lsstcam summit --since 1h --lines 500 --grep ERROR"],
    "upgrade": [
        "upgrade bts --yes",
        "upgrade summit latiss --to 05689cf3f8f0 --ticket OSW-123 --yes",
        "upgrade bts latiss --allow-rewrite --yes",
    ],
    "downgrade": ["downgrade bts latiss -1 --yes", "downgrade bts latiss 8ebb60eda79d --yes"],
    "stamp": [
        "stamp bts latiss head --yes",
        "stamp summit lsstcam 05689cf3f8f0 --yes",
        "stamp bts latiss 05689cf3f8f0 --force --yes",
    ],
    "prepare": ["prepare bts --yes", "prepare usdf-dev efd_latiss --ticket OSW-123 --yes"],
    "rollout": ["rollout latiss --ticket OSW-123 --yes", "rollout latiss lsstcam --to head --ticket OSW-123 --yes"],
    "book": ["book bts today 14:00 2h OSW-123 schema test", "book tts now 90m", "book bts mon 09:30 1h30m"],
    "bookings": ["bookings", "bookings bts"],
    "ticket": ["ticket OSW-123"],
    "generate": [
        'generate -m "sdm_schemas w.2026.50"',
        'generate -m "Add exposure.dimm_seeing" latiss --sdm-schemas ~/sdm_schemas',
        'generate -m "Rename a column" latiss --rename exposure.seeing:dimm_seeing',
    ],
    "cancel": ["cancel 12"],
    "extend": ["extend 12 30m"],
    "help": ["help", "help upgrade"],
    "check data": ["check data bts latiss", "check data summit lsstcam --since 2h"],
    "board": ["board OSW-123"],
    "done": ["done OSW-123 consdb-merge", "done OSW-123 sdm-merge"],
}


TERMINAL_ONLY = {
    "serve": "runs the bot itself",
    "sandbox": "runs the whole bot on one machine, with a page that acts as Slack",
    "init": "writes a starting configuration file",
}
"""The commands Slack does not have, and what each does where it is typed: in a shell where the bot runs."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing and exiting, so Slack can use it too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {_clipped(message)}", usage=self.format_usage().strip(), hint=self._examples())

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        """A word that is none of the choices (a command, ``hinfo``, ``tables``) is answered with the nearest."""
        choices = action.choices
        if choices is None or value in choices:
            return
        if isinstance(action, argparse._SubParsersAction):
            raise argparse.ArgumentError(None, unknown_command(str(value), list(choices), prog=self.prog))
        listed = ", ".join(str(choice) for choice in choices)
        raise argparse.ArgumentError(
            action, f"invalid choice: {echoed(str(value))}{did_you_mean(str(value), choices)} (choose from {listed})"
        )

    def print_help(self, file: object = None) -> NoReturn:
        raise HelpRequested(self.format_help())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or self.prog, usage=self.format_usage().strip())

    def _examples(self) -> str | None:
        root, *command = self.prog.split()
        examples = examples_of(" ".join(command), prog=root)
        return "For example: " + "   ".join(examples) if examples else None


def unknown_command(word: str, commands: Sequence[str], *, prog: str) -> str:
    """Why a word is no command: the nearest command, or the terminal's own commands said as such in Slack."""
    if in_slack(prog) and word.lower() in TERMINAL_ONLY:
        name = word.lower()
        return f"{name} is for the terminal, not Slack: `consdb-bot {name}` {TERMINAL_ONLY[name]}"
    root, *within = prog.split()
    listed = f" (one of: {', '.join(commands)})" if within else f"; `{root} help` lists the commands"
    return f"unknown command {echoed(word)}{did_you_mean(word, commands) or listed}"


def _clipped(message: str) -> str:
    """argparse's message with each word it repeats (``unrecognized arguments: ...``) cut as errors
    cut a value, and the whole kept short, so that the usage and the example still show."""
    clipped = " ".join(word if len(word) <= ECHOED else word[: ECHOED - 1] + "…" for word in message.split(" "))
    return clipped if len(clipped) <= MOST_ECHOED else clipped[: MOST_ECHOED - 1] + "…"


def _ticket(text: str) -> str:
    if not TICKET.match(text):
        raise argparse.ArgumentTypeError(f"{echoed(text)} is not a Jira key; {TICKET_FORM}")
    return text.upper()


_DURATION = re.compile(r"^(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?$")
_DURATION_FORMS = "write it as 15m, 2h, 1h30m or 1d"


def duration_seconds(text: str) -> int:
    """``90m``, ``2h``, ``1h30m``, ``1d`` as seconds, at most MAX_DURATION_DAYS."""
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or not match or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"{echoed(text)} is not a duration; {_DURATION_FORMS}")
    parts = [part or "0" for part in match.groups()]
    days, hours, minutes = (int(part) if len(part) <= 6 else 10**6 for part in parts)
    seconds = ((days * 24 + hours) * 60 + minutes) * 60
    if seconds == 0:
        raise argparse.ArgumentTypeError(f"{echoed(text)} is no time at all; {_DURATION_FORMS}")
    if seconds > MAX_DURATION_DAYS * 86400:
        raise argparse.ArgumentTypeError(
            f"{echoed(text)} is too long: a DURATION is at most {MAX_DURATION_DAYS}d; {_DURATION_FORMS}"
        )
    return seconds


def _name(what: str, example: str) -> Callable[[str], str]:
    """A name (an environment, a schema, an instrument): letters, digits, ``_ . -``, at most MAX_NAME."""

    def name(text: str) -> str:
        if len(text) > MAX_NAME:
            raise argparse.ArgumentTypeError(
                f"{echoed(text)} is too long for {what} ({len(text)} characters, at most {MAX_NAME}); such as {example}"
            )
        if not NAME.match(text):
            raise argparse.ArgumentTypeError(
                f"{echoed(text)} is not {what}: letters, digits, _, . and - only; such as {example}"
            )
        return text

    return name


def _revision(text: str) -> str:
    if len(text) > MAX_REVISION or not REVISION.match(text):
        raise argparse.ArgumentTypeError(
            f"{echoed(text)} is not a revision (at most {MAX_REVISION} letters, digits, _ . @ + -);"
            " write it as 05689cf3f8f0, head, -1, +1 or latiss@head"
        )
    return text


def _text(what: str, longest: int) -> Callable[[str], str]:
    """Free text (a message, a pattern, a path), at most ``longest`` characters."""

    def text(value: str) -> str:
        if len(value) > longest:
            raise argparse.ArgumentTypeError(f"{what} is {len(value)} characters long; keep it to {longest}")
        return value

    return text


_RENAME = re.compile(r"^(\w{1,63})\.(\w{1,63}):(\w{1,63})$")


def _rename(text: str) -> Rename:
    match = _RENAME.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"{echoed(text)} is not a rename; write it as TABLE.OLD:NEW (exposure.seeing:dimm_seeing)"
        )
    return Rename(*match.groups())


_WHOLE = re.compile(r"^[0-9]{1,20}$")


def _booking_id(text: str) -> int:
    number = text.removeprefix("#")
    if not _WHOLE.match(number) or not 0 < int(number) <= MAX_BOOKING_ID:
        raise argparse.ArgumentTypeError(
            f"{echoed(text)} is not a booking number; write it as 12, at most {MAX_BOOKING_ID} (`bookings` lists them)"
        )
    return int(number)


def _at_most(largest: int) -> Callable[[str], int]:
    """A whole number from 1 to ``largest``."""

    def whole(text: str) -> int:
        if not _WHOLE.match(text) or not 0 < int(text) <= largest:
            raise argparse.ArgumentTypeError(f"{echoed(text)} is not a whole number from 1 to {largest}")
        return int(text)

    return whole


def _option(text: str) -> str:
    if not OPTION.match(text):
        raise argparse.ArgumentTypeError(f"{echoed(text)} is not KEY=VALUE; write it as view_readers=usdf,oods")
    key, value = text.split("=", 1)
    if len(key) > MAX_OPTION_KEY or len(value) > MAX_OPTION_VALUE:
        raise argparse.ArgumentTypeError(
            f"{echoed(text)} is too long: KEY at most {MAX_OPTION_KEY} characters, VALUE at most {MAX_OPTION_VALUE};"
            " write it as view_readers=usdf,oods"
        )
    return text


def in_slack(prog: str) -> bool:
    return prog.startswith("/")


def examples_of(command: str, *, prog: str) -> list[str]:
    """The examples of a command as typed where it is typed: Slack says ``migrate`` and has no --yes. A
    command of several words (``check data``) has its own; the first word alone has all of theirs."""
    name = "upgrade" if command == "migrate" else command
    examples = _EXAMPLES.get(name) or [
        example for key, listed in _EXAMPLES.items() if key.startswith(f"{name} ") for example in listed
    ]
    if in_slack(prog):
        examples = [example.replace("upgrade ", "migrate ", 1).replace(" --yes", "") for example in examples]
    return [f"{prog} {example}" for example in examples]


Subcommands = argparse._SubParsersAction
"""What ``add_subparsers()`` gives (argparse does not export its type): the commands of a command (``check data``)."""


@dataclass(frozen=True)
class _Grammar:
    """The whole language's parser and each command's own (aliases too), so an error about a command
    is said with that command's usage and examples."""

    parser: _Parser
    commands: Mapping[str, _Parser]


@functools.cache
def build_grammar(prog: str) -> _Grammar:
    """The grammar of the terminal (``consdb-bot``) or of Slack (``/consdb``): one language, two dialects.

    Slack has no --config, --json, serve, sandbox or init, says ``migrate`` first, and hides --yes and --wait
    (approval there is a reaction; the handler says so to whoever types them).
    """
    slack = in_slack(prog)
    parser = _Parser(prog=prog, description="Where ConsDB schemas stand in each environment, and moving them.")
    terminal = _Parser(add_help=False)
    for owner in () if slack else (parser, terminal):
        owner.add_argument(
            "--config",
            type=_text("the configuration path", MAX_PATH),
            default=argparse.SUPPRESS,
            help="configuration file (or CONSDB_BOT_CONFIG)",
        )
        owner.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="answer in JSON")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(
        name: str, summary: str, *, aliases: Sequence[str] = (), within: Subcommands[_Parser] | None = None
    ) -> _Parser:
        """A command, or with ``within`` one of a command's own (``check data``)."""
        sub = (within or commands).add_parser(
            name,
            aliases=list(aliases),
            help=summary,
            description=summary,
            parents=[terminal],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _root, *words = sub.prog.split()
        examples = examples_of(" ".join(words), prog=prog)
        sub.epilog = "examples:\n" + "\n".join(f"  {example}" for example in examples)
        return sub

    _read_only_commands(command)
    if not slack:
        sub = command("serve", "run the bot (HTTP on /slack/events, /healthz, /metrics; or Socket Mode)")
        sub.add_argument("--socket-mode", action="store_true", help="connect to Slack over Socket Mode")
        sub.add_argument("--port", type=_at_most(MAX_PORT), default=8080, metavar="N", help="HTTP port (default 8080)")
        sub.add_argument(
            "--stop-seconds", type=_at_most(MAX_STOP_SECONDS), default=30, metavar="N",
            help="on SIGTERM, how long changes under way may take to finish before they are stopped (default 30)",
        )  # fmt: skip
        sub = command("sandbox", "the whole bot on this machine, with a page on localhost that acts as Slack")
        sub.add_argument(
            "--port", type=_at_most(MAX_PORT), default=8000, metavar="N", help="the page's port (default 8000)"
        )
        sub.add_argument(
            "--folder",
            type=_text("the folder", MAX_PATH),
            default=".consdb-sandbox",
            metavar="DIR",
            help="its files (default .consdb-sandbox)",
        )
        sub = command("init", "write a starting configuration (--config FILE, default consdb-bot.yaml)")
        sub.add_argument("--force", action="store_true", help="replace a file that is there")

    _change_commands(command, slack=slack)
    _booking_commands(command)
    _generate_command(command)
    _check_commands(command)
    _board_commands(command)
    return _Grammar(parser, commands.choices)


_ENV = _name("an environment", "bts")
_SCHEMA = _name("a schema", "latiss")
_ENV_OR_SCHEMA = _name("an environment or a schema", "bts or latiss")


def _read_only_commands(command: Callable[..., _Parser]) -> None:
    sub = command("help", "usage, with examples")
    sub.add_argument("topic", nargs="?", metavar="COMMAND")

    sub = command("status", "current revision of each schema per environment, head or how far behind")
    sub.add_argument(
        "names",
        nargs="*",
        default=[],
        type=_ENV_OR_SCHEMA,
        metavar="[ENV] [SCHEMA]",
        help="an environment, then schemas (default: all)",
    )
    sub.add_argument("-v", "--verbose", action="store_true", help="add revision messages and script paths")

    sub = command("history", "revisions newest first, and the environments at each")
    sub.add_argument("schema", type=_SCHEMA, metavar="SCHEMA")
    sub.add_argument("-v", "--verbose", action="store_true", help="add script paths")

    sub = command("plan", "what an upgrade would apply: revisions, lint warnings, and the SQL")
    sub.add_argument("environment", type=_ENV, metavar="ENV")
    sub.add_argument("schemas", nargs="*", default=[], type=_SCHEMA, metavar="SCHEMA")
    sub.add_argument("--to", type=_revision, metavar="REV", help="target revision (default: head)")
    sub.add_argument("--sql", action="store_true", help="show the SQL itself (offline mode)")
    sub.add_argument("--options", nargs="+", default=[], type=_option, metavar="KEY=VALUE")

    sub = command("drift", "differences between the live database and the model at its recorded revision")
    sub.add_argument("environment", type=_ENV, metavar="ENV")
    sub.add_argument("schemas", nargs="*", default=[], type=_SCHEMA, metavar="SCHEMA")

    sub = command("audit", "who asked what, who approved, what ran, how it ended")
    sub.add_argument("environment", nargs="?", type=_ENV, metavar="ENV")
    sub.add_argument(
        "--limit", type=_at_most(MAX_AUDIT_LIMIT), default=20, metavar="N",
        help=f"how many records (default 20, at most {MAX_AUDIT_LIMIT})",
    )  # fmt: skip

    sub = command(
        "logs", "an excerpt of the hinfo pods' log: errors and warnings first, committed exposures, last lines"
    )
    sub.add_argument("service", choices=["hinfo"], metavar="hinfo")
    sub.add_argument("instrument", type=_name("an instrument", "latiss"), metavar="INSTRUMENT")
    sub.add_argument("environment", type=_ENV, metavar="ENV")
    sub.add_argument("--since", type=duration_seconds, default=15 * 60, metavar="DURATION", help="default 15m")
    sub.add_argument("--lines", type=_at_most(MAX_LOG_LINES), default=200, metavar="N", help="default 200")
    sub.add_argument("--grep", type=_text("the pattern", MAX_TEXT), metavar="TEXT", help="only lines containing TEXT")

    sub = command("replica", "the publication's tables against the Summit's ConsDB tables")
    sub.add_argument("what", choices=["tables"], metavar="tables")
    sub.add_argument("environment", nargs="?", type=_ENV, metavar="ENV", help="a replica (default: every one)")

    sub = command("ticket", "where a ticket's change stands in each environment: requests, outcomes, bookings")
    sub.add_argument("key", type=_ticket, metavar="TICKET")


_ALLOW_REWRITE = (
    "let a statement rewrite a table holding rows, under an exclusive lock (refused otherwise; the request says so)"
)


def _change_commands(command: Callable[..., _Parser], *, slack: bool) -> None:
    sub = command("restart", "rollout restart of pqserver, waited for, then its columns checked against the database")
    sub.add_argument("service", choices=["pqserver"], metavar="pqserver")
    sub.add_argument("environment", type=_ENV, metavar="ENV|all", help="all: every one that has the latest change")
    sub.add_argument("--ticket", type=_ticket, metavar="TICKET")
    sub.add_argument("--yes", action="store_true", help=argparse.SUPPRESS if slack else "really do it")

    sub = command("prepare", "create what a database lacks before a first revision: schemas, pg_sphere, roles")
    sub.add_argument("environment", type=_ENV, metavar="ENV")
    sub.add_argument("schemas", nargs="*", default=[], type=_SCHEMA, metavar="SCHEMA")
    sub.add_argument("--ticket", type=_ticket, metavar="TICKET")
    sub.add_argument("--yes", action="store_true", help=argparse.SUPPRESS if slack else "really do it")

    sub = command("rollout", "the Summit and its replicas as one request: pause, migrate both, publish, resume, verify")
    sub.add_argument("schemas", nargs="+", type=_SCHEMA, metavar="SCHEMA")
    sub.add_argument("--to", type=_revision, metavar="REV", help="target revision (default: head)")
    sub.add_argument("--ticket", type=_ticket, metavar="TICKET", required=True)
    sub.add_argument("--allow-rewrite", action="store_true", help=_ALLOW_REWRITE)
    sub.add_argument("--yes", action="store_true", help=argparse.SUPPRESS if slack else "really do it")

    upgrade, alias = ("migrate", "upgrade") if slack else ("upgrade", "migrate")
    for name, summary, aliases in (
        (upgrade, "upgrade, one transaction per schema", [alias]),
        ("downgrade", "downgrade one schema to REV", []),
        ("stamp", "record REV without running migrations", []),
    ):
        sub = command(name, summary, aliases=aliases)
        sub.add_argument("environment", type=_ENV, metavar="ENV")
        if name == upgrade:
            sub.add_argument("schemas", nargs="*", default=[], type=_SCHEMA, metavar="SCHEMA")
            sub.add_argument("--to", type=_revision, metavar="REV", help="target revision (default: head)")
        else:
            sub.add_argument("schema", type=_SCHEMA, metavar="SCHEMA")
            sub.add_argument("revision", type=_revision, metavar="REV")
        sub.add_argument("--ticket", type=_ticket, metavar="TICKET")
        if name != "stamp":
            sub.add_argument("--options", nargs="+", default=[], type=_option, metavar="KEY=VALUE")
            sub.add_argument("--allow-rewrite", action="store_true", help=_ALLOW_REWRITE)
        else:
            sub.add_argument(
                "--force", action="store_true",
                help="stamp even if the live schema does not match the model at REV (the request says so, in red)",
            )  # fmt: skip
        hidden = argparse.SUPPRESS
        sub.add_argument(
            "--yes", action="store_true", help=hidden if slack else "really do it (the terminal's approval)"
        )
        sub.add_argument("--wait", action="store_true", help=hidden if slack else "queue behind a running change")


def _booking_commands(command: Callable[..., _Parser]) -> None:
    sub = command("book", "book a test stand; announced at once, before it starts, at start and at end")
    sub.add_argument("environment", type=_name("a test stand", "bts"), metavar="TESTSTAND")
    sub.add_argument(
        "words", nargs="+", metavar="WHEN DURATION [TICKET] [NOTE...]",
        help=f"WHEN is {WHEN_FORMS}, on the test stand's clock; DURATION 90m, 2h, 1h30m or 1d",
    )  # fmt: skip
    sub.usage = f"{sub.prog} TESTSTAND WHEN DURATION [TICKET] [NOTE...]"

    sub = command("bookings", "current and coming test-stand bookings")
    sub.add_argument("environment", nargs="?", type=_ENV, metavar="ENV")

    sub = command("cancel", "cancel a booking (its booker or an approver)")
    sub.add_argument("booking", type=_booking_id, metavar="BOOKING")

    sub = command("extend", "make a booking longer (its booker or an approver)")
    sub.add_argument("booking", type=_booking_id, metavar="BOOKING")
    sub.add_argument("duration", type=duration_seconds, metavar="DURATION", help="90m, 2h, 1h30m or 1d")


def _generate_command(command: Callable[..., _Parser]) -> None:
    sub = command("generate", "new migration scripts for the schemas whose Felis model changed")
    sub.add_argument(
        "-m",
        "--message",
        required=True,
        type=_text("the message", MAX_TEXT),
        metavar="MESSAGE",
        help="the revisions' message",
    )
    sub.add_argument(
        "schemas", nargs="*", default=[], type=_SCHEMA, metavar="SCHEMA", help="default: every configured schema"
    )
    sub.add_argument(
        "--sdm-schemas",
        type=_text("the path", MAX_PATH),
        metavar="DIR",
        help="an sdm_schemas checkout (default: migrations.sdm_schemas)",
    )
    sub.add_argument(
        "--rename", action="append", default=[], type=_rename, metavar="TABLE.OLD:NEW",
        help="write this probable rename as a rename, keeping the data (repeatable)",
    )  # fmt: skip
    sub.add_argument(
        "--drop-and-add", action="store_true", help="the probable renames not confirmed really are a drop and an add"
    )


def _check_commands(command: Callable[..., _Parser]) -> None:
    checks = command("check", "checks after a migration: the data written, TAP").add_subparsers(
        dest="check", metavar="WHAT", parser_class=_Parser, required=True
    )
    sub = command(
        "data", "the newest exposures written, and which of the latest migration's new columns they fill",
        within=checks,
    )  # fmt: skip
    sub.add_argument("environment", type=_ENV, metavar="ENV")
    sub.add_argument("instrument", type=_name("an instrument", "latiss"), metavar="INSTRUMENT")
    sub.add_argument(
        "--since", type=duration_seconds, metavar="DURATION",
        help="the exposures observed in the last DURATION (default: since the latest migration)",
    )  # fmt: skip
    summary = "TAP_SCHEMA's columns against the Felis model at the migrated version"
    sub = command("tap", summary, within=checks)
    sub.description = f"{summary}: missing, extra and changed columns of each schema"
    sub.add_argument("environment", type=_ENV, metavar="ENV")
    sub.add_argument("schemas", nargs="*", default=[], type=_SCHEMA, metavar="SCHEMA", help="default: every one")


def _board_commands(command: Callable[..., _Parser]) -> None:
    sub = command("board", "the rollout board of a ticket: each step, its state, who, when, and what is next")
    sub.add_argument("key", type=_ticket, metavar="TICKET")
    sub = command("done", "tick a step of a ticket's rollout board that the bot cannot see (a merge, a tag, ...)")
    sub.add_argument("key", type=_ticket, metavar="TICKET")
    sub.add_argument(
        "step", type=_name("a step", "consdb-merge"), metavar="STEP",
        help="a step people tick; `board TICKET` names each",
    )  # fmt: skip


def _check(values: dict[str, Any]) -> Command:
    """``check WHAT ...``: each check its own command."""
    if values["check"] == "tap":
        return CheckTap(values["environment"], tuple(values["schemas"]))
    return CheckData(values["environment"], values["instrument"], values["since"])


def _book(values: dict[str, Any]) -> Book:
    """``WHEN DURATION [TICKET] [NOTE...]``: WHEN is ``now`` or two words, unless quoted as one."""
    words = list(values["words"])
    taken = 1 if words[0].lower() == "now" or " " in words[0] else 2
    when_text, rest = " ".join(words[:taken]), words[taken:]
    try:
        when = When.read(when_text)
    except WhenError as error:
        raise _Malformed(str(error)) from None
    if not rest:
        raise _Malformed(f"a DURATION must follow {echoed(when_text)}; write it as 90m, 2h, 1h30m or 1d")
    try:
        seconds = duration_seconds(rest[0])
        ticket = _ticket(rest[1]) if len(rest) > 1 and LOOKS_LIKE_TICKET.match(rest[1]) else None
    except argparse.ArgumentTypeError as error:
        raise _Malformed(str(error)) from None
    note = " ".join(rest[2 if ticket else 1 :])
    if len(note) > MAX_NOTE:
        raise _Malformed(f"the NOTE is {len(note)} characters long; keep it to {MAX_NOTE}")
    return Book(values["environment"], when, seconds, ticket, note)


class _Malformed(Exception):
    """Words a command's builder could not read; said with that command's usage and examples."""


def split_words(text: str) -> list[str]:
    """Words of a Slack command's text, with quotes as a shell reads them."""
    try:
        return shlex.split(text)
    except ValueError as error:
        raise UsageError(f"cannot read the command: {error}", usage="close every quote you open") from None


def _refuse_control_characters(grammar: _Grammar, words: Sequence[str]) -> None:
    """No word may carry a control character (a NUL, an escape, a line feed...) or a lone surrogate: none
    means anything in a command, and PostgreSQL refuses a NUL in text."""
    for word in words:
        if any(unicodedata.category(character) in ("Cc", "Cs") for character in word):
            named = next((word for word in words if word in grammar.commands), None)
            (grammar.commands[named] if named else grammar.parser).error(
                f"{echoed(word)} has a control character; type it again without one"
            )


def parse(words: Sequence[str], *, prog: str = "consdb-bot") -> Invocation:
    grammar = build_grammar(prog)
    parser = grammar.parser
    _refuse_control_characters(grammar, words)
    namespace = parser.parse_args(_command_in_lower_case(words, grammar.commands))
    values = vars(namespace)
    name = values.pop("command")
    config, as_json = values.pop("config", None), values.pop("json", False)
    if name is None:
        raise HelpRequested(parser.format_help())
    if name == "help":
        _help(parser, values["topic"])
    values["options"] = dict(option.split("=", 1) for option in values.pop("options", []))
    try:
        built = _BUILDERS[name](values)
    except _Malformed as error:
        grammar.commands[name].error(str(error))
    return Invocation(built, config, as_json)


def _command_in_lower_case(words: Sequence[str], commands: Iterable[str]) -> list[str]:
    """The words with the command's in lower case (``Status``, as a phone types it, is ``status``), as names
    are read in any case; the value of ``--config`` and other options left as typed."""
    words, after_config = list(words), False
    for index, word in enumerate(words):
        if after_config or word.startswith("-"):
            after_config = word == "--config"
            continue
        if word.lower() in commands:
            words[index] = word.lower()
        break
    return words


def _run_values(values: dict[str, Any]) -> dict[str, Any]:
    """What an upgrade and a downgrade take alike, after what they run."""
    return {key: values[key] for key in ("ticket", "options", "yes", "wait", "allow_rewrite")}


_BUILDERS: dict[str, Callable[[dict[str, Any]], Command]] = {
    "status": lambda v: Status(tuple(v["names"]), v["verbose"]),
    "history": lambda v: History(v["schema"], v["verbose"]),
    "plan": lambda v: Plan(v["environment"], tuple(v["schemas"]), v["to"], v["sql"], v["options"]),
    "drift": lambda v: Drift(v["environment"], tuple(v["schemas"])),
    "audit": lambda v: Audit(v["environment"], v["limit"]),
    "logs": lambda v: Logs(v["instrument"], v["environment"], v["since"], v["lines"], v["grep"]),
    "replica": lambda v: ReplicaTables(v["environment"]),
    "serve": lambda v: Serve(v["socket_mode"], v["port"], v["stop_seconds"]),
    "sandbox": lambda v: Sandbox(v["port"], v["folder"]),
    "init": lambda v: Init(v["force"]),
    "restart": lambda v: Restart(v["environment"], v["ticket"], v["yes"]),
    "upgrade": lambda v: Upgrade(v["environment"], tuple(v["schemas"]), v["to"], **_run_values(v)),
    "downgrade": lambda v: Downgrade(v["environment"], v["schema"], v["revision"], **_run_values(v)),
    "stamp": lambda v: Stamp(
        v["environment"], v["schema"], v["revision"], v["ticket"], v["yes"], v["wait"], v["force"]
    ),
    "prepare": lambda v: Prepare(v["environment"], tuple(v["schemas"]), v["ticket"], v["yes"]),
    "rollout": lambda v: Rollout(tuple(v["schemas"]), v["ticket"], v["to"], v["yes"], v["allow_rewrite"]),
    "book": _book,
    "bookings": lambda v: Bookings(v["environment"]),
    "cancel": lambda v: Cancel(v["booking"]),
    "extend": lambda v: Extend(v["booking"], v["duration"]),
    "ticket": lambda v: Ticket(v["key"]),
    "generate": lambda v: Generate(
        v["message"], tuple(v["schemas"]), v["sdm_schemas"], tuple(v["rename"]), v["drop_and_add"]
    ),
    "check": _check,
    "board": lambda v: Board(v["key"]),
    "done": lambda v: Done(v["key"], v["step"].lower()),
}
_BUILDERS["migrate"] = _BUILDERS["upgrade"]


def _help(parser: _Parser, topic: str | None) -> NoReturn:
    """Raise the help of the whole language, or of one command."""
    if topic is None:
        raise HelpRequested(parser.format_help())
    try:
        parser.parse_args([topic, "--help"])
    except UsageError:
        commands = build_grammar(parser.prog).commands
        raise UsageError(unknown_command(topic, list(commands), prog=parser.prog),
                         usage=parser.format_usage().strip()) from None  # fmt: skip
    raise HelpRequested(parser.format_help())
