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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The keys of a cell other than its indicator and period.
GROUP_KEYS = ["area_type", "area_code", "breakdown", "group"]
#: The order cells are kept in (see :data:`gapwatch.engine.counts.CELL_ORDER`).
_ORDER = ["period_start", "area_type", "area_code", "breakdown", "group"]


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
    events = cells.drop(columns=["denominator"], errors="ignore")
    with_people = people.loc[
        people["breakdown"].isin(breakdowns).to_numpy(dtype=bool)
        & (people["population"].to_numpy(dtype="float64") > 0),
        [*GROUP_KEYS, "population"],
    ]
    periods = events[["period_start", "period_end"]].drop_duplicates(ignore_index=True)
    if events.empty or with_people.empty:
        joined = events.merge(people[[*GROUP_KEYS, "population"]], on=GROUP_KEYS, how="left")
        return joined.rename(columns={"population": "denominator"})
    # Every (period, group with people): a cross product of a few periods and the groups.
    grid = periods.merge(with_people, how="cross")
    keys = ["period_start", "period_end", *GROUP_KEYS]
    joined = events.merge(grid, on=keys, how="outer", sort=False)
    counted = [column for column in ("numerator", "sum", "sum_squares") if column in events.columns]
    # Cells added for groups with people but no events: no events is a count of 0.
    joined[counted] = joined[counted].fillna(0.0)
    joined["indicator_id"] = str(events["indicator_id"].iloc[0])
    joined = joined.rename(columns={"population": "denominator"})
    # Sorted by integer codes of each key (sorted factorisation), as the engine orders
    # cells: sorting Python date objects and text row by row was slow.
    codes = [pd.factorize(joined[column], sort=True)[0] for column in reversed(_ORDER)]
    order = np.lexsort(codes)
    return joined.take(order).reset_index(drop=True)[[*events.columns, "denominator"]]
