"""Checks of a whole input table, beside the row checks of :mod:`gapwatch.engine.validate`:
dates of birth in a population table (none in the future, no age above :data:`OLDEST`),
the LSOA vintage of a population table's codes, and copies of whole rows (an extract
loaded twice)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from gapwatch import refdata
from gapwatch.engine.backends import Engine
from gapwatch.errors import InputError, rows
from gapwatch.model.config import RunConfig

OLDEST = 120


def count_rows(engine: Engine, table: ibis.Table) -> int:
    """The number of rows of ``table``, counted where it lives."""
    found: Any = engine.query(engine.compile(table.aggregate(rows=table.count()))).iloc[0, 0]
    return int(found)


#: Above this share of a population table's rows with codes of the other LSOA vintage, the
#: run stops: every denominator of a person group is short by that share. Lower than for
#: service tables (``engine.linking.MIXED_VINTAGE_SHARE``): a register extract is one
#: vintage, and a 2011 extract in a 2021 run has only about 3% of codes that no longer exist.
POPULATION_OTHER_VINTAGE = 0.01
#: Above this share of rows that are exact copies of another, an input was loaded twice
#: (every count doubled), not submitted twice now and then (0.5% in the synthetic data; a
#: few percent in national datasets).
COPIED_SHARE = 0.10
#: ... and at least this many copies: in a table of a few rows, one repeat is a large share
#: of nothing, not a second load.
COPIED_ROWS = 50


def birth_checks(table: ibis.Table, config: RunConfig) -> dict[str, ibis.Value]:
    """Dates of birth in the future, and ages above :data:`OLDEST` at the reference date.

    Service tables carry an age, checked by the row rules; a population table carries dates
    of birth, and an age is taken from them at the run's reference date.
    """
    birth = table["date_of_birth"].cast("date")
    reference = config.reference_date
    # Born on or before this day: at least OLDEST + 1 years old on the reference date
    # (29 February births count from 1 March in non-leap years, as in populations.count_population).
    day = min(reference.day, 28) if reference.month == 2 else reference.day
    limit = dt.date(reference.year - OLDEST - 1, reference.month, day)
    return {
        "born:date_of_birth": (birth > ibis.literal(dt.date.today())).sum(),
        "aged:date_of_birth": (birth <= ibis.literal(limit)).sum(),
    }


def check_population_lsoa(engine: Engine, source: str, vintage: int) -> None:
    """Stop the run when a population table's LSOA codes cannot give true denominators.

    None valid leaves every sub-national denominator empty; codes of the other vintage in
    more than :data:`POPULATION_OTHER_VINTAGE` of rows leave the denominators of the areas
    and deprivation groups they belong to short, so every rate by quintile too high.
    """
    table = engine.table(source)
    where = engine.locations.get(source, source)
    raw = table["lsoa_code"].cast("string")
    counts = engine.query(engine.compile(table.group_by(_code=raw).agg(_rows=table.count())))
    status = refdata.classify_lsoa(counts["_code"].astype(object), vintage)["lsoa_status"].to_numpy()
    by_status = counts.groupby(status)["_rows"].sum()
    total = int(by_status.sum())
    if total and int(by_status.get("valid", 0)) == 0:
        raise InputError(
            f"{where}: column 'lsoa_code': none of the {rows(total)} of the population table holds a "
            f"known {vintage} LSOA code ({', '.join(f'{k} {int(v):,}' for k, v in by_status.items() if v)}); "
            "every sub-national denominator would be empty"
        )
    other = int(by_status.get("other_vintage", 0))
    if other > POPULATION_OTHER_VINTAGE * total:
        other_year = 2011 if vintage == 2021 else 2021
        raise InputError(
            f"{where}: column 'lsoa_code': {rows(other)} ({other / total:.1%}) of the population table hold "
            f"{other_year} LSOA codes in a run set to lsoa_vintage {vintage}; their denominators would be "
            "missing: convert them (gapwatch.refdata.convert_lsoa) or set lsoa_vintage"
        )


def check_copies(engine: Engine, source: str, total: int) -> None:
    """Stop the run when more than :data:`COPIED_SHARE` of a table's rows are exact copies of
    another row: an extract appended to itself doubles every count, and only the share of
    duplicates on the quality page would hint at it. ``accept_duplicates: true`` in the
    configuration counts them (a source where identical rows are separate events).
    """
    copies = _copies(engine, engine.table(source), total)
    if total and copies > COPIED_SHARE * total and copies >= COPIED_ROWS:
        raise InputError(
            f"{engine.locations.get(source, source)}: {rows(copies)} ({copies / total:.0%}) are exact "
            f"copies of another row, far above the {COPIED_SHARE:.0%} a single extract holds; "
            "was it loaded twice? Remove the copies, or set accept_duplicates: true to count them"
        )


def _copies(engine: Engine, table: ibis.Table, total: int) -> int:
    """How many rows are exact copies of another row.

    On DuckDB, an approximate count of distinct rows (HyperLogLog, within a few percent)
    rules out most tables at a fifth of the cost of an exact count (0.4 s against 3.1 s for
    2 million rows of 10 columns); only a table it cannot rule out is counted exactly, by a
    64-bit hash of each row (the expected number of distinct pairs sharing one is n²/2⁶⁵,
    about three in a million at 10 million rows).
    """
    if engine.kind != "duckdb":
        return total - count_rows(engine, table.distinct())
    rows_hash = f"hash({', '.join(engine.quote(column) for column in table.columns)})"
    inner = engine.compile(table)

    def distinct(function: str) -> int:
        found: Any = engine.query(f"SELECT {function} FROM ({inner}) AS t").iloc[0, 0]
        return int(found)

    approximate = distinct(f"approx_count_distinct({rows_hash})")
    if total - approximate <= COPIED_SHARE / 2 * total:
        return max(total - approximate, 0)  # approximate: well below the threshold
    return total - distinct(f"count(DISTINCT {rows_hash})")
