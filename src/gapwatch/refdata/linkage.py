"""Linkage of records to deprivation and geography by LSOA code, on any Ibis backend."""

from __future__ import annotations

import string
from functools import cache

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from gapwatch.errors import InputError
from gapwatch.refdata._files import check_vintage
from gapwatch.refdata.deprivation import lsoa

#: Every status a linked row can have; nothing is dropped, each row gets exactly one.
LSOA_STATUSES = ("valid", "missing", "malformed", "welsh", "other_vintage", "unknown")
_KEY = "_gapwatch_lsoa_key"
_OTHER = "_gapwatch_other_vintage"


@cache
def _lookup(vintage: int) -> pd.DataFrame:
    frame = lsoa(vintage).rename(columns={"lsoa_code": _KEY})
    return frame.drop(columns=["lsoa_name"])


@cache
def _other_vintage_codes(vintage: int) -> pd.DataFrame:
    this = set(lsoa(vintage).lsoa_code)
    other = set(lsoa(2011 if vintage == 2021 else 2021).lsoa_code)
    return pd.DataFrame({_KEY: sorted(other - this), _OTHER: True})


def _temporary(connection: BaseBackend, name: str, frame: pd.DataFrame) -> ir.Table:
    # Created once per connection: the lookups never change within a session.
    try:
        return connection.table(name)
    except Exception:
        pass
    try:
        return connection.create_table(name, frame, temp=True, overwrite=True)
    except NotImplementedError:
        # PySpark has no temporary tables; a view over an in-memory table serves the same end.
        return connection.create_view(name, ibis.memtable(frame), overwrite=True)


def linked_columns(vintage: int = 2021) -> list[str]:
    """The columns :func:`link` adds, in order (besides ``lsoa_status``)."""
    return [column for column in _lookup(check_vintage(vintage)).columns if column != _KEY]


def link(
    table: ir.Table,
    lsoa_column: str = "lsoa_code",
    vintage: int = 2021,
    connection: BaseBackend | None = None,
) -> ir.Table:
    """Add deprivation and geography columns to an Ibis table by its LSOA code.

    A left join to :func:`gapwatch.refdata.lsoa` of the chosen vintage, expressed in Ibis
    so that it runs where the table lives (DuckDB, PostgreSQL, PySpark). Codes are
    compared upper-cased and stripped of spaces. Every row is kept; ``lsoa_status`` says
    why a row has no deprivation: ``missing`` (empty), ``malformed`` (not ``E01``/``W01``
    and six digits), ``welsh`` (Welsh LSOAs have no English IMD), ``other_vintage`` (a
    code of the other LSOA vintage), ``unknown`` (well formed but in neither list), or
    ``valid``. Count them with :func:`link_summary`. With ``connection``, the lookup
    tables are created there as temporary tables (for callers that compile the result to
    SQL themselves); otherwise they travel as in-memory tables.

    >>> import ibis
    >>> records = ibis.memtable({"lsoa_code": ["E01000001", "W01000001", None]})
    >>> sorted(link(records).lsoa_status.to_pandas())
    ['missing', 'valid', 'welsh']
    """
    chosen = check_vintage(vintage)
    if lsoa_column not in table.columns:
        raise InputError(f"link: the table has no column {lsoa_column!r} to link on")
    added = [*linked_columns(chosen), "lsoa_status"]
    clashes = [column for column in added if column in table.columns]
    if clashes:
        raise InputError(f"link: the table already has column(s) {', '.join(clashes)}; rename them first")
    if connection is None:
        lookup = ibis.memtable(_lookup(chosen))
        other = ibis.memtable(_other_vintage_codes(chosen))
    else:
        lookup = _temporary(connection, f"gapwatch_lsoa_{chosen}", _lookup(chosen))
        other = _temporary(connection, f"gapwatch_lsoa_other_{chosen}", _other_vintage_codes(chosen))
    code = table[lsoa_column].cast("string").strip().upper()
    keyed = table.mutate(**{_KEY: code})
    joined = keyed.left_join(lookup, _KEY, rname="{name}_lookup").left_join(
        other, keyed[_KEY] == other[_KEY], rname="{name}_other"
    )
    key = joined[_KEY]
    status = ibis.cases(
        (key.isnull() | (key == ""), "missing"),
        (~key.re_search(r"^[EW]01[0-9]{6}$"), "malformed"),
        (joined["imd_decile"].notnull(), "valid"),
        (key.startswith("W01"), "welsh"),
        (joined[_OTHER].notnull(), "other_vintage"),
        else_="unknown",
    )
    keep = [*table.columns, *linked_columns(chosen)]
    return joined.mutate(lsoa_status=status).select(*keep, "lsoa_status")


def classify_lsoa(codes: pd.Series, vintage: int = 2021) -> pd.DataFrame:
    """Link distinct LSOA codes in pandas, by exactly the rules of :func:`link`.

    For engines that link each distinct code once (a table has tens of thousands of
    distinct codes but may have hundreds of millions of rows) and join the answer back.
    Returns one row per input code, in order: ``lsoa_status`` and the columns of
    :func:`linked_columns` (missing unless the status is ``valid``).

    >>> classify_lsoa(pd.Series(["e01000001 ", "W01000001", None, "E0100"])).lsoa_status.tolist()
    ['valid', 'welsh', 'missing', 'malformed']
    """
    chosen = check_vintage(vintage)
    # The same whitespace as Ibis's strip(), so both routes agree code for code.
    key = codes.astype("string").str.strip(string.whitespace).str.upper()
    lookup = _lookup(chosen)
    linked = pd.DataFrame({_KEY: key.to_numpy()}).merge(lookup, on=_KEY, how="left")
    other = key.isin(set(_other_vintage_codes(chosen)[_KEY])).to_numpy()
    missing = (key.isna() | (key == "")).to_numpy()
    well_formed = key.str.fullmatch(r"[EW]01[0-9]{6}").fillna(False).to_numpy(dtype=bool)
    status = pd.Series("unknown", index=linked.index, dtype=object)
    status[other] = "other_vintage"
    status[key.str.startswith("W01").fillna(False).to_numpy(dtype=bool)] = "welsh"
    status[linked["imd_decile"].notna().to_numpy()] = "valid"
    status[~well_formed] = "malformed"
    status[missing] = "missing"
    linked.insert(0, "lsoa_status", status)
    return linked.drop(columns=[_KEY])


def link_summary(linked: ir.Table) -> pd.DataFrame:
    """Count linked rows by ``lsoa_status`` (every status listed, zeros included).

    Columns ``lsoa_status, rows, share`` (share of all rows, 0 to 1).
    """
    counts = linked.group_by("lsoa_status").agg(rows=linked.count()).to_pandas()
    frame = pd.DataFrame({"lsoa_status": list(LSOA_STATUSES)}).merge(counts, on="lsoa_status", how="left")
    frame["rows"] = frame["rows"].fillna(0).astype("int64")
    total = int(frame["rows"].sum())
    frame["share"] = frame["rows"] / total if total else 0.0
    return frame
