"""The module map holds: each module of ``bot/`` and ``handlers/`` imports only what its layer may.

The rules live here, once; docs/development.md shows them as a table, and a test keeps the two
equal. Every import counts: at module level or inside a function, ``from bot import x``, relative,
and those under ``if TYPE_CHECKING:`` (a type-only import still ties the layers together).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEVELOPMENT = REPO / "docs" / "development.md"

FOUNDATION = ("config", "config_reference", "errors", "grammar", "logs", "metrics", "when", "words")
"""The flat modules of ``bot/``: what every layer stands on."""

LAYERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # layer: (its modules, what it does, the other layers it may import)
    "foundation": (
        ", ".join(f"`bot/{name}.py`" for name in FOUNDATION),
        "settings, errors, the command grammar, logs, metrics, time, plurals",
        (),
    ),
    "store": ("`bot/store/`", "the bot's own state and its Alembic tree", ("foundation",)),
    "engine": ("`bot/engine/`", "Alembic trees, status, plans, drift, lint, generate, runs", ("foundation",)),
    "clients": ("`bot/clients/`", "Kubernetes, Jira, pqserver", ("foundation",)),
    "services": (
        "`bot/services/`",
        "change requests, bookings, tickets, reports, the scheduler",
        ("foundation", "store", "engine", "clients"),
    ),
    "render": (
        "`bot/render/`",
        "results as terminal text and Block Kit",
        # application: the typed results it renders (bot/application/results.py); never the other way.
        ("foundation", "store", "engine", "clients", "services", "application"),
    ),
    "application": (
        "`bot/application/`",
        "`run(command, actor) -> Result`, one place per command",
        ("foundation", "store", "engine", "clients", "services"),
    ),
    "slack": (
        "`bot/slack/`",
        "the HTTP and Socket Mode server, the process's wiring, Slack posting",
        ("foundation", "store", "engine", "clients", "services", "render", "application"),
    ),
    "handlers": (
        "`handlers/`",
        "Slack listeners: parse, run, render",
        ("foundation", "render", "application", "slack"),
    ),
    "terminal": (
        "`bot/terminal/`, `bot/__main__.py`",
        "the operator's command line",
        (
            "foundation",
            "store",
            "engine",
            "clients",
            "services",
            "render",
            "application",
            "slack",
            "handlers",
            "sandbox",
        ),
    ),
    "sandbox": (
        "`bot/sandbox/`",
        "the whole bot on one machine, and the stand-ins",
        ("foundation", "store", "engine", "clients", "services", "render", "application", "slack"),
    ),
}


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name of ours; None for a module the map does not place."""
    parts = module.split(".")
    if parts[0] == "handlers":
        return "handlers"
    if module in ("bot", "bot.__init__") or (len(parts) == 2 and parts[1] in FOUNDATION):
        return "foundation"
    if module == "bot.__main__":
        return "terminal"
    if len(parts) >= 2 and parts[1] in LAYERS and parts[1] != "foundation":
        return parts[1]
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    return {module_name(path): path for top in ("bot", "handlers") for path in sorted((REPO / top).rglob("*.py"))}


@dataclass(frozen=True)
class Edge:
    path: Path
    line: int
    importer: str
    imported: str

    def __str__(self) -> str:
        importer, imported = layer_of(self.importer), layer_of(self.imported)
        allowed = ", ".join(LAYERS[importer][2]) if importer else "?"
        return (
            f"{self.path.relative_to(REPO)}:{self.line}: {self.importer} → {self.imported}"
            f" ({importer} may import only {allowed or 'itself'}, not {imported})"
        )


def imports(module: str, path: Path, modules: dict[str, Path]) -> list[Edge]:
    """Every import of ours in the file, wherever it stands in it, resolved to a module of ours."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    edges: list[Edge] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from bot import config`` imports the module bot.config; ``from bot.x import Name`` imports bot.x.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        ours = dict.fromkeys(name for name in names if name.split(".")[0] in ("bot", "handlers"))
        edges += [Edge(path, node.lineno, module, name) for name in ours]
    return edges


def forbidden(edge: Edge) -> bool:
    importer, imported = layer_of(edge.importer), layer_of(edge.imported)
    return (
        importer is not None and imported is not None and imported != importer and imported not in LAYERS[importer][2]
    )


def all_edges() -> list[Edge]:
    modules = our_modules()
    return [edge for module, path in modules.items() for edge in imports(module, path, modules)]


def rules_table() -> str:
    """The rules as docs/development.md shows them."""
    rows = ["| layer | modules | does | may import (besides itself) |", "|---|---|---|---|"]
    for layer, (where, does, allowed) in LAYERS.items():
        rows.append(f"| {layer} | {where} | {does} | {', '.join(allowed) or 'nothing of ours'} |")
    return "\n".join(rows) + "\n"


def test_every_module_of_ours_has_a_place_on_the_map():
    unplaced = [str(path.relative_to(REPO)) for module, path in our_modules().items() if layer_of(module) is None]
    assert not unplaced, (
        "modules the map does not place (put them in a package, or add a foundation module to FOUNDATION"
        f" in tests/test_layers.py and to docs/development.md): {', '.join(unplaced)}"
    )


def test_no_module_imports_a_layer_it_may_not():
    edges = [edge for edge in all_edges() if forbidden(edge)]
    assert not edges, "imports that break the module map (docs/development.md):\n" + "\n".join(map(str, edges))


def test_the_walk_sees_every_form_of_import(tmp_path):
    """A function-level, a TYPE_CHECKING, a relative and a ``from bot import module`` import all count."""
    source = tmp_path / "bot" / "services" / "example.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from bot import config\n"
        "from ..render import text\n"
        "if TYPE_CHECKING:\n"
        "    from bot.slack.context import Context\n"
        "def later():\n"
        "    import bot.terminal.cli\n"
    )
    modules = {"bot.config": Path(), "bot.render.text": Path(), "bot.services.example": source}
    found = {
        (edge.line, edge.imported)
        for edge in imports("bot.services.example", source, modules)
        if forbidden(edge) or edge.imported == "bot.config"
    }
    assert found == {(2, "bot.config"), (3, "bot.render.text"), (5, "bot.slack.context"), (7, "bot.terminal.cli")}


def test_only_the_slack_app_builds_bolt_and_only_serve_hands_it_the_listeners():
    """``bot/slack/app.py`` builds the Bolt app; ``consdb-bot serve`` (bot/terminal/cli.py) gives it
    ``handlers.register``: the listeners import the Slack package, never the other way."""
    allowed = {"slack_bolt": "bot.slack.app", "handlers": "bot.terminal.cli"}
    wiring = []
    for module, path in our_modules().items():
        if module.startswith("handlers"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            wiring += [
                f"{path.relative_to(REPO)}:{node.lineno}: {name}"
                for name in names
                if allowed.get(name.split(".")[0], module) != module
            ]
    assert not wiring, "only bot/slack/app.py imports slack_bolt, only bot/terminal/cli.py handlers:\n" + "\n".join(
        wiring
    )


def test_development_md_shows_the_rules_as_this_test_has_them():
    assert rules_table() in DEVELOPMENT.read_text(), (
        "docs/development.md's module map differs from the rules in tests/test_layers.py;"
        f" put this table in it:\n\n{rules_table()}"
    )
