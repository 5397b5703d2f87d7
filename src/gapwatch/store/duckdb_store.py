"""The DuckDB results store: readers and one writer at a time, never in each other's way.

DuckDB lets one process open a file for writing, and then no other process may open it
at all. So the published file is never opened for writing. A writer (``gapwatch run``,
``gapwatch monitor``):

1. takes an exclusive lock on ``<file>.lock`` (writers queue; readers never touch it);
2. copies the published file to a hidden file beside it (``.<file>.<pid>-<random>.publishing``);
3. writes its run (and monitor tables) into the copy, checkpoints and closes it, and
   flushes it to disk;
4. renames the copy over the published file (``os.replace``: atomic on POSIX file systems),
   then flushes the folder.

A reader opens the published file read-only, through ``ATTACH`` in an in-memory
database, and keeps reading the file it opened even after a rename (the old file stays
on disk until the last reader closes it). A kill at any moment leaves the published file
whole; the next writer deletes any hidden copy left behind. See ARCHITECTURE.md, "Publishing".
"""

from __future__ import annotations

import os
import secrets
import shutil
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa

from gapwatch.errors import StoreError
from gapwatch.store.base import Store, first_line
from gapwatch.store.schema import SCHEMA

try:  # POSIX; on Windows writers are not queued (os.replace over an open file fails there anyway)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

_SUFFIX = ".publishing"


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


def _fsync(path: Path, folder: bool = False) -> None:
    descriptor = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if folder else 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _leftovers(path: Path) -> list[Path]:
    """Hidden copies (and their write-ahead logs) that a killed writer left beside ``path``."""
    return [
        found
        for found in path.parent.glob(f".{path.name}.*")
        if found.name.endswith((_SUFFIX, _SUFFIX + ".wal"))
    ]


class DuckDBStore(Store):
    """A results store in one DuckDB file; see the module's description of publishing."""

    kind = "duckdb"

    def __init__(self, path: Path, read_only: bool = False) -> None:
        super().__init__()
        self.path = path
        self.read_only = read_only
        self._reader: Any = None
        self._session: Any = None
        self._copy: Path | None = None
        self._lock: IO[bytes] | None = None
        if read_only:
            if not path.is_file():
                raise StoreError(f"{path}: no results store there (run gapwatch run or gapwatch demo first)")
            # Opened now: the reader keeps this snapshot until it closes, whatever is published.
            self._reader = self._attach()
            return
        if path.exists() and not path.is_file():
            self._attach().close()  # fails with DuckDB's own account of what is there
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"{path}: cannot open the results store ({first_line(error)})") from None
        if not path.is_file() or not self.schema_complete():
            with self.writing():
                pass  # _begin creates (or completes) the schema in the new copy

    # --- connections --------------------------------------------------------------------

    def _attach(self) -> Any:
        import duckdb

        # ATTACH from an in-memory database, not duckdb.connect(path): connect() shares one
        # database per path within a process, which would keep serving the file a rename
        # has replaced for as long as any connection to it is open.
        connection = duckdb.connect(":memory:")
        try:
            literal = str(self.path).replace("'", "''")
            connection.execute(f"ATTACH '{literal}' AS results (READ_ONLY)")
            connection.execute("USE results")
        except Exception as error:
            connection.close()
            raise StoreError(f"{self.path}: cannot open the results store ({first_line(error)})") from None
        return connection

    @property
    def connection(self) -> Any:
        """The connection in use: the writer's copy while writing, else the published file."""
        if self._session is not None:
            return self._session
        if self._reader is None:
            self._reader = self._attach()
        return self._reader

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

    def _columns(self) -> set[tuple[str, str]]:
        frame = self.query(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = 'main'"
        )
        return set(zip(frame["table_name"], frame["column_name"], strict=True))

    # --- publishing by copy and rename -------------------------------------------------

    def _begin(self) -> None:
        import duckdb

        lock = open(self.path.with_name(self.path.name + ".lock"), "ab")  # noqa: SIM115 (held until commit)
        try:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            # Holding the lock, no other writer is at work: any hidden copy is a dead one's.
            for found in _leftovers(self.path):
                found.unlink(missing_ok=True)
            copy = self.path.with_name(f".{self.path.name}.{os.getpid()}-{secrets.token_hex(4)}{_SUFFIX}")
            if self.path.is_file():
                shutil.copyfile(self.path, copy)
                # The published file keeps whatever permissions its owner gave it.
                shutil.copymode(self.path, copy)
            self._copy = copy
            self._session = duckdb.connect(str(copy))
            self._lock = lock
            self.create_schema()
        except BaseException as error:
            self._lock = lock
            self._rollback()
            if isinstance(error, Exception):
                raise StoreError(
                    f"{self.path}: cannot write to the results store ({first_line(error)})"
                ) from None
            raise

    def _commit(self) -> None:
        assert self._session is not None
        assert self._copy is not None
        self._session.execute("CHECKPOINT")
        self._session.close()
        self._session = None
        _fsync(self._copy)
        os.replace(self._copy, self.path)
        self._copy = None
        _fsync(self.path.parent, folder=True)
        # The next read opens the file just published.
        self._close_reader()
        self._release()

    def _rollback(self) -> None:
        if self._session is not None:
            with suppress(Exception):  # the copy is deleted next, whatever its state
                self._session.close()
            self._session = None
        if self._copy is not None:
            for found in (self._copy, self._copy.with_name(self._copy.name + ".wal")):
                found.unlink(missing_ok=True)
            self._copy = None
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file releases the lock
            self._lock = None

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def close(self) -> None:
        if self._depth:
            self._rollback()
        self._close_reader()
