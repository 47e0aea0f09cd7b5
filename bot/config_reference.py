"""The configuration reference, docs/configuration.md, written from the models in :mod:`bot.config`.

The models are the truth about the file (what loads, what is refused, the defaults), so the reference
is made from them rather than beside them: ``python -m bot.config_reference > docs/configuration.md``,
and tests/test_docs.py fails when the committed page differs. A key's description is its docstring.
"""

from __future__ import annotations

import json
import re
import sys
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bot.config import CONFIG_ENV_VAR, DEFAULT_CONFIG_FILE, Settings, Unset

COMMAND = "python -m bot.config_reference > docs/configuration.md"

INTRO = f"""\
# Configuration reference

<!-- Written by `{COMMAND}` from the models in bot/config.py: change their docstrings, not this page. -->

The bot reads one YAML file: `--config FILE`, else the file `{CONFIG_ENV_VAR}` names, else
`{DEFAULT_CONFIG_FILE}` in the working directory. `consdb-bot init` writes a complete example there
(`--config FILE`: elsewhere), the one the package ships as `bot/consdb-bot.example.yaml` (and
`deploy/consdb-bot.example.yaml` is the same file): the acceptance contract
(`../shared/contract/config.yaml`) plus the keys it adds, at their defaults (a test keeps it so).

- `${{VAR}}` and `${{VAR:-default}}` are read from the environment when the file is loaded. Where the
  type below says "`${{VAR}}` may be unset", a variable that is not set is an error only for a command
  that needs that value (`status bts` works with only `BTS_DATABASE_URL` set); anywhere else it is an
  error at load, naming it.
- A wrong file gets one error per problem, naming the key and its line; unknown keys are errors (they
  are usually misspellings). The command stops with exit status 2.
- Secrets never live in the file: database URLs, the Slack tokens and `JIRA_TOKEN` come from the
  environment (the variables are listed in [operations](operations.md#environment-variables)).
"""


def reference() -> str:
    """The whole page: the top level, then each section in the order the file has them."""
    sections: dict[type[BaseModel], list[str]] = {}
    _collect(Settings, "", sections)
    parts = [INTRO]
    for model, paths in sections.items():
        title = "Top level" if paths == [""] else " and ".join(f"`{path}`" for path in paths)
        parts.append(f"## {title}\n\n{_prose(model.__doc__ or '')}\n\n{_table(model, paths[0])}")
    return "\n".join(parts)


def _collect(model: type[BaseModel], path: str, sections: dict[type[BaseModel], list[str]]) -> None:
    """Every model reachable from ``model``, with the key paths where it appears in the file."""
    seen = model in sections
    sections.setdefault(model, []).append(path)
    if seen:
        return
    for name, field in _keys(model):
        key = f"{path}.{name}" if path else name
        if get_origin(field.annotation) is dict:
            key += ".NAME"
        for inner in _models_in(field.annotation):
            _collect(inner, key, sections)


def _keys(model: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    """The keys a person writes: fields the loader fills in itself are left out."""
    return [(name, field) for name, field in model.model_fields.items() if not field.exclude]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in get_args(annotation) for model in _models_in(argument)]


def _table(model: type[BaseModel], path: str) -> str:
    rows = ["| key | type | required | default | description |", "|---|---|---|---|---|"]
    for name, field in _keys(model):
        if not field.description:
            raise ValueError(f"{model.__name__}.{name} has no docstring: say in bot/config.py what the key is for")
        default = "" if field.is_required() else _default(field.default)
        cells = [f"`{name}`", _type(field), "yes" if field.is_required() else "no", default, _prose(field.description)]
        # A pipe inside a cell (a pattern's ``a|b``) is escaped so that it does not end the cell.
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    prefix = f"Keys under `{path}`" if path else "Keys at the top of the file"
    return f"{prefix}:\n\n" + "\n".join(rows) + "\n"


def _type(field: FieldInfo) -> str:
    text = _type_name(field.annotation)
    bounds = []
    for item in field.metadata:
        for attribute, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if getattr(item, attribute, None) is not None:
                bounds.append(f"{sign} {getattr(item, attribute)}")
        if getattr(item, "pattern", None):
            bounds.append(f"matching `{item.pattern}`")
    return f"{text} {', '.join(bounds)}" if bounds else text


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) in (Union, types.UnionType):
        arguments = get_args(annotation)
        named = [_type_name(argument) for argument in arguments if argument not in (Unset, type(None))]
        text = " or ".join(named)
        if Unset in arguments:
            text += " (`${VAR}` may be unset)"
        if type(None) in arguments:
            text += " or null"
        return text
    if get_origin(annotation) is list:
        return f"list of {_type_name(get_args(annotation)[0])}s"
    if get_origin(annotation) is dict:
        key, value = get_args(annotation)
        if _models_in(value):
            return "mapping: a section (below) per name"
        return f"mapping of {_type_name(key)} to {_type_name(value)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section (below)"
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    return names[annotation]


def _default(value: Any) -> str:
    if isinstance(value, BaseModel):
        return "its keys' defaults"
    return f"`{value}`" if isinstance(value, str) and value else f"`{json.dumps(value)}`"


def _prose(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


if __name__ == "__main__":
    sys.stdout.write(reference())
