"""The terminal samples in the documentation: found, compared with what the bot printed, rewritten.

A sample is a fenced ``text`` block right after a ``<!-- sample ... -->`` comment. Its first line is
``$ .venv/bin/consdb-bot ARGS``; the lines after it are what that command prints (stdout and stderr
in the order written, as a terminal shows them). A last line ``...`` means the sample shows only the
output's first lines. Pages say what readers will see; a sample kept by hand drifted from the bot.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

PROMPT = "$ .venv/bin/consdb-bot "
MORE = "..."
_SAMPLE = re.compile(r"^( *)<!-- sample.*?-->\n\1```text\n(.*?)\n\1```$", re.MULTILINE | re.DOTALL)
_RULE = re.compile(r"^[- ]*-[- ]*$")
_DURATION = re.compile(r"\b(in) \d+(?:\.\d+)? s\b")


@dataclass(frozen=True)
class Sample:
    """One sample block of a page: where its lines are, the command, and the output it shows."""

    start: int
    end: int
    indent: str
    args: tuple[str, ...]
    shown: tuple[str, ...]
    cut: bool

    @property
    def command(self) -> str:
        return PROMPT + shlex.join(self.args)

    def expected(self, printed: str) -> list[str]:
        """The lines of ``printed`` this sample shows: all of them, or as many as it shows before ``...``."""
        lines = [line.rstrip() for line in printed.rstrip("\n").splitlines()]
        return lines[: len(self.shown)] if self.cut else lines

    def block(self, printed: str) -> str:
        """The sample's text, rewritten to show ``printed``."""
        lines = [self.command, *self.expected(printed), *([MORE] if self.cut else [])]
        return "\n".join(f"{self.indent}{line}" if line else "" for line in lines)


def samples(text: str) -> list[Sample]:
    """The page's samples, in the page's order."""
    found = []
    for match in _SAMPLE.finditer(text):
        indent = match.group(1)
        lines = [line.removeprefix(indent).rstrip() for line in match.group(2).split("\n")]
        if not lines[0].startswith(PROMPT):
            raise ValueError(f"a sample starts with `{PROMPT}ARGS`, not {lines[0]!r}")
        cut = lines[-1] == MORE
        shown = lines[1:-1] if cut else lines[1:]
        args = tuple(shlex.split(lines[0][len(PROMPT) :]))
        found.append(Sample(match.start(2), match.end(2), indent, args, tuple(shown), cut))
    return found


def rewritten(text: str, printed: dict[Sample, str]) -> str:
    """The page with each sample showing what its command printed."""
    for sample in sorted(printed, key=lambda sample: sample.start, reverse=True):
        text = text[: sample.start] + sample.block(printed[sample]) + text[sample.end :]
    return text


def as_a_reader_sees_it(printed: str, repo: Path) -> str:
    """The output with the clone's own folder said as a reader's: ``/path/to/consdb-bot``."""
    return printed.replace(str(repo), "/path/to/consdb-bot")


def alike(lines: list[str] | tuple[str, ...]) -> list[str]:
    """The lines with what differs from run to run left out of the comparison: how long a run took, and
    how wide a table's rule is (as wide as its widest cell, which may name the clone's folder)."""
    return [re.sub(r"-+", "-", line) if _RULE.match(line) else _DURATION.sub(r"\1 N s", line) for line in lines]
