"""What a TAP service says of its own schema: ``TAP_SCHEMA.columns``, asked in ADQL at its sync endpoint.

``POST {url}/sync`` with ``LANG=ADQL``, ``REQUEST=doQuery`` and the query, as IVOA TAP 1.1 says; the
answer is a VOTable (after a redirect, as CADC's TAP gives it), in TABLEDATA as CADC's TAP writes it. A service that
refuses the query says so in the VOTable's ``QUERY_STATUS``, and that is what the error says. The
token, when there is one, goes only to the service's own host.
"""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any
from xml.etree import ElementTree

from bot.errors import Refused

COLUMNS = (
    "table_name", "column_name", "datatype", "arraysize", "xtype", "unit", "ucd", "utype", "description",
    "principal", "std", "indexed", "column_index",
)  # fmt: skip
"""The columns of ``TAP_SCHEMA.columns`` asked for (TAP 1.1's)."""
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
INTEGERS = ("short", "int", "long", "unsignedByte")
MOST_BYTES = 32 * 1024 * 1024
"""The largest answer read: TAP_SCHEMA's columns of a few schemas are well under a megabyte."""


def columns_query(schema_names: Sequence[str]) -> str:
    """The ADQL for the rows of these schemas (plain names only: they are written into the query)."""
    for name in schema_names:
        if not PLAIN_NAME.fullmatch(name):
            raise Refused(f"{name!r} is not a plain schema name, so TAP is not asked about it")
    where = " OR ".join(f"table_name LIKE '{name}.%'" for name in schema_names)
    return f"SELECT {', '.join(COLUMNS)} FROM TAP_SCHEMA.columns WHERE {where}"


def sync_columns(
    url: str, schema_names: Sequence[str], *, token: str | None, timeout: float
) -> dict[str, list[dict[str, Any]]]:
    """Each schema's rows of ``TAP_SCHEMA.columns`` as the service answers them (none: it has no such schema)."""
    address = f"{url.rstrip('/')}/sync"
    parts = urllib.parse.urlsplit(address)
    # As shown in answers: without userinfo or query, which may carry a secret.
    sync = urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    if "@" in parts.netloc:  # urllib takes it for the host, and its errors would show the password
        raise Refused(
            f"TAP at {sync} is given a user and password in tap.sync_url, which the bot does not send",
            hint="Give the TAP service's token in tap.token, and its URL without them.",
        )
    body = urllib.parse.urlencode({"LANG": "ADQL", "REQUEST": "doQuery", "QUERY": columns_query(schema_names)})
    request = urllib.request.Request(address, data=body.encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if token:
        request.add_unredirected_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(_SameHostAuthorization(address, token))
    try:
        with opener.open(request, timeout=timeout) as response:
            data = response.read(MOST_BYTES + 1)
    except urllib.error.HTTPError as error:
        said = "refused the token" if error.code in (401, 403) else "answered"
        raise Refused(
            f"TAP at {sync} {said}: HTTP {error.code}",
            hint="Check tap.token (a token the TAP service accepts)." if error.code in (401, 403) else None,
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise Refused(f"cannot reach TAP at {sync}: {reason}", hint="Check that it is up, and tap.sync_url.") from None
    if len(data) > MOST_BYTES:
        raise Refused(f"TAP at {sync} answered more than {MOST_BYTES // (1024 * 1024)} MiB; that is not TAP_SCHEMA")
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in schema_names}
    for row in _rows(data, sync):
        schema = str(row.get("table_name") or "").split(".", 1)[0]
        if schema in found and row.get("column_name"):
            found[schema].append(row)
    return found


def _rows(data: bytes, sync: str) -> list[dict[str, Any]]:
    """The rows of the VOTable's first table (TABLEDATA, as TAP services write it), with integers as
    integers and an empty cell as None; or the service's own reason for refusing the query."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise Refused(f"TAP at {sync} did not answer a VOTable: {error}") from None
    for info in _all(root, "INFO"):
        if info.get("name") == "QUERY_STATUS" and info.get("value") == "ERROR":
            reason = " ".join((info.text or "").split()) or "no reason given"
            raise Refused(f"TAP at {sync} refused the query: {reason}")
    table = next(_all(root, "TABLE"), None)
    if table is None or _local(root.tag) != "VOTABLE":
        raise Refused(f"TAP at {sync} answered no VOTable table")
    fields = [(field.get("name", ""), field.get("datatype", "")) for field in _all(table, "FIELD")]
    missing = [name for name in ("table_name", "column_name") if name not in {name for name, _ in fields}]
    if missing:
        raise Refused(f"TAP at {sync} answered no {', '.join(missing)}: that is not TAP_SCHEMA.columns")
    if next(_all(table, "BINARY"), None) is not None or next(_all(table, "BINARY2"), None) is not None:
        raise Refused(f"TAP at {sync} answered a binary VOTable; the bot reads TABLEDATA")
    return [
        {name: _value(cell.text, datatype) for (name, datatype), cell in zip(fields, _all(row, "TD"), strict=False)}
        for row in _all(table, "TR")
    ]


def _all(element: ElementTree.Element, name: str) -> Iterator[ElementTree.Element]:
    """Descendants called ``name``, whatever the VOTable version's namespace."""
    return (child for child in element.iter() if _local(child.tag) == name)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _value(text: str | None, datatype: str) -> str | int | None:
    if text is None or not text.strip():
        return None
    if datatype in INTEGERS:
        try:
            return int(text)
        except ValueError:
            return text.strip()
    return text


class _SameHostAuthorization(urllib.request.HTTPRedirectHandler):
    """Follows the redirect to the result, with the token only if it stays on the service's host and scheme
    (never from https to http, where it would travel in clear)."""

    def __init__(self, url: str, token: str | None) -> None:
        parts = urllib.parse.urlsplit(url)
        self.place = (parts.scheme, parts.netloc)
        self.token = token

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        parts = urllib.parse.urlsplit(newurl)
        if new is not None and self.token and (parts.scheme, parts.netloc) == self.place:
            new.add_unredirected_header("Authorization", f"Bearer {self.token}")
        return new
