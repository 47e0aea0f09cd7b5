"""An hinfo stand-in: after each migration of its schema, a few exposures written as hinfo writes them,
their rows in the database and hinfo's log lines about them.

How it learns of a migration: it reads the schema's Alembic version table each time it is stepped (the
sandbox steps it twice a second; a test steps it by hand). The bot migrates in a process of its own and by
several paths (Slack, the terminal, a rollout), and every path ends in that table, committed with the
migration's DDL: so the stand-in sees a migration when the database has it, whoever ran it, and nothing in
the bot has to know that a stand-in listens. Any change of the recorded revision counts, back or forth.

What it writes: ``exposures`` exposures, the first started ``cadence`` after the migration was seen and
each ``cadence`` after the one before, as a person taking test images does (seed 000's "take an image").
An exposure is written once its time has come by the clock, never before, with the columns the table has
then: so a migration's new columns are filled. Their values are those of hinfo where the column is one it
derives (``exposure_id``, ``day_obs``, ``seq_num``, the TAI times of ``obs_start``...), else a plain value
of the column's type; a column of another type (pgSphere's, arrays) is left NULL.

``day_obs`` is ConsDB's: ``ObservationInfo.observing_day``, the date twelve hours behind (TAI, as the
obs_lsst translators count it), the same at every site whatever its time zone: a night keeps one day_obs
from noon to noon TAI (11:59:23 UTC; 08:59:23 at La Serena in December). ``seq_num`` goes on from the night's last one.

Its log lines have the format of upstream's (``lsst.consdb.utils.setup_logging``: level, time, logger,
file and line, message) and say what upstream's ``process_resource`` says, stamped by the clock when
written (the pod's clock is UTC).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import psycopg
from psycopg import sql

from bot.engine.exposures import TAI_MINUS_UTC, day_obs

MJD_ZERO = datetime(1858, 11, 17)
LOGGER = "consdb.hinfo"
# Where upstream's hinfo.py logs each line (python/lsst/consdb/hinfo.py), for the "(hinfo.py:N)" part.
AT_START, AT_CONSUMER, AT_MESSAGE, AT_OBTAINED, AT_TRANSLATED, AT_COMMITTED, AT_EXCEPTION = (
    784, 949, 899, 594, 628, 694, 913
)  # fmt: skip


@dataclass(frozen=True)
class Camera:
    """What hinfo's deployment for an instrument is told (``INSTRUMENT``), and how its headers are named."""

    instrument: str
    header_service: str
    prefix: str
    detectors: int
    """How many ccdexposure rows an exposure gets here (LSSTCam has 205 detectors; a few do)."""


CAMERAS = {
    "latiss": Camera("LATISS", "ATHeaderService", "AT", 1),
    "lsstcomcam": Camera("LSSTComCam", "CCHeaderService", "CC", 9),
    "lsstcam": Camera("LSSTCam", "MTHeaderService", "MC", 4),
}


def log_line(moment: datetime, at_line: int, message: str, *, level: str = "INFO") -> str:
    """One line in upstream's format: ``INFO 2026-12-01 14:00:03,000 consdb.hinfo (hinfo.py:694) - ...``."""
    utc = moment.astimezone(UTC)
    return f"{level} {utc:%Y-%m-%d %H:%M:%S},{utc.microsecond // 1000:03d} {LOGGER} (hinfo.py:{at_line}) - {message}"


class HinfoLog:
    """The pod's log, as the Kubernetes stand-in serves it: lines only ever added, each with when it was written."""

    def __init__(self) -> None:
        self._lines: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return len(self._lines)

    def line(self, index: int) -> str:
        return self._lines[index][1]

    def written(self, index: int) -> float:
        return self._lines[index][0]

    def add(self, moment: datetime, at_line: int, message: str, *, level: str = "INFO") -> None:
        with self._lock:
            self._lines.append((moment.timestamp(), log_line(moment, at_line, message, level=level)))

    def add_raw(self, moment: datetime, text: str) -> None:
        """A line as written, without the logger's format: the last line of a traceback."""
        with self._lock:
            self._lines.append((moment.timestamp(), text))

    def text(self) -> list[str]:
        return [line for _, line in self._lines]


@dataclass(frozen=True)
class Written:
    """An exposure the stand-in committed: its night, number and header file."""

    day_obs: int
    seq_num: int
    resource: str


class FakeHinfo:
    """``with FakeHinfo(url, "latiss", ...) as hinfo:`` steps itself twice a second until the block ends;
    a test calls :meth:`start` and then :meth:`step` after moving its clock."""

    def __init__(
        self,
        url: str,
        schema: str,
        *,
        schema_name: str,
        version_table: tuple[str, str],
        host: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        exposures: int = 3,
        cadence: timedelta = timedelta(seconds=3),
        exposure_time: timedelta = timedelta(seconds=1),
        every: float = 0.5,
    ) -> None:
        """``host``: where the site's header files are served (``s3.ls.lsst.org`` at the Base)."""
        self.url, self.schema_name, self.version_table = url, schema_name, version_table
        self.camera = CAMERAS[schema]
        self.host, self.clock, self.every = host, clock, every
        self.exposures, self.cadence, self.exposure_time = exposures, cadence, exposure_time
        self.log = HinfoLog()
        self._seen: str | None = None
        self._due: list[datetime] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> None:
        """The pod starts: the revision it finds is not a migration; it says what upstream's says at start."""
        self._seen = self._version()
        now = self.clock()
        self.log.add(now, AT_START, f"instrument={self.camera.instrument!r}")
        self.log.add(now, AT_CONSUMER, "Consumer started")

    def step(self) -> list[Written]:
        """Look at the version table once, then write each exposure whose end has come."""
        now = self.clock()
        version = self._version()
        if version != self._seen:
            self._seen = version
            if version is not None:
                self._due += [now + self.cadence * (k + 1) for k in range(self.exposures)]
        done = []
        while self._due and self._due[0] <= now:
            ended = self._due.pop(0)
            written = self._write(ended - self.exposure_time, ended)
            if written:
                done.append(written)
        return done

    def __enter__(self) -> Self:
        self.start()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _serve(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.step()
            except psycopg.Error:  # the database is away or busy for a moment: look again next time
                continue

    def _version(self) -> str | None:
        """The revision recorded, or None where the schema has no version table (yet)."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as connection:
            if not _exists(connection, sql.Identifier(*self.version_table)):
                return None
            rows = connection.execute(
                sql.SQL("SELECT version_num FROM {} ORDER BY version_num").format(sql.Identifier(*self.version_table))
            ).fetchall()
        return ",".join(str(row[0]) for row in rows) or None

    def _write(self, started: datetime, ended: datetime) -> Written | None:
        """One exposure, as ``process_resource`` handles a header: the rows in one transaction, then "Committed".

        A failure is logged as hinfo logs one (``Exception while handling``), and the exposure is lost."""
        night = day_obs(started + TAI_MINUS_UTC)
        service = self.camera.header_service
        url = f"https://{self.host}/rubinobs-lfa-cp/{service}/header/{night // 10000:04d}/{night // 100 % 100:02d}/"
        url += f"{night % 100:02d}/"
        try:
            with psycopg.connect(self.url, connect_timeout=5) as connection:
                seq_num = self._next(connection, night)
                name = f"{self.camera.prefix}_O_{night}_{seq_num:06d}"
                resource = f"{service}_header_{name}.yaml"
                url += resource
                self.log.add(self.clock(), AT_MESSAGE, f"Received Kafka message for resource: {url}")
                self.log.add(self.clock(), AT_OBTAINED, f"Obtained for processing: {resource}")
                self.log.add(self.clock(), AT_TRANSLATED, f"Completed metadata translation: {resource}")
                exposure_id = night * 100_000 + seq_num
                times = _times(started, ended)
                self._insert(connection, "exposure", _exposure_values(exposure_id, name, night, seq_num, times), times)
                if _exists(connection, sql.Identifier(self.schema_name, "ccdexposure")):
                    for detector in range(self.camera.detectors):
                        known = {"ccdexposure_id": exposure_id * 1000 + detector, "exposure_id": exposure_id,
                                 "day_obs": night, "seq_num": seq_num, "detector": detector}  # fmt: skip
                        self._insert(connection, "ccdexposure", known, times)
        except psycopg.Error as error:
            self.log.add(self.clock(), AT_EXCEPTION, f"Exception while handling {url}", level="ERROR")
            self.log.add_raw(self.clock(), f"{type(error).__module__}.{type(error).__name__}: {error}".splitlines()[0])
            return None
        self.log.add(
            self.clock(), AT_COMMITTED, f"Committed to exposure and ccdexposure table: {resource} ({night}/{seq_num})"
        )
        return Written(night, seq_num, resource)

    def _next(self, connection: psycopg.Connection[Any], night: int) -> int:
        """The night's next seq_num: one past the last the table has."""
        row = connection.execute(
            sql.SQL("SELECT coalesce(max(seq_num), 0) + 1 FROM {} WHERE day_obs = %s").format(
                sql.Identifier(self.schema_name, "exposure")
            ),
            (night,),
        ).fetchone()
        return int(row[0]) if row else 1

    def _insert(
        self, connection: psycopg.Connection[Any], table: str, known: dict[str, Any], times: tuple[datetime, datetime]
    ) -> None:
        """A row of ``table`` with every column it has now: ``known`` values, else a plain one of its type."""
        columns = connection.execute(
            "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s AND is_generated = 'NEVER'"
            " AND NOT (is_identity = 'YES' AND identity_generation = 'ALWAYS') ORDER BY ordinal_position",
            (self.schema_name, table),
        ).fetchall()
        values = {name: known.get(name, _plain(kind, length, times[0])) for name, kind, length in columns}
        filled = {name: value for name, value in values.items() if value is not None}
        connection.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(self.schema_name, table),
                sql.SQL(", ").join(sql.Identifier(name) for name in filled),
                sql.SQL(", ").join(sql.Placeholder() * len(filled)),
            ),
            list(filled.values()),
        )


def _exists(connection: psycopg.Connection[Any], table: sql.Identifier) -> bool:
    row = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (table.as_string(connection),)).fetchone()
    return bool(row and row[0])


def _times(started: datetime, ended: datetime) -> tuple[datetime, datetime]:
    """An exposure's start and end as hinfo writes them: TAI, without zone (``datetime_begin.tai.isot``)."""
    return (started.astimezone(UTC) + TAI_MINUS_UTC).replace(tzinfo=None), (
        ended.astimezone(UTC) + TAI_MINUS_UTC
    ).replace(tzinfo=None)


def _exposure_values(
    exposure_id: int, name: str, night: int, seq_num: int, times: tuple[datetime, datetime]
) -> dict[str, Any]:
    """The exposure columns hinfo derives from a header, as it derives them."""
    begin, end = times
    middle = begin + (end - begin) / 2
    seconds = (end - begin).total_seconds()
    return {
        "exposure_id": exposure_id, "exposure_name": name, "controller": "O", "day_obs": night, "seq_num": seq_num,
        "obs_start": begin, "obs_end": end, "exp_midpt": middle, "obs_start_mjd": _mjd(begin),
        "obs_end_mjd": _mjd(end), "exp_midpt_mjd": _mjd(middle), "exp_time": seconds, "shut_time": seconds,
        "dark_time": seconds, "img_type": "ENGTEST", "group_id": begin.isoformat(timespec="milliseconds"),
    }  # fmt: skip


def _mjd(tai: datetime) -> float:
    return (tai - MJD_ZERO).total_seconds() / 86400


def _plain(kind: str, length: int | None, moment: datetime) -> Any:
    """A value of a column's type, for the columns the stand-in does not derive (a time: the exposure's start,
    in TAI); None for other types."""
    text = "sandbox"[: length or None]
    utc = (moment - TAI_MINUS_UTC).replace(tzinfo=UTC)
    plain: dict[str, Any] = {
        "smallint": 1, "integer": 1, "bigint": 1, "real": 0.5, "double precision": 0.5, "numeric": 0.5,
        "boolean": True, "character varying": text, "character": text, "text": text,
        "timestamp without time zone": moment, "timestamp with time zone": utc, "date": moment.date(),
    }  # fmt: skip
    return plain.get(kind)
