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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from bot.errors import UsageError

TICKET = re.compile(r"^[A-Z][A-Z0-9]+-[0-9]+$")
OPTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*=.*$")


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
class Serve:
    socket_mode: bool = False
    port: int = 8080


@dataclass(frozen=True)
class Upgrade:
    environment: str
    schemas: tuple[str, ...] = ()
    to: str | None = None
    ticket: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    yes: bool = False
    wait: bool = False


@dataclass(frozen=True)
class Downgrade:
    environment: str
    schema: str
    revision: str
    ticket: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    yes: bool = False
    wait: bool = False


@dataclass(frozen=True)
class Stamp:
    environment: str
    schema: str
    revision: str
    yes: bool = False
    wait: bool = False


Command = Status | History | Plan | Drift | Audit | Upgrade | Downgrade | Stamp | Serve


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
    "serve": ["serve --socket-mode", "serve --port 8080"],
    "upgrade": ["upgrade bts --yes", "upgrade summit latiss --to 05689cf3f8f0 --ticket OSW-123 --yes"],
    "downgrade": ["downgrade bts latiss -1 --yes", "downgrade bts latiss 8ebb60eda79d --yes"],
    "stamp": ["stamp bts latiss head --yes", "stamp summit lsstcam 05689cf3f8f0 --yes"],
    "help": ["help", "help upgrade"],
}


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing and exiting, so Slack can use it too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", usage=self.format_usage().strip(), hint=self._examples())

    def print_help(self, file: object = None) -> NoReturn:
        raise HelpRequested(self.format_help())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or self.prog, usage=self.format_usage().strip())

    def _examples(self) -> str | None:
        *base, command = self.prog.split()
        examples = examples_of(command, prog=" ".join(base))
        return "For example: " + "   ".join(examples) if examples else None


def _ticket(text: str) -> str:
    if not TICKET.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a Jira key; write it as DM-12345 or OSW-123")
    return text


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _option(text: str) -> str:
    if not OPTION.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE; write it as view_readers=usdf,oods")
    return text


def in_slack(prog: str) -> bool:
    return prog.startswith("/")


def examples_of(command: str, *, prog: str) -> list[str]:
    """The examples of a command as typed where it is typed: Slack says ``migrate`` and has no --yes."""
    examples = _EXAMPLES.get("upgrade" if command == "migrate" else command, [])
    if in_slack(prog):
        examples = [example.replace("upgrade ", "migrate ", 1).replace(" --yes", "") for example in examples]
    return [f"{prog} {example}" for example in examples]


@functools.cache
def build_parser(prog: str) -> _Parser:
    """The parser of the terminal (``consdb-bot``) or of Slack (``/consdb``): one language, two dialects.

    Slack has no --config, --json or serve, says ``migrate`` first, and hides --yes and --wait
    (approval there is a reaction; the handler says so to whoever types them).
    """
    slack = in_slack(prog)
    parser = _Parser(prog=prog, description="Where ConsDB schemas stand in each environment, and moving them.")
    terminal = _Parser(add_help=False)
    for owner in () if slack else (parser, terminal):
        owner.add_argument("--config", default=argparse.SUPPRESS, help="configuration file (or CONSDB_BOT_CONFIG)")
        owner.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="answer in JSON")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, summary: str, *, aliases: Sequence[str] = ()) -> _Parser:
        sub = commands.add_parser(
            name,
            aliases=list(aliases),
            help=summary,
            description=summary,
            parents=[terminal],
            epilog="examples:\n" + "\n".join(f"  {example}" for example in examples_of(name, prog=prog)),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        return sub

    sub = command("help", "usage, with examples")
    sub.add_argument("topic", nargs="?", metavar="COMMAND")

    sub = command("status", "current revision of each schema per environment, head or how far behind")
    sub.add_argument(
        "names", nargs="*", default=[], metavar="[ENV] [SCHEMA]", help="an environment, then schemas (default: all)"
    )
    sub.add_argument("-v", "--verbose", action="store_true", help="add revision messages and script paths")

    sub = command("history", "revisions newest first, and the environments at each")
    sub.add_argument("schema", metavar="SCHEMA")
    sub.add_argument("-v", "--verbose", action="store_true", help="add script paths")

    sub = command("plan", "what an upgrade would apply: revisions, lint warnings, and the SQL")
    sub.add_argument("environment", metavar="ENV")
    sub.add_argument("schemas", nargs="*", default=[], metavar="SCHEMA")
    sub.add_argument("--to", metavar="REV", help="target revision (default: head)")
    sub.add_argument("--sql", action="store_true", help="show the SQL itself (offline mode)")
    sub.add_argument("--options", nargs="+", default=[], type=_option, metavar="KEY=VALUE")

    sub = command("drift", "differences between the live database and the model at its recorded revision")
    sub.add_argument("environment", metavar="ENV")
    sub.add_argument("schemas", nargs="*", default=[], metavar="SCHEMA")

    sub = command("audit", "who asked what, who approved, what ran, how it ended")
    sub.add_argument("environment", nargs="?", metavar="ENV")
    sub.add_argument("--limit", type=_positive, default=20, metavar="N", help="how many records (default 20)")

    if not slack:
        sub = command("serve", "run the bot (HTTP on /slack/events, /healthz, /metrics; or Socket Mode)")
        sub.add_argument("--socket-mode", action="store_true", help="connect to Slack over Socket Mode")
        sub.add_argument("--port", type=_positive, default=8080, metavar="N", help="HTTP port (default 8080)")

    upgrade, alias = ("migrate", "upgrade") if slack else ("upgrade", "migrate")
    for name, summary, aliases in (
        (upgrade, "upgrade, one transaction per schema", [alias]),
        ("downgrade", "downgrade one schema to REV", []),
        ("stamp", "record REV without running migrations", []),
    ):
        sub = command(name, summary, aliases=aliases)
        sub.add_argument("environment", metavar="ENV")
        if name == upgrade:
            sub.add_argument("schemas", nargs="*", default=[], metavar="SCHEMA")
            sub.add_argument("--to", metavar="REV", help="target revision (default: head)")
        else:
            sub.add_argument("schema", metavar="SCHEMA")
            sub.add_argument("revision", metavar="REV")
        if name != "stamp":
            sub.add_argument("--ticket", type=_ticket, metavar="TICKET")
            sub.add_argument("--options", nargs="+", default=[], type=_option, metavar="KEY=VALUE")
        hidden = argparse.SUPPRESS
        sub.add_argument(
            "--yes", action="store_true", help=hidden if slack else "really do it (the terminal's approval)"
        )
        sub.add_argument("--wait", action="store_true", help=hidden if slack else "queue behind a running change")
    return parser


def split_words(text: str) -> list[str]:
    """Words of a Slack command's text, with quotes as a shell reads them."""
    try:
        return shlex.split(text)
    except ValueError as error:
        raise UsageError(f"cannot read the command: {error}", usage="close every quote you open") from None


def parse(words: Sequence[str], *, prog: str = "consdb-bot") -> Invocation:
    parser = build_parser(prog)
    namespace = parser.parse_args(list(words))
    values = vars(namespace)
    name = values.pop("command")
    config, as_json = values.pop("config", None), values.pop("json", False)
    if name is None:
        raise HelpRequested(parser.format_help())
    if name == "help":
        _help(parser, values["topic"])
    options = dict(option.split("=", 1) for option in values.pop("options", []))
    built: Command
    match name:
        case "status":
            built = Status(tuple(values["names"]), values["verbose"])
        case "history":
            built = History(values["schema"], values["verbose"])
        case "plan":
            built = Plan(values["environment"], tuple(values["schemas"]), values["to"], values["sql"], options)
        case "drift":
            built = Drift(values["environment"], tuple(values["schemas"]))
        case "audit":
            built = Audit(values["environment"], values["limit"])
        case "serve":
            built = Serve(values["socket_mode"], values["port"])
        case "upgrade" | "migrate":
            built = Upgrade(
                values["environment"], tuple(values["schemas"]), values["to"], values["ticket"], options,
                values["yes"], values["wait"],
            )  # fmt: skip
        case "downgrade":
            built = Downgrade(
                values["environment"], values["schema"], values["revision"], values["ticket"], options,
                values["yes"], values["wait"],
            )  # fmt: skip
        case _:
            built = Stamp(values["environment"], values["schema"], values["revision"], values["yes"], values["wait"])
    return Invocation(built, config, as_json)


def _help(parser: _Parser, topic: str | None) -> NoReturn:
    """Raise the help of the whole language, or of one command."""
    if topic is None:
        raise HelpRequested(parser.format_help())
    try:
        parser.parse_args([topic, "--help"])
    except UsageError:
        raise UsageError(f"no command {topic!r}", usage=parser.format_usage().strip()) from None
    raise HelpRequested(parser.format_help())
