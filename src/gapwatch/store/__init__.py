"""The results store: published runs in a DuckDB file (default) or PostgreSQL.

Every run is written in one transaction, its ``runs`` row last: a run that fails or is
killed part-way leaves nothing behind, and readers (the dashboard, reports, monitors)
only ever see published runs. The schema is documented in ``docs/results-schema.md``.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as folder:
...     store = open_store(str(pathlib.Path(folder) / "results.duckdb"))
...     store.latest_run() is None
True
"""

from __future__ import annotations

import datetime as dt
import io
import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from gapwatch.errors import StoreError

TEXT, DOUBLE = "TEXT", "DOUBLE PRECISION"

#: Tables and their columns, in order; types are portable SQL.
SCHEMA: dict[str, list[tuple[str, str]]] = {
    "runs": [
        ("run_id", TEXT), ("name", TEXT), ("status", TEXT), ("started_at", "TIMESTAMP"),
        ("finished_at", "TIMESTAMP"), ("backend", TEXT), ("disclosure_policy", TEXT),
        ("disclosure_threshold", "INTEGER"), ("disclosure_rounding", "INTEGER"), ("confidence", DOUBLE),
        ("config", TEXT), ("catalogue_digest", TEXT), ("gapwatch_version", TEXT), ("indicators", "INTEGER"),
        ("cells", "BIGINT"), ("seconds", DOUBLE),
    ],
    "indicators": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("title", TEXT), ("description", TEXT), ("domain", TEXT),
        ("measure", TEXT), ("unit", TEXT), ("multiplier", DOUBLE), ("polarity", TEXT),
        ("target", DOUBLE), ("standard", TEXT), ("source", TEXT), ("period", TEXT),
        ("reference", TEXT),
    ],
    "areas": [
        ("run_id", TEXT), ("area_type", TEXT), ("area_code", TEXT), ("area_name", TEXT),
        ("parent_type", TEXT), ("parent_code", TEXT),
    ],
    "indicator_values": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("period_start", "DATE"), ("period_end", "DATE"),
        ("area_type", TEXT), ("area_code", TEXT), ("breakdown", TEXT), ("group", TEXT),
        ("numerator", DOUBLE), ("denominator", DOUBLE), ("value", DOUBLE),
        ("lower", DOUBLE), ("upper", DOUBLE), ("comparison", TEXT),
        ("comparison_best", TEXT), ("completeness", DOUBLE), ("suppressed", "BOOLEAN"),
        ("note", TEXT),
    ],
    "inequality_measures": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("period_start", "DATE"), ("period_end", "DATE"),
        ("area_type", TEXT), ("area_code", TEXT), ("breakdown", TEXT), ("measure", TEXT),
        ("value", DOUBLE), ("lower", DOUBLE), ("upper", DOUBLE),
        ("confidence", DOUBLE), ("group_a", TEXT), ("group_b", TEXT), ("suppressed", "BOOLEAN"),
        ("note", TEXT),
    ],
    "completeness": [
        ("run_id", TEXT), ("source", TEXT), ("period_start", "DATE"), ("period_end", "DATE"),
        ("area_type", TEXT), ("area_code", TEXT), ("records", DOUBLE), ("ethnicity_valid", DOUBLE),
        ("lsoa_valid", DOUBLE), ("sex_valid", DOUBLE), ("age_valid", DOUBLE), ("late", DOUBLE),
        ("duplicates", DOUBLE), ("suppressed", "BOOLEAN"), ("note", TEXT),
    ],
    "linkage": [
        ("run_id", TEXT), ("source", TEXT), ("lsoa_status", TEXT), ("rows", "BIGINT"),
        ("share", DOUBLE),
    ],
    # Written by gapwatch.monitor after the run is published (see Store.replace_monitor).
    "trends": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("area_type", TEXT), ("area_code", TEXT),
        ("breakdown", TEXT), ("series", TEXT), ("scale", TEXT), ("periods", "INTEGER"),
        ("baseline_start", "DATE"), ("latest_start", "DATE"), ("baseline", DOUBLE), ("latest", DOUBLE),
        ("change", DOUBLE), ("change_lower", DOUBLE), ("change_upper", DOUBLE),
        ("slope_per_year", DOUBLE), ("slope_lower", DOUBLE), ("slope_upper", DOUBLE),
        ("fitted_baseline", DOUBLE), ("fitted_latest", DOUBLE), ("direction", TEXT), ("note", TEXT),
    ],
    "spc": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("area_type", TEXT), ("area_code", TEXT),
        ("breakdown", TEXT), ("series", TEXT), ("period_start", "DATE"), ("value", DOUBLE),
        ("mean", DOUBLE), ("lower", DOUBLE), ("upper", DOUBLE), ("special_cause", "BOOLEAN"),
        ("rules", TEXT), ("variation", TEXT), ("assurance", TEXT),
    ],
    "alerts": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("area_type", TEXT), ("area_code", TEXT),
        ("breakdown", TEXT), ("rule", TEXT), ("severity", TEXT), ("period_start", "DATE"),
        ("period_end", "DATE"), ("message", TEXT), ("evidence", TEXT),
    ],
    "targets": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("area_type", TEXT), ("area_code", TEXT),
        ("breakdown", TEXT), ("measure", TEXT), ("description", TEXT), ("baseline_start", "DATE"),
        ("baseline", DOUBLE), ("target_date", "DATE"), ("target_value", DOUBLE), ("latest_start", "DATE"),
        ("latest", DOUBLE), ("latest_lower", DOUBLE), ("latest_upper", DOUBLE), ("expected_now", DOUBLE),
        ("within_interval", "BOOLEAN"), ("gap_to_close", DOUBLE), ("status", TEXT), ("note", TEXT),
    ],
    "business_case": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("period_start", "DATE"), ("period_end", "DATE"),
        ("area_type", TEXT), ("area_code", TEXT), ("reference", TEXT), ("reference_group", TEXT),
        ("excess_events", DOUBLE), ("lower", DOUBLE), ("upper", DOUBLE), ("event", TEXT),
        ("pounds_per_event", DOUBLE), ("pounds", DOUBLE), ("pounds_lower", DOUBLE),
        ("pounds_upper", DOUBLE), ("pounds_per_unit_gap_closed", DOUBLE), ("cost_source", TEXT),
        ("summary", TEXT), ("note", TEXT),
    ],
}  # fmt: skip

MONITOR_TABLES = ["trends", "spc", "alerts", "targets", "business_case"]
RESULT_TABLES = [table for table in SCHEMA if table != "runs" and table not in MONITOR_TABLES]
READABLE_TABLES = RESULT_TABLES + MONITOR_TABLES


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: UTC time then a random suffix."""
    moment = now or dt.datetime.now(dt.UTC)
    return moment.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _quote(name: str) -> str:
    return f'"{name}"'


class Store:
    """Common reading and publishing logic; subclasses supply the connection."""

    kind = "store"
    schema_prefix = ""

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> None:
        raise NotImplementedError

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> pd.DataFrame:
        """Run a read-only query; table names may be written bare (they are resolved to the store's)."""
        raise NotImplementedError

    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def table(self, name: str) -> str:
        return f"{self.schema_prefix}{_quote(name)}"

    def create_schema(self) -> None:
        for table, columns in SCHEMA.items():
            definition = ", ".join(f"{_quote(name)} {kind}" for name, kind in columns)
            self._execute(f"CREATE TABLE IF NOT EXISTS {self.table(table)} ({definition})")

    def publish(self, run: Mapping[str, Any], tables: Mapping[str, pd.DataFrame]) -> str:
        """Write every table of a run and then its ``runs`` row, all in one transaction."""
        run_id = str(run["run_id"])
        unknown = set(tables) - set(RESULT_TABLES)
        if unknown:
            raise StoreError(f"publish: unknown result table(s) {', '.join(sorted(unknown))}")
        try:
            with self._transaction():
                for table in RESULT_TABLES:
                    frame = tables.get(table)
                    if frame is None:
                        continue
                    self._insert(table, _conform(table, frame.assign(run_id=run_id)))
                runs = pd.DataFrame(
                    [{**{name: None for name, _ in SCHEMA["runs"]}, **run, "status": "published"}]
                )
                self._insert("runs", _conform("runs", runs))
        except StoreError:
            raise
        except Exception as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise StoreError(
                f"publishing run {run_id} failed, nothing was published: {first[:300]}"
            ) from error
        return run_id

    def replace_monitor(self, run_id: str, tables: Mapping[str, pd.DataFrame]) -> None:
        """Swap a published run's monitor tables for new ones, in one transaction.

        Monitoring can be re-run with other rules or targets; readers see either the old
        tables or the new ones, never a mixture.
        """
        unknown = set(tables) - set(MONITOR_TABLES)
        if unknown:
            raise StoreError(f"replace_monitor: unknown monitor table(s) {', '.join(sorted(unknown))}")
        if run_id not in set(self.runs()["run_id"]):
            raise StoreError(f"run {run_id} is not a published run in this store")
        try:
            with self._transaction():
                for table, frame in tables.items():
                    self._execute(f"DELETE FROM {self.table(table)} WHERE run_id = ?", (run_id,))
                    if not frame.empty:
                        self._insert(table, _conform(table, frame.assign(run_id=run_id)))
        except Exception as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise StoreError(
                f"writing monitor tables for run {run_id} failed, the previous ones are kept: {first[:300]}"
            ) from error

    def runs(self) -> pd.DataFrame:
        """Published runs, newest first."""
        return self.query(
            f"SELECT * FROM {self.table('runs')} WHERE status = 'published' "
            "ORDER BY finished_at DESC, run_id DESC"
        )

    def latest_run(self) -> str | None:
        runs = self.runs()
        return None if runs.empty else str(runs["run_id"].iloc[0])

    def read(self, table: str, run_id: str | None = None) -> pd.DataFrame:
        """All rows of one result table for a published run (the latest by default)."""
        if table not in READABLE_TABLES:
            raise StoreError(f"no result table {table!r}; choose one of {', '.join(READABLE_TABLES)}")
        chosen = run_id or self.latest_run()
        if chosen is None:
            raise StoreError("the store holds no published run yet; run gapwatch run or gapwatch demo first")
        published = self.runs()
        if chosen not in set(published["run_id"]):
            raise StoreError(f"run {chosen} is not a published run in this store")
        return self.query(f"SELECT * FROM {self.table(table)} WHERE run_id = ?", (chosen,))


def _conform(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    columns = [name for name, _ in SCHEMA[table]]
    missing = [column for column in columns if column not in frame.columns]
    for column in missing:
        frame = frame.assign(**{column: None})
    return frame[columns]


def _arrow(table: str, frame: pd.DataFrame) -> pa.Table:
    # NaN becomes NULL: a withheld value is missing, not a number.
    converted = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    for name, kind in SCHEMA[table]:
        column = converted.column(name)
        if kind == "TEXT" and pa.types.is_large_string(column.type):
            # pandas' own strings arrive as large strings: a cast, not a trip through Python.
            column = column.cast(pa.string())
        elif kind == "TEXT" and not pa.types.is_string(column.type):
            column = pa.array(
                [None if value is None else str(value) for value in column.to_pylist()], pa.string()
            )
        fields.append(column)
    return pa.table(fields, names=[name for name, _ in SCHEMA[table]])


class DuckDBStore(Store):
    kind = "duckdb"

    def __init__(self, path: Path, read_only: bool = False) -> None:
        import duckdb

        self.path = path
        if read_only and not path.is_file():
            raise StoreError(f"{path}: no results store there (run gapwatch run or gapwatch demo first)")
        try:
            if not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = duckdb.connect(str(path), read_only=read_only)
        except Exception as error:
            raise StoreError(
                f"{path}: cannot open the results store ({str(error).splitlines()[0]})"
            ) from None
        if not read_only:
            self.create_schema()

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> None:
        self.connection.execute(sql, list(parameters))

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> pd.DataFrame:
        return self.connection.execute(sql, list(parameters)).df()

    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        self.connection.register("_gapwatch_insert", _arrow(table, frame))
        try:
            self.connection.execute(f"INSERT INTO {self.table(table)} SELECT * FROM _gapwatch_insert")
        finally:
            self.connection.unregister("_gapwatch_insert")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.connection.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


class PostgresStore(Store):
    kind = "postgres"

    def __init__(self, url: str, read_only: bool = False) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                "a PostgreSQL store needs the postgres extra: pip install 'gapwatch[postgres]'"
            ) from None
        address, _, schema = url.partition("#")
        self.schema = schema or "gapwatch"
        self.schema_prefix = f"{_quote(self.schema)}."
        try:
            self.connection = psycopg.connect(address, autocommit=True)
        except Exception as error:
            raise StoreError(
                f"cannot connect to the PostgreSQL store: {str(error).splitlines()[0]}"
            ) from None
        if read_only:
            # The server refuses any write in this session, whatever a caller tries.
            self._execute("SET default_transaction_read_only = on")
            return
        self._execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(self.schema)}")
        self.create_schema()

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> None:
        self.connection.execute(sql.replace("?", "%s"), parameters)

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> pd.DataFrame:
        with self.connection.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), parameters)
            names = [column.name for column in cursor.description or []]
            return pd.DataFrame(cursor.fetchall(), columns=names)

    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False, na_rep="", date_format="%Y-%m-%d %H:%M:%S")
        columns = ", ".join(_quote(name) for name, _ in SCHEMA[table])
        statement = f"COPY {self.table(table)} ({columns}) FROM STDIN WITH (FORMAT csv)"
        with self.connection.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(buffer.getvalue())

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self.connection.transaction():
            yield

    def close(self) -> None:
        self.connection.close()


def open_store(location: str, read_only: bool = False) -> Store:
    """Open (creating if needed) a store: a DuckDB file path or a ``postgresql://`` URL.

    A PostgreSQL URL may end in ``#schema`` to choose the schema (default ``gapwatch``).
    ``read_only`` (for readers such as the dashboard) never creates anything; on DuckDB
    it also lets the file be read while no writer holds it.
    """
    if location.startswith(("postgresql://", "postgres://")):
        return PostgresStore(location, read_only=read_only)
    return DuckDBStore(Path(location).expanduser(), read_only=read_only)


def run_record(**fields: Any) -> dict[str, Any]:
    """A ``runs`` row with the config serialised as JSON."""
    record = dict(fields)
    if "config" in record and not isinstance(record["config"], str):
        record["config"] = json.dumps(record["config"], default=str, sort_keys=True)
    return record
