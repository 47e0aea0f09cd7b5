"""Settings: the YAML file, with ``${VAR}`` and ``${VAR:-default}`` read from the environment.

A variable that is not set does not fail the load: the value stays :class:`Unset` and only a
command that needs it fails, naming the variable. ``status bts`` thus works with only
``BTS_DATABASE_URL`` set. A malformed file gets one error per problem, with key and line.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError, UsageError, did_you_mean
from bot.words import plural

DEFAULT_CONFIG_FILE = "consdb-bot.yaml"
CONFIG_ENV_VAR = "CONSDB_BOT_CONFIG"
BUNDLED = "bundled"
INSTALLED = "installed"

_POSTGRES_DURATION = r"^[0-9]+(ms|s|min|h|d)?$"
_DURATION_UNITS = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}
POSTGRES_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
"""A PostgreSQL name (role, schema, subscription) as the bot accepts one from people: the plain lower-case
form, at most 63 bytes, so that it means the same quoted or not and cannot carry SQL."""
POSTGRES_NAME_RULE = "lower-case letters, digits and _, not starting with a digit, at most 63 characters"
OPTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,62}")
"""The name of an option handed to migration scripts (Alembic's ``-x NAME=VALUE``)."""
OPTION_VALUE = re.compile(r"[A-Za-z0-9_.,:/@+-]{0,256}")
"""An option's value: never quotes, semicolons, spaces or backslashes, whatever script reads it."""
OPTION_VALUE_RULE = "letters, digits and _ . , : / @ + - (at most 256 characters)"
_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class Unset:
    """A value whose environment variable is not set where the bot runs."""

    variable: str
    key: str
    line: int

    def __str__(self) -> str:
        return f"${{{self.variable}}}"


def postgres_seconds(duration: str) -> float:
    """A PostgreSQL duration setting (``200ms``, ``10s``, ``30min``) in seconds; a bare number is milliseconds, as
    PostgreSQL reads ``lock_timeout`` and ``statement_timeout``."""
    match = re.fullmatch(r"([0-9]+)(ms|s|min|h|d)?", duration)
    if match is None:
        raise ValueError(f"{duration!r} is not a PostgreSQL duration")
    return int(match.group(1)) * _DURATION_UNITS[match.group(2) or "ms"]


def require(value: str | Unset, *, purpose: str) -> str:
    """The value, or an error naming the variable to set for ``purpose``."""
    if isinstance(value, Unset):
        raise ConfigError(
            f"{purpose} needs the environment variable {value.variable}, which is not set",
            hint=f"Set {value.variable} (used by {value.key}, line {value.line} of the configuration).",
        )
    return value


class _Model(BaseModel):
    """Unknown keys are errors (they are usually misspellings); each key's docstring describes it in
    docs/configuration.md."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True, use_attribute_docstrings=True)


class Approvals(_Model):
    """Who approves a change at an environment, how many must, and how long a request waits for them."""

    required: int = Field(default=1, ge=1)
    """How many approvals a request needs (one more at a test stand that someone else has booked, or nobody)."""
    approvers: list[str] = []
    """Slack user ids (`U...`) of the approvers."""
    usergroup: str | None = None
    """A Slack user group (`S...`) whose members approve too (`usergroups.users.list`, cached five minutes)."""
    expiry_minutes: int = Field(default=60, ge=1)
    """Minutes after which a request not approved expires."""


class Kubernetes(_Model):
    """Where an environment's pqserver and hinfo deployments run."""

    context: str | None = None
    """The kubeconfig context of its cluster (the kubeconfig in `KUBECONFIG`; `CONSDB_BOT_IN_CLUSTER_CONTEXT` names the
    one the bot reaches with its pod's own service account)."""
    namespace: str
    """ConsDB's namespace in that cluster."""


class Replica(_Model):
    """An environment that is a logical replica of another: it subscribes to that one's publication.

    `status` and `replica tables` read it, `rollout` pauses, migrates and resumes it; its names reach SQL
    (quoted), hence the strict pattern too."""

    of: str
    """The environment this one replicates."""
    subscription: str
    """The subscription, a plain PostgreSQL name."""
    publication: str
    """The publication on `of`, a plain PostgreSQL name."""
    verify_seconds: float = Field(default=60, gt=0)
    """After a rollout resumes the subscription: seconds within which a marker row written at `of` must arrive here."""
    alert_after_minutes: float = Field(default=60, gt=0)
    """Minutes the subscription may stay disabled (by the bot or anyone) before the running bot alerts this
    environment's channel (or the announcement channel), and again every as many minutes while it stays so; it looks
    every 5 minutes (or this often, if less)."""

    @field_validator("subscription", "publication")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not POSTGRES_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a plain PostgreSQL name: use {POSTGRES_NAME_RULE}")
        return value


class Tap(_Model):
    """Where `check tap` reads what TAP serves, one of two ways: the `TAP_SCHEMA` tables Felis loaded (`felis
    load-tap-schema`) into a PostgreSQL database, such as the consdbtap service's tap_schema (`schema_url`; read only,
    under `statement_timeout`), or the TAP service itself, asked in ADQL at its sync endpoint (`sync_url`)."""

    schema_url: str | Unset | None = None
    """That database, from the environment (`${USDF_PROD_TAP_SCHEMA_URL}`), never written in the file."""
    sync_url: str | Unset | None = None
    """Or the TAP service's base URL (`https://usdf-rsp.slac.stanford.edu/api/consdbtap`): `SELECT ... FROM
    TAP_SCHEMA.columns` is posted to its `/sync`, and its VOTable read."""
    token: str | Unset | None = None
    """The bearer token the TAP service wants (a Gafaelfawr token: `${USDF_PROD_TAP_TOKEN}`), from the environment."""
    timeout_seconds: float = Field(default=30, gt=0)
    """How long the TAP service may take to answer."""
    schema_name: str = Field(default="tap_schema", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    """In the database, the PostgreSQL schema holding the `TAP_SCHEMA` tables (Felis' `--tap-schema-name`; its own
    default is `TAP_SCHEMA`, in capitals)."""
    tables_postfix: str = Field(default="", pattern=r"^[A-Za-z0-9_]{0,16}$")
    """In the database, what follows each table's standard name (Felis' `--tap-tables-postfix`: `11` for
    `columns11`)."""
    force_unbounded_arraysize: bool = False
    """TAP was loaded with Felis' `--force-unbounded-arraysize` (every variable-length string `*`): the model is
    read the same way, so that this is not told as a change of every such column."""
    statement_timeout: str = Field(default="30s", pattern=_POSTGRES_DURATION)
    """PostgreSQL's `statement_timeout` for the read of the database."""

    @model_validator(mode="after")
    def _one_source(self) -> Tap:
        if (self.schema_url is None) == (self.sync_url is None):
            raise ValueError("give one of schema_url (the TAP_SCHEMA database) and sync_url (the TAP service)")
        return self


class Environment(_Model):
    """One place where ConsDB runs: its database, channel, cluster and approval policy."""

    key: str = Field(default="", exclude=True)
    """Its name, the key under `environments`: filled in by the loader, never written."""
    aliases: list[str] = []
    """Other names for it in commands (`base` for `bts`); names are case-insensitive."""
    description: str = ""
    """Its name as people say it (`Base Test Stand`), in messages."""
    test_stand: bool = False
    """A test stand can be booked, and gets an hinfo watch after a migration."""
    timezone: str = "UTC"
    """Its clock (a tz database name): bookings are read and shown on it, its daily report keeps it."""
    database_url: str | Unset | None = None
    """Its ConsDB database, from the environment (`${BTS_DATABASE_URL}`), never written in the file; unset, a command
    that needs it names the variable."""
    channel: str | None = None
    """The Slack channel (id) where its requests and news go."""
    kubernetes: Kubernetes | None = None
    """Where its pqserver and hinfo run."""
    pqserver: str | None = None
    """Its pqserver deployment, restarted by `restart pqserver`."""
    pqserver_url: str | None = None
    """pqserver's base URL, without its `/consdb` prefix: after every restart its schema API is asked, and its columns
    compared with the database's."""
    hinfo: dict[str, str] = {}
    """Each instrument's hinfo deployment (`latiss: consdb-hinfo-latiss`), for `logs hinfo`, the watch and the data
    check."""
    hinfo_watch_minutes: float = Field(default=10, ge=0)
    """Minutes after a successful migration at a test stand when the bot says whether hinfo committed an exposure
    since, and what errors it logged (0: no watch)."""
    data_check_minutes: float = Field(default=60, ge=0)
    """Minutes after a successful migration elsewhere than at a test stand (an upgrade, or a rollout from here) when
    the bot says in its thread, for each migrated schema with an hinfo here, what `check data` says: the exposures
    written since, and whether the new columns are filled (0: no check)."""
    approvals: Approvals = Approvals()
    """Who approves its migrations, downgrades, stamps and prepares."""
    restart_approvals: Approvals | None = None
    """Who approves its pqserver restarts, in the same shape (default: `approvals`)."""
    schemas: list[str] | None = None
    """The schemas it keeps, each one of the top-level `schemas` (default: all); others are "not kept here"."""
    requires_ticket: bool = False
    """A change there is refused without `--ticket`."""
    requires_tested_on: list[str] = []
    """One environment or a list: a target must first have succeeded at the first of them that keeps the schema."""
    tap: Tap | None = None
    """Where its TAP service's `TAP_SCHEMA` is read, for `check tap` (none: not checked here)."""
    replica: Replica | None = None
    """A logical replica of another environment: `status` shows its subscription, lag, apply errors and whether its
    revisions agree with `of`'s; `replica tables` checks the publication; `rollout` migrates it with `of`."""
    migration_options: dict[str, str] = {}
    """`K: V` handed to every migration there as Alembic `-x` options (`view_readers: usdf,oods`). Each value holds
    only letters, digits and `_ . , : / @ + -` (checked at load); each key is an option the tree reads, with plain
    names where the tree reads names (checked when first used; exit status 2 naming the key otherwise)."""

    @field_validator("migration_options")
    @classmethod
    def _plain_options(cls, value: dict[str, str]) -> dict[str, str]:
        """Values that reach migration scripts, and often their SQL: refused at load unless plainly safe.
        Whether the tree reads each one is checked against the tree when it is used."""
        for name, text in value.items():
            if not OPTION_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an option name: use letters, digits, _ . and -, as in view_readers")
            if not OPTION_VALUE.fullmatch(text):
                raise ValueError(f"the value of {name} may hold only {OPTION_VALUE_RULE}, as in usdf,oods")
        return value

    @field_validator("requires_tested_on", mode="before")
    @classmethod
    def _one_name_or_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                f"unknown time zone {value!r} (write it as in the tz database, e.g. America/Santiago)"
            ) from error
        return value

    @property
    def title(self) -> str:
        return self.description or self.key

    def keeps(self, schema: str) -> bool:
        """Whether this environment holds ``schema``: every configured one unless ``schemas`` lists them."""
        return self.schemas is None or schema in self.schemas

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def restart_policy(self) -> Approvals:
        """Who approves a pqserver restart: its own policy, or the environment's."""
        return self.restart_approvals or self.approvals


class Migrations(_Model):
    """The migration tree the bot runs, where its models come from, and the limits of a run."""

    alembic_ini: str | Unset = BUNDLED
    """`bundled` (this project's `migrations/`) or the path of a ConsDB-style `alembic.ini`."""
    sdm_schemas: str | Unset = INSTALLED
    """`installed` (the pinned `lsst-sdm-schemas`) or an sdm_schemas checkout (`yml/cdb_*.yaml`)."""
    lock_timeout: str = Field(default="40ms", pattern=_POSTGRES_DURATION)
    """PostgreSQL's `lock_timeout` (`40ms`, `10s`; a bare number is milliseconds), handed to every connection a
    migration opens, under its own name and units: how long one statement may wait for a lock. Short, because while
    a DDL statement waits behind a long reader, every writer of the table (hinfo's INSERTs) queues behind it: this is
    the longest a writer waits (40ms keeps it under 50 ms; `benchmarks/online.py`). Not granted, the schema's
    transaction is rolled back and tried again (`lock_retry_seconds`)."""
    lock_retry_seconds: float = Field(default=300, ge=0)
    """How long a schema whose migration was not granted a lock in `lock_timeout` is tried again, in seconds as the
    bot's own limits are: each retry after a jittered backoff (at least `lock_timeout`, doubling up to 10 s) that lets
    the writers through; past it the migration fails, naming the session that held the lock (0: never tried again).
    Keep it below `run_timeout_seconds`."""
    statement_timeout: str = Field(default="30min", pattern=_POSTGRES_DURATION)
    """PostgreSQL's `statement_timeout` for every connection a migration opens."""
    run_timeout_seconds: int = Field(default=3600, ge=1)
    """Hard limit of one run's child process; past it the run is killed, its sessions ended (so it rolls back) and only
    then its locks released; the outcome is what the version table then records."""
    connect_timeout_seconds: int = Field(default=5, ge=1)
    """How long to wait for a database to answer."""
    scratch_url: str | Unset | None = None
    """A server where `drift` and `generate` may create throwaway databases (default: the environment's own;
    `generate`: a test stand's)."""


class KubernetesSettings(_Model):
    """How the bot talks to Kubernetes (access itself: KUBECONFIG, or the cluster it runs in)."""

    request_timeout_seconds: float = Field(default=10, gt=0)
    """How long one API call may take."""
    rollout_timeout_seconds: float = Field(default=900, gt=0)
    """How long a rollout may take: longer than Kubernetes' own 600 s progress deadline, so that one is what is
    reported."""
    poll_seconds: float = Field(default=2, gt=0)
    """How often a rollout is looked at."""


class Slack(_Model):
    """Where and how the bot speaks in Slack: where news goes, the reactions that approve, reject and
    restart; a request's outcome Slack did not take is tried again after ``retry_seconds`` (doubling,
    up to ten minutes) until ``give_up_hours``; the largest request body the bot reads (Slack's own are
    a few kilobytes; a larger one is refused before it is read)."""

    announce_channel: str | None = None
    """Where bookings, reports and alerts go besides each environment's own channel (the fallback channel)."""
    approve_reaction: str = "white_check_mark"
    """The emoji (its name, no colons) that approves a request."""
    reject_reaction: str = "x"
    """The emoji that rejects a request."""
    restart_reaction: str = "arrows_counterclockwise"
    """The emoji on a finished migration that asks for a pqserver restart, approved with it."""
    retry_seconds: float = Field(default=30, gt=0)
    """When a request's outcome Slack did not take is tried again (doubling, up to ten minutes)."""
    give_up_hours: float = Field(default=24, gt=0)
    """When the bot stops trying to tell Slack (the audit trail says so)."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    """The largest request body `/slack/events` reads; a larger one is refused with 413 before it is read."""


class Bookings(_Model):
    """Test-stand bookings: the reminder before a booking starts, and the longest booking there is."""

    reminder_minutes: float = Field(default=15, gt=0)
    """The reminder before a booking starts, in minutes."""
    max_days: float = Field(default=7, gt=0)
    """The longest booking, in days."""


class Reports(_Model):
    """The daily status report (at ``daily_at`` on each environment's own clock; null: none) and the
    check every ``check_minutes`` that alerts when an environment falls behind or drifts (0: none)."""

    daily_at: str | None = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    """The daily report's time on each environment's own clock (null: none)."""
    check_minutes: float = Field(default=60, ge=0)
    """How often to check for an environment behind head or drifted (0: never)."""


class Scheduling(_Model):
    """How often the scheduler's leader looks for jobs other processes added, and others try to lead."""

    poll_seconds: float = Field(default=5, gt=0)
    """How often the leader looks for new jobs, and the others try to lead."""


class Jira(_Model):
    """Where the tickets live. The token (``JIRA_TOKEN``; with ``JIRA_USER`` for Jira Cloud's basic
    auth) comes from the environment. A call waits ``timeout_seconds``; a comment Jira did not take is
    tried again after ``retry_seconds`` (doubling each time, up to an hour) until ``give_up_hours``."""

    url: str | Unset | None = None
    """The Jira server, such as `https://rubinobs.atlassian.net`."""
    project: str | None = None
    """The project its hints name (`OSW`, as in `OSW-123`)."""
    timeout_seconds: float = Field(default=10, gt=0)
    """How long one call to Jira may take."""
    retry_seconds: float = Field(default=60, gt=0)
    """When a comment Jira did not take is tried again (doubling, up to an hour)."""
    give_up_hours: float = Field(default=24, gt=0)
    """When the bot stops trying (the ticket's thread and the audit trail say so)."""


class Settings(_Model):
    """The whole configuration file."""

    state_url: str | Unset = "sqlite:///consdb-bot.sqlite3"
    """The bot's own state: requests, approvals, bookings, scheduled jobs, event ids, what Slack is owed, the audit
    trail (`postgresql://` means psycopg 3; production: `${CONSDB_BOT_STATE_URL}`)."""
    state_connect_timeout_seconds: int = Field(default=10, ge=1)
    """How long a PostgreSQL state database may take to answer a connection; at start-up, past it the bot stops with
    one line naming the URL (exit 2)."""
    migrations: Migrations = Migrations()
    """The migration tree and the limits of a run."""
    schemas: list[str]
    """Schema names; each is a section of the ini file, whose `consdb.schema_name` is the database schema
    (`cdb_<name>`, or the name itself for `efd_*`); one the tree has no section for shows so in `status`."""
    slack: Slack = Slack()
    """Where and how the bot speaks in Slack."""
    jira: Jira = Jira()
    """Where the tickets live."""
    kubernetes: KubernetesSettings = KubernetesSettings()
    """How the bot talks to Kubernetes."""
    bookings: Bookings = Bookings()
    """Test-stand bookings."""
    reports: Reports = Reports()
    """The daily report and the check for falling behind."""
    scheduler: Scheduling = Scheduling()
    """The scheduler shared by bookings, reports, retries and watches."""
    environments: dict[str, Environment]
    """Each place where ConsDB runs, by name (`bts`, `summit`, ...)."""
    source: str = Field(default="<memory>", exclude=True)
    """Where the settings were read from: filled in by the loader, never written."""

    @model_validator(mode="before")
    @classmethod
    def _name_environments(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("environments"), dict):
            data["environments"] = {
                key: ({**value, "key": key} if isinstance(value, dict) else value)
                for key, value in data["environments"].items()
            }
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        seen: dict[str, str] = {}
        for env in self.environments.values():
            for name in (env.key, *env.aliases):
                if name.lower() == "all":
                    raise ValueError(f"{env.key}: 'all' is no environment name; `restart pqserver all` means every one")
                other = seen.setdefault(name.lower(), env.key)
                if other != env.key:
                    raise ValueError(f"environment name {name!r} is used by both {other} and {env.key}")
        problems: list[tuple[tuple[str, ...], str]] = []
        for env in self.environments.values():
            where = ("environments", env.key)
            for index, name in enumerate(env.schemas or []):
                if name not in self.schemas:
                    problems.append(((*where, "schemas", str(index)), f"{name!r} is not one of the configured"
                                     f" schemas ({', '.join(self.schemas)})"))  # fmt: skip
            for index, name in enumerate(env.requires_tested_on):
                problems += _environment_named(seen, name, (*where, "requires_tested_on", str(index)), env.key)
            if env.replica:
                problems += _environment_named(seen, env.replica.of, (*where, "replica", "of"), env.key)
        if problems:
            raise Inconsistent(problems)
        return self

    def environment(self, name: str) -> Environment:
        """The environment called ``name`` or one of its aliases, in any case."""
        wanted = name.lower()
        for env in self.environments.values():
            if wanted in (env.key.lower(), *(alias.lower() for alias in env.aliases)):
                return env
        raise UsageError(
            f"unknown environment {name!r}{did_you_mean(name, self.every_environment_name())}",
            usage=f"environments: {self.environment_names()}",
        )

    def every_environment_name(self) -> list[str]:
        """Each environment's key and aliases: what a mistyped environment is matched against."""
        return [name for env in self.environments.values() for name in (env.key, *env.aliases)]

    def is_environment(self, name: str) -> bool:
        try:
            self.environment(name)
        except UsageError:
            return False
        return True

    def news_channels(self, env: Environment) -> list[str]:
        """Where an environment's news goes: the announcement channel and the environment's own."""
        return list(dict.fromkeys(channel for channel in (self.slack.announce_channel, env.channel) if channel))

    def environment_names(self) -> str:
        return ", ".join(
            env.key + (f" ({', '.join(env.aliases)})" if env.aliases else "") for env in self.environments.values()
        )

    def environments_and_schemas(self, names: list[str]) -> tuple[list[Environment], list[str]]:
        """``[ENV] [SCHEMA...]``: the first word is an environment if one is called that."""
        if names and self.is_environment(names[0]):
            return [self.environment(names[0])], self.select_schemas(names[1:])
        if names and not self.is_schema(names[0]):
            known = [*self.every_environment_name(), *self.schemas]
            raise UsageError(
                f"unknown environment or schema {names[0]!r}{did_you_mean(names[0], known)}",
                usage=f"environments: {self.environment_names()}; schemas: {', '.join(self.schemas)} (or all)",
            )
        return list(self.environments.values()), self.select_schemas(names)

    def is_schema(self, name: str) -> bool:
        """Whether ``name`` is a configured schema (``cdb_latiss`` too), or ``all``."""
        return name.lower() == "all" or name.lower().removeprefix("cdb_") in self.schemas

    def schema_named(self, name: str) -> str:
        """The configured schema called ``name``; ``cdb_latiss`` is accepted for ``latiss``."""
        wanted = name.lower().removeprefix("cdb_")
        if wanted in self.schemas:
            return wanted
        misplaced = self.is_environment(name)
        raise UsageError(
            f"unknown schema {name!r}{'' if misplaced else did_you_mean(wanted, self.schemas)}",
            usage=f"schemas: {', '.join(self.schemas)}",
            hint=f"{name} is an environment: the environment comes before the schemas." if misplaced else None,
        )

    def select_schemas(self, names: list[str]) -> list[str]:
        """Schemas named on a command line, in configuration order; none or ``all`` means every one."""
        if not names or any(name.lower() == "all" for name in names):
            return list(self.schemas)
        try:
            wanted = {self.schema_named(name) for name in names}
        except UsageError as error:
            raise UsageError(error.message, usage=f"{error.usage} (or all)", hint=error.hint) from None
        return [schema for schema in self.schemas if schema in wanted]

    def proven_first_at(self, env: Environment, schema: str) -> Environment | None:
        """Where a target of ``schema`` must have succeeded before ``env`` may reach it: the first
        environment of its ``requires_tested_on`` that keeps the schema (none: no such rule for it)."""
        candidates = (self.environment(name) for name in env.requires_tested_on)
        return next((candidate for candidate in candidates if candidate.keeps(schema)), None)

    def schemas_at(self, env: Environment, names: list[str]) -> list[str]:
        """Schemas named on a command line that acts on one environment; none or ``all`` means those it
        keeps. Naming one it does not keep is refused: there is nothing of it there to act on."""
        selected = self.select_schemas(names)
        absent = [schema for schema in selected if not env.keeps(schema)]
        if absent and names and not any(name.lower() == "all" for name in names):
            kept = ", ".join(schema for schema in self.schemas if env.keeps(schema))
            raise UsageError(
                f"{env.key} does not keep {', '.join(absent)}",
                usage=f"schemas at {env.key}: {kept}",
                hint=f"environments.{env.key}.schemas in the configuration lists what it keeps.",
            )
        return [schema for schema in selected if env.keeps(schema)]


class Inconsistent(ValueError):
    """Keys that are well formed alone but wrong together, each with where it is in the file."""

    def __init__(self, problems: list[tuple[tuple[str, ...], str]]) -> None:
        super().__init__("; ".join(f"{'.'.join(location)}: {message}" for location, message in problems))
        self.problems = problems


def _environment_named(
    seen: dict[str, str], name: str, location: tuple[str, ...], itself: str
) -> list[tuple[tuple[str, ...], str]]:
    """The problem with a key that must name another environment, if any."""
    if name.lower() not in seen:
        return [(location, f"unknown environment {name!r}{did_you_mean(name, seen)}")]
    if seen[name.lower()] == itself:
        return [(location, f"names {itself} itself; name another environment")]
    return []


def config_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_FILE)


def load_settings(path: str | Path, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, interpolate and validate a configuration file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(
            f"cannot read the configuration {path}: {error.strerror}",
            hint=f"Write a starting one with `{_init_command(path)}`, or pass --config FILE or set {CONFIG_ENV_VAR}"
            " to one you have.",
        ) from error
    return parse_settings(text, source=str(path), environ=os.environ if environ is None else environ)


def _init_command(path: Path) -> str:
    """The command that writes a starting configuration at ``path``."""
    return "consdb-bot init" if path == Path(DEFAULT_CONFIG_FILE) else f"consdb-bot init --config {path}"


def parse_settings(text: str, *, source: str = "<memory>", environ: Mapping[str, str]) -> Settings:
    lines: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            raise ConfigError(f"{source} is empty")
        data = _interpolate(root, (), lines, _Reader(text, environ))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{source} is not valid YAML{where}: {getattr(error, 'problem', error)}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping of settings")
    data["source"] = source
    try:
        return Settings.model_validate(data)
    except ValidationError as error:
        problems = [line for problem in error.errors() for line in _described(problem, lines, data)]
        raise ConfigError(f"{source} has {plural(len(problems), 'problem')}:", problems=problems) from None


@dataclass
class _Reader:
    """What the walk over the YAML nodes needs: a constructor for scalars, and the environment."""

    text: str
    environ: Mapping[str, str]

    def __post_init__(self) -> None:
        self.loader = yaml.SafeLoader(self.text)

    def scalar(self, node: yaml.Node) -> Any:
        return self.loader.construct_object(node, deep=True)


def _interpolate(node: yaml.Node, path: tuple[str, ...], lines: dict[tuple[str, ...], int], reader: _Reader) -> Any:
    """Build the value of ``node`` with ``${VAR}`` replaced, remembering every key's line."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = str(reader.scalar(key_node))
            child = (*path, key)
            if key in result:
                raise ConfigError(
                    f"{'.'.join(child)} (line {key_node.start_mark.line + 1}) is given twice; keep one of them"
                )
            result[key] = _interpolate(value_node, child, lines, reader)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_interpolate(item, (*path, str(index)), lines, reader) for index, item in enumerate(node.value)]
    value = reader.scalar(node)
    if isinstance(value, str):
        return _substitute(value, key=".".join(path), line=lines[path], environ=reader.environ)
    return value


def referenced_variables(text: str) -> list[tuple[str, bool]]:
    """The environment variables a configuration's values read (``${NAME}`` and ``${NAME:-default}``), in
    order, each with whether it has a default; what comments say is no reference."""
    found: list[tuple[str, bool]] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.extend((match["name"], match["default"] is not None) for match in _REFERENCE.finditer(value))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(yaml.safe_load(text))
    return found


def _substitute(text: str, *, key: str, line: int, environ: Mapping[str, str]) -> str | Unset:
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        if environ.get(name):
            return environ[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    result = _REFERENCE.sub(replace, text)
    return Unset(missing[0], key, line) if missing else result


def _described(problem: Mapping[str, Any], lines: dict[tuple[str, ...], int], data: dict[str, Any]) -> list[str]:
    """One line per problem; keys wrong together are told each at its own key and line."""
    error = problem.get("ctx", {}).get("error")
    if isinstance(error, Inconsistent):
        return [f"{_where(location, lines)}: {message}" for location, message in error.problems]
    return [_describe(problem, lines, data)]


def _where(location: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> str:
    key = ".".join(location) or "(top level)"
    line = next((lines[location[:n]] for n in range(len(location), -1, -1) if location[:n] in lines), None)
    return f"{key} (line {line})" if line else key


def _describe(problem: Mapping[str, Any], lines: dict[tuple[str, ...], int], data: dict[str, Any]) -> str:
    location = tuple(str(part) for part in problem["loc"])
    where = _where(location, lines)
    given = problem.get("input")
    if isinstance(given, Unset):
        return f"{where}: needs the environment variable {given.variable}, which is not set"
    if problem["type"] == "extra_forbidden":
        return f"{where}: unknown key{did_you_mean(location[-1], _keys_at(location[:-1])) or ' (check its spelling)'}"
    if problem["type"] == "missing":
        return f"{where}: required, but missing"
    return f"{where}: {problem['msg'].removeprefix('Value error, ')}"


def _keys_at(location: tuple[str, ...]) -> list[str]:
    """The keys the file may have in the mapping at ``location`` (``environments.bts``: an environment's)."""
    kind: Any = Settings
    for part in location:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields.get(part)
            kind = field.annotation if field else None
        else:
            kind = get_args(kind)[1] if get_origin(kind) is dict else None
        kind = _mapping_of(kind)
    return list(kind.model_fields) if isinstance(kind, type) and issubclass(kind, BaseModel) else []


def _mapping_of(kind: Any) -> Any:
    """Of a key's type, the part that is a mapping (a section or a dict), if any: ``Tap | None`` is ``Tap``."""
    if get_origin(kind) in (Union, types.UnionType):
        return next((_mapping_of(arg) for arg in get_args(kind) if _mapping_of(arg) is not None), None)
    if get_origin(kind) is dict or (isinstance(kind, type) and issubclass(kind, BaseModel)):
        return kind
    return None
