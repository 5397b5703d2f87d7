"""Scans as jobs: each scan's statements, and its answers labelled and put in order.

A scan (:mod:`gapwatch.engine.scans`) runs as a job (:meth:`Engine.run_jobs`): a
generator that yields its SQL and is sent the engine's answers, so the calling thread
labels and sums one scan's answer while the engine counts the next. Each job rolls its
answer up into cells (:func:`gapwatch.engine.rollup.roll_up`), sums rolling periods from
quarters and puts each indicator's cells in order, so that after the last answer only a
concatenation is left (:func:`gapwatch.engine.counts.count`).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import reduce

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from gapwatch.engine import completeness
from gapwatch.engine.backends import Engine, Job
from gapwatch.engine.codes import CODED, code_labels
from gapwatch.engine.frames import CELL_ORDER, as_dates, as_text, concat_categorical, constant, period_end
from gapwatch.engine.grouping import (
    GroupingSet,
    engine_columns,
    grouping_columns,
    grouping_sets,
    grouping_sql,
)
from gapwatch.engine.prepare import period_start, prepared, within_periods
from gapwatch.engine.rollup import code_rows, roll_up
from gapwatch.engine.scans import Scan, counted_rows, foldable, measure_columns
from gapwatch.model.breakdowns import UNKNOWN
from gapwatch.model.catalogue import DISTRIBUTION_MEASURES, STANDARDISED
from gapwatch.model.config import RunConfig


@dataclass
class ScanCounts:
    """What one scan counts, in long form by indicator (:func:`count_scan`)."""

    #: Numerator and denominator (sum, sum of squares) of each indicator's cells.
    cells: pd.DataFrame
    #: Rows by value of each median or percentile indicator's cells.
    histograms: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Numerator of each directly standardised rate's cells by five-year age band.
    by_age: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The source's completeness, where the scan counted it.
    completeness: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class ScanResult:
    """A scan's counts as :class:`gapwatch.engine.counts.Counts` holds them (:func:`scan_job`)."""

    #: Each indicator's cells, in order, by indicator id.
    parts: dict[str, pd.DataFrame]
    histograms: pd.DataFrame
    by_age: pd.DataFrame
    completeness: pd.DataFrame


def count_scan(
    engine: Engine, scan: Scan, config: RunConfig, areas: Sequence[str], quality: bool = False
) -> Job[ScanCounts]:
    """One scan, as a job (:meth:`Engine.run_jobs`). With ``quality`` (see
    :func:`gapwatch.engine.scans.foldable`), the same scan counts the source's completeness
    (:mod:`gapwatch.engine.completeness`)."""
    grouping = config.ethnic_grouping
    within = within_periods(prepared(engine, scan.source, config), scan.date_column, config)
    date = within[scan.date_column].cast("date")
    rows = within.mutate(period_start=period_start(date, scan.period))
    breakdowns = {breakdown for indicator in scan.indicators for breakdown in indicator.breakdowns}
    sets = grouping_sets(areas, breakdowns, config)

    if scan.indicators[0].measure in DISTRIBUTION_MEASURES:
        return (yield from _median_scan(engine, scan, rows, sets, config.lsoa_vintage, grouping))

    counted = [counted_rows(indicator, rows) for indicator in scan.indicators]
    quality = quality and foldable(scan)
    if all(condition is not None for condition in counted) and not quality:
        # Rows outside every indicator's denominator add nothing to any count; leaving them
        # out before grouping spares most of the work where, say, only quarter-end snapshots
        # count. A group left with no rows is one the indicators would not report anyway.
        rows = rows.filter(reduce(operator.or_, counted))
    measures: dict[str, ir.Value] = {}
    for indicator in scan.indicators:
        measures.update(measure_columns(indicator, rows))
    leading = ["period_start"]
    columns = engine_columns(rows, sets)
    if scan.indicators[0].measure == STANDARDISED:
        leading.append("standard_age")
        columns["standard_age"] = rows[CODED["standard_age"]]
    query_sets = sets
    quality_measures: dict[str, ir.Value] = {}
    if quality:
        quality_measures = completeness.measure_columns(rows, date)
        query_sets = [*sets, *(item for item in completeness.SETS if item not in sets)]
        columns.update(engine_columns(rows, query_sets))
    inner = rows.select("period_start", **columns, **measures, **quality_measures)
    statements = [grouping_sql(engine, inner, leading, query_sets, [*measures, *quality_measures])]
    # Sent with the counts, not after them: the engine's last answers are then those of the
    # last jobs, and little Python is left to do when the engine has finished.
    duplicates = None
    if quality:
        duplicates = completeness.duplicates_sql(engine, scan.source, within, scan.date_column, config)
    answers = yield statements + ([duplicates] if duplicates else [])
    raw = answers[0]
    coded_rows = code_rows(raw, leading, grouping_columns(query_sets)) if not raw.empty else None
    quality_frame = pd.DataFrame()
    if quality:
        repeats = answers[1] if duplicates else None
        quality_frame = completeness.label(scan.source, raw, repeats, query_sets, config, coded_rows)
    # Cells stay categorical until :func:`scan_job` has put them in order: selecting and
    # sorting millions of rows of text cost more than the rest of the roll-up.
    labelled = roll_up(raw, leading, sets, list(measures), config.lsoa_vintage, categorical=True,
                       all_sets=query_sets, coded_rows=coded_rows, grouping=grouping)  # fmt: skip
    by_age = pd.DataFrame()
    if "standard_age" in leading:
        labelled["standard_age"] = code_labels()["standard_age"][labelled["standard_age"].astype(np.int64)]
        by_age = as_text(labelled.loc[labelled["standard_age"] != UNKNOWN])
        keys = ["period_start", "area_type", "area_code", "breakdown", "group"]
        labelled = labelled.groupby(keys, sort=False, observed=True, as_index=False)[list(measures)].sum()
    cells = []
    for indicator in scan.indicators:
        wanted = labelled["breakdown"].isin(indicator.breakdowns).to_numpy()
        part = labelled.loc[wanted, ["period_start", "area_type", "area_code", "breakdown", "group"]].copy()
        part.insert(0, "indicator_id", constant(indicator.id, len(part), part.index))
        for role in ("numerator", "denominator", "sum", "sum_squares"):
            column = f"{indicator.id}__{role}"
            if column in labelled:
                part[role] = labelled.loc[wanted, column].astype("float64")
        # A cell with nothing counted is a group that does not occur for this indicator.
        occupied = part.get("denominator", pd.Series(1.0, index=part.index)).fillna(0) != 0
        if "numerator" in part:
            occupied |= part["numerator"].fillna(0) != 0
        cells.append(part.loc[occupied])
    standardised: list[pd.DataFrame] = []
    for indicator in scan.indicators if not by_age.empty else ():
        in_breakdowns = by_age["breakdown"].isin(indicator.breakdowns)
        part = by_age.loc[in_breakdowns, [*CELL_ORDER[1:], "standard_age"]].copy()
        part.insert(0, "indicator_id", indicator.id)
        part["numerator"] = by_age.loc[in_breakdowns, f"{indicator.id}__numerator"].astype("float64")
        standardised.append(part)
    return ScanCounts(
        concat_categorical(cells),
        by_age=pd.concat(standardised, ignore_index=True) if standardised else pd.DataFrame(),
        completeness=quality_frame,
    )


def _median_scan(
    engine: Engine, scan: Scan, records: ir.Table, sets: list[GroupingSet], vintage: int, grouping: str
) -> Job[ScanCounts]:
    """Histograms of each median or percentile indicator's value: additive, so the
    median or percentile and its limits follow."""
    statements, wanted = [], []
    for indicator in scan.indicators:
        expressions = indicator.expressions()
        value = expressions["value"].compile(records).cast("float64")
        keep = value.notnull()
        if "denominator.where" in expressions:
            keep = keep & expressions["denominator.where"].compile(records)
        mine = [item for item in sets if item[1] in indicator.breakdowns]
        inner = records.filter(keep).select(
            "period_start", **engine_columns(records, mine), value=value, rows=ibis.literal(1)
        )
        statements.append(grouping_sql(engine, inner, ["period_start", "value"], mine, ["rows"]))
        wanted.append(mine)
    answers = yield statements
    histograms = []
    for indicator, mine, raw in zip(scan.indicators, wanted, answers, strict=True):
        # Histograms run to millions of rows: their text columns stay categorical.
        labelled = roll_up(
            raw, ["period_start", "value"], mine, ["rows"], vintage, categorical=True, grouping=grouping
        )
        identity = pd.Categorical.from_codes(np.zeros(len(labelled), dtype=np.int8), pd.Index([indicator.id]))
        labelled.insert(0, "indicator_id", pd.Series(identity, index=labelled.index))
        labelled["rows"] = labelled["rows"].astype("float64")
        labelled["value"] = pd.to_numeric(labelled["value"]).astype("float64")
        histograms.append(labelled)
    frame = concat_categorical(histograms)
    keys = ["indicator_id", "period_start", "area_type", "area_code", "breakdown", "group"]
    cells = frame.groupby(keys, sort=False, observed=True, as_index=False).agg(denominator=("rows", "sum"))
    if "period_start" in cells and isinstance(cells["period_start"].dtype, pd.CategoricalDtype):
        cells["period_start"] = cells["period_start"].astype(cells["period_start"].cat.categories.dtype)
    return ScanCounts(cells, histograms=frame)


def scan_job(
    engine: Engine, scan: Scan, config: RunConfig, areas: Sequence[str], quality: bool
) -> Job[ScanResult]:
    """:func:`count_scan`, with each indicator's cells apart (by indicator id), given their periods' ends
    (rolling periods summed from quarters), in order and labelled as :class:`Counts` holds
    them: what can be done scan by scan is done while the engine counts the next scans."""
    counted = yield from count_scan(engine, scan, config, areas, quality)
    by_age, histograms = counted.by_age, counted.histograms
    if not by_age.empty:
        by_age["period_end"] = period_end(by_age["period_start"], scan.period)
        by_age["period_start"] = as_dates(by_age["period_start"])
    by_id = {indicator.id: indicator for indicator in scan.indicators}
    parts = {}
    for indicator_id, part in counted.cells.groupby("indicator_id", sort=False, observed=True):
        indicator = by_id[str(indicator_id)]
        if indicator.period == "rolling_12_months":
            part = _rolling(part)
        else:
            part = part.assign(period_end=period_end(part["period_start"], indicator.period))
        # Engines return groups in any order; a fixed order makes every run's output identical.
        # Sorted while period starts are still timestamps (Python date objects sort slowly)
        # and text is still categorical (categories are sorted, so codes sort as the text).
        part = part.sort_values(CELL_ORDER[1:], kind="stable", ignore_index=True)
        parts[indicator.id] = _finished(part)
    if not histograms.empty:
        histograms["period_start"] = as_dates(histograms["period_start"], categorical=True)
    return ScanResult(parts, histograms, by_age, counted.completeness)


def _finished(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells as :class:`Counts` holds them: text columns of text, period starts as dates."""
    cells = as_text(cells)
    cells["period_start"] = as_dates(cells["period_start"])
    return cells


def _rolling(cells: pd.DataFrame) -> pd.DataFrame:
    """Sum four consecutive quarters into rolling 12-month periods (counts are additive)."""
    keys = ["indicator_id", "area_type", "area_code", "breakdown", "group"]
    quarters = sorted(pd.to_datetime(cells["period_start"]).unique())
    additive = [column for column in ("numerator", "denominator", "sum", "sum_squares") if column in cells]
    frames = []
    for end_index in range(3, len(quarters)):
        window = quarters[end_index - 3 : end_index + 1]
        inside = cells.loc[pd.to_datetime(cells["period_start"]).isin(window)]
        summed = inside.groupby(keys, as_index=False, sort=False, observed=True)[additive].sum(min_count=1)
        summed["period_start"] = pd.Timestamp(window[0])
        summed["period_end"] = (
            pd.Timestamp(window[-1]) + pd.DateOffset(months=3) - pd.Timedelta(days=1)
        ).date()
        frames.append(summed)
    if not frames:
        return cells.iloc[0:0].assign(period_end=pd.Series(dtype="object"))
    return pd.concat(frames, ignore_index=True)
