"""The PostgreSQL results store: one schema, one transaction per publication.

PostgreSQL's own multi-version concurrency gives readers a consistent view while a run is
written; nothing is visible to them before ``COMMIT``, and a killed writer's connection
takes its uncommitted rows with it. Creating (or completing) the schema is serialised by
a transaction-level advisory lock, so two processes starting on a new schema at once both
succeed.
"""

from __future__ import annotations

import io
from contextlib import suppress
from typing import Any

import pandas as pd

from gapwatch.errors import StoreError
from gapwatch.store.base import Store, first_line
from gapwatch.store.schema import INDEXES, SCHEMA, quote


class PostgresStore(Store):
    """A results store in one schema of a PostgreSQL database (``postgresql://…#schema``)."""

    kind = "postgres"

    def __init__(self, url: str, read_only: bool = False) -> None:
        super().__init__()
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                "a PostgreSQL store needs the postgres extra: pip install 'gapwatch[postgres]'"
            ) from None
        address, _, schema = url.partition("#")
        self.schema = schema or "gapwatch"
        self.schema_prefix = f"{quote(self.schema)}."
        self.read_only = read_only
        try:
            self.connection = psycopg.connect(address, autocommit=True)
        except Exception as error:
            raise StoreError(f"cannot connect to the PostgreSQL store: {first_line(error)}") from None
        if read_only:
            # The server refuses any write in this session, whatever a caller tries.
            self._execute("SET default_transaction_read_only = on")
            return
        try:
            self._create()
        except Exception as error:
            self.connection.close()
            raise StoreError(
                f"cannot create the results tables in schema {self.schema}: {first_line(error)}"
            ) from None

    def _create(self) -> None:
        # CREATE ... IF NOT EXISTS is not safe against itself: two sessions may both find
        # the name free and one then fails on a unique index of the catalogue. The lock,
        # keyed by the schema's name and held to the end of the transaction, queues them.
        with self.connection.transaction():
            self._execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"gapwatch schema {self.schema}",))
            self._execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self.schema)}")
            self.create_schema()
            for table, indexes in INDEXES.items():
                for number, columns in enumerate(indexes, start=1):
                    self._execute(
                        f"CREATE INDEX IF NOT EXISTS {quote(f'{table}_read_{number}')} "
                        f"ON {self.table(table)} ({', '.join(quote(column) for column in columns)})"
                    )

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
        columns = ", ".join(quote(name) for name, _ in SCHEMA[table])
        statement = f"COPY {self.table(table)} ({columns}) FROM STDIN WITH (FORMAT csv)"
        with self.connection.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(buffer.getvalue())

    def _columns(self) -> set[tuple[str, str]]:
        frame = self.query(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ?",
            (self.schema,),
        )
        return set(zip(frame["table_name"], frame["column_name"], strict=True))

    def _begin(self) -> None:
        self._execute("BEGIN")

    def _commit(self) -> None:
        self._execute("COMMIT")

    def _rollback(self) -> None:
        with suppress(Exception):  # a broken connection has rolled back already
            self._execute("ROLLBACK")

    def close(self) -> None:
        self.connection.close()
