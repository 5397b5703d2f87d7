"""Columns of the synthetic tables held as numpy arrays, and their Parquet files.

String columns are kept as positions in a fixed vocabulary (``Codes``) and written as
Parquet dictionary pages straight from those positions: no Python strings are built per
row and the writer need not hash them. Dates are numpy ``datetime64[D]`` (``NaT`` for
missing). Rows are buffered per table and written in row groups of exactly ``ROW_GROUP``
rows (the last one shorter), so the files depend only on the rows, not on how they were
produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 500_000
#: zstd at its fastest level: most of the gain of zstd at a fraction of the time.
COMPRESSION_LEVEL = 1
MISSING = -1
NOT_A_TIME = np.datetime64("NaT").view(np.int64)
#: Vocabularies this small go whole into each dictionary page; bigger ones (LSOAs,
#: practices, trusts) only with the values a row group uses.
SMALL_VOCABULARY = 256
#: Person identifiers rise through a table, so their differences pack into few bits.
DELTA_ENCODED = ("person_id",)


@dataclass(frozen=True)
class Codes:
    """A string column as positions in ``vocabulary`` (``MISSING`` for a missing value)."""

    positions: np.ndarray
    vocabulary: pa.Array

    def __len__(self) -> int:
        return int(self.positions.size)

    def take(self, order: np.ndarray) -> Codes:
        return Codes(self.positions[order], self.vocabulary)


Column = np.ndarray | Codes


def codes(positions: np.ndarray, vocabulary: pa.Array) -> Codes:
    return Codes(np.asarray(positions, dtype=np.int32), vocabulary)


class Table:
    """One table's columns, in file order, for some rows."""

    def __init__(self, columns: dict[str, Column]) -> None:
        sizes = {len(column) for column in columns.values()}
        if len(sizes) > 1:
            raise ValueError(f"columns of different lengths: {sizes}")
        self.columns = columns

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def take(self, order: np.ndarray) -> Table:
        return Table({name: column[order] if isinstance(column, np.ndarray) else column.take(order)
                      for name, column in self.columns.items()})  # fmt: skip


def _concatenate(parts: list[Column]) -> Column:
    first = parts[0]
    if isinstance(first, Codes):
        return Codes(np.concatenate([part.positions for part in parts if isinstance(part, Codes)]),
                     first.vocabulary)  # fmt: skip
    return np.concatenate([part for part in parts if isinstance(part, np.ndarray)])


def _slice(column: Column, start: int, stop: int) -> Column:
    if isinstance(column, Codes):
        return Codes(column.positions[start:stop], column.vocabulary)
    return column[start:stop]


def _copy(column: Column) -> Column:
    if isinstance(column, Codes):
        return Codes(column.positions.copy(), column.vocabulary)
    return column.copy()


def _arrow_type(column: Column) -> pa.DataType:
    if isinstance(column, Codes):
        return pa.dictionary(pa.int32(), pa.string())
    if column.dtype.kind == "M":
        return pa.date32()
    return pa.from_numpy_dtype(column.dtype)


def _to_arrow(column: Column) -> pa.Array:
    if isinstance(column, Codes) and len(column.vocabulary) <= SMALL_VOCABULARY:
        mask = column.positions == MISSING
        indices = pa.array(column.positions, type=pa.int32(), mask=mask if mask.any() else None)
        return pa.DictionaryArray.from_arrays(indices, column.vocabulary)
    if isinstance(column, Codes):
        # Only the values these rows use go into the Parquet dictionary page.
        present = column.positions != MISSING
        valid = column.positions[present] if not present.all() else column.positions
        used = np.bincount(valid, minlength=len(column.vocabulary)) > 0
        renumber = np.cumsum(used, dtype=np.int32) - 1
        indices = renumber[column.positions]
        mask = None if present.all() else ~present
        dictionary = column.vocabulary.filter(pa.array(used))
        return pa.DictionaryArray.from_arrays(pa.array(indices, type=pa.int32(), mask=mask), dictionary)
    if column.dtype.kind == "M":
        days = column.astype("datetime64[D]", copy=False).view(np.int64)
        missing = days == NOT_A_TIME
        values = pa.array(days.astype(np.int32), mask=missing if missing.any() else None)
        return values.view(pa.date32())
    return pa.array(column)


class TableWriter:
    """One Parquet file, filled in row groups of exactly ``ROW_GROUP`` rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer: pq.ParquetWriter | None = None
        self.pending: list[Table] = []
        self.pending_rows = 0
        self.rows = 0

    def add(self, table: Table) -> None:
        self.pending.append(table)
        self.pending_rows += len(table)
        self.rows += len(table)
        if self.pending_rows >= ROW_GROUP:
            self._flush(final=False)

    def close(self) -> None:
        self._flush(final=True)
        if self.writer is not None:
            self.writer.close()

    def _flush(self, final: bool) -> None:
        if not self.pending:
            return
        names = list(self.pending[0].columns)
        if len(self.pending) == 1:
            merged = self.pending[0].columns
        else:
            merged = {name: _concatenate([table.columns[name] for table in self.pending]) for name in names}
        total = self.pending_rows
        whole = total if final else total - total % ROW_GROUP
        start = 0
        while start < whole or (final and self.writer is None):
            stop = min(start + ROW_GROUP, whole)
            self._write({name: _slice(column, start, stop) for name, column in merged.items()})
            start = stop
        # A copy, so the written rows' arrays are not kept alive by the rest.
        rest = {name: _copy(_slice(column, whole, total)) for name, column in merged.items()}
        self.pending = [Table(rest)] if whole < total else []
        self.pending_rows = total - whole

    def _write(self, columns: dict[str, Column]) -> None:
        arrays = [_to_arrow(column) for column in columns.values()]
        schema = pa.schema([pa.field(name, _arrow_type(column)) for name, column in columns.items()])
        if self.writer is None:
            self.writer = pq.ParquetWriter(
                self.path,
                schema,
                compression="zstd",
                compression_level=COMPRESSION_LEVEL,
                # Readers see plain strings, not categoricals: the Arrow schema (which would
                # say "dictionary") is not stored, only the Parquet one.
                store_schema=False,
                # Minimum and maximum of the string codes take as long to work out as all
                # the rest of the writing and help no query; numbers, flags and dates keep
                # their statistics.
                write_statistics=[name for name, column in columns.items() if not isinstance(column, Codes)],
                use_dictionary=[name for name in columns if name not in DELTA_ENCODED],
                column_encoding={name: "DELTA_BINARY_PACKED" for name in DELTA_ENCODED if name in columns},
            )
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=ROW_GROUP)
