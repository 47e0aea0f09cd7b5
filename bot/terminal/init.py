"""``consdb-bot init``: a starting configuration, written where the bot will look for it.

The text is the example the package ships (``bot/consdb-bot.example.yaml``, which deploy/ holds too), so a
wheel install has it. An existing file is kept unless ``--force``: it is someone's configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bot.config import referenced_variables
from bot.errors import Refused
from bot.render.terminal import TerminalAnswer

EXAMPLE = "consdb-bot.example.yaml"
SECRETS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "JIRA_TOKEN")
"""What ``serve`` reads from the environment besides the file (and SLACK_APP_TOKEN for Socket Mode)."""


@dataclass(frozen=True)
class Written:
    """What ``init`` wrote, and the variables the file reads: those it needs, and those with a default."""

    path: Path
    replaced: bool
    needed: list[str]
    defaulted: list[str]


def example_text() -> str:
    return resources.files("bot").joinpath(EXAMPLE).read_text()


def write_starting_config(path: Path, *, force: bool) -> Written:
    """Write the example at ``path``; refused if a file is there, unless ``force``."""
    text = example_text()
    existed = path.exists()
    try:
        with path.open("w" if force else "x") as file:
            file.write(text)
    except FileExistsError:
        raise Refused(
            f"{path} exists, so nothing was written",
            hint="Keep it; or replace it, adding --force; or write another file, with --config FILE.",
        ) from None
    except OSError as error:
        raise Refused(
            f"cannot write {path}: {error.strerror}", hint="Name a file in a folder you may write to: --config FILE."
        ) from None
    references = referenced_variables(text)
    needed = list(dict.fromkeys(name for name, defaulted in references if not defaulted))
    defaulted = list(dict.fromkeys(name for name, has_default in references if has_default))
    return Written(path, existed, needed, defaulted)


def written_answer(written: Written, *, config: str | None) -> TerminalAnswer:
    """What was written and the next steps: the variables to set, what to edit, how to check it."""
    again = f" --config {config}" if config else ""
    lines = [
        f"{'replaced' if written.replaced else 'wrote'} {written.path}: a starting configuration"
        " (Rubin's environments, the bundled migration tree)",
        "next:",
        "  1. set the variables it reads, in the environment (never in the file):",
        f"     {', '.join(written.needed)}",
        f"     (these have defaults: {', '.join(written.defaulted)})",
        "     a command needs only those of the environments it touches: `status bts` needs BTS_DATABASE_URL",
        "  2. make the Slack channels and approvers (C0CONSDB01, U0APPROVE1, ...) yours;"
        " every key is described by `python -m bot.config_reference` (docs/configuration.md in a clone)",
        f"  3. check it: consdb-bot status{again}",
        f"  to run the bot (`consdb-bot serve{again}`), also: {', '.join(SECRETS)}"
        " (and for Socket Mode SLACK_APP_TOKEN)",
    ]
    value = {
        "wrote": str(written.path),
        "replaced": written.replaced,
        "variables": written.needed,
        "variables_with_defaults": written.defaulted,
        "serve_variables": [*SECRETS, "SLACK_APP_TOKEN"],
        "next": f"consdb-bot status{again}",
    }
    return TerminalAnswer("\n".join(lines), value)
