"""What pqserver should serve after a restart: the environment's latest change, the tables it touched, and
pqserver's columns against the database's for each (every restart ends so, on its own or after a
migration). And which environments have a change, for ``restart pqserver all``."""

from __future__ import annotations

from bot.clients.deployments import Deployments
from bot.clients.pqserver import SchemaCheck, Seen, Wanted
from bot.config import Environment, Settings
from bot.engine.service import Engine
from bot.errors import ConsdbBotError
from bot.services.changes.requests import CHANGES_OF_SCHEMAS, ROLLOUT
from bot.store import Store
from bot.store.models import ChangeRequest

SCHEMA_CHANGES = sorted(CHANGES_OF_SCHEMAS | {ROLLOUT})
"""The requests that move an environment's schemas: upgrades, downgrades, stamps and rollouts."""


def latest_change(settings: Settings, store: Store, env: Environment) -> ChangeRequest | None:
    """The environment's latest change: the succeeded request of :data:`SCHEMA_CHANGES` that finished last
    there (a rollout changes the Summit and each replica it migrated)."""
    places = [env.key, *([settings.environment(env.replica.of).key] if env.replica else [])]
    return store.last_succeeded(SCHEMA_CHANGES, environments=places, where=lambda request: touches(request, env.key))


def touches(request: ChangeRequest, environment: str) -> bool:
    """Whether the request changed the environment's schemas."""
    replicas: dict[str, object] = request.binding.get("replicas", {}) if request.kind == ROLLOUT else {}
    return request.environment == environment or environment in replicas


def change_revisions(request: ChangeRequest) -> dict[str, list[str]]:
    """Per schema, the revisions a change left: what its run recorded, or a rollout's Summit target (its
    replicas follow the Summit)."""
    if request.kind == ROLLOUT:
        summit: dict[str, dict[str, list[str]]] = request.binding.get("summit", {})
        return {schema: list(bound["to"]) for schema, bound in summit.items()}
    return {schema: list(revisions) for schema, revisions in (request.reached or {}).items()}


def change_label(request: ChangeRequest) -> str:
    return f"#{request.id} {request.kind} {', '.join(request.schemas)}"


def check_pqserver(
    settings: Settings, engine: Engine, store: Store, deployments: Deployments, env: Environment
) -> SchemaCheck:
    """pqserver's columns against the database's (read-only), for each table of a ``cdb_*`` schema the
    environment's latest change touched: the tables it added columns to, or, when it added none (a
    downgrade, a stamp, a rollout, a new table), every table of its schemas. With no change recorded,
    every table of the environment's schemas."""
    if not env.pqserver_url:
        return SchemaCheck(env.key, Seen.NOT_ASKED)
    change = latest_change(settings, store, env)
    schemas = [schema for schema in change.schemas if env.keeps(schema)] if change else engine.schemas_at(env, [])
    added: dict[str, dict[str, list[str]]] = dict(change.added_columns or {}) if change else {}
    label = change_label(change) if change else ""
    wanted: Wanted = {}
    for schema in schemas:
        name = engine.tree.schema(schema).schema_name
        if name.startswith("cdb_"):  # pqserver serves the instruments' schemas, not the transformed EFD's
            wanted[name.removeprefix("cdb_")] = sorted(added[schema]) if added.get(schema) else None
    if not wanted:
        return SchemaCheck(env.key, Seen.NOTHING, change=label)
    try:
        database = engine.table_columns(env, [f"cdb_{instrument}" for instrument in wanted])
    except ConsdbBotError as error:
        return SchemaCheck(env.key, Seen.UNREADABLE, change=label, detail=error.message)
    return deployments.verify(env, wanted, database, change=label)
