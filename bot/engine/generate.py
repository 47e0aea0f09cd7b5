"""``generate``: new migration scripts for the schemas whose Felis model changed, cleaned up as a person would.

For each schema a scratch database is brought to the tree's head and compared with the Felis model
by Alembic's autogenerate; a schema with no difference gets no file. The operations are then
rewritten (:mod:`bot.engine.rewrite`): renames the operator confirmed, indexes and constraints
renamed in place, an order PostgreSQL can run, the downgrade the exact inverse. The ``visit1`` and
``ccdvisit1`` views are dropped and made again as upstream makes them (every column of ``exposure``
or ``ccdexposure`` in the model's order, the ids renamed, every row) exactly when those tables
change, or when the views stand otherwise. The file is formatted, and proven before it is kept: applied to the
scratch database (nothing may be left to do), undone (the database must be as before), and its SQL
linted.
"""

from __future__ import annotations

import re
import threading
import warnings
from argparse import Namespace
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import black
import yaml
from alembic.autogenerate import produce_migrations, render_python_code
from alembic.ddl.postgresql import CreateExcludeConstraintOp
from alembic.migration import MigrationContext
from alembic.operations import ops
from alembic.script import ScriptDirectory, write_hooks
from alembic.util import format_as_comma, rev_id, template_to_file
from black.mode import TargetVersion
from felis.datamodel import BaseObject, Schema
from felis.metadata import MetaDataBuilder
from sqlalchemy import MetaData, Result, UniqueConstraint, create_engine, inspect, pool, text
from sqlalchemy.exc import SAWarning
from sqlalchemy.types import NullType

from bot.engine import rewrite
from bot.engine.database import DatabaseUrl
from bot.engine.drift import scratch_database
from bot.engine.lint import LintWarning, lint_sql
from bot.engine.runner import ChildLimits, ChildRun, Job, model_directory, model_file, no_model, run_child
from bot.engine.tree import MigrationTree, SchemaTree
from bot.errors import OperationFailed, Refused
from bot.grammar import Rename
from migrations.cdb_views import VIEW_RULES, view_definition

# The project's formatting (ruff format's, as black writes it): a trailing comma after a starred argument too.
BLACK_MODE = black.Mode(line_length=120, target_versions={TargetVersion.PY311})
NO_VIEW_READERS = {"view_readers": ""}


@dataclass(frozen=True)
class GeneratedRevision:
    """One schema's outcome: a new revision file, or nothing to do (``path`` None)."""

    schema: str
    path: Path | None = None
    revision: str = ""
    down_revision: str = ""
    operations: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    warnings: list[LintWarning] = field(default_factory=list)
    text: str = ""
    note: str = ""
    """Why the schema could not be compared (it has no Felis model)."""


@dataclass
class _Pending:
    """A schema with differences, between comparing and writing."""

    tree: SchemaTree
    scratch: DatabaseUrl
    heads: tuple[str, ...]
    operations: list[ops.MigrateOperation]
    probable: list[rewrite.ProbableRename]


class Generator:
    def __init__(
        self, tree: MigrationTree, server: DatabaseUrl, limits: ChildLimits, sdm_schemas: str, stopping: threading.Event
    ) -> None:
        """``server`` is where scratch databases are made; ``sdm_schemas`` the model (``installed`` or a checkout);
        ``stopping`` stops its children when the bot stops for good."""
        self.tree = tree
        self.server = server
        self.limits = limits
        self.sdm_schemas = sdm_schemas
        self.stopping = stopping

    def generate(
        self, message: str, sections: Sequence[str], *, renames: Sequence[Rename] = (),
        drop_and_add: bool = False,
    ) -> list[GeneratedRevision]:  # fmt: skip
        """Compare every schema first, check the renames against what was found, then write and prove each file.

        The schemas share one scratch database, as they share a ConsDB database, and one child brings
        them all to their heads (Felis and Alembic load once)."""
        results: dict[str, GeneratedRevision] = {}
        with model_directory(self.sdm_schemas) as model_dir:
            for section in sections:
                model = model_file(model_dir, self.tree.schema(section).schema_name)
                if not model.is_file():
                    results[section] = GeneratedRevision(section, note=no_model(model))
            trees = [self.tree.schema(section) for section in sections if section not in results]
            if trees:
                self._compare_and_write(trees, model_dir, message, renames, drop_and_add, results)
        return [results[section] for section in sections]

    def _compare_and_write(
        self, trees: list[SchemaTree], model_dir: Path, message: str, renames: Sequence[Rename],
        drop_and_add: bool, results: dict[str, GeneratedRevision],
    ) -> None:  # fmt: skip
        with scratch_database(self.server, trees, connect_timeout=self.limits.connect_timeout_seconds) as scratch:
            at_head = [tree for tree in trees if tree.heads]
            jobs = [Job(tree.section, "upgrade", "heads") for tree in at_head]
            for tree, run in zip(at_head, self._run_jobs(jobs, scratch), strict=False):
                self._must(tree, run, "bring a scratch database to its head")
            pending: list[_Pending] = []
            for tree in trees:
                operations = compare(scratch, tree.schema_name, model_metadata(model_dir, tree.schema_name))
                if operations:
                    pending.append(
                        _Pending(tree, scratch, tree.heads, operations, rewrite.probable_renames(operations))
                    )
                else:
                    results[tree.section] = GeneratedRevision(tree.section)
            _check_renames(pending, renames, drop_and_add=drop_and_add)
            for found in pending:
                results[found.tree.section] = self._write(found, message, model_dir, renames)

    def _write(self, found: _Pending, message: str, model_dir: Path, renames: Sequence[Rename]) -> GeneratedRevision:
        tree, scratch = found.tree, found.scratch
        mine = [rename for rename in renames if rename in {probable.rename for probable in found.probable}]
        upgrade = rewrite.ordered(rewrite.rename_constraints(rewrite.apply_renames(found.operations, mine)))
        views = self._views(tree, scratch, model_dir, upgrade)
        down_revision = found.heads[0] if len(found.heads) == 1 else ""
        if views is not None and not _makes_views(tree):
            raise Refused(
                f"{tree.section}: the views {', '.join(views.names)} must be made again, and this tree has no"
                " cdb_views module to do it",
                hint="Write this revision by hand, or add the bundled tree's cdb_views.py beside its env.py.",
            )
        revision = rev_id()
        body = render_file(tree.schema_name, upgrade, views)
        path = write_revision_file(tree, revision, message, down_revision, body)
        try:
            warnings = self._prove(tree, scratch, found, revision, model_dir)
        except Exception:
            path.unlink()
            raise
        return GeneratedRevision(
            tree.section, path, revision, down_revision, [describe(op) for op in upgrade], [str(r) for r in mine],
            sorted(views.upgraded) if views else [], warnings, path.read_text(),
        )  # fmt: skip

    def _views(
        self, tree: SchemaTree, scratch: DatabaseUrl, model_dir: Path, upgrade: list[ops.MigrateOperation]
    ) -> _Views | None:
        """The views' old and new definitions, when their base tables change or the views stand otherwise.

        A view exists where the model has its table; it shows the base table's columns, compared as
        sets, since a column added later comes last in the table but in its place in the view."""
        model = model_view_columns(model_dir, tree.schema_name)
        live = live_view_columns(scratch, tree.schema_name)
        names = [name for name in VIEW_RULES if name in model or name in live]
        changed = rewrite.tables_changed(upgrade)

        def stands_otherwise(name: str) -> bool:
            rule = VIEW_RULES[name]
            expected = set(rule.view_columns(live.get(rule.base_table, []))) if name in model else set()
            return set(live.get(name, [])) != expected

        if not any(VIEW_RULES[name].base_table in changed or stands_otherwise(name) for name in names):
            return None
        upgraded = {
            name: view_definition(tree.schema_name, name, model[VIEW_RULES[name].base_table])
            for name in names
            if name in model and VIEW_RULES[name].base_table in model
        }
        downgraded = {
            name: view_definition(tree.schema_name, name, VIEW_RULES[name].base_columns(live[name]))
            for name in names
            if name in live
        }
        return _Views(names, upgraded, downgraded)

    def _prove(
        self, tree: SchemaTree, scratch: DatabaseUrl, found: _Pending, revision: str, model_dir: Path
    ) -> list[LintWarning]:
        """Up, nothing left; down, as before; and the lint of its SQL."""
        self._must(tree, self._run(tree, "upgrade", revision, scratch), "apply the new revision")
        left = compare(scratch, tree.schema_name, model_metadata(model_dir, tree.schema_name))
        if left:
            raise OperationFailed(
                f"{tree.section}: after the new revision the database still differs from the model: "
                + "; ".join(describe(op) for op in left),
                hint="This is a bug of the generator; the file was not kept. Write this one by hand.",
            )
        back = "heads" if len(found.heads) > 1 else (found.heads[0] if found.heads else "base")
        self._must(tree, self._run(tree, "downgrade", back, scratch), "undo the new revision")
        again = compare(scratch, tree.schema_name, model_metadata(model_dir, tree.schema_name))
        if [describe(op) for op in again] != [describe(op) for op in found.operations]:
            raise OperationFailed(
                f"{tree.section}: the new revision's downgrade does not undo its upgrade",
                hint="This is a bug of the generator; the file was not kept. Write this one by hand.",
            )
        sql = self._run(tree, "upgrade-sql", revision, scratch, start=back if found.heads else None)
        return lint_sql(sql.sql)

    def _run(
        self, tree: SchemaTree, operation: Any, target: str, url: DatabaseUrl, *, start: str | None = None
    ) -> ChildRun:
        return self._run_jobs([Job(tree.section, operation, target, start)], url)[0]

    def _run_jobs(self, jobs: list[Job], url: DatabaseUrl) -> list[ChildRun]:
        if not jobs:
            return []
        return run_child(
            ini_path=self.tree.ini_path, jobs=jobs, database=url, sdm_schemas=self.sdm_schemas,
            options=NO_VIEW_READERS, limits=self.limits, stopping=self.stopping,
        )  # fmt: skip

    @staticmethod
    def _must(tree: SchemaTree, run: ChildRun, what: str) -> None:
        if not (run.started and run.ok):
            raise OperationFailed(f"{tree.section}: could not {what}: {run.error or 'see the log'}")


@dataclass(frozen=True)
class _Views:
    names: list[str]
    upgraded: dict[str, str]
    downgraded: dict[str, str]


@dataclass(frozen=True)
class RenderedBody:
    preamble: str
    upgrade: str
    downgrade: str


def write_revision_file(tree: SchemaTree, revision: str, message: str, down_revision: str, body: RenderedBody) -> Path:
    """The file as the tree itself writes one: its name template, its script.py.mako, its post_write_hooks.

    Alembic's ``generate_revision`` would import every revision of the tree to find the heads, and a
    tree's revisions may import code only its own environment has (upstream's ``lsst.consdb``): the
    bot knows the heads already, so it renders the template and runs the hooks with Alembic's own
    pieces. A tree without hooks gets black, as the bundled tree wants.
    """
    config = tree.alembic_config(cmd_opts=Namespace(quiet=True))
    script = ScriptDirectory.from_config(config)
    create_date = script._generate_create_date()
    path = script._rev_path(tree.version_directories[0], revision, message, create_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    template_to_file(
        Path(script.dir, "script.py.mako"), path, script.output_encoding, config=config, up_revision=revision,
        down_revision=down_revision or None, branch_labels=None, depends_on=None, create_date=create_date,
        comma=format_as_comma, message=message, upgrades=body.upgrade, downgrades=body.downgrade,
        imports=body.preamble,
    )  # fmt: skip
    if script.hooks:
        write_hooks._run_hooks(path, script.hooks)
    else:
        path.write_text(black.format_str(path.read_text(), mode=BLACK_MODE))
    return path


def render_file(schema_name: str, upgrade: list[ops.MigrateOperation], views: _Views | None) -> RenderedBody:
    """The upgrade and downgrade bodies, and what goes above them (imports, the views' definitions)."""
    up = _code(upgrade)
    down = _code(rewrite.reversed_operations(upgrade))
    preamble = []
    dialects = sorted(name for name in ("mysql", "postgresql") if re.search(rf"\b{name}\.", up + down))
    if dialects:
        preamble.append(f"from sqlalchemy.dialects import {', '.join(dialects)}")
    if views is not None:
        preamble += [
            "from cdb_views import create_views, drop_views",
            "",
            f"VIEWS = {views.names!r}",
            f"UPGRADED_VIEWS = {_triple_quoted(views.upgraded)}",
            f"DOWNGRADED_VIEWS = {_triple_quoted(views.downgraded)}",
        ]
        up = _between_views(schema_name, up, "UPGRADED_VIEWS")
        down = _between_views(schema_name, down, "DOWNGRADED_VIEWS")
    return RenderedBody("\n".join(preamble) + ("\n" if preamble else ""), up, down)


def _between_views(schema_name: str, body: str, definitions: str) -> str:
    """The views dropped before the body runs, and made again from ``definitions`` after it."""
    return f"drop_views({schema_name!r}, VIEWS)\n    {body}\n    create_views({schema_name!r}, {definitions})"


def _code(operations: list[ops.MigrateOperation]) -> str:
    """Alembic's rendering of the operations, without its banner comments, as one indented body."""
    rendered = render_python_code(ops.UpgradeOps(ops=list(operations)))
    lines = [line.removeprefix("    ") for line in rendered.splitlines() if not line.strip().startswith("# ###")]
    return "\n    ".join(line for line in lines if line.strip() or line == "") or "pass"


def _triple_quoted(definitions: dict[str, str]) -> str:
    """The definitions as a dict literal, each statement as it reads in SQL."""
    return "{\n" + "".join(f"    {name!r}: {_sql_literal(sql)},\n" for name, sql in definitions.items()) + "}"


def _sql_literal(statement: str) -> str:
    """A statement as Python source: triple-quoted, to read as SQL, unless it holds what would end or escape that."""
    if '"""' in statement or "\\" in statement:
        return repr(statement)
    return f'"""{statement}\n"""'


def describe(op: ops.MigrateOperation) -> str:
    """One line for a person: what an operation does."""
    table = getattr(op, "table_name", None) or getattr(op, "source_table", "")
    match op:
        case ops.AddColumnOp():
            said = f"add column {table}.{op.column.name} {rewrite.type_text(op.column)}"
        case ops.DropColumnOp():
            said = f"drop column {table}.{op.column_name}"
        case rewrite.RenameColumnOp():
            said = f"rename column {table}.{op.old} to {op.new}"
        case rewrite.RenameConstraintOp():
            said = f"rename {'index' if op.index else 'constraint'} {op.old} to {op.new} on {table}"
        case ops.CreateIndexOp() | ops.DropIndexOp():
            said = f"{'create' if isinstance(op, ops.CreateIndexOp) else 'drop'} index {op.index_name} on {table}"
        case ops.DropConstraintOp():
            said = f"drop {op.constraint_type or 'constraint'} {op.constraint_name} on {table}"
        case (
            ops.CreatePrimaryKeyOp()
            | ops.CreateUniqueConstraintOp()
            | ops.CreateForeignKeyOp()
            | ops.CreateCheckConstraintOp()
            | CreateExcludeConstraintOp()
        ):
            said = f"add {op.constraint_type} {op.constraint_name} on {table}"
        case _:
            words = re.sub(r"(?<!^)([A-Z])", r" \1", type(op).__name__.removesuffix("Op")).lower()
            said = f"{words} {table}".strip()
    return said


def compare(url: DatabaseUrl, schema_name: str, metadata: MetaData) -> list[ops.MigrateOperation]:
    """What autogenerate finds between the database's schema and the model, plus foreign keys renamed."""
    engine = create_engine(url.sqlalchemy, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "include_schemas": True,
                    "include_name": lambda name, kind, _parents: kind != "schema" or name == schema_name,
                    "include_object": _include_object,
                    "compare_type": True,
                },
            )
            with warnings.catch_warnings():  # pg_sphere's types reflect as unknown: left alone, said nowhere
                warnings.filterwarnings("ignore", message="Did not recognize type", category=SAWarning)
                script = produce_migrations(context, metadata)
                found = rewrite.flatten(op for upgrade in script.upgrade_ops_list for op in upgrade.ops)
            return found + _name_changes(connection, schema_name, metadata, found)
    finally:
        engine.dispose()


def _makes_views(tree: SchemaTree) -> bool:
    return (tree.script_directory / "cdb_views.py").is_file()


def _include_object(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    """As the bundled env.py: the views are not tables, and a unique constraint on the primary key is the key.

    A live column of a type SQLAlchemy does not know that the model lacks is the tree's own addition,
    which Felis cannot describe (upstream's ``pgs_region``, of pg_sphere's ``spoly``): it is left alone.
    """
    if kind == "table":
        return name not in VIEW_RULES
    if kind == "column" and reflected and compare_to is None:
        return not isinstance(obj.type, NullType)
    if kind == "unique_constraint":
        return {column.name for column in obj.columns} != {column.name for column in obj.table.primary_key.columns}
    return True


_Names = dict[Hashable, str | None]
"""Names of foreign keys, unique constraints or indexes, by what they are on."""


def _name_changes(connection: Any, schema_name: str, metadata: MetaData, found: list[Any]) -> list[Any]:
    """Foreign keys, unique constraints and indexes the model names otherwise: autogenerate matches them by
    their columns and lets a new name pass, but the names are the model's."""
    inspector = inspect(connection)
    existing = set(inspector.get_table_names(schema=schema_name))
    mentioned = {name for op in found for name in _names_in(op)}
    renames: list[Any] = []
    for table in metadata.tables.values():
        if table.name not in existing:
            continue
        for live, model, index in _named_things(inspector, schema_name, table):
            for key, new in model.items():
                old = live.get(key)
                if old and new and old != new and not {old, new} & mentioned:
                    renames.append(rewrite.RenameConstraintOp(table.name, old, new, schema=schema_name, index=index))
    return renames


def _named_things(inspector: Any, schema_name: str, table: Any) -> list[tuple[_Names, _Names, bool]]:
    """(live names, model names, is an index) by signature, for foreign keys, unique constraints and indexes."""
    foreign: _Names = {
        (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"])): fk["name"]
        for fk in inspector.get_foreign_keys(table.name, schema=schema_name)
    }
    model_foreign: _Names = {
        (tuple(fk.column_keys), fk.elements[0].target_fullname.split(".")[-2],
         tuple(element.target_fullname.split(".")[-1] for element in fk.elements)): _name(fk.name)
        for fk in table.foreign_key_constraints
    }  # fmt: skip
    unique: _Names = {
        tuple(uc["column_names"]): uc["name"] for uc in inspector.get_unique_constraints(table.name, schema=schema_name)
    }
    model_unique: _Names = {
        tuple(c.name for c in constraint.columns): _name(constraint.name)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    }
    indexes: _Names = {
        (tuple(ix["column_names"]), bool(ix["unique"])): ix["name"]
        for ix in inspector.get_indexes(table.name, schema=schema_name)
        if not ix.get("duplicates_constraint")
    }
    model_indexes: _Names = {
        (tuple(c.name for c in ix.columns), bool(ix.unique)): _name(ix.name) for ix in table.indexes
    }
    return [(foreign, model_foreign, False), (unique, model_unique, False), (indexes, model_indexes, True)]


def _name(name: object) -> str | None:
    """A constraint's or index's name; SQLAlchemy's marker for one left unnamed is none."""
    return name if isinstance(name, str) else None


def _names_in(op: Any) -> set[str]:
    names = {getattr(op, attribute, None) for attribute in ("index_name", "constraint_name", "old", "new")}
    return {str(name) for name in names if name}


def model_schema(model_dir: Path, schema_name: str) -> Schema[BaseObject]:
    for candidate in (model_dir / "yml", model_dir / "python/lsst/sdm/schemas", model_dir):
        path = candidate / f"{schema_name}.yaml"
        if path.is_file():
            with path.open() as stream:
                return Schema.model_validate(yaml.safe_load(stream), context={"id_generation": True})
    raise Refused(f"{model_dir} holds no {schema_name}.yaml", hint="Point --sdm-schemas at an sdm_schemas checkout.")


def model_metadata(model_dir: Path, schema_name: str) -> MetaData:
    """The model's tables, less those the database serves as views."""
    metadata = MetaDataBuilder(model_schema(model_dir, schema_name)).build()
    for view_name in VIEW_RULES:
        table = metadata.tables.get(f"{schema_name}.{view_name}")
        if table is not None:
            metadata.remove(table)
    return metadata


def model_view_columns(model_dir: Path, schema_name: str) -> dict[str, list[str]]:
    """The columns of the views and of their base tables in the model, in its order."""
    wanted = {*VIEW_RULES, *(rule.base_table for rule in VIEW_RULES.values())}
    return {
        table.name: [column.name for column in table.columns]
        for table in model_schema(model_dir, schema_name).tables
        if table.name in wanted
    }


def live_view_columns(url: DatabaseUrl, schema_name: str) -> dict[str, list[str]]:
    """The same, as the database has them."""
    wanted = [*VIEW_RULES, *(rule.base_table for rule in VIEW_RULES.values())]
    engine = create_engine(url.sqlalchemy, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            rows: Result[str, str] = connection.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = :schema"
                    " AND table_name = ANY(:tables) ORDER BY table_name, ordinal_position"
                ),
                {"schema": schema_name, "tables": wanted},
            )
            found: dict[str, list[str]] = {}
            for table, column in rows:
                found.setdefault(table, []).append(column)
            return found
    finally:
        engine.dispose()


def _check_renames(pending: list[_Pending], renames: Sequence[Rename], *, drop_and_add: bool) -> None:
    """Every rename given matches a probable one, and no probable rename is left unsaid."""
    probable = [p for found in pending for p in found.probable]
    for rename in renames:
        if rename not in {p.rename for p in probable}:
            listed = ", ".join(str(p.rename) for p in probable) or "none"
            raise Refused(
                f"--rename {rename} matches no column dropped and added with the same type"
                f" (probable renames: {listed})",
                hint="Write it as TABLE.OLD:NEW, as the generator lists them.",
            )
    confirmed = {(r.table, r.old) for r in renames} | {(r.table, r.new) for r in renames}
    unsaid = [p for p in probable if (p.table, p.old) not in confirmed and (p.table, p.new) not in confirmed]
    if unsaid and not drop_and_add:
        raise Refused(
            "these look like renamed columns; as a drop and an add their data would be lost: "
            + "; ".join(f"{p.table}.{p.old} → {p.new} ({p.type})" for p in unsaid),
            hint="Confirm each rename (" + " ".join(p.option for p in unsaid) + "), or add --drop-and-add"
            " if they really are a column dropped and another added.",
        )
