"""The prepared source expression: a source's records with their place and person codes.

Each record is linked to its place through the table of its source's distinct LSOA codes
(:mod:`gapwatch.engine.linking`) and given the integer codes of every grouping field
(:mod:`gapwatch.engine.codes`). Every scan of a source reads the same prepared
expression, compiled to SQL once (:func:`prepared`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ibis
import ibis.expr.types as ir

from gapwatch import refdata
from gapwatch.engine.backends import Engine
from gapwatch.engine.codes import CODED, FLAGS, ORGANISATION_COLUMNS, PACKED, ethnic_group_of_category
from gapwatch.engine.linking import lsoa_codes
from gapwatch.model.breakdowns import UNKNOWN
from gapwatch.model.config import RunConfig
from gapwatch.refdata.ages import OLDEST, band_starts
from gapwatch.refdata.ethnicity import DEFAULT_GROUPING


def age_band(age: ir.NumericValue, starts: Sequence[int]) -> ir.IntegerValue:
    """The code (1, 2, …) of the band an age falls in; 0 when missing or impossible."""
    branches = [(age < start, index + 1) for index, start in enumerate(starts[1:])]
    return ibis.cases(((age.isnull() | (age < 0) | (age > OLDEST)), 0), *branches, else_=len(starts))


def _flag(value: ir.BooleanValue) -> ir.IntegerValue:
    return ibis.cases((value, 1), (~value, 2), else_=0)


def period_start(date: ir.DateValue, period: str) -> ir.DateValue:
    """The first day of the ``month``, ``quarter`` or ``financial_year`` (from 1 April) of a date."""
    if period == "month":
        return date.truncate("M")
    if period == "quarter":
        return ibis.date(date.year(), ((date.month() - 1) // 3) * 3 + 1, 1)
    year = date.year() - ibis.cases((date.month() < 4, 1), else_=0)
    return ibis.date(year, 4, 1)


def prepare(
    engine: Engine,
    source: str,
    vintage: int,
    age: Callable[[ir.Table], ir.NumericValue] | None = None,
    table: ir.Table | None = None,
    grouping: str = DEFAULT_GROUPING,
) -> ir.Table:
    """Add the place and person codes of every grouping column to a source table.

    The input's own columns stay as they are (indicator expressions read them); the codes
    are the columns named in :data:`gapwatch.engine.codes.CODED`, integers that are never
    missing (0 = unknown). ``grouping`` is the run's ``ethnic_grouping`` (see
    :func:`gapwatch.refdata.ethnic_categories`).
    """
    table = engine.table(source) if table is None else table
    codes = lsoa_codes(engine, source, table, vintage).table
    keyed = table.mutate(_lsoa_raw=table["lsoa_code"].cast("string"))
    joined = keyed.left_join(codes, "_lsoa_raw")
    linked = joined.select(*table.columns, CODED["place"], CODED["lsoa_valid"])
    ages = age(linked) if age is not None else linked["age"]
    categories = refdata.ethnic_categories()
    valid = list(categories.loc[categories["valid"], "code"])
    ethnic = linked["ethnic_category"].cast("string").strip().upper()
    organisation = next((column for column in ORGANISATION_COLUMNS if column in linked.columns), None)
    group_of = ethnic_group_of_category(grouping)
    keys: dict[str, ir.Value] = {
        CODED["place"]: linked[CODED["place"]].fill_null(0),
        CODED["lsoa_valid"]: linked[CODED["lsoa_valid"]].fill_null(0),
        CODED["organisation_code"]: (
            linked[organisation].cast("string").fill_null(UNKNOWN) if organisation else ibis.literal(UNKNOWN)
        ),
        CODED["ethnic_category"]: ethnic.substitute(
            {code: index + 1 for index, code in enumerate(valid)}, else_=0
        ).fill_null(0),
        CODED["ethnic_group"]: ethnic.substitute(
            {code: int(group_of[index + 1]) for index, code in enumerate(valid)}, else_=0
        ).fill_null(0),
        CODED["age_band"]: age_band(ages, band_starts("10y")).fill_null(0),
        CODED["standard_age"]: age_band(ages, band_starts("5y")).fill_null(0),
        CODED["sex"]: (
            linked["sex"].cast("string").strip().substitute({"1": 1, "2": 2}, else_=0).fill_null(0)
        ),
        **{CODED[flag]: _flag(linked[flag]).fill_null(0) for flag in FLAGS},
    }
    flags: ir.IntegerValue = ibis.literal(0, type="int16")
    for name in PACKED:
        flags = flags * 3 + keys[CODED[name]]
    keys[CODED["flags"]] = flags
    return linked.mutate(**keys)


def prepared(engine: Engine, source: str, config: RunConfig) -> ir.Table:
    """:func:`prepare` of a source for the run, as a placeholder whose SQL is compiled once
    (:meth:`Engine.define`) and kept in the engine's session for every scan of the source."""
    grouping = config.ethnic_grouping
    key = (source, config.lsoa_vintage, grouping)
    if key not in engine.session.prepared:
        name = f"gapwatch_prepared_{len(engine.definitions)}"
        engine.session.prepared[key] = engine.define(
            name, prepare(engine, source, config.lsoa_vintage, grouping=grouping)
        )
    return engine.session.prepared[key]


def within_periods(prepared: ir.Table, date_column: str, config: RunConfig) -> ir.Table:
    """The records of a prepared table dated inside the run's reporting window."""
    date = prepared[date_column].cast("date")
    first, last = config.periods.first_day, config.periods.last_day
    return prepared.filter(date >= ibis.literal(first), date <= ibis.literal(last))
