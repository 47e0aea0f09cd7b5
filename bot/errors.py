"""Domain errors. Each says what went wrong and what to do about it, in words fit for a user.

Slack and the terminal render the same error the same way: ``message``, then ``hint``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

ECHOED = 40
"""How much of a bad value an error repeats."""


def echoed(text: str) -> str:
    """A value as an error repeats it: quoted, control characters visible, no longer than ECHOED."""
    return repr(text if len(text) <= ECHOED else text[: ECHOED - 1] + "…")


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known name nearest a mistyped one (``bst`` -> ``bts``), in any case, or None if none is near."""
    by_lower = {name.lower(): name for name in known}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return by_lower[found[0]] if found else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """What an error about an unknown name adds: `` (did you mean bts?)``, or nothing if no name is near.
    Every unknown name (environment, schema, command, option, step) is answered through this one."""
    near = closest(word, known)
    return f" (did you mean {near}?)" if near else ""


class ConsdbBotError(Exception):
    """Base of every error a user may see."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class UsageError(ConsdbBotError):
    """The command line is wrong; ``usage`` shows the right form."""

    exit_code = 2

    def __init__(self, message: str, *, usage: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.usage = usage

    def __str__(self) -> str:
        text = f"{self.message}\n{self.usage}"
        return f"{text}\n{self.hint}" if self.hint else text


class ConfigError(ConsdbBotError):
    """The configuration file is wrong, or lacks a value a command needs."""

    exit_code = 2

    def __init__(self, message: str, *, problems: list[str] | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []

    def __str__(self) -> str:
        lines = [self.message, *(f"  - {problem}" for problem in self.problems)]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


class Refused(ConsdbBotError):
    """The bot will not do this as asked; the hint says what would make it possible."""


class NoModel(Refused):
    """A schema has no Felis model where env.py reads it, so nothing that runs env.py works for it."""


class DatabaseUnreachable(Refused):
    """A database could not be reached; the message never carries its password."""


class PortInUse(Refused):
    """Another program listens on the port given: said in one line, with a port to try instead when one is
    known to be free."""

    def __init__(self, port: int, *, free: int | None = None) -> None:
        instead = f"try --port {free}" if free is not None else "try another --port"
        super().__init__(f"port {port} is in use; {instead}")


class OperationFailed(ConsdbBotError):
    """The operation ran and failed; the database was left as the message says."""


class TryAgainLater(ConsdbBotError):
    """Something the bot needs to decide did not answer: nothing was recorded, and the same thing may
    be tried again once it is back (Slack delivers an event again when told so)."""


class StateUnavailable(TryAgainLater):
    """The bot's own state database did not answer."""


class ApproversUnknown(TryAgainLater):
    """Slack did not say who is in an environment's approving user group, so nobody outside its
    listed approvers can be counted as an approver (or as not one) now."""
