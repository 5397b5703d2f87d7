"""Planning of scans: which indicators share one read of their source, and what it counts.

Indicators that share a source, date column, period type and kind of count (counts, a
histogram of a value, or counts by age band) are counted in one scan: one grouping-sets
statement over the source's prepared expression (:mod:`gapwatch.engine.prepare`), with
one numerator and denominator column per indicator (:func:`measure_columns`). The first
quarterly counts scan of each source also counts its completeness (:func:`fold_completeness`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby

import ibis
import ibis.expr.types as ir

from gapwatch.model.catalogue import DISTRIBUTION_MEASURES, STANDARDISED, Indicator


@dataclass(frozen=True)
class Scan:
    """Indicators counted in one read of ``source``, by ``date_column`` and ``period``."""

    source: str
    date_column: str
    period: str
    indicators: tuple[Indicator, ...]


def period_kind(indicator: Indicator) -> str:
    """The period an indicator is counted by: rolling 12 months are summed from quarters."""
    return "quarter" if indicator.period == "rolling_12_months" else indicator.period


def plan_scans(indicators: Iterable[Indicator]) -> list[Scan]:
    """Group indicators that can share one scan: same source, date column and period type."""

    def key(indicator: Indicator) -> tuple[str, str, str, str]:
        counted = "histogram" if indicator.measure in DISTRIBUTION_MEASURES else "counts"
        if indicator.measure == STANDARDISED:
            counted = "by age"
        return (indicator.source, indicator.date_column, period_kind(indicator), counted)

    scans = []
    for (source, date_column, period, _), members in groupby(sorted(indicators, key=key), key=key):
        scans.append(Scan(source, date_column, period, tuple(members)))
    return scans


def foldable(scan: Scan) -> bool:
    """Whether a scan can count the completeness of its source too: counts (not a histogram
    or counts by age) by quarter. Such a scan then reads every record of the window: a row
    filter would save less than the separate scan of the source that it would cost."""
    first = scan.indicators[0]
    return scan.period == "quarter" and first.measure not in (*DISTRIBUTION_MEASURES, STANDARDISED)


def fold_completeness(scans: Sequence[Scan]) -> tuple[list[bool], list[tuple[str, str]]]:
    """Where each source's completeness is counted: whether each scan carries it, and the
    (source, date column) pairs left to count in a scan of their own.

    A source's completeness is counted by its last date column (in sorted order), in the
    first scan of its records by that column that can carry it (:func:`foldable`), not in
    a scan of its own.
    """
    dated = sorted({(scan.source, scan.date_column) for scan in scans})
    quality_date = dict(reversed(dated))
    folded = []
    for scan in scans:
        fold = scan.source in quality_date and quality_date[scan.source] == scan.date_column
        folded.append(fold and foldable(scan))
        if folded[-1]:
            del quality_date[scan.source]
    return folded, sorted(quality_date.items())


def measure_columns(indicator: Indicator, table: ir.Table) -> dict[str, ir.Value]:
    """The columns an indicator adds to its scan's rows (``<id>__numerator``,
    ``<id>__denominator``, and ``<id>__sum``, ``<id>__sum_squares`` for a mean), each
    the record's count or amount (0 outside the indicator's filters)."""
    expressions = indicator.expressions()
    inside = expressions["denominator.where"].compile(table) if "denominator.where" in expressions else None

    def counted(condition: ir.BooleanValue | None, amount: ir.NumericValue | None) -> ir.Value:
        value = amount if amount is not None else ibis.literal(1)
        if condition is None:
            return value.fill_null(0) if amount is not None else value
        return ibis.cases((condition, value), else_=0).fill_null(0)

    denominator_sum = (
        expressions["denominator.sum"].compile(table) if "denominator.sum" in expressions else None
    )
    columns: dict[str, ir.Value] = {}
    prefix = indicator.id
    if not indicator.denominator.population:
        columns[f"{prefix}__denominator"] = counted(inside, denominator_sum)
    if indicator.numerator is not None:
        numerator_where = (
            expressions["numerator.where"].compile(table) if "numerator.where" in expressions else None
        )
        condition = (
            numerator_where
            if inside is None
            else (inside if numerator_where is None else inside & numerator_where)
        )
        numerator_sum = (
            expressions["numerator.sum"].compile(table) if "numerator.sum" in expressions else None
        )
        columns[f"{prefix}__numerator"] = counted(condition, numerator_sum)
    if indicator.measure == "mean":
        value = expressions["value"].compile(table).cast("float64")
        present = value.notnull() if inside is None else inside & value.notnull()
        columns[f"{prefix}__denominator"] = counted(present, None)
        columns[f"{prefix}__sum"] = counted(present, value)
        columns[f"{prefix}__sum_squares"] = counted(present, value * value)
    return columns


def counted_rows(indicator: Indicator, table: ir.Table) -> ir.BooleanValue | None:
    """The rows that can add to any of an indicator's counts (its ``denominator.where``),
    or None when every row can."""
    expressions = indicator.expressions()
    if "denominator.where" not in expressions:
        return None
    condition: ir.BooleanValue = expressions["denominator.where"].compile(table)
    return condition.fill_null(False)
