"""Turning what a user typed (``head``, ``ab12``, ``+1``, ``-1``, ``latiss@head``, ``base``) into
explicit revisions, before anything runs: what is approved and shown is what runs.
"""

from __future__ import annotations

import re

from alembic.script.revision import RevisionError

from bot.engine.tree import SchemaTree
from bot.errors import Refused
from bot.words import plural

_RELATIVE = re.compile(r"^(?P<sign>[+-])(?P<steps>\d+)$")


def _unknown(tree: SchemaTree, spec: str, error: Exception) -> Refused:
    return Refused(
        f"{tree.section}: {error}" if "ultiple" in str(error) else f"{tree.section} has no revision {spec!r}",
        hint=f"Write a full or unambiguous revision id; `history {tree.section}` lists them.",
    )


def resolve_revision(tree: SchemaTree, spec: str) -> str:
    """A full revision id for a full or partial one."""
    try:
        revision = tree.graph.get_revision(spec)
    except RevisionError as error:
        raise _unknown(tree, spec, error) from None
    if revision is None:
        raise _unknown(tree, spec, ValueError(spec))
    return revision.revision


def _strip_schema(tree: SchemaTree, spec: str) -> str:
    if "@" not in spec:
        return spec
    schema, _, rest = spec.partition("@")
    if schema.lower() not in (tree.section, tree.schema_name):
        raise Refused(
            f"{spec!r} names schema {schema}, not {tree.section}",
            hint=f"Write {tree.section}@head, or leave the schema out.",
        )
    return rest


def upgrade_target(tree: SchemaTree, spec: str | None, current: tuple[str, ...]) -> tuple[str, ...]:
    """The revision(s) an upgrade ends at."""
    spec = _strip_schema(tree, spec or "head")
    if spec in ("head", "heads"):
        if len(tree.heads) > 1 and spec == "head":
            raise Refused(
                f"{tree.section} has {len(tree.heads)} heads ({', '.join(h[:12] for h in tree.heads)})",
                hint="Name the one to upgrade to with --to REV, or `heads` for all of them.",
            )
        return tree.heads
    if spec == "base":
        raise Refused("an upgrade cannot go to base", hint="Use `downgrade ENV SCHEMA base` to remove everything.")
    relative = _RELATIVE.match(spec)
    if relative:
        if relative["sign"] == "-":
            raise Refused(f"{spec} goes down, not up", hint=f"Use `downgrade ENV {tree.section} {spec}`.")
        return (_step_up(tree, current, int(relative["steps"])),)
    target = resolve_revision(tree, spec)
    if current and target not in current and not _is_above(tree, target, current):
        raise Refused(
            f"{target[:12]} is not above the current revision of {tree.section}",
            hint="Use `downgrade` to go back, or pick a revision from `history`.",
        )
    return (target,)


def stamp_target(tree: SchemaTree, spec: str | None) -> tuple[str, ...]:
    """The revision(s) a stamp records (none for ``base``)."""
    spec = _strip_schema(tree, spec or "head")
    if spec in ("head", "heads"):
        return tree.heads
    if spec == "base":
        return ()
    return (resolve_revision(tree, spec),)


def downgrade_target(tree: SchemaTree, spec: str, current: tuple[str, ...]) -> str:
    """The revision a downgrade ends at (``base`` for none)."""
    spec = _strip_schema(tree, spec)
    if not current:
        raise Refused(f"{tree.section} records no revision, so there is nothing to downgrade")
    if spec == "base":
        return "base"
    relative = _RELATIVE.match(spec)
    if relative:
        if relative["sign"] == "+":
            raise Refused(f"{spec} goes up, not down", hint=f"Use `upgrade ENV {tree.section} --to {spec}`.")
        return _step_down(tree, current, int(relative["steps"]))
    target = resolve_revision(tree, spec)
    if target in current or not _is_above(tree, current[0], (target,)):
        raise Refused(
            f"{target[:12]} is not below the current revision of {tree.section} ({', '.join(c[:12] for c in current)})",
            hint="A downgrade goes to an older revision; `history` shows the order.",
        )
    return target


def _is_above(tree: SchemaTree, revision: str, lower: tuple[str, ...]) -> bool:
    try:
        steps = list(tree.graph.iterate_revisions(revision, lower, inclusive=False))
    except RevisionError:
        return False
    return bool(steps)


def _step_up(tree: SchemaTree, current: tuple[str, ...], steps: int) -> str:
    position: tuple[str, ...] = current
    for _ in range(steps):
        following = sorted(
            {info.revision for info in tree.revisions.values() if set(info.down_revisions) & set(position)}
            if position
            else {info.revision for info in tree.revisions.values() if not info.down_revisions}
        )
        if not following:
            raise Refused(f"{tree.section} is fewer than {plural(steps, 'revision')} below head")
        if len(following) > 1:
            raise Refused(
                f"{tree.section} branches here ({', '.join(f[:12] for f in following)}), so +{steps} is ambiguous",
                hint="Name the revision to upgrade to with --to REV.",
            )
        position = (following[0],)
    return position[0]


def _step_down(tree: SchemaTree, current: tuple[str, ...], steps: int) -> str:
    if len(current) > 1:
        raise Refused(
            f"{tree.section} records {len(current)} revisions, so -{steps} is ambiguous",
            hint="Name the revision to downgrade to.",
        )
    position = current[0]
    for taken in range(steps):
        downs = tree.info(position).down_revisions
        if not downs:
            if taken + 1 == steps:
                return "base"
            raise Refused(
                f"-{steps} would go below base: {tree.section} is only {plural(taken + 1, 'revision')} above it",
                hint=f"Use `downgrade ENV {tree.section} base` to remove every revision.",
            )
        if len(downs) > 1:
            raise Refused(
                f"{position[:12]} merges {len(downs)} branches, so -{steps} is ambiguous",
                hint="Name the revision.",
            )
        position = downs[0]
    return position
