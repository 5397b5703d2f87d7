"""What an input file holds before an engine reads it, and what went wrong when it could not.

Engines report unreadable files in their own words, often over several lines and without
the file's name (a corrupt Parquet page is "don't know what type"). This module looks at
the file itself (its first bytes, its header or schema) so that a problem is reported as
one line naming the file, the column and the line, whether it is found when the file is
registered or later, when a query reads it.

>>> encoding_problem(b"\\xff\\xfea\\x00,\\x00")
'is UTF-16 text, not UTF-8; save it as UTF-8 (in Excel: CSV UTF-8)'
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import ibis
import ibis.expr.datatypes as ibis_types

#: Columns read as text from CSV whatever they look like: codes keep their leading zeros
#: (sex "1" and "01", ethnic category "01", provider codes such as "00L").
TEXT_COLUMNS = frozenset({"lsoa_code", "sex", "ethnic_category", "provider_code", "gp_practice_code"})
_DELIMITERS = ",;\t|"


def encoding_problem(start: bytes) -> str | None:
    """Why the first bytes of a CSV file are not UTF-8 text an engine can read, if they are not.

    UTF-16 (what Excel calls "Unicode text") starts with a byte-order mark or, without one,
    has a zero byte beside every ASCII character.
    """
    if start.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(start) >= 8 and start[:64].count(0) * 3 >= len(start[:64])
    ):
        return "is UTF-16 text, not UTF-8; save it as UTF-8 (in Excel: CSV UTF-8)"
    return None


def first_bytes(path: Path) -> bytes:
    if path.name.endswith(".gz"):
        import gzip

        with gzip.open(path, "rb") as handle:
            return handle.read(65536)
    with path.open("rb") as handle:
        return handle.read(65536)


def _delimiter(header: str) -> str:
    return max(_DELIMITERS, key=header.count)


def csv_header(path: Path) -> list[str]:
    """The column names on a CSV file's first line, as written (quotes removed)."""
    text = first_bytes(path).decode("utf-8", errors="replace")
    first = text.splitlines()[0] if text else ""
    return next(csv.reader([first], delimiter=_delimiter(first)), [])


def parquet_names(path: Path) -> list[str]:
    """The column names of a Parquet file's schema, as written (repeats kept)."""
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def time_zones(path: Path) -> dict[str, str]:
    """The zone of each time-zone-aware timestamp column of a Parquet file (``Europe/London``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return {
        field.name: str(field.type.tz)
        for field in pq.read_schema(path)
        if pa.types.is_timestamp(field.type) and field.type.tz
    }


@ibis.udf.scalar.builtin(name="timezone")
def local_time(zone: str, moment: ibis_types.Timestamp(timezone="UTC")) -> ibis_types.Timestamp(scale=6):  # type: ignore[valid-type]
    """DuckDB's ``timezone(zone, moment)``: the wall-clock time in ``zone`` of an instant."""


#: The date and time written before a time-zone offset (``2024-07-01T00:00:00`` of ``…+01:00``).
WRITTEN_TIME = r"^\s*(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)"


def written_time(text: ibis.StringValue) -> ibis.TimestampValue:
    """A CSV time written with an offset, read as the time on the clock it was written in.

    ``2024-07-01T00:00:00+01:00`` (a London midnight in summer) is 1 July at 00:00, not 30
    June at 23:00 UTC; the offset is dropped, so its date is the one written. Text that is
    not a time is cast as it stands, so that the engine reports it rather than dropping it.
    """
    # One pattern match a row: an empty field is missing; text that is no time is cast as
    # it stands (and fails, naming the value).
    local = text.re_extract(WRITTEN_TIME, 1).nullif("")
    return local.coalesce(text.nullif("")).cast("timestamp")


def repeated(names: list[str]) -> list[str]:
    """Names that appear more than once (compared without case, as SQL engines do)."""
    seen: dict[str, int] = {}
    for name in names:
        seen[name.lower()] = seen.get(name.lower(), 0) + 1
    return [name for name in dict.fromkeys(names) if seen[name.lower()] > 1]


def _line(path: Path, number: int) -> bytes | None:
    """Line ``number`` (1 = the header) of a file, as bytes."""
    try:
        with path.open("rb") as handle:
            for index, line in enumerate(handle, start=1):
                if index == number:
                    return line.rstrip(b"\r\n")
    except OSError:
        return None
    return None


def _non_utf8_column(path: Path, number: int) -> str | None:
    header = csv_header(path)
    line = _line(path, number)
    if line is None or not header:
        return None
    first = _line(path, 1) or b","
    delimiter = _delimiter(first.decode("utf-8", "replace")).encode()
    for name, field in zip(header, line.split(delimiter), strict=False):
        try:
            field.decode("utf-8")
        except UnicodeDecodeError:
            return name
    return None


def _parquet_damage(path: Path) -> str:
    """Where a Parquet file cannot be decoded: the first column and row group that fail."""
    try:
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        first = 1
        for group in range(parquet.num_row_groups):
            size = parquet.metadata.row_group(group).num_rows
            for name in parquet.schema_arrow.names:
                try:
                    parquet.read_row_group(group, columns=[name])
                except Exception:
                    return f"column {name!r}, rows {first:,} to {first + size - 1:,}"
            first += size
    except Exception:
        return "its metadata"
    return "a page"


def describe(error: Exception, path: Path, table: str) -> str:
    """One line saying why an engine could not read ``path`` (input ``table``).

    Lines are counted as in a text editor, the header being line 1.
    """
    text = str(error).strip()
    where = f"{path}: cannot read table {table!r}"
    line = re.search(r"CSV Error on Line: (\d+)", text)
    number = int(line.group(1)) if line else None
    at = f"line {number:,}" if number else "a line"
    if "not utf-8 encoded" in text or "byte sequence mismatch" in text:
        column = _non_utf8_column(path, number) if number else None
        in_column = f", column {column!r}" if column else ""
        return f"{where}: {at}{in_column} is not UTF-8 text (the file is not UTF-8); save it as UTF-8"
    converting = re.search(
        r'converting column "([^"]+)"\. Could not convert string "([^"]*)" to \'(\w+)\'', text
    )
    if converting:
        column, value, kind = converting.groups()
        return (
            f"{where}: {at}, column {column!r}: {value!r} is not {_kind(kind)}, as the first rows were; "
            f"fix the value or pin the column's type (column_types: in the config)"
        )
    ragged = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if ragged:
        wanted, found = ragged.groups()
        fields = "1 field" if found == "1" else f"{found} fields"
        return f"{where}: {at} has {fields} where the header has {wanted} (a ragged or cut-off line)"
    if path.suffix == ".parquet" and "magic bytes" not in text:
        return f"{where}: the Parquet file is damaged in {_parquet_damage(path)} ({_first(text)})"
    if number:
        return f"{where}: {at}: {_first(text)}"
    return f"{where} ({_first(text)})"


def _first(text: str) -> str:
    first = text.splitlines()[0] if text else "unreadable"
    # Engines echo the bytes they choked on; control characters would garble the line.
    return "".join(c for c in first if c.isprintable()).strip()[:200]


def _kind(engine_type: str) -> str:
    kinds = {"BIGINT": "a whole number", "INTEGER": "a whole number", "SMALLINT": "a whole number",
             "TINYINT": "a whole number", "DOUBLE": "a number", "FLOAT": "a number", "DATE": "a date",
             "TIMESTAMP": "a date and time", "BOOLEAN": "true or false"}  # fmt: skip
    return kinds.get(engine_type.upper(), f"of type {engine_type}")
