"""How the bot counts things in its sentences: one word for one, its plural for any other number."""

from __future__ import annotations

IRREGULAR = {"index": "indexes", "entry": "entries", "try": "tries", "person": "people"}
"""Plurals that are not the word with an ``s``."""


def plural(count: float, word: str) -> str:
    """``1 table``, ``2 tables``, ``0 tables``, ``1.5 minutes``: the count, then the word as it agrees.

    The last word of ``word`` is the one that agrees (``error or warning line``); a float is shown as
    ``:g`` shows it, an int as it is."""
    number = f"{count:g}" if isinstance(count, float) else str(count)
    if count == 1:
        return f"{number} {word}"
    head, _, last = word.rpartition(" ")
    many = IRREGULAR.get(last, f"{last}es" if last.endswith(("s", "x", "ch", "sh")) else f"{last}s")
    return f"{number} {head + ' ' if head else ''}{many}"
