"""The results store: published runs in a DuckDB file (default) or PostgreSQL.

Everything a run publishes (its result tables, its monitor tables and its ``runs`` row)
becomes visible to readers at one instant, or not at all: a run that fails, is killed
or is interrupted part-way leaves nothing behind, and readers (the dashboard, reports,
monitors) only ever see whole runs. Readers and the one writer never stop one another
(``duckdb_store`` explains how on DuckDB). The schema is in ``docs/results-schema.md``.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as folder:
...     store = open_store(str(pathlib.Path(folder) / "results.duckdb"))
...     store.latest_run() is None
True
"""

from __future__ import annotations

from pathlib import Path

from gapwatch.store.base import Store, new_run_id, no_run_message, run_is_private, run_record
from gapwatch.store.duckdb_store import DuckDBStore
from gapwatch.store.postgres_store import PostgresStore
from gapwatch.store.schema import (
    INDEXES,
    MONITOR_COMPLETE,
    MONITOR_NOT_RUN,
    MONITOR_TABLES,
    READABLE_TABLES,
    RESULT_TABLES,
    SCHEMA,
)


def open_store(location: str, read_only: bool = False) -> Store:
    """Open (creating if needed) a store: a DuckDB file path or a ``postgresql://`` URL.

    A PostgreSQL URL may end in ``#schema`` to choose the schema (default ``gapwatch``).
    ``read_only`` (for readers such as the dashboard) never creates anything, and reads
    the store as it was when opened, whatever is published meanwhile.
    """
    if location.startswith(("postgresql://", "postgres://")):
        return PostgresStore(location, read_only=read_only)
    return DuckDBStore(Path(location).expanduser(), read_only=read_only)


__all__ = [
    "INDEXES",
    "MONITOR_COMPLETE",
    "MONITOR_NOT_RUN",
    "MONITOR_TABLES",
    "READABLE_TABLES",
    "RESULT_TABLES",
    "SCHEMA",
    "DuckDBStore",
    "PostgresStore",
    "Store",
    "new_run_id",
    "no_run_message",
    "open_store",
    "run_is_private",
    "run_record",
]
