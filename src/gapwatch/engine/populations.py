"""Cells of rates whose denominator is a population: every group with people is a cell.

An indicator such as "admissions per 100,000 people" counts its events in the source
table and its denominator in the population table. The engine's grouping-sets query over
the events only sees the groups that have at least one record, so a group (a quintile of
an ICB, say) whose people had no event in a period would have no cell at all: a true zero
lost, a quintile gap or SII that cannot be measured, and a zero that a reader cannot tell
from missing data. Here each indicator's event counts are joined to the population and
completed with every group that has people, for every area of the run and every period
in which the indicator's source has records, with 0 events.

Two judgements (both on the methods page):

* A period in which the source has no record in scope at all gets no cells: an extract
  that does not cover a quarter is missing data, not a quarter without events.
* A group with events but no people (events whose area or group the population table does
  not hold) keeps its cell, with a missing denominator, as before.

Rates with a denominator counted from records (proportions, rates per bed day) need no
completion: a group with records in the denominator always has a cell, and a group with
none has no value to publish (0 of 0 is not a zero), so it gets no cell.

The population itself is counted once per population table (and organisation column of
the sources that use it) by :func:`count_population`, a job like a scan's, by five-year
age band, which also gives directly standardised rates their bands (:func:`standardised`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from gapwatch.engine.backends import Engine, Job
from gapwatch.engine.codes import CODED, ORGANISATION_COLUMNS, code_labels
from gapwatch.engine.grouping import engine_columns, grouping_sets, grouping_sql
from gapwatch.engine.prepare import prepare
from gapwatch.engine.rollup import roll_up
from gapwatch.model.breakdowns import UNKNOWN
from gapwatch.model.catalogue import Indicator
from gapwatch.model.config import RunConfig

#: The keys of a cell other than its indicator and period.
GROUP_KEYS = ["area_type", "area_code", "breakdown", "group"]
#: pandas' default text dtype (the engine's cells hold their text in it).
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def with_population(cells: pd.DataFrame, people: pd.DataFrame, breakdowns: list[str]) -> pd.DataFrame:
    """One indicator's event ``cells`` with the population of each cell as ``denominator``,
    completed with a cell of 0 events for every group with people.

    ``cells`` hold ``indicator_id, period_start, period_end, area_type, area_code,
    breakdown, group`` and the event counts (``numerator``; a ``denominator`` column, if
    any, is replaced); ``people`` hold ``area_type, area_code, breakdown, group,
    population`` (people, summed over age). Only the indicator's ``breakdowns`` are
    completed. Returns the cells in order of period, area type, area, breakdown and group.

    >>> cells = pd.DataFrame({"indicator_id": ["x"], "period_start": ["2024-04-01"],
    ...     "period_end": ["2024-06-30"], "area_type": ["england"], "area_code": ["E92000001"],
    ...     "breakdown": ["sex"], "group": ["male"], "numerator": [3.0]})
    >>> people = pd.DataFrame({"area_type": "england", "area_code": "E92000001",
    ...     "breakdown": "sex", "group": ["male", "female"], "population": [100.0, 90.0]})
    >>> with_population(cells, people, ["sex"])[["group", "numerator", "denominator"]]
        group  numerator  denominator
    0  female        0.0         90.0
    1    male        3.0        100.0
    """
    events = cells.drop(columns=["denominator"], errors="ignore").reset_index(drop=True)
    if events.empty:
        return events.assign(denominator=pd.Series(dtype="float64"))
    # Integer ids of every (area type, area, breakdown, group) of the events and the people,
    # numbered in the order of their text: joins, completion and ordering then work on one
    # integer key, not on text (with millions of cells, merging on text took half a minute).
    both = pd.concat([events[GROUP_KEYS], people[GROUP_KEYS]], ignore_index=True)
    codes = [pd.factorize(both[column], sort=True) for column in GROUP_KEYS]
    ids = _ordered_ids([code for code, _ in codes])
    size = int(ids.max()) + 1
    event_ids, people_ids = ids[: len(events)], ids[len(events) :]
    population = np.full(size, np.nan)
    population[people_ids] = people["population"].to_numpy(dtype="float64")
    period, starts = pd.factorize(events["period_start"], sort=True)
    ends = np.empty(len(starts), dtype=object)
    ends[period] = events["period_end"].to_numpy(dtype=object)
    event_keys = period.astype(np.int64) * size + event_ids
    # Every period of the events × every group with people of the indicator's breakdowns.
    wanted = people["breakdown"].isin(breakdowns).to_numpy(dtype=bool) & (
        people["population"].to_numpy(dtype="float64") > 0
    )
    grid = (np.arange(len(starts), dtype=np.int64)[:, None] * size + people_ids[wanted][None, :]).ravel()
    # Keys not among the events' (marking a table of every key where it is small: numpy's
    # set operations on millions of keys were most of the time).
    if len(starts) * size <= max(8 * len(grid), 1 << 24):
        present = np.zeros(len(starts) * size, dtype=bool)
        present[event_keys] = True
        added = grid[~present[grid]]
    else:
        added = grid[~np.isin(grid, event_keys, kind="sort")]
    keys = np.concatenate([event_keys, added])
    # In order of period, then of area type, area, breakdown and group (ids follow the text).
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    group_ids, period_codes = keys % size, keys // size
    out: dict[str, object] = {}
    for column in events.columns:
        if column in GROUP_KEYS:
            # Each row's label looked up from the column's few distinct labels, in Arrow.
            index = GROUP_KEYS.index(column)
            code_of = np.zeros(size, dtype=np.int64)
            code_of[ids] = codes[index][0]
            labels = pa.array(np.asarray(codes[index][1], dtype=object), type=pa.large_string())
            taken = pd.array(labels.take(pa.array(code_of[group_ids])), dtype=_TEXT)
            out[column] = taken if events[column].dtype == _TEXT else taken.astype(events[column].dtype)
        elif column == "period_start":
            out[column] = np.asarray(starts, dtype=object)[period_codes]
        elif column == "period_end":
            out[column] = ends[period_codes]
        elif column == "indicator_id":
            out[column] = np.full(len(keys), str(events[column].iloc[0]), dtype=object)
        elif column in ("numerator", "sum", "sum_squares"):
            # Cells added for groups with people but no events: no events is a count of 0.
            counted = np.concatenate([events[column].to_numpy(dtype="float64"), np.zeros(len(added))])
            out[column] = counted[order]
        else:
            filled = np.concatenate([events[column].to_numpy(dtype=object), np.full(len(added), None)])
            out[column] = filled[order]
    out["denominator"] = population[group_ids]
    return pd.DataFrame(out)


def _ordered_ids(columns: list[np.ndarray]) -> np.ndarray:
    """An integer id of each row's combination of codes (each column's codes numbered in
    sorted order of its text), ordered as the combinations of text sort."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    size = 1
    for codes in columns:
        count = int(codes.max()) + 1 if len(codes) else 1
        if size * count >= 2**62:
            # Renumber the combinations so far (still in order) before the key overflows.
            combined, found = pd.factorize(combined, sort=True)
            size = len(found)
        combined = combined * count + codes
        size *= count
    ids, _ = pd.factorize(combined, sort=True)
    result: np.ndarray = ids.astype(np.int64)
    return result


@dataclass(frozen=True)
class PopulationPlan:
    """One count of a population table: for the ``members`` whose sources share one
    organisation column (``organisation``; None where they have none)."""

    source: str
    organisation: str | None
    members: tuple[Indicator, ...]


def organisation_column(engine: Engine, source: str) -> str | None:
    """The column of a source that names the organisation (provider or GP practice), if any."""
    columns = engine.table(source).columns
    return next((column for column in ORGANISATION_COLUMNS if column in columns), None)


def plan_populations(engine: Engine, indicators: Sequence[Indicator]) -> list[PopulationPlan]:
    """Denominators that are populations: counted once per population table (and per
    organisation column of the sources that use it), joined to every period."""
    users = [indicator for indicator in indicators if indicator.denominator.population]
    plans = []
    for source in sorted({str(indicator.denominator.population) for indicator in users}):
        mine = [indicator for indicator in users if indicator.denominator.population == source]
        for organisation in sorted({organisation_column(engine, i.source) or "" for i in mine}):
            members = tuple(i for i in mine if (organisation_column(engine, i.source) or "") == organisation)
            plans.append(PopulationPlan(source, organisation or None, members))
    return plans


def count_population(
    engine: Engine, plan: PopulationPlan, config: RunConfig, areas: Sequence[str]
) -> Job[pd.DataFrame]:
    """People in the population table by area, group and five-year age band (``standard_age``),
    ages taken at the reference date, as a job (:meth:`Engine.run_jobs`)."""
    source, organisation = plan.source, plan.organisation
    breakdowns = {breakdown for indicator in plan.members for breakdown in indicator.breakdowns}
    table = engine.table(source)
    if organisation and organisation in table.columns:
        table = table.drop(*[column for column in ORGANISATION_COLUMNS if column in table.columns and
                             column != organisation])  # fmt: skip
    reference = ibis.literal(config.reference_date)

    def age(linked: ir.Table) -> ir.NumericValue:
        birth = linked["date_of_birth"].cast("date")
        years = reference.year() - birth.year()
        before_birthday = (reference.month() < birth.month()) | (
            (reference.month() == birth.month()) & (reference.day() < birth.day())
        )
        return years - ibis.cases((before_birthday, 1), else_=0)

    grouping = config.ethnic_grouping
    prepared = prepare(engine, source, config.lsoa_vintage, age=age, table=table, grouping=grouping)
    sets = grouping_sets(areas, breakdowns, config)
    inner = prepared.select(
        **engine_columns(prepared, sets),
        standard_age=prepared[CODED["standard_age"]],
        population=ibis.literal(1),
    )
    raw = yield grouping_sql(engine, inner, ["standard_age"], sets, ["population"])
    labelled = roll_up(raw, ["standard_age"], sets, ["population"], config.lsoa_vintage, grouping=grouping)
    labelled["population"] = labelled["population"].astype("float64")
    labelled["standard_age"] = code_labels()["standard_age"][labelled["standard_age"].astype(np.int64)]
    return labelled


def standardised(
    indicator: Indicator, cells: pd.DataFrame, population: pd.DataFrame, numerators: list[pd.DataFrame]
) -> pd.DataFrame:
    """Numerator and population of each of an indicator's cells by five-year age band.

    Every band with people in the cell's population is listed (a band without events has
    numerator 0). Events of unknown age, or in a band with no population, cannot be
    standardised and are left out; the cell's crude counts still include them.
    """
    keys = GROUP_KEYS
    known = population.loc[population["standard_age"] != UNKNOWN, [*keys, "standard_age", "population"]]
    bands = cells[["indicator_id", "period_start", "period_end", *keys]].merge(known, on=keys)
    events = [frame.loc[frame["indicator_id"] == indicator.id] for frame in numerators]
    if events:
        on = ["indicator_id", "period_start", "period_end", *keys, "standard_age"]
        bands = bands.merge(pd.concat(events, ignore_index=True)[[*on, "numerator"]], on=on, how="left")
    else:
        bands["numerator"] = 0.0
    bands["numerator"] = bands["numerator"].fillna(0.0)
    return bands
