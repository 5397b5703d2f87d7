"""Connections to the engines gapwatch runs on: DuckDB (default), PostgreSQL and PySpark.

Each engine is reached through Ibis. The few things Ibis does not express (GROUPING
SETS) are sent as SQL in the engine's own dialect through :meth:`Engine.query`.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from gapwatch.engine import reading
from gapwatch.engine.notes import InputNote
from gapwatch.engine.session import Session
from gapwatch.errors import InputError, StoreError

_SUFFIXES = (".parquet", ".csv", ".csv.gz")

T = TypeVar("T")
#: Column types the configuration may pin for a CSV file (``column_types:``), as DuckDB names them.
CSV_TYPES = {"text": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "boolean": "BOOLEAN"}
#: Work that needs the engine's answers: it yields SQL (one statement, or a list of them to
#: run one after another) and is sent back the result (a frame, or a list of frames).
Job = Generator[str | list[str], Any, T]


class Engine:
    """An open engine and the input tables it can see."""

    def __init__(self, kind: str, connection: BaseBackend, dialect: str) -> None:
        self.kind = kind
        self.connection = connection
        self.dialect = dialect
        self._tables: dict[str, ir.Table] = {}
        self.locations: dict[str, str] = {}
        #: Every SQL statement sent through :meth:`query`, in order (for benchmarks and debugging).
        self.executed: list[str] = []
        #: What the engine worked out once per session (each table's LSOA codes, linked; each
        #: source's prepared expression), typed (:class:`gapwatch.engine.session.Session`).
        self.session = Session()
        #: SQL that stands in for a named placeholder table wherever a compiled statement
        #: reads it (see :meth:`define`).
        self.definitions: dict[str, str] = {}
        #: What the run's user should know about the input that did not stop it, one line each.
        self.warnings: list[str] = []
        #: The same, as records to publish (``input_notes``): one per column or indicator.
        self.notes: list[InputNote] = []
        #: Each input read from a file: the engine's name for it -> (path, input table).
        self.files: dict[str, tuple[Path, str]] = {}

    def quote(self, name: str) -> str:
        return f"`{name}`" if self.dialect == "spark" else f'"{name}"'

    def register_file(self, table: str, path: Path, types: Mapping[str, str] | None = None) -> None:
        """Make a Parquet or CSV file readable as ``table`` (read in place, not copied).

        CSV columns holding codes (:data:`gapwatch.engine.reading.TEXT_COLUMNS`) are read as
        text, so that leading zeros are kept; ``types`` pins others (``{"EPIORDER": "integer"}``,
        kinds as in :data:`CSV_TYPES`); the engine infers the rest from the first rows.
        """
        self.locations[table] = str(path)
        if not path.exists():
            raise InputError(f"{path}: input file for table {table!r} not found")
        if path.stat().st_size == 0:
            raise InputError(f"{path}: empty file (table {table!r})")
        name = f"input_{table}"
        self.files[name] = (path, table)
        try:
            if path.suffix == ".parquet":
                self._check_names(path, table, reading.parquet_names(path))
                read = self.connection.read_parquet(path, table_name=name)
                zones = reading.time_zones(path) if self.kind == "duckdb" else {}
                if zones:
                    # DuckDB keeps the instant, in UTC: Europe/London midnights would become the
                    # previous day. Dates are taken on the clock of the timestamp's own zone.
                    read = read.mutate(
                        **{column: reading.local_time(zone, read[column]) for column, zone in zones.items()}
                    )
                self._tables[table] = read
            else:
                problem = reading.encoding_problem(reading.first_bytes(path)[:64])
                if problem:
                    raise InputError(f"{path}: cannot read table {table!r}: the file {problem}")
                header = reading.csv_header(path)
                self._check_names(path, table, header)
                options: dict[str, Any] = {}
                if self.kind == "duckdb":
                    options["types"] = self._csv_types(path, table, header, types or {})
                read = self.connection.read_csv(path, table_name=name, **options)
                aware = [
                    column
                    for column, dtype in read.schema().items()
                    if self.kind == "duckdb"
                    and dtype.is_timestamp()
                    and dtype.timezone
                    and column not in options["types"]
                ]
                if aware:
                    # DuckDB reads 2024-07-01T00:00:00+01:00 as the instant, in UTC: a London
                    # midnight would become the previous day. Dates are taken on the clock the
                    # text was written in, as for time-zone-aware Parquet timestamps.
                    options["types"] = {**options["types"], **dict.fromkeys(aware, "VARCHAR")}
                    read = self.connection.read_csv(path, table_name=name, **options)
                    read = read.mutate(**{column: reading.written_time(read[column]) for column in aware})
                self._tables[table] = read
        except InputError:
            raise
        except Exception as error:  # the engines raise their own exception types
            raise InputError(reading.describe(error, path, table)) from None

    @staticmethod
    def _check_names(path: Path, table: str, names: list[str]) -> None:
        twice = reading.repeated(names)
        if twice:
            raise InputError(
                f"{path}: table {table!r} has more than one column named {' and '.join(map(repr, twice))}; "
                "each column needs its own name"
            )

    @staticmethod
    def _csv_types(path: Path, table: str, header: list[str], pinned: Mapping[str, str]) -> dict[str, str]:
        unknown = sorted(set(pinned) - set(header))
        if unknown:
            raise InputError(
                f"{path}: column_types names column {unknown[0]!r}, which table {table!r} does not have"
            )
        chosen = {column: "VARCHAR" for column in header if column.lower() in reading.TEXT_COLUMNS}
        for column, kind in pinned.items():
            chosen[column] = CSV_TYPES[kind]
        return chosen

    def register_database_table(self, table: str, name: str) -> None:
        self.locations[table] = f"table {name}"
        schema, _, bare = name.rpartition(".")
        try:
            self._tables[table] = self.connection.table(bare, database=schema or None)
        except Exception:
            raise InputError(f"database table {name!r} (input {table!r}) not found") from None

    def has(self, table: str) -> bool:
        return table in self._tables

    def table(self, table: str) -> ir.Table:
        try:
            return self._tables[table]
        except KeyError:
            raise InputError(
                f"input table {table!r} was not found; looked for {table}.parquet or {table}.csv"
            ) from None

    def compile(self, expression: ir.Table) -> str:
        sql = str(ibis.to_sql(expression, dialect=self.kind))
        for name, definition in self.definitions.items():
            sql = sql.replace(self.quote(name), f"({definition})")
        return sql

    def define(self, name: str, expression: ir.Table) -> ir.Table:
        """A placeholder table with the schema of ``expression``, compiled once.

        Expressions built on the placeholder compile to SQL that reads ``expression``'s own
        SQL as a subquery. Compiling a large expression again for every statement built on
        it cost more than some of the statements took to run.
        """
        self.definitions[name] = self.compile(expression)
        return ibis.table(expression.schema(), name=name)

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL in the engine's dialect and return the (aggregate) result as pandas."""
        connection: Any = self.connection
        self.executed.append(sql)
        if self.kind == "duckdb":
            try:
                return connection.con.execute(sql).df()
            except Exception as error:
                raise self._read_error(error, sql) from None
        if self.kind == "pyspark":
            return connection._session.sql(sql).toPandas()
        with connection.raw_sql(sql) as cursor:
            names = [column[0] for column in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=names)

    def _read_error(self, error: Exception, sql: str) -> Exception:
        """A problem in an input file met while a query read it, as registration reports it.

        DuckDB reads CSV and Parquet lazily: a bad value past the rows it sampled, or a
        damaged page, is only met by the query that reaches it. Other errors (in gapwatch's
        own SQL) are returned unchanged.
        """
        import duckdb

        readable = (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException)
        if not (isinstance(error, readable) or type(error) is duckdb.Error):
            return error
        read = [(path, table) for name, (path, table) in self.files.items() if self.quote(name) in sql]
        if len(read) != 1:
            named = [(path, table) for path, table in read if str(path) in str(error)]
            read = named or read
        if not read:
            return error
        return InputError(reading.describe(error, *read[0]))

    def replace(self, table: str, expression: ir.Table) -> None:
        """Read input ``table`` through ``expression`` from now on (e.g. with columns renamed)."""
        self._tables[table] = expression

    def run(self, job: Job[T]) -> T:
        """Run one :data:`Job` to its end and return what it returns."""
        return self.run_jobs([job])[0]

    def run_jobs(self, jobs: Sequence[Job[Any]], finished: Callable[[int], None] | None = None) -> list[Any]:
        """Run :data:`Job` s, the engine's statements in a thread of its own, and return what
        each job returns (``finished(index)`` is called as each ends).

        Every job is started in turn, so the engine is sent the first statements of all of
        them at once and runs them one after another, in the order they came; each job
        carries on (in this thread) with the answer to its oldest statement. Python working
        through one answer (labelling, summing) thus runs while the engine computes the
        next, instead of leaving a core idle: at a million people the engine's SQL and the
        Python around it took about as long as each other. Only the engine's own thread
        sends it statements, one at a time, so a connection is never used by two threads.
        """
        results: list[Any] = [None] * len(jobs)
        pending: deque[tuple[int, list[Future[pd.DataFrame]], bool]] = deque()
        sent: list[Future[pd.DataFrame]] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gapwatch-engine") as worker:

            def carry_on(index: int, answer: Any) -> None:
                try:
                    asked = jobs[index].send(answer)
                except StopIteration as stop:
                    results[index] = stop.value
                    if finished is not None:
                        finished(index)
                    return
                statements = asked if isinstance(asked, list) else [asked]
                futures = [worker.submit(self.query, statement) for statement in statements]
                sent.extend(futures)
                pending.append((index, futures, isinstance(asked, list)))

            try:
                for index in range(len(jobs)):
                    carry_on(index, None)
                while pending:
                    index, futures, many = pending.popleft()
                    answers = [future.result() for future in futures]
                    carry_on(index, answers if many else answers[0])
            except BaseException:
                # Statements not yet started are dropped; one running is stopped where the
                # engine can be interrupted, so that an error (or Ctrl-C) does not wait for it.
                for future in sent:
                    future.cancel()
                if self.kind == "duckdb":
                    self.connection.con.interrupt()
                for job in jobs:
                    job.close()
                raise
        return results

    def close(self) -> None:
        if self.kind != "pyspark":
            self.connection.disconnect()


def _spark_session() -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", "python3")
    return (
        SparkSession.builder.master("local[2]")
        .appName("gapwatch")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )


def open_engine(kind: str, database: str | None = None) -> Engine:
    """Open an engine: ``duckdb`` (in memory), ``postgres`` (``database`` URL) or ``pyspark``."""
    if kind == "duckdb":
        return Engine("duckdb", ibis.duckdb.connect(), "duckdb")
    if kind == "postgres":
        if not database:
            raise InputError("backend postgres needs a database URL (database: in the config, or --database)")
        try:
            return Engine("postgres", ibis.connect(database), "postgres")
        except ImportError:
            raise InputError(
                "backend postgres needs the postgres extra: pip install 'gapwatch[postgres]'"
            ) from None
        except Exception as error:
            raise StoreError(f"cannot connect to {_redact(database)}: {str(error).splitlines()[0]}") from None
    if kind == "pyspark":
        try:
            session = _spark_session()
        except ImportError:
            raise InputError("backend pyspark needs the spark extra: pip install 'gapwatch[spark]'") from None
        return Engine("pyspark", ibis.pyspark.connect(session), "spark")
    raise InputError(f"backend {kind!r} is not known; choose duckdb, postgres or pyspark")


def _redact(url: str) -> str:
    """A database URL without its password, for messages."""
    if "@" in url and ":" in url.split("@", 1)[0].split("//", 1)[-1]:
        scheme, rest = url.split("//", 1) if "//" in url else ("", url)
        credentials, host = rest.split("@", 1)
        return f"{scheme}//{credentials.split(':', 1)[0]}:***@{host}"
    return url


@contextmanager
def engine_for(kind: str, database: str | None = None) -> Iterator[Engine]:
    engine = open_engine(kind, database)
    try:
        yield engine
    finally:
        engine.close()


def find_input(folder: Path, table: str) -> Path | None:
    """The file holding ``table`` in ``folder``: ``<table>.parquet``, ``.csv`` or ``.csv.gz``."""
    for suffix in _SUFFIXES:
        candidate = folder / f"{table}{suffix}"
        if candidate.exists():
            return candidate
    return None
