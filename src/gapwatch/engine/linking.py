"""Linking each source's LSOA codes to places: once per distinct code, not per record.

A table has tens of thousands of distinct codes but can have hundreds of millions of
rows: normalising and classifying codes row by row was most of the cost of linking. So
the engine lists a source's distinct codes with their row counts, classifies them in
pandas (by the rules of :func:`gapwatch.refdata.classify_lsoa`), and puts the answer in
the engine as one small table of the codes of every source, which each source's
prepared expression joins (:func:`gapwatch.engine.prepare.prepare`). What is linked is
kept in the engine's session (:class:`gapwatch.engine.session.Session`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from gapwatch import refdata
from gapwatch.engine.backends import Engine, Job
from gapwatch.engine.codes import CODED, PLACE_COLUMNS, places
from gapwatch.engine.session import LinkedCodes
from gapwatch.errors import InputError, rows

#: Above this share of codes from the other LSOA vintage, the extract is mixed, not faulty.
MIXED_VINTAGE_SHARE = 0.05


@dataclass(frozen=True)
class FoundCodes:
    """What :func:`linked` finds in one table: ``dictionary``, each distinct raw code
    (``_lsoa_raw``) with its place code and whether it is valid; ``summary``, the table's
    rows by ``lsoa_status``."""

    dictionary: pd.DataFrame
    summary: pd.DataFrame


def lsoa_codes(engine: Engine, source: str, table: ir.Table, vintage: int) -> LinkedCodes:
    """Each distinct LSOA code of a table linked once: the codes as an engine table, and
    the rows by ``lsoa_status`` (as :func:`gapwatch.refdata.link_summary` gives them).

    Linked when first asked for, then kept in the engine's session.
    """
    kept = engine.session.lsoa_codes.get((source, vintage))
    if kept is None:
        kept = keep_lsoa_codes(engine, [source], vintage, [engine.run(linked(engine, table, vintage))])
    return kept


def linked(engine: Engine, table: ir.Table, vintage: int) -> Job[FoundCodes]:
    """The job of :func:`lsoa_codes`: the place code of each distinct LSOA code of a table,
    and the rows by ``lsoa_status``."""
    raw = table["lsoa_code"].cast("string")
    counts = yield engine.compile(table.group_by(_lsoa_raw=raw).agg(rows=table.count()))
    classified = _classified(engine, counts["_lsoa_raw"], vintage)
    valid = (classified["lsoa_status"] == "valid").to_numpy()
    dictionary = pd.DataFrame({
        "_lsoa_raw": counts["_lsoa_raw"].astype(object),
        CODED["place"]: np.where(valid, classified["place"].to_numpy(), 0).astype(np.int32),
        CODED["lsoa_valid"]: valid.astype(np.int32),
    }).dropna(subset=["_lsoa_raw"])  # fmt: skip
    by_status = counts.groupby(classified["lsoa_status"].to_numpy())["rows"].sum()
    summary = pd.DataFrame({"lsoa_status": list(refdata.LSOA_STATUSES)})
    summary["rows"] = summary["lsoa_status"].map(by_status).fillna(0).astype("int64")
    total = int(summary["rows"].sum())
    summary["share"] = summary["rows"] / total if total else 0.0
    return FoundCodes(dictionary, summary)


def keep_lsoa_codes(
    engine: Engine, sources: Sequence[str], vintage: int, found: Sequence[FoundCodes]
) -> LinkedCodes:
    """Put :func:`linked`'s codes of one or more tables in the engine, as one table their
    records join (a code links to the same place whichever table it comes from); returns
    the last source's :class:`LinkedCodes`."""
    dictionary = pd.concat([codes.dictionary for codes in found], ignore_index=True)
    dictionary = dictionary.drop_duplicates("_lsoa_raw", ignore_index=True)
    name = f"gapwatch_lsoa_codes_{len(engine.session.lsoa_codes)}"
    try:
        codes = engine.connection.create_table(name, dictionary, temp=True, overwrite=True)
    except NotImplementedError:
        # PySpark has no temporary tables; a view over an in-memory table serves the same end.
        codes = engine.connection.create_view(name, ibis.memtable(dictionary), overwrite=True)
    for source, one in zip(sources, found, strict=True):
        engine.session.lsoa_codes[(source, vintage)] = LinkedCodes(codes, one.summary)
    return LinkedCodes(codes, found[-1].summary)


def _classified(engine: Engine, codes: pd.Series, vintage: int) -> pd.DataFrame:
    """``lsoa_status`` and place code of each raw LSOA code, in order (place 0 unless valid).

    Sources share most of their codes: a code classified for one source is not classified
    again for the next (:func:`gapwatch.refdata.classify_lsoa` of every source's codes was
    most of the cost of linking).
    """
    memo: pd.DataFrame = engine.session.classified.get(vintage, pd.DataFrame())
    text = codes.astype(object)
    new = pd.Series(pd.unique(text[text.notna() & ~text.isin(memo.index)]), dtype=object)
    if len(new) or memo.empty:
        found = refdata.classify_lsoa(new, vintage)
        place = found[list(PLACE_COLUMNS)].merge(places(vintage).lookup, on=list(PLACE_COLUMNS), how="left")
        found = pd.DataFrame(
            {"lsoa_status": found["lsoa_status"].to_numpy(), "place": place["place"].fillna(0).to_numpy()},
            index=pd.Index(new, dtype=object),
        )
        memo = pd.concat([memo, found]) if not memo.empty else found
        engine.session.classified[vintage] = memo
    result = memo.reindex(text.where(text.notna(), None))
    result["lsoa_status"] = result["lsoa_status"].where(text.notna().to_numpy(), "missing")
    result["place"] = result["place"].fillna(0).astype(np.int64)
    return result.reset_index(drop=True)


def link_sources(engine: Engine, sources: Sequence[str], vintage: int) -> None:
    """Link every source not yet linked, as one table of codes.

    Each table's codes are classified while the engine lists the next table's, and put in
    the engine after, as one table (while jobs run, only the engine's own thread may use
    its connection).
    """
    unlinked = [
        source for source in dict.fromkeys(sources) if (source, vintage) not in engine.session.lsoa_codes
    ]
    if unlinked:
        found = engine.run_jobs([linked(engine, engine.table(source), vintage) for source in unlinked])
        keep_lsoa_codes(engine, unlinked, vintage, found)


def linkage(engine: Engine, source: str, vintage: int) -> pd.DataFrame:
    """A source's rows by ``lsoa_status`` (with a ``source`` column first), after checking
    that its codes are of the run's LSOA vintage and link at all.

    Raises :class:`gapwatch.errors.InputError` when no row holds a known code of the
    vintage, or when more than :data:`MIXED_VINTAGE_SHARE` hold codes of the other one.
    """
    summary = lsoa_codes(engine, source, engine.table(source), vintage).summary.copy()
    summary.insert(0, "source", source)
    statuses = summary.set_index("lsoa_status")["rows"]
    if statuses.sum() > 0 and statuses.get("valid", 0) == 0:
        raise InputError(
            f"{engine.locations.get(source, source)}: column 'lsoa_code': none of the "
            f"{rows(int(statuses.sum()))} holds a known {vintage} LSOA code "
            f"({', '.join(f'{k} {v:,}' for k, v in statuses.items() if v)}); "
            "is it the right column and vintage?"
        )
    other = int(statuses.get("other_vintage", 0))
    if other > MIXED_VINTAGE_SHARE * statuses.sum():
        other_year = 2011 if vintage == 2021 else 2021
        raise InputError(
            f"{engine.locations.get(source, source)}: column 'lsoa_code': {rows(other)} "
            f"({other / statuses.sum():.0%}) hold {other_year} LSOA codes in a run set to "
            f"lsoa_vintage {vintage}; convert them (gapwatch.refdata.convert_lsoa) "
            "or set lsoa_vintage"
        )
    return summary
