"""The engine's operations, as the terminal and Slack call them: plain arguments in, results out.

Every change resolves its targets to explicit revisions first, takes the schema locks, re-reads
the version tables under them, and only then starts a child per schema, one transaction each.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import psycopg

from bot.config import Environment, Settings, require
from bot.engine.columns import Columns, table_columns
from bot.engine.database import DatabaseUrl, RecordedVersion, connect, read_versions, schema_locks
from bot.engine.lint import LintWarning, lint_sql
from bot.engine.locks import LOCK_NOT_AVAILABLE, LockNews, LockRetry, gave_up_text, retry_text, told, waiting_text
from bot.engine.online import opts_out, phased_sql
from bot.engine.options import check_configured, check_options
from bot.engine.prepare import Needs, PrepareResult, lacking, prepare_database, tree_needs
from bot.engine.progress import RevisionFollower, added_columns
from bot.engine.runner import ChildLimits, ChildRun, Job, LockCallback, Operation, end_sessions, run_child
from bot.engine.status import SchemaStatus, State, classify, database_url, status_of, version_tables
from bot.engine.targets import downgrade_target, stamp_target, upgrade_target
from bot.engine.tree import MigrationTree, RevisionInfo, SchemaTree, revisions_text, short
from bot.errors import ConfigError, ConsdbBotError, NoModel, OperationFailed, Refused
from bot.words import plural

if TYPE_CHECKING:
    from bot.engine.drift import SchemaDrift
    from bot.engine.generate import GeneratedRevision
    from bot.grammar import Rename


class Direction(StrEnum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    STAMP = "stamp"


@dataclass(frozen=True)
class SchemaPlan:
    """What a change would do to one schema: the range, the revisions, their SQL and its risks."""

    environment: str
    schema: str
    direction: Direction
    current: tuple[str, ...]
    target: tuple[str, ...]
    revisions: list[RevisionInfo]
    sql: str = ""
    warnings: list[LintWarning] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """The files of the schema's version directories the plan was made from, each with its SHA-256."""
    note: str = ""
    """Why this plan has no SQL although it has revisions (the schema has no Felis model)."""

    @property
    def sql_digest(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def binding(self) -> dict[str, object]:
        """What an approval is bound to: the range, the tree's files and, when the plan has SQL (an
        approval given later, in Slack, is given to it), the exact SQL by digest."""
        bound: dict[str, object] = {"from": list(self.current), "to": list(self.target), "files": self.files}
        return bound | ({"digest": self.sql_digest} if self.sql else {})

    @property
    def range_text(self) -> str:
        start = revisions_text(self.current)
        end = revisions_text(self.target)
        return f"{start} → {end}"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNCHANGED = "unchanged"
    NOT_RUN = "not-run"
    NO_MODEL = "no-model"


@dataclass(frozen=True)
class SchemaOutcome:
    schema: str
    outcome: Outcome
    plan: SchemaPlan
    recorded_after: tuple[str, ...] = ()
    applied: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)

    @property
    def added_columns(self) -> dict[str, list[str]]:
        """The columns this run added, by table, from what it executed."""
        return added_columns(self.executed) if self.outcome is Outcome.SUCCEEDED else {}

    error: str | None = None
    failed_step: str | None = None
    log_tail: list[str] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""
    """What the run and the version table disagree on, said by the version table (which is believed)."""
    unfinished: str = ""
    """What an online run committed and left undone (the version table waits for it), and how to finish it."""


@dataclass(frozen=True)
class ChangeResult:
    environment: str
    direction: Direction
    outcomes: list[SchemaOutcome]

    @property
    def ok(self) -> bool:
        return all(outcome.outcome in (Outcome.SUCCEEDED, Outcome.UNCHANGED) for outcome in self.outcomes)


@dataclass(frozen=True)
class Progress:
    """One line of news while a change runs."""

    schema: str
    text: str


@dataclass(frozen=True)
class TreeColumns:
    """What a tree makes of a schema at a revision: each table's columns in order, and the views."""

    tables: dict[str, list[str]]
    views: list[str]


@dataclass(frozen=True)
class HistoryEntry:
    revision: RevisionInfo
    is_head: bool
    environments: list[str]


log = logging.getLogger(__name__)
ProgressCallback = Callable[[Progress], None]
Bindings = dict[str, dict[str, object]]
"""Per schema, the ``SchemaPlan.binding`` an approval was given for."""
STAMP_DIFFERENCES_SHOWN = 20
NOTHING_TO_COMPARE = (State.EMPTY, State.UNVERSIONED, State.NOT_PREPARED)
"""States where drift has no recorded revision to compare with: said, and no failure."""


class Engine:
    """Knows where every environment's schemas stand, and moves them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stopping = threading.Event()
        """Set when the bot stops for good: every child still running is stopped (:func:`run_child`)."""

    @functools.cached_property
    def tree(self) -> MigrationTree:
        return MigrationTree.from_setting(require(self.settings.migrations.alembic_ini, purpose="the migration tree"))

    @property
    def limits(self) -> ChildLimits:
        migrations = self.settings.migrations
        return ChildLimits(
            migrations.lock_timeout,
            migrations.statement_timeout,
            migrations.run_timeout_seconds,
            migrations.connect_timeout_seconds,
            migrations.lock_retry_seconds,
        )

    def status(self, environments: Sequence[Environment], schemas: Sequence[str]) -> list[SchemaStatus]:
        return status_of(
            environments, self.tree, schemas, connect_timeout=self.settings.migrations.connect_timeout_seconds
        )

    def lacking(self, env: Environment, schemas: Sequence[str]) -> Needs:
        """What the environment's database lacks of what these schemas' trees need before their first revision."""
        with connect(self._database(env), connect_timeout=self.settings.migrations.connect_timeout_seconds) as db:
            return lacking(db, tree_needs(self.tree.schema(schema) for schema in schemas))

    def table_columns(self, env: Environment, schema_names: Sequence[str]) -> Columns:
        """The tables of these PostgreSQL schemas with their columns, read-only: what pqserver should serve."""
        timeout = self.settings.migrations.connect_timeout_seconds
        return table_columns(self._database(env), schema_names, place=env.key, connect_timeout=timeout)

    def prepare(self, env: Environment, schemas: Sequence[str]) -> PrepareResult:
        """Create in the environment's database what these schemas' trees need and it lacks."""
        trees = [self.tree.schema(schema) for schema in schemas]
        timeout = self.settings.migrations.connect_timeout_seconds
        created = prepare_database(self._database(env), trees, connect_timeout=timeout)
        return PrepareResult(env.key, tuple(schemas), created)

    def history(self, schema: str) -> list[HistoryEntry]:
        """Revisions newest first, with the environments that sit at each."""
        tree = self.tree.schema(schema)
        where: dict[str, list[str]] = {}
        for status in self.status(list(self.settings.environments.values()), [schema]):
            for revision in status.current:
                where.setdefault(revision, []).append(status.environment)
        return [
            HistoryEntry(info, info.revision in tree.heads, where.get(info.revision, []))
            for info in tree.newest_first()
        ]

    def schemas_at(self, env: Environment, names: Sequence[str]) -> list[str]:
        """The schemas a command on one environment acts on (:meth:`Settings.schemas_at`). Asked for all,
        it leaves out those the tree has no section for: a configured schema whose model is not
        published (efd_scheduler) is not in the bundled tree, and ``status`` says so. Named, they are
        refused by the tree."""
        schemas = self.settings.schemas_at(env, list(names))
        if names and not any(name.lower() == "all" for name in names):
            return schemas
        return [schema for schema in schemas if self.tree.has(schema)]

    def plan(
        self,
        env: Environment,
        schemas: Sequence[str],
        *,
        to: str | None = None,
        direction: Direction = Direction.UPGRADE,
        options: dict[str, str] | None = None,
        with_sql: bool = True,
    ) -> list[SchemaPlan]:
        """What an upgrade (or downgrade) would apply: revisions, and unless told not to, the offline
        SQL and its lint warnings (a child process per schema)."""
        url = self._database(env)
        options = self._options(env, schemas, options or {})
        statuses = self.status([env], schemas)
        return [
            self._plan_one(env, url, self.tree.schema(status.schema), status, to, direction, options, with_sql=with_sql)
            for status in statuses
        ]

    def drift(self, env: Environment, schemas: Sequence[str]) -> list[SchemaDrift]:
        """Each schema's live structure against the tree replayed to the revision it records."""
        from bot.engine.drift import SchemaDrift  # noqa: PLC0415 - see _differences

        url = self._database(env)
        results = []
        for status in self.status([env], schemas):
            if status.state not in (State.HEAD, State.BEHIND):
                failed = status.state not in NOTHING_TO_COMPARE
                results.append(
                    SchemaDrift(env.key, status.schema, status.current, detail=status.summary, failed=failed)
                )
                continue
            tree = self.tree.schema(status.schema)
            try:
                differences = self._differences(url, tree, status.current)
            except NoModel as missing:
                results.append(SchemaDrift(env.key, tree.section, status.current, detail=missing.message))
                continue
            results.append(SchemaDrift(env.key, tree.section, status.current, differences))
        return results

    def refuse_unverified_stamps(self, env: Environment, plans: Sequence[SchemaPlan]) -> None:
        """A stamp records that a schema is at REV: refused unless the live schema matches the tree
        replayed to REV (by drift). Stamping ``base`` claims nothing, so it needs no check."""
        url = self._database(env)
        for plan in plans:
            if plan.direction is not Direction.STAMP or not plan.target:
                continue
            differences = self._differences(url, self.tree.schema(plan.schema), plan.target)
            if differences:
                shown = [f"  - {difference}" for difference in differences[:STAMP_DIFFERENCES_SHOWN]]
                more = len(differences) - len(shown)
                shown += [f"  - and {more} more (see `drift {env.key} {plan.schema}` once stamped)"] if more else []
                target = revisions_text(plan.target)
                raise Refused(
                    f"{plan.schema} at {env.key} does not match the model at {target}, so it was not stamped;"
                    f" {plural(len(differences), 'difference')}:\n" + "\n".join(shown),
                    hint=f"Stamp the revision it does match (see `history {plan.schema}`), bring the schema to"
                    f" match {target}, or stamp it anyway, overriding the check:"
                    f" `stamp {env.key} {plan.schema} {target} --force`.",
                )

    def _differences(self, url: DatabaseUrl, tree: SchemaTree, revisions: tuple[str, ...]) -> list[str]:
        """How the live schema differs from the tree replayed to ``revisions`` in a scratch database."""
        # Imported here: Alembic's autogenerate machinery costs every other command start-up time.
        from bot.engine.drift import compare_schemas  # noqa: PLC0415

        with self._replayed(url, tree, revisions, purpose="drift") as model:
            return compare_schemas(url, model, tree)

    def columns_at(self, env: Environment, schema: str, revisions: tuple[str, ...]) -> TreeColumns:
        """The schema's tables and their columns as its tree makes them at ``revisions`` (replayed in a
        scratch database, as drift does), and its views."""
        tree = self.tree.schema(schema)
        query = (
            "SELECT c.table_name, c.column_name, t.table_type = 'VIEW' FROM information_schema.columns c"
            " JOIN information_schema.tables t USING (table_schema, table_name) WHERE c.table_schema = %s"
            " ORDER BY c.table_name, c.ordinal_position"
        )
        made = TreeColumns({}, [])
        with self._replayed(self._database(env), tree, revisions, purpose="check tap") as model:
            timeout = self.settings.migrations.connect_timeout_seconds
            with connect(model, connect_timeout=timeout) as connection:
                for table, column, view in connection.execute(query, (tree.schema_name,)):
                    if not view:
                        made.tables.setdefault(table, []).append(column)
                    elif table not in made.views:
                        made.views.append(table)
        return made

    @contextlib.contextmanager
    def _replayed(
        self, url: DatabaseUrl, tree: SchemaTree, revisions: tuple[str, ...], *, purpose: str
    ) -> Iterator[DatabaseUrl]:
        """A scratch database (on ``migrations.scratch_url``, else beside ``url``) with the tree replayed to
        ``revisions``; dropped afterwards."""
        from bot.engine.drift import scratch_database  # noqa: PLC0415 - see _differences

        scratch = self.settings.migrations.scratch_url
        server = DatabaseUrl.parse(require(scratch, purpose=purpose), key="migrations.scratch_url") if scratch else url
        timeout = self.settings.migrations.connect_timeout_seconds
        with scratch_database(server, [tree], connect_timeout=timeout) as model:
            run = self._run(tree, "upgrade", revision_argument(tree, revisions), model, {"view_readers": ""})
            if run.model_missing:
                raise NoModel(f"{tree.section}: {run.error}")
            if not run.ok:
                raise OperationFailed(
                    f"{tree.section}: could not build the model at {revisions_text(revisions)}: {_run_error(run)}"
                )
            yield model

    def generate(
        self, message: str, schemas: Sequence[str], *, sdm_schemas: str | None = None,
        renames: Sequence[Rename] = (), drop_and_add: bool = False, in_copy: bool = False,
    ) -> list[GeneratedRevision]:  # fmt: skip
        """New revisions for the schemas whose Felis model changed, each proven up and down in a scratch
        database first. They are written into the configured tree, or with ``in_copy`` into a copy of it
        that is thrown away (the running bot never changes the tree it runs), their paths then relative."""
        # Imported here: Felis, black and autogenerate cost every other command start-up time.
        from bot.engine.generate import Generator  # noqa: PLC0415

        model = sdm_schemas or require(self.settings.migrations.sdm_schemas, purpose="the Felis model")
        server = self._scratch_server()
        if not in_copy:
            return Generator(self.tree, server, self.limits, model, self.stopping).generate(
                message, schemas, renames=renames, drop_and_add=drop_and_add
            )
        with tempfile.TemporaryDirectory(prefix="consdb-bot-generate-") as folder:
            root = Path(folder) / "tree"
            shutil.copytree(self.tree.ini_path.parent, root, ignore=shutil.ignore_patterns("__pycache__"))
            copy = MigrationTree(root / self.tree.ini_path.name)
            results = Generator(copy, server, self.limits, model, self.stopping).generate(
                message, schemas, renames=renames, drop_and_add=drop_and_add
            )
        return [dataclasses.replace(r, path=r.path.relative_to(root)) if r.path else r for r in results]

    def _scratch_server(self) -> DatabaseUrl:
        """Where scratch databases are made: ``migrations.scratch_url``, else a test stand's server."""
        scratch = self.settings.migrations.scratch_url
        if scratch:
            return DatabaseUrl.parse(require(scratch, purpose="scratch databases"), key="migrations.scratch_url")
        for env in sorted(self.settings.environments.values(), key=lambda env: not env.test_stand):
            url = database_url(env)
            if isinstance(url, DatabaseUrl):
                return url
        raise ConfigError(
            "generate needs a PostgreSQL server where it may create scratch databases",
            hint="Set migrations.scratch_url, or the database URL of a test stand.",
        )

    def _database(self, env: Environment) -> DatabaseUrl:
        url = database_url(env)
        if isinstance(url, str):
            raise ConfigError(f"{env.key}: {url}")
        return url

    def check_options(self, env: Environment, schemas: Sequence[str], options: dict[str, str]) -> None:
        """Refuse options these schemas' migrations do not read, or values of a shape that could carry SQL
        (and the environment's configured ones, against the whole tree), before anything runs."""
        if env.migration_options:
            check_configured(env, [self.tree.schema(schema) for schema in self.schemas_at(env, [])])
        if options:
            check_options([self.tree.schema(schema) for schema in schemas if self.tree.has(schema)], options)

    def _options(self, env: Environment, schemas: Sequence[str], options: dict[str, str]) -> dict[str, str]:
        """What the migrations are handed: the environment's options and those asked for, each checked."""
        self.check_options(env, schemas, options)
        return {**env.migration_options, **options}

    def _plan_one(
        self,
        env: Environment,
        url: DatabaseUrl,
        tree: SchemaTree,
        status: SchemaStatus,
        to: str | None,
        direction: Direction,
        options: dict[str, str],
        *,
        with_sql: bool,
    ) -> SchemaPlan:
        """The plan for one schema, from this snapshot of its tree; its SQL (a child run in offline mode)
        only when asked for."""
        current = _refuse_unusable(env, tree, status, direction)
        target: tuple[str, ...]
        if direction is Direction.STAMP:
            return SchemaPlan(env.key, tree.section, direction, current, stamp_target(tree, to), [], files=tree.files)
        if direction is Direction.DOWNGRADE:
            end = downgrade_target(tree, to or "-1", current)
            revisions = tree.removed(current=current, target=end)
            target = () if end == "base" else (end,)
        else:
            target = upgrade_target(tree, to, current)
            revisions = tree.pending(current=current, target=target)
        if not revisions or not with_sql:
            return SchemaPlan(env.key, tree.section, direction, current, target, revisions, files=tree.files)
        if direction is Direction.DOWNGRADE and len(current) > 1:  # the request binds the revisions alone
            sql = "-- Alembic writes no offline SQL for a downgrade from several heads\n"
            return SchemaPlan(env.key, tree.section, direction, current, target, revisions, sql, files=tree.files)
        run = self._offline_sql(tree, url, direction, current, target, options)
        if run.model_missing:
            return SchemaPlan(
                env.key, tree.section, direction, current, target, revisions, files=tree.files, note=run.error or ""
            )
        phased = (
            phased_sql(run.sql, f"{tree.version_table_schema}.{tree.version_table}") if online(revisions) else run.sql
        )
        return SchemaPlan(
            env.key, tree.section, direction, current, target, revisions, phased, lint_sql(phased), files=tree.files
        )

    def _offline_sql(
        self,
        tree: SchemaTree,
        url: DatabaseUrl,
        direction: Direction,
        current: tuple[str, ...],
        target: tuple[str, ...],
        options: dict[str, str],
    ) -> ChildRun:
        operation: Operation = "upgrade-sql" if direction is Direction.UPGRADE else "downgrade-sql"
        run = self._run(
            tree,
            operation,
            revision_argument(tree, target),
            url,
            options,
            start=revision_argument(tree, current) if current else None,
        )
        if not run.ok and not run.model_missing:
            raise OperationFailed(
                f"{tree.section}: could not produce the SQL of this plan: {_run_error(run)}",
                hint="The migration scripts or env.py fail in offline mode; fix them before planning again.",
            )
        return run

    def _run(
        self,
        tree: SchemaTree,
        operation: Operation,
        target: str,
        url: DatabaseUrl,
        options: dict[str, str],
        *,
        start: str | None = None,
    ) -> ChildRun:
        """One Alembic command in a child of its own (plans and drift use this)."""
        return self._run_jobs([Job(tree.section, operation, target, start)], url, options)[0]

    def _run_jobs(
        self,
        jobs: list[Job],
        url: DatabaseUrl,
        options: dict[str, str],
        on_statement: Callable[[int, str], None] | None = None,
        session: str | None = None,
        on_phase: Callable[[int, str], None] | None = None,
        on_lock: LockCallback | None = None,
        *,
        allow_rewrite: bool = False,
    ) -> list[ChildRun]:
        return run_child(
            ini_path=self.tree.ini_path,
            jobs=jobs,
            database=url,
            sdm_schemas=require(self.settings.migrations.sdm_schemas, purpose="the Felis model"),
            options=options,
            limits=self.limits,
            stopping=self.stopping,
            on_statement=on_statement,
            application_name=session,
            on_phase=on_phase,
            on_lock=on_lock,
            allow_rewrite=allow_rewrite,
        )

    def end_sessions(self, env: Environment, session: str) -> bool:
        """End the database sessions of a run (by their ``application_name``) and wait until they are
        gone: its transaction rolled back or committed, its locks released. False if some are left."""
        timeout = self.settings.migrations.connect_timeout_seconds
        return end_sessions(self._database(env), session, connect_timeout=timeout)

    def change(
        self,
        env: Environment,
        schemas: Sequence[str],
        *,
        direction: Direction,
        to: str | None,
        actor: str,
        options: dict[str, str] | None = None,
        wait: bool = False,
        on_progress: ProgressCallback | None = None,
        expected: Bindings | None = None,
        force: bool = False,
        session: str | None = None,
        allow_rewrite: bool = False,
    ) -> ChangeResult:
        """Upgrade, downgrade or stamp: plan under the schema locks, check ``expected``, run, report.

        A downgrade or stamp names one schema; ``to`` defaults to head (upgrade, stamp) or -1. A stamp
        is verified by drift first, unless ``force``. A statement that rewrites a table holding rows fails the
        run, unless ``allow_rewrite`` (``--allow-rewrite``). ``session`` names the run's database sessions
        (:func:`bot.engine.runner.run_name`). How each schema ended is what its version table records
        once the run is over, not what the bot saw of the run.
        """
        url = self._database(env)
        options = self._options(env, schemas, options or {})
        trees = [self.tree.schema(schema) for schema in schemas]
        with schema_locks(
            url,
            [tree.schema_name for tree in trees],
            holder=f"consdb-bot {direction.value} by {actor}",
            place=env.key,
            connect_timeout=self.settings.migrations.connect_timeout_seconds,
            wait=wait,
        ) as connection:
            recorded = read_versions(connection, version_tables(trees))
            if expected is not None:
                _refuse_changed_tree(env, trees, expected)
            statuses = [classify(env, tree, versions) for tree, versions in zip(trees, recorded, strict=True)]
            _refuse_unfinished(statuses, direction)
            # The SQL is planned again only where the approval was given to SQL (a terminal's --yes is not).
            with_sql = expected is not None and any("digest" in bound for bound in expected.values())
            plans = [
                self._plan_one(env, url, tree, status, to, direction, options, with_sql=with_sql)
                for tree, status in zip(trees, statuses, strict=True)
            ]
            if expected is not None:
                _refuse_moved(env, plans, expected)
            if not force:
                self.refuse_unverified_stamps(env, plans)
            outcomes = self._apply(
                trees, plans, url, options, on_progress, session, zone=env.zone, allow_rewrite=allow_rewrite
            )
            after = self._recorded_after(connection, url, trees)
        if after is None:
            return ChangeResult(env.key, direction, [_unconfirmed(outcome) for outcome in outcomes])
        return ChangeResult(
            env.key,
            direction,
            [_settled(outcome, versions, env.key) for outcome, versions in zip(outcomes, after, strict=True)],
        )

    def _recorded_after(
        self, connection: psycopg.Connection, url: DatabaseUrl, trees: list[SchemaTree]
    ) -> list[RecordedVersion] | None:
        """What the version tables record once the run is over, on the locks' connection or, if that
        was lost, a new one; None if the database cannot be read."""
        tables = version_tables(trees)
        try:
            return read_versions(connection, tables)
        except psycopg.Error:
            log.warning("the version tables could not be read on the run's connection; trying a new one")
        try:
            timeout = self.settings.migrations.connect_timeout_seconds
            with connect(url, connect_timeout=timeout) as fresh:
                return read_versions(fresh, tables)
        except (psycopg.Error, ConsdbBotError) as error:
            log.warning("what the version tables record after the run is unknown: %s", type(error).__name__)
            return None

    def _apply(
        self,
        trees: list[SchemaTree],
        plans: list[SchemaPlan],
        url: DatabaseUrl,
        options: dict[str, str],
        on_progress: ProgressCallback | None,
        session: str | None = None,
        *,
        zone: ZoneInfo,
        allow_rewrite: bool = False,
    ) -> list[SchemaOutcome]:
        """Run every plan that has work in one child, schema after schema, and say how the run of each
        ended, as the bot saw it (:func:`_settled` then holds it against the version table).

        A schema waiting for a lock is told once per session that holds it (its times on ``zone``'s
        clock), each retry after its lock was not granted (:func:`bot.engine.locks.told`), and, given up,
        who held the lock."""
        todo = [index for index, plan in enumerate(plans) if plan.revisions or plan.direction is Direction.STAMP]

        def report(schema: str, line: str) -> None:
            if on_progress:
                on_progress(Progress(schema, line))

        followers = {
            index: RevisionFollower(
                trees[index],
                plans[index].revisions,
                up=plans[index].direction is Direction.UPGRADE,
                report=functools.partial(report, trees[index].section),
            )
            for index in todo
        }

        def on_statement(job: int, statement: str) -> None:
            followers[todo[job]](statement)

        def on_phase(job: int, text: str) -> None:
            report(trees[todo[job]].section, text)

        holders: dict[int, tuple[int, datetime | None]] = {}

        def on_lock(job: int, news: LockNews) -> None:
            index = todo[job]
            if isinstance(news, LockRetry):
                followers[index].retry()
                if told(news):
                    report(trees[index].section, retry_text(news, self.settings.migrations.lock_timeout))
            elif holders.get(index) != news.blocker.key:
                holders[index] = news.blocker.key
                report(trees[index].section, waiting_text(news.blocker, zone))

        jobs = [
            Job(
                trees[index].section,
                plans[index].direction.value,
                revision_argument(trees[index], plans[index].target),
                online=online(plans[index].revisions),
            )
            for index in todo
        ]
        for index in todo:
            report(trees[index].section, f"{plans[index].direction.value} {plans[index].range_text}")
        ran = (
            self._run_jobs(
                jobs,
                url,
                options,
                on_statement,
                session,
                on_phase=on_phase,
                on_lock=on_lock,
                allow_rewrite=allow_rewrite,
            )
            if jobs
            else []
        )
        runs = dict(zip(todo, ran, strict=True))
        return [
            self._outcome(trees[index], plans[index], runs.get(index), followers.get(index), zone)
            for index in range(len(plans))
        ]

    def _outcome(
        self,
        tree: SchemaTree,
        plan: SchemaPlan,
        run: ChildRun | None,
        follower: RevisionFollower | None,
        zone: ZoneInfo,
    ) -> SchemaOutcome:
        if run is None or follower is None:
            return SchemaOutcome(tree.section, Outcome.UNCHANGED, plan)
        if not run.started:
            return SchemaOutcome(tree.section, Outcome.NOT_RUN, plan)
        if run.model_missing:
            return SchemaOutcome(tree.section, Outcome.NO_MODEL, plan, error=run.error)
        if run.ok:
            return SchemaOutcome(
                tree.section, Outcome.SUCCEEDED, plan, applied=follower.applied, executed=run.statements,
                seconds=run.seconds,
            )  # fmt: skip
        return SchemaOutcome(
            tree.section,
            Outcome.FAILED,
            plan,
            applied=follower.applied,
            executed=run.statements,
            error=self._lock_given_up(run, zone) or _run_error(run),
            failed_step=follower.running,
            log_tail=run.log_tail,
            seconds=run.seconds,
        )

    def _lock_given_up(self, run: ChildRun, zone: ZoneInfo) -> str | None:
        """Why a run that kept being refused its lock stopped trying, naming who held it."""
        if run.sqlstate != LOCK_NOT_AVAILABLE or not run.lock_attempts or run.timed_out:
            return None
        return gave_up_text(
            run.blocker,
            attempts=run.lock_attempts,
            seconds=run.lock_seconds,
            lock_timeout=self.settings.migrations.lock_timeout,
            zone=zone,
        )


def revision_argument(tree: SchemaTree, revisions: tuple[str, ...]) -> str:
    """The one revision argument Alembic takes for these revisions (``base``, one id, or ``heads``)."""
    if not revisions:
        return "base"
    if len(revisions) == 1:
        return revisions[0]
    if set(revisions) == set(tree.heads):
        return "heads"
    raise Refused(
        f"{tree.section} is at several revisions ({', '.join(short(r) for r in revisions)}) that are not its heads,"
        " which Alembic cannot take as one target",
        hint="Move one branch at a time: --to REV.",
    )


def _settled(outcome: SchemaOutcome, recorded: RecordedVersion, place: str) -> SchemaOutcome:
    """How a schema's run ended, as its version table says once the run is over.

    The target recorded is success, whatever the bot saw of the run (a child killed at the time limit
    after it had committed, news that came too late); a failed run that left the start recorded was
    rolled back, unless an online run committed its transaction and left phases undone (then the version
    table waits for them, and that is said); anything else is said exactly.
    """
    settled = dataclasses.replace(outcome, recorded_after=recorded.revisions)
    if recorded.unfinished is not None:
        unfinished = recorded.unfinished.text(f"upgrade {place} {outcome.schema}")
        return dataclasses.replace(
            settled, outcome=Outcome.FAILED, unfinished=unfinished, error=outcome.error or "phases left undone"
        )
    if outcome.outcome not in (Outcome.SUCCEEDED, Outcome.FAILED):
        return settled
    plan, now = outcome.plan, set(recorded.revisions)
    where = f"{plan.schema}'s version table records {revisions_text(recorded.revisions)}"
    if now == set(plan.target):
        if outcome.outcome is Outcome.SUCCEEDED:
            return settled
        return dataclasses.replace(
            settled,
            outcome=Outcome.SUCCEEDED,
            error=None,
            failed_step=None,
            note=f"the bot lost track of the run ({outcome.error}), but {where}, its target: the run committed",
        )
    if outcome.outcome is Outcome.SUCCEEDED:
        return dataclasses.replace(
            settled,
            outcome=Outcome.FAILED,
            error=f"the run ended without an error, but {where}, not its target {revisions_text(plan.target)}",
        )
    return settled


def _unconfirmed(outcome: SchemaOutcome) -> SchemaOutcome:
    """The bot's view of a run whose version table could not be read afterwards, saying so."""
    if outcome.outcome not in (Outcome.SUCCEEDED, Outcome.FAILED):
        return outcome
    return dataclasses.replace(
        outcome,
        recorded_after=outcome.plan.target if outcome.outcome is Outcome.SUCCEEDED else outcome.plan.current,
        note="not confirmed: the version table could not be read after the run (see `status`)",
    )


def _run_error(run: ChildRun) -> str:
    if run.timed_out:
        return "stopped at the time limit (migrations.run_timeout_seconds)"
    return (run.error or "failed").strip().splitlines()[0]


def online(revisions: Sequence[RevisionInfo]) -> bool:
    """Whether a run of these revisions takes the online path: none of them opts out."""
    return not any(opts_out(info.path.read_text(encoding="utf-8")) for info in revisions)


def _refuse_unfinished(statuses: list[SchemaStatus], direction: Direction) -> None:
    """Only an upgrade goes on from an online run that left phases undone: it finishes them first. A downgrade
    or a stamp would start from a version table that does not say what the schema holds."""
    if direction is Direction.UPGRADE:
        return
    for status in statuses:
        if status.unfinished:
            raise Refused(
                f"{status.schema} at {status.environment}: {status.unfinished}; nothing was run",
                hint=f"Finish it first (`upgrade {status.environment} {status.schema}`), then {direction.value}.",
            )


def _refuse_changed_tree(env: Environment, trees: list[SchemaTree], expected: Bindings) -> None:
    """Refuse to run a plan made from other migration scripts than those there now, saying which changed."""
    for tree in trees:
        before = (expected.get(tree.section) or {}).get("files")
        if not isinstance(before, dict) or before == tree.files:
            continue
        now = tree.files
        changes = [
            *(f"added {path}" for path in sorted(now.keys() - before.keys())),
            *(f"removed {path}" for path in sorted(before.keys() - now.keys())),
            *(f"changed {path}" for path in sorted(now.keys() & before.keys()) if now[path] != before[path]),
        ]
        raise Refused(
            f"{tree.section} at {env.key}: the migration tree changed since this was requested, so nothing was run."
            " " + "; ".join(changes) + ".",
            hint="The approval was for the plan of the tree as it was: ask again for a request with the plan of"
            " the tree as it is now.",
        )


def _refuse_moved(env: Environment, plans: list[SchemaPlan], expected: Bindings) -> None:
    """Refuse to run anything but exactly what was approved."""
    for plan in plans:
        if plan.binding != expected.get(plan.schema):
            raise Refused(
                f"{plan.schema} at {env.key} is not where it was when this was approved"
                f" (now {plan.range_text}); nothing was run",
                hint="The database or the migration scripts changed in between: ask for a new request.",
            )


def _refuse_unusable(env: Environment, tree: SchemaTree, status: SchemaStatus, direction: Direction) -> tuple[str, ...]:
    """The current revisions, or a refusal that says how to get to a state the bot can move."""
    if status.state in (State.UNREACHABLE, State.NOT_CONFIGURED):
        raise Refused(
            f"{env.key}: {status.detail}",
            hint="Check that the server is up, and the URL, user and password given to the bot.",
        )
    if status.state is State.NOT_PREPARED:
        raise Refused(
            f"{tree.schema_name} at {env.key} is {status.summary}; nothing was run",
            hint=f"Prepare the database first: `prepare {env.key} {tree.section}`.",
        )
    if status.state is State.UNVERSIONED and direction is not Direction.STAMP:
        raise Refused(
            f"{tree.schema_name} at {env.key} exists but has no Alembic revision recorded",
            hint=f"Stamp the revision it matches first: `stamp {env.key} {tree.section} REV`"
            f" (see `history {tree.section}`).",
        )
    if status.state is State.UNKNOWN_REVISION and direction is not Direction.STAMP:
        raise Refused(
            f"{tree.schema_name} at {env.key} {status.detail}",
            hint="Update the bot's migration tree to the one that made this database, then try again.",
        )
    return status.current
