"""Reading and publishing logic shared by the DuckDB and PostgreSQL stores.

Everything written inside one :meth:`Store.writing` block becomes visible to readers at
one instant when the block ends, or not at all: a run, its ``runs`` row and its monitor
tables are published together.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pandas as pd

from gapwatch.errors import StoreError
from gapwatch.store.faults import deferred_interrupt, is_interrupt, pause_point
from gapwatch.store.schema import (
    MONITOR_COMPLETE,
    MONITOR_NOT_RUN,
    MONITOR_TABLES,
    READABLE_TABLES,
    RESULT_TABLES,
    SCHEMA,
    conform,
    quote,
)


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: UTC time then a random suffix."""
    moment = now or dt.datetime.now(dt.UTC)
    return moment.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:300]


class Store:
    """Common reading and publishing logic; subclasses supply the connection."""

    kind = "store"
    schema_prefix = ""
    read_only = False

    def __init__(self) -> None:
        self._depth = 0
        self._on_commit: list[Callable[[], None]] = []

    # --- what a subclass supplies -------------------------------------------------------

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> None:
        raise NotImplementedError

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> pd.DataFrame:
        """Run a read-only query; table names may be written bare (they are resolved to the store's)."""
        raise NotImplementedError

    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def _columns(self) -> set[tuple[str, str]]:
        """(table, column) pairs the store holds now."""
        raise NotImplementedError

    def _begin(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------

    def table(self, name: str) -> str:
        return f"{self.schema_prefix}{quote(name)}"

    def create_schema(self) -> None:
        """Create missing tables, and add columns that a newer gapwatch has to older tables."""
        for table, columns in SCHEMA.items():
            definition = ", ".join(f"{quote(name)} {kind}" for name, kind in columns)
            self._execute(f"CREATE TABLE IF NOT EXISTS {self.table(table)} ({definition})")
        present = self._columns()
        for table, columns in SCHEMA.items():
            for name, kind in columns:
                if (table, name) not in present:
                    self._execute(f"ALTER TABLE {self.table(table)} ADD COLUMN {quote(name)} {kind}")

    def has_table(self, table: str) -> bool:
        """Whether the store has ``table`` (a file written by an older gapwatch may lack a newer one)."""
        return any(name == table for name, _ in self._columns())

    def schema_complete(self) -> bool:
        present = self._columns()
        return all((table, name) in present for table, columns in SCHEMA.items() for name, _ in columns)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Publish everything written inside the block together, when it ends, or nothing.

        Blocks nest: only the outermost one publishes. A Ctrl-C during the publishing
        instant is held until it and the :meth:`on_commit` callbacks are over.
        """
        if self.read_only:
            raise StoreError("the results store was opened read-only: nothing can be written to it")
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            try:
                yield
            except BaseException:
                self._depth = 0
                self._rollback()
                raise
            self._depth = 0
            with deferred_interrupt():
                try:
                    self._commit()
                except BaseException as error:
                    self._rollback()
                    if is_interrupt(error):
                        raise KeyboardInterrupt from error
                    raise StoreError(
                        f"publishing to the results store failed, nothing was published: {first_line(error)}"
                    ) from error
                for hook in self._on_commit:
                    hook()
        finally:
            self._depth = 0
            self._on_commit = []

    def on_commit(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` right after the current :meth:`writing` block is published."""
        if not self._depth:
            raise StoreError("on_commit: only inside a writing() block")
        self._on_commit.append(hook)

    def publish(self, run: Mapping[str, Any], tables: Mapping[str, pd.DataFrame]) -> str:
        """Write every table of a run and then its ``runs`` row, published together.

        Inside a wider :meth:`writing` block (``gapwatch run`` with its monitor), the run
        becomes visible only when that block ends.
        """
        run_id = str(run["run_id"])
        unknown = set(tables) - set(RESULT_TABLES)
        if unknown:
            raise StoreError(f"publish: unknown result table(s) {', '.join(sorted(unknown))}")
        try:
            with self.writing():
                for table in RESULT_TABLES:
                    frame = tables.get(table)
                    if frame is None:
                        continue
                    self._insert(table, conform(table, frame.assign(run_id=run_id)))
                row = {name: None for name, _ in SCHEMA["runs"]} | {"monitor": MONITOR_NOT_RUN}
                runs = pd.DataFrame([{**row, **run, "status": "published", "private": run_is_private(run)}])
                self._insert("runs", conform("runs", runs))
                pause_point("publish:written")
        except StoreError:
            raise
        except Exception as error:
            if is_interrupt(error):
                raise KeyboardInterrupt from error
            raise StoreError(
                f"publishing run {run_id} failed, nothing was published: {first_line(error)}"
            ) from error
        return run_id

    def replace_monitor(self, run_id: str, tables: Mapping[str, pd.DataFrame]) -> None:
        """Swap a published run's monitor tables for new ones, all at once.

        Monitoring can be re-run with other rules or targets; readers see either the old
        tables or the new ones, never a mixture. The run's ``monitor`` column becomes
        ``complete``.
        """
        unknown = set(tables) - set(MONITOR_TABLES)
        if unknown:
            raise StoreError(f"replace_monitor: unknown monitor table(s) {', '.join(sorted(unknown))}")
        try:
            with self.writing():
                if run_id not in set(self.runs()["run_id"]):
                    raise StoreError(f"run {run_id} is not a published run in this store")
                for table, frame in tables.items():
                    self._execute(f"DELETE FROM {self.table(table)} WHERE run_id = ?", (run_id,))
                    if not frame.empty:
                        self._insert(table, conform(table, frame.assign(run_id=run_id)))
                self._execute(
                    f"UPDATE {self.table('runs')} SET monitor = ? WHERE run_id = ?",
                    (MONITOR_COMPLETE, run_id),
                )
                pause_point("monitor:written")
        except StoreError:
            raise
        except Exception as error:
            if is_interrupt(error):
                raise KeyboardInterrupt from error
            raise StoreError(
                f"writing monitor tables for run {run_id} failed, the previous ones are kept: "
                f"{first_line(error)}"
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


def run_is_private(run: Mapping[str, Any]) -> bool:
    """Whether a ``runs`` row may be shown only to signed-in readers.

    A run is private when it is marked so (its ``private`` column, or ``private: true`` in
    its config) or when its cells were published without disclosure control (policy
    ``none``): unsuppressed small numbers are not public information.

    >>> run_is_private({"disclosure_policy": "none"}), run_is_private({"config": '{"private": true}'})
    (True, True)
    >>> run_is_private({"disclosure_policy": "nhs-digital", "private": None})
    False
    """
    marked = run.get("private")
    if marked is not None and not (isinstance(marked, float) and marked != marked) and bool(marked):
        return True
    if str(run.get("disclosure_policy") or "") == "none":
        return True
    config = run.get("config")
    if isinstance(config, str) and config:
        try:
            config = json.loads(config)
        except ValueError:
            # An unreadable config cannot prove the run public.
            return True
    return isinstance(config, Mapping) and bool(config.get("private"))


def run_record(**fields: Any) -> dict[str, Any]:
    """A ``runs`` row with the config serialised as JSON."""
    record = dict(fields)
    if "config" in record and not isinstance(record["config"], str):
        record["config"] = json.dumps(record["config"], default=str, sort_keys=True)
    return record
