"""Completeness of the fields a gap depends on, by source, period and organisation or ICB.

A gap by ethnic group can only be measured where ethnicity is recorded, and one by
deprivation only where the LSOA links: NHS reviews keep finding that missing data hide
the gaps they look for. For every input table this counts, per quarter, for England, each
ICB of residence and each submitting organisation: records, records with a valid NHS
ethnic category (not missing, ``Z`` or ``99``), a linkable LSOA, a valid sex and age,
duplicates (the same person and date more than once) and late arrivals (received more
than ``LATE_DAYS`` days after the record's date).

This module is a client of the engine's lower modules (codes, the prepared expression,
grouping sets, the roll-up); the scans that carry completeness beside indicator counts
(:mod:`gapwatch.engine.jobs`) call it, never the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from gapwatch.engine.backends import Engine, Job
from gapwatch.engine.codes import CODED
from gapwatch.engine.frames import as_dates, period_end
from gapwatch.engine.grouping import GroupingSet, engine_columns, grouping_sql
from gapwatch.engine.prepare import period_start, prepare, within_periods
from gapwatch.engine.rollup import Coded, roll_up
from gapwatch.model.config import RunConfig

#: Records dated up to a month before the end of their month arrive within about 36 days
#: when on time; 45 days separates late ones clearly.
LATE_DAYS = 45
FIELDS = ("ethnicity_valid", "lsoa_valid", "sex_valid", "age_valid", "late", "duplicates")


#: Where completeness is counted: England, each ICB of residence and each organisation.
SETS: list[GroupingSet] = [
    ("england", "overall", ()),
    ("icb", "overall", ("icb_code",)),
    ("provider", "overall", ("organisation_code",)),
]
#: Prefix of the completeness counts when they share a scan with indicator counts.
PREFIX = "completeness__"


def measure_columns(prepared: ir.Table, date: ir.DateValue) -> dict[str, ir.Value]:
    """The completeness counts of each record (all but duplicates), named with ``PREFIX``."""
    late = (
        prepared["received_date"].cast("date").delta(date, unit="day") > LATE_DAYS
        if "received_date" in prepared.columns
        else ibis.literal(False)
    )
    measures = {
        "records": ibis.literal(1),
        "ethnicity_valid": ibis.cases((prepared[CODED["ethnic_category"]] != 0, 1), else_=0),
        "lsoa_valid": prepared[CODED["lsoa_valid"]],
        "sex_valid": ibis.cases((prepared[CODED["sex"]] != 0, 1), else_=0),
        "age_valid": ibis.cases((prepared[CODED["age_band"]] != 0, 1), else_=0),
        "late": ibis.cases((late, 1), else_=0),
    }
    return {PREFIX + name: value for name, value in measures.items()}


def duplicates_sql(
    engine: Engine, source: str, prepared: ir.Table, date_column: str, config: RunConfig
) -> str | None:
    """The statement that counts a source's duplicates by quarter and area (for :func:`label`),
    or None when the source has no ``person_id``.

    The first of a person's records on a date counts once; the rest are duplicates. A
    window carries every column it is given through its sort, so the window that finds the
    repeated (person, date) pairs reads those two columns of the source alone; only the
    records of such pairs (most sources have none, and an engine can skip the rest of the
    query when there are none) are linked and ranked again to count the duplicates by area.
    The other counts need no window at all.
    """
    if "person_id" not in prepared.columns:
        return None
    date = prepared[date_column].cast("date")
    source_table = engine.table(source)
    source_date = source_table[date_column].cast("date")
    first, last = config.periods.first_day, config.periods.last_day
    pairs = source_table.filter(source_date >= ibis.literal(first), source_date <= ibis.literal(last))
    pairs = pairs.select("person_id", _gapwatch_date=pairs[date_column].cast("date"))
    repeated = pairs.mutate(_gapwatch_order=_first_of_pair(pairs))
    repeated = (
        repeated.filter(repeated["_gapwatch_order"] > 0)
        .select(_gapwatch_person=repeated["person_id"], _gapwatch_key_date=repeated["_gapwatch_date"])
        .distinct()
    )
    grouping = engine_columns(prepared, SETS)
    narrow = prepared.select(
        "person_id", _gapwatch_date=date, period_start=period_start(date, "quarter"), **grouping
    )
    # identical_to: records without a person id on the same date were always counted as
    # repeats of one another, and still are.
    narrow = narrow.semi_join(repeated, [
        narrow["person_id"].identical_to(repeated["_gapwatch_person"]),
        narrow["_gapwatch_date"] == repeated["_gapwatch_key_date"],
    ])  # fmt: skip
    ranked = narrow.mutate(_gapwatch_order=_first_of_pair(narrow))
    extra = ranked.filter(ranked["_gapwatch_order"] > 0).select(
        "period_start", *grouping, duplicates=ibis.literal(1)
    )
    return grouping_sql(engine, extra, ["period_start"], SETS, ["duplicates"])


def label(
    source: str,
    raw: pd.DataFrame,
    duplicates: pd.DataFrame | None,
    sets: list[GroupingSet],
    config: RunConfig,
    coded_rows: Coded | None = None,
) -> pd.DataFrame:
    """Completeness by source, quarter and area, from an engine result that holds the
    ``PREFIX`` counts by ``sets`` (alone or beside indicator counts), with the engine's
    answer to :func:`duplicates_sql` added (None: no duplicates counted); ``coded_rows``
    as :func:`gapwatch.engine.rollup.roll_up` takes them."""
    measures = [column for column in raw.columns if column.startswith(PREFIX)]
    labelled = roll_up(raw, ["period_start"], SETS, measures, config.lsoa_vintage, all_sets=sets,
                        coded_rows=coded_rows)  # fmt: skip
    labelled = labelled.rename(columns={column: column.removeprefix(PREFIX) for column in measures})
    keys = ["period_start", "area_type", "area_code"]
    labelled["duplicates"] = 0.0
    if duplicates is not None and not labelled.empty:
        found = roll_up(duplicates, ["period_start"], SETS, ["duplicates"], config.lsoa_vintage)
        if not found.empty:
            found = found.drop(columns=["breakdown", "group"])
            labelled = labelled.drop(columns="duplicates").merge(found, on=keys, how="left")
            labelled["duplicates"] = labelled["duplicates"].fillna(0.0)
    labelled = labelled.drop(columns=["breakdown", "group"])
    labelled.insert(0, "source", source)
    # In order here, where the engine is still counting other sources (see :func:`combined`).
    labelled = labelled.sort_values(keys, kind="stable", ignore_index=True)
    labelled["period_start"] = as_dates(labelled["period_start"])
    labelled["period_end"] = period_end(labelled["period_start"], "quarter")
    return labelled


def _first_of_pair(table: ir.Table) -> ir.IntegerValue:
    """0 for the first of a person's records on a date, 1, 2, … for the rest."""
    return ibis.row_number().over(
        group_by=[table["person_id"], table["_gapwatch_date"]], order_by=[table["_gapwatch_date"]]
    )


def completeness(engine: Engine, source: str, date_column: str, config: RunConfig) -> Job[pd.DataFrame]:
    """Counts of valid, duplicate and late records for one source (see the module docstring),
    in a scan of its own (the engine folds them into an indicator scan where it can), as a
    job (:meth:`Engine.run_jobs`)."""
    prepared = prepare(engine, source, config.lsoa_vintage, grouping=config.ethnic_grouping)
    prepared = within_periods(prepared, date_column, config)
    date = prepared[date_column].cast("date")
    measures = measure_columns(prepared, date)
    inner = prepared.select(
        period_start=period_start(date, "quarter"), **engine_columns(prepared, SETS), **measures
    )
    statements = [grouping_sql(engine, inner, ["period_start"], SETS, list(measures))]
    duplicates = duplicates_sql(engine, source, prepared, date_column, config)
    answers = yield statements + ([duplicates] if duplicates else [])
    return label(source, answers[0], answers[1] if duplicates else None, SETS, config)


def completeness_all(
    engine: Engine,
    sources: Sequence[tuple[str, str]],
    config: RunConfig,
    counted: Sequence[pd.DataFrame] = (),
) -> pd.DataFrame:
    """:func:`completeness` of every (source, date column) pair, with those ``counted``
    already (in the engine's indicator scans), as one table."""
    jobs = [completeness(engine, source, date_column, config) for source, date_column in sources]
    return combined([*counted, *engine.run_jobs(jobs)])


def combined(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Completeness frames of several sources (each of one source, in order, as
    :func:`label` returns them) as one table in order of source, period and area."""
    frames = sorted((frame for frame in frames if not frame.empty), key=lambda frame: frame["source"].iloc[0])
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)
