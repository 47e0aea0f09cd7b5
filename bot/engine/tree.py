"""The migration tree: a ConsDB-style ``alembic.ini`` with one section per schema.

Revision files are read as text (``ast``), never imported: status must be fast, and a tree's
scripts may import heavy or foreign code (Felis, an upstream ``python/`` folder) that has no
business running inside the bot. The graph itself is Alembic's own :class:`RevisionMap`.

The running bot follows the files: a ``git pull`` in its tree is seen at the next command. Each
use of a schema's tree compares ``os.stat`` of the ini file and of the entries of its version
directories with what it last read, and reads again only the files that changed.
"""

from __future__ import annotations

import ast
import configparser
import functools
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script.revision import Revision, RevisionMap

from bot.config import BUNDLED
from bot.errors import ConfigError

BUNDLED_INI = Path(__file__).resolve().parents[2] / "migrations" / "alembic.ini"
DEFAULT_VERSION_TABLE_SCHEMA = "cdb"
_LINK_TEXT_LIMIT = 1024


@dataclass(frozen=True)
class RevisionInfo:
    """What the bot shows of one revision."""

    revision: str
    down_revisions: tuple[str, ...]
    message: str
    path: Path

    @property
    def short(self) -> str:
        return short(self.revision)


FileStamp = tuple[int, int, int, int]
"""What ``os.stat`` says of a file that changes when the file does: inode, size, mtime and ctime."""
Listing = tuple[tuple[Path, FileStamp], ...]
"""The ``.py`` files of a schema's version directories, each with its stamp."""


@dataclass(frozen=True)
class RevisionFile:
    """One file of a version directory as last read: its revision (None if it declares none) and
    the SHA-256 of its text."""

    info: RevisionInfo | None
    digest: str


class RevisionFiles:
    """The files of a tree read so far, each read again only when its stamp changes."""

    def __init__(self) -> None:
        self._read: dict[Path, tuple[FileStamp, RevisionFile]] = {}
        self._lock = threading.Lock()

    def read(self, path: Path, stamp: FileStamp) -> RevisionFile:
        with self._lock:
            known = self._read.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(
                f"revision file {path} went away while the tree was read", hint="Try again once the tree is updated."
            ) from None
        read = RevisionFile(_read_revision(path, content), hashlib.sha256(content).hexdigest())
        with self._lock:
            self._read[path] = (stamp, read)
        return read


class SchemaTree:
    """One section of the ini: a schema's revision graph and where it keeps its version.

    A snapshot of the files as they were when it was made (``listing``); :meth:`MigrationTree.schema`
    makes a new one when they change.
    """

    def __init__(self, ini_path: Path, section: str, files: RevisionFiles | None = None) -> None:
        self.section = section
        self.ini_path = ini_path
        self.config = Config(str(ini_path), ini_section=section)
        self.schema_name = self.config.get_main_option("consdb.schema_name") or f"cdb_{section}"
        self.version_table = self.config.get_main_option("consdb.version_table", f"{self.schema_name}_version")
        script_location = self.config.get_alembic_option("script_location")
        if not script_location:
            raise ConfigError(f"section [{section}] of {ini_path} has no script_location")
        # Relative locations are relative to the ini file's folder (upstream runs from there).
        self.script_directory = ini_path.parent / script_location
        self.version_directories = [
            ini_path.parent / location for location in self.config.get_version_locations_list() or ()
        ] or [self.script_directory / "versions"]
        if not (self.script_directory / "env.py").is_file():
            raise ConfigError(f"section [{section}] of {ini_path}: no env.py in {self.script_directory}")
        self.env_script = followed(self.script_directory / "env.py")
        self.version_table_schema = (
            self.config.get_main_option("consdb.version_table_schema")
            or _keyword_in(self.env_script, "version_table_schema")
            or DEFAULT_VERSION_TABLE_SCHEMA
        )
        self.listing = listing(self.version_directories)
        self._files = files or RevisionFiles()

    def alembic_config(self, **options: Any) -> Config:
        """Alembic's configuration of this section, pointed at the env.py and script.py.mako that run.

        The script location is made absolute: Alembic reads a relative one from the current folder, and
        the bot may run from anywhere. When the section's env.py is a link written as text (see
        :func:`followed`), Alembic runs from the folder the link names, with the section's own versions folder.
        """
        config = Config(str(self.ini_path), ini_section=self.section, **options)
        config.set_main_option("script_location", _escaped(self.env_script.parent))
        linked = self.env_script != self.script_directory / "env.py"
        if linked and not config.get_main_option("version_locations"):
            config.set_main_option("version_locations", _escaped(self.script_directory / "versions"))
        # Alembic's own default; without it, it warns and splits paths on spaces, commas and colons.
        config.set_main_option("path_separator", config.get_main_option("path_separator") or "os")
        return config

    @functools.cached_property
    def _read(self) -> dict[Path, RevisionFile]:
        return {path: self._files.read(path, stamp) for path, stamp in self.listing}

    @functools.cached_property
    def revisions(self) -> dict[str, RevisionInfo]:
        return {read.info.revision: read.info for read in self._read.values() if read.info is not None}

    @functools.cached_property
    def files(self) -> dict[str, str]:
        """Every file of the version directories, by its path from the ini file's folder: its SHA-256."""
        return {_relative(path, self.ini_path.parent): read.digest for path, read in self._read.items()}

    @functools.cached_property
    def graph(self) -> RevisionMap:
        def generate() -> Iterator[Revision]:
            for info in self.revisions.values():
                down = info.down_revisions
                yield Revision(info.revision, down[0] if len(down) == 1 else (down or None))

        return RevisionMap(generate)

    @property
    def heads(self) -> tuple[str, ...]:
        return tuple(sorted(self.graph.heads))

    def info(self, revision: str) -> RevisionInfo:
        return self.revisions[revision]

    def pending(self, *, current: tuple[str, ...], target: tuple[str, ...]) -> list[RevisionInfo]:
        """The revisions an upgrade from ``current`` to ``target`` applies, in the order applied."""
        lower = current or ("base",)
        steps = self.graph.iterate_revisions(target, lower if current else "base", implicit_base=True)
        ordered = [step.revision for step in steps if step.revision not in current]
        return [self.revisions[revision] for revision in reversed(ordered)]

    def removed(self, *, current: tuple[str, ...], target: str) -> list[RevisionInfo]:
        """The revisions a downgrade from ``current`` to ``target`` undoes, in the order undone."""
        steps = self.graph.iterate_revisions(current, target, select_for_downgrade=True, inclusive=False)
        return [self.revisions[step.revision] for step in steps if step.revision != target]

    def missing(self, *, current: tuple[str, ...], target: tuple[str, ...]) -> list[RevisionInfo]:
        """The revisions ``target`` stands on that ``current`` lacks, oldest first: none when ``current``
        is at ``target`` or beyond it (on any branch that contains it)."""
        lacking = self._with_ancestors(target) - self._with_ancestors(current)
        return [info for info in reversed(self.newest_first()) if info.revision in lacking]

    def _with_ancestors(self, revisions: Iterable[str]) -> set[str]:
        found: set[str] = set()
        waiting = list(revisions)
        while waiting:
            revision = waiting.pop()
            if revision not in found and revision in self.revisions:
                found.add(revision)
                waiting.extend(self.revisions[revision].down_revisions)
        return found

    def newest_first(self) -> list[RevisionInfo]:
        return [self.revisions[step.revision] for step in self.graph.iterate_revisions("heads", "base")]


class MigrationTree:
    """A ConsDB-style ini file: the bundled one or any tree laid out like lsst-dm/consdb."""

    def __init__(self, ini_path: Path) -> None:
        if not ini_path.is_file():
            raise ConfigError(
                f"no Alembic ini file at {ini_path}",
                hint="Set migrations.alembic_ini to 'bundled' or to the alembic.ini of a ConsDB checkout.",
            )
        self.ini_path = ini_path
        self._schemas: dict[str, SchemaTree] = {}
        self._ini_stamp: FileStamp | None = None
        self._files = RevisionFiles()

    @classmethod
    def from_setting(cls, setting: str) -> MigrationTree:
        return cls(BUNDLED_INI if setting == BUNDLED else Path(setting).expanduser().resolve())

    def has(self, section: str) -> bool:
        """Whether the ini has a section for this schema."""
        try:
            return Config(str(self.ini_path)).file_config.has_section(section)
        except configparser.Error as error:
            raise ConfigError(f"{self.ini_path} is not a readable ini file: {error.message}") from None

    def schema(self, section: str) -> SchemaTree:
        """The section's tree as its files are now: the one read before if nothing changed since."""
        ini_stamp = _stamp_of_ini(self.ini_path)
        if ini_stamp != self._ini_stamp:
            self._schemas = {}
            self._ini_stamp = ini_stamp
        known = self._schemas.get(section)
        if known is not None and known.listing == listing(known.version_directories):
            return known
        if known is None and not self.has(section):
            raise ConfigError(
                f"{self.ini_path} has no section [{section}]",
                hint="Add the schema's section to the ini file, or remove it from `schemas` in the configuration.",
            )
        tree = SchemaTree(self.ini_path, section, self._files)
        self._schemas[section] = tree
        return tree


def listing(directories: Iterable[Path]) -> Listing:
    """The ``.py`` files of these directories with their stamps, in a stable order; a missing directory
    has none."""
    found: list[tuple[Path, FileStamp]] = []
    for directory in directories:
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if entry.name.endswith(".py") and entry.is_file():
                found.append((Path(entry.path), _stamp(entry.stat())))
    return tuple(sorted(found))


def _stamp(stat: os.stat_result) -> FileStamp:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _stamp_of_ini(path: Path) -> FileStamp:
    try:
        return _stamp(path.stat())
    except OSError:
        raise ConfigError(
            f"no Alembic ini file at {path} (it was there when the bot started)",
            hint="Restore it, or set migrations.alembic_ini to the tree's alembic.ini.",
        ) from None


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)


def short(revision: str) -> str:
    """Twelve characters, as Alembic prints revision ids."""
    return revision[:12]


def revisions_text(revisions: Iterable[str]) -> str:
    """Where a schema stands, for people: short ids, or ``base`` for none."""
    return ", ".join(short(revision) for revision in revisions) or "base"


def followed(path: Path) -> Path:
    """``path``, or the file it names when it is a symbolic link checked out as a text file.

    Git writes a link as a small file holding the link's target wherever it does not make links
    (``core.symlinks=false``, some archives and copies); lsst-dm/consdb links every section's
    env.py and script.py.mako to the shared ones that way. Such a file is never valid Python.
    """
    if path.stat().st_size > _LINK_TEXT_LIMIT:
        return path
    target_text = path.read_text(errors="replace")
    if not target_text or any(character.isspace() for character in target_text):
        return path
    target = (path.parent / target_text).resolve()
    return target if target.is_file() and target.name == path.name and target != path.resolve() else path


def _keyword_in(script: Path, keyword: str) -> str | None:
    """The first literal string given as ``keyword=`` in a script, read without running it.

    lsst-dm/consdb's env.py files name their version table's schema only in their call to
    ``context.configure`` (``efd`` for the transformed-EFD schemas, ``cdb`` for the others).
    """
    try:
        module = ast.parse(script.read_text(errors="replace"), filename=str(script))
    except SyntaxError:
        return None
    for node in ast.walk(module):
        if isinstance(node, ast.keyword) and node.arg == keyword and isinstance(node.value, ast.Constant):
            return node.value.value if isinstance(node.value.value, str) else None
    return None


def _escaped(path: Path) -> str:
    """A path as an ini value: configparser interpolates ``%``."""
    return str(path).replace("%", "%%")


def _read_revision(path: Path, content: bytes) -> RevisionInfo | None:
    """The identifiers and message of a revision file, read without running it."""
    try:
        module = ast.parse(content, filename=str(path))
    except SyntaxError as error:
        raise ConfigError(f"revision file {path} does not parse: {error.msg} (line {error.lineno})") from error
    values: dict[str, object] = {}
    for node in module.body:
        target, value = _assignment(node)
        if target in ("revision", "down_revision") and value is not None:
            try:
                values[target] = ast.literal_eval(value)
            except ValueError:
                continue
    revision = values.get("revision")
    if not isinstance(revision, str):
        return None
    down = values.get("down_revision")
    downs = (down,) if isinstance(down, str) else tuple(down) if isinstance(down, (tuple, list)) else ()
    return RevisionInfo(revision, downs, _message(ast.get_docstring(module) or ""), path)


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


def _message(docstring: str) -> str:
    return docstring.strip().split("\n\n")[0].replace("\n", " ").strip()
