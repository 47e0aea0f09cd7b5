"""The options a tree reads, and the check of what is asked for against them, before anything runs.

Options reach migration scripts as Alembic ``-x NAME=VALUE`` arguments, and scripts put them into SQL
(the bundled tree grants SELECT on its views to the roles in ``view_readers``). So a tree gets only
the options it reads, each with a value of a shape that cannot carry SQL, and a request asking for
anything else is refused before it is posted.

A tree declares its options in its ini (in a section, or in ``[DEFAULT]`` for all of them):
``consdb.options`` lists those it reads, and ``consdb.name_options`` those whose value is a
comma-separated list of PostgreSQL names (roles, schemas), each of which must then be a plain
lower-case name. An option a tree's text reads by name counts as declared too:
``context.get_x_argument(as_dictionary=True).get("NAME")`` or ``[...]["NAME"]`` (directly, or
through a variable assigned from it) in env.py, the modules beside it and the revision files, read
as text and never imported, as :mod:`bot.engine.prepare` reads what a tree needs. lsst-dm/consdb's
tree reads none, so it is given none. Any other value holds only :data:`OPTION_VALUE_RULE`.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import (
    OPTION_NAME,
    OPTION_VALUE,
    OPTION_VALUE_RULE,
    POSTGRES_NAME,
    POSTGRES_NAME_RULE,
    Environment,
)
from bot.engine.tree import SchemaTree
from bot.errors import ConfigError, UsageError, did_you_mean

NAME_LIST_EXAMPLE = "usdf,oods"


@dataclass(frozen=True)
class Declared:
    """The options a tree reads, and which of them take PostgreSQL names."""

    read: frozenset[str] = frozenset()
    name_lists: frozenset[str] = frozenset()

    def __or__(self, other: Declared) -> Declared:
        return Declared(self.read | other.read, self.name_lists | other.name_lists)

    def form(self, name: str) -> str:
        """How the option is written, for a usage line."""
        return f"{name}=NAME[,NAME...]" if name in self.name_lists else f"{name}=VALUE"

    def example(self, name: str) -> str:
        return f"{name}={NAME_LIST_EXAMPLE}" if name in self.name_lists else f"{name}=VALUE"


@functools.lru_cache(maxsize=256)
def declared_options(tree: SchemaTree) -> Declared:
    """What one section reads: read once per tree object (a re-read tree is a new object)."""
    name_lists = _ini_names(tree, "consdb.name_options")
    read = set(_ini_names(tree, "consdb.options")) | set(name_lists)
    for path in _scripts(tree):
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:  # gone in a `git pull` since the tree was read: the next command reads it anew
            continue
        if "get_x_argument" in text:
            read |= read_by_name(text)
    return Declared(frozenset(name for name in read if OPTION_NAME.fullmatch(name)), frozenset(name_lists))


def declared_by(trees: Iterable[SchemaTree]) -> Declared:
    """What any of the given sections reads: an option one of them reads is given to all, and the
    others ignore it."""
    return functools.reduce(Declared.__or__, (declared_options(tree) for tree in trees), Declared())


def check_options(trees: Sequence[SchemaTree], options: Mapping[str, str]) -> None:
    """Refuse options that none of these sections reads, or whose value has the wrong shape."""
    declared = declared_by(trees)
    sections = ", ".join(tree.section for tree in trees) or "these schemas"
    for name, value in options.items():
        if name not in declared.read:
            raise _unknown(name, declared, sections)
        problem = value_problem(name, value, declared)
        if problem:
            raise UsageError(problem, usage=f"--options {declared.form(name)}", hint=_example_hint(name, declared))


def check_configured(env: Environment, trees: Sequence[SchemaTree]) -> None:
    """Refuse an environment's ``migration_options`` that no section of the tree reads, or whose value
    has the wrong shape: the configuration is wrong, whatever is asked."""
    declared = declared_by(trees)
    for name, value in env.migration_options.items():
        key = f"environments.{env.key}.migration_options.{name}"
        if name not in declared.read:
            known = ", ".join(sorted(declared.read)) or "none"
            raise ConfigError(
                f"{key}: the migration tree reads no option {name} (it reads: {known})",
                hint="Remove it from the configuration, or declare it in the tree's ini (consdb.options).",
            )
        problem = value_problem(name, value, declared)
        if problem:
            raise ConfigError(f"{key}: {problem}", hint=_example_hint(name, declared))


def value_problem(name: str, value: str, declared: Declared) -> str | None:
    """What is wrong with an option's value, or None."""
    if name in declared.name_lists:
        bad = next((part for part in value.split(",") if part and not POSTGRES_NAME.fullmatch(part)), None)
        if bad is not None:
            return f"{name} takes PostgreSQL names separated by commas, and {_shown(bad)} is not one"
    if not OPTION_VALUE.fullmatch(value):
        return f"the value of {name} may hold only {OPTION_VALUE_RULE}"
    return None


def read_by_name(text: str) -> set[str]:
    """The option names a script reads from ``get_x_argument(as_dictionary=True)`` by a literal key."""
    try:
        module = ast.parse(text)
    except SyntaxError:
        return set()
    holders = {
        target.id
        for node in ast.walk(module)
        if isinstance(node, ast.Assign) and _is_x_arguments(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def arguments(node: ast.expr) -> bool:
        return _is_x_arguments(node) or (isinstance(node, ast.Name) and node.id in holders)

    found: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            if arguments(node.func.value) and node.args:
                found |= _literal(node.args[0])
        elif isinstance(node, ast.Subscript) and arguments(node.value):
            found |= _literal(node.slice)
    return found


def _is_x_arguments(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    function = node.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
    return name == "get_x_argument"


def _literal(node: ast.expr) -> set[str]:
    return {node.value} if isinstance(node, ast.Constant) and isinstance(node.value, str) else set()


def _scripts(tree: SchemaTree) -> Iterator[Path]:
    """env.py, the modules beside it (the bundled ``cdb_views.py``), and the revision files."""
    yield tree.env_script
    yield from sorted(path for path in tree.env_script.parent.glob("*.py") if path.name != tree.env_script.name)
    yield from (info.path for info in tree.revisions.values())


def _ini_names(tree: SchemaTree, key: str) -> list[str]:
    return [name.strip() for name in (tree.config.get_main_option(key) or "").split(",") if name.strip()]


def _unknown(name: str, declared: Declared, sections: str) -> UsageError:
    known = sorted(declared.read)
    if not known:
        return UsageError(
            f"the migrations of {sections} read no option {name}: they take no --options",
            usage="(no --options)",
            hint="Leave --options out.",
        )
    return UsageError(
        f"the migrations of {sections} read no option {name}{did_you_mean(name, known)}; they read {', '.join(known)}",
        usage="--options " + " ".join(declared.form(option) for option in known),
        hint=_example_hint(known[0], declared),
    )


def _example_hint(name: str, declared: Declared) -> str:
    rule = f" A name is {POSTGRES_NAME_RULE}." if name in declared.name_lists else ""
    return f"For example: --options {declared.example(name)}.{rule}"


def _shown(text: str) -> str:
    """A value someone typed, quoted and cut short: enough to recognise, never a wall of it."""
    return repr(text if len(text) <= 40 else text[:40] + "…")
