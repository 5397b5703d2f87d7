"""The business case for closing gaps: excess events by deprivation, and what they cost.

For one indicator in one area and period, the five IMD quintiles (1 = most deprived) give
the *excess events*: the events attributable to the gap under the counterfactual that every
quintile had a reference quintile's rate, with delta-method confidence limits
(:func:`gapwatch.stats.attributable.attributable_events`: the population attributable
number of Mackenbach & Kunst 1997, signed so that a positive excess is harms that would
not have occurred for ``lower_is_better`` indicators and extra people reached for
``higher_is_better`` ones). This module picks the cells, prices the excess with the unit
costs of ``costs.yaml`` (:func:`gapwatch.monitor.settings.load_costs`) and has the summary
written by :mod:`gapwatch.monitor.business_case_words`.

Conventions
-----------
* Two references: ``least_deprived`` (quintile 5) and ``best_group`` (the quintile with the
  best rate by polarity; ties go to the less deprived quintile). For ``best_group`` the
  choice is treated as fixed, as if made in advance: choosing the best *observed* group
  biases the excess upwards and makes the limits optimistic.
* A negative total (the reference is worse than the rest put together) is reported as 0,
  with a note; the limits are clipped at 0 as well.
* Binomial variances for proportions, Poisson for crude rates, the normal quantile for
  ``confidence``.
* Withheld (NaN, with a note) when any of quintiles 1 to 5 is missing, suppressed, withheld
  by disclosure control or has a zero denominator: never estimated from partial data.
  The ``unknown`` quintile is left out; only ``proportion`` and ``crude_rate`` indicators
  with a polarity are assessed.

Units
-----
``excess_events``, ``lower`` and ``upper`` are counts of events (people, bed days,
placements: whatever the numerator counts) in the period. ``pounds*`` are £ at the unit
cost's price year, in the period, not annualised; limits carry the sampling uncertainty of
the excess only, not of the unit cost. ``pounds_per_unit_gap_closed`` is the £ value of
quintile 1's rate moving one unit of the published value (one percentage point for a
percentage; one "per 1,000" for a rate per 1,000) towards quintile 5:
``denominator_1 / multiplier × pounds_per_event``.

>>> values = pd.DataFrame({
...     "indicator_id": "screening", "period_start": "2025-01-01", "period_end": "2025-03-31",
...     "area_type": "icb", "area_code": "E54000057", "breakdown": "imd_quintile",
...     "group": ["1", "2", "3", "4", "5"], "numerator": [50.0, 60, 70, 80, 90],
...     "denominator": 100.0, "suppressed": False})
>>> indicators = pd.DataFrame({
...     "indicator_id": ["screening"], "title": ["Screening coverage"], "measure": ["proportion"],
...     "unit": ["%"], "multiplier": [100.0], "polarity": ["higher_is_better"], "period": ["quarter"]})
>>> table = business_case(values, indicators, costs={})
>>> [(row.reference, row.reference_group, round(row.excess_events, 6)) for row in table.itertuples()]
[('least_deprived', '5', 100.0), ('best_group', '5', 100.0)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

import pandas as pd

from gapwatch.errors import InputError
from gapwatch.monitor import business_case_words as words
from gapwatch.monitor.business_case_inputs import (
    INDICATOR_COLUMNS,
    KEY,
    VALUE_COLUMNS,
    CaseIndicator,
    check_cells,
    read_definitions,
    require_columns,
)
from gapwatch.monitor.settings import UnitCost
from gapwatch.stats.attributable import attributable_events, best_group, rate_variances

__all__ = ["OUTPUT_COLUMNS", "business_case"]

QUINTILES: tuple[str, ...] = ("1", "2", "3", "4", "5")
MOST_DEPRIVED = "1"
LEAST_DEPRIVED = "5"
BREAKDOWN = "imd_quintile"

OUTPUT_COLUMNS: list[str] = [
    "indicator_id",
    "period_start",
    "period_end",
    "area_type",
    "area_code",
    "reference",
    "reference_group",
    "excess_events",
    "lower",
    "upper",
    "event",
    "pounds_per_event",
    "pounds",
    "pounds_lower",
    "pounds_upper",
    "pounds_per_unit_gap_closed",
    "cost_source",
    "summary",
    "note",
]

ASSESSED_MEASURES = ("proportion", "crude_rate")


def _withheld_reason(cells: pd.DataFrame) -> str | None:
    present = set(cells.index)
    missing = [q for q in QUINTILES if q not in present]
    suppressed = [
        q
        for q in QUINTILES
        if q in present
        and (
            _flag(cells.at[q, "suppressed"])
            or math.isnan(_cell(cells, q, "numerator"))
            or math.isnan(_cell(cells, q, "denominator"))
        )
    ]
    zero = [
        q for q in QUINTILES if q in present and q not in suppressed and _cell(cells, q, "denominator") == 0
    ]
    return words.withheld_reason(missing, suppressed, zero)


def _cell(cells: pd.DataFrame, group: str, column: str) -> float:
    value: Any = cells.at[group, column]
    return math.nan if value is None or value is pd.NA else float(value)


def _published(cells: pd.DataFrame, group: str) -> float:
    # The published value, so the summary quotes the rate the indicator page shows (issue 17).
    return _cell(cells, group, "value") if "value" in cells.columns else math.nan


def _flag(value: Any) -> bool:
    # A missing flag is not evidence of suppression; withheld counts are caught by their NaNs.
    return False if value is None or value is pd.NA or value != value else bool(value)


def business_case(
    values: pd.DataFrame,
    indicators: pd.DataFrame,
    costs: Mapping[str, UnitCost],
    confidence: float = 0.95,
    area_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Excess events, their cost and a summary paragraph, per indicator × area, latest period.

    ``values`` is a run's ``indicator_values`` table and ``indicators`` its ``indicators``
    table; ``costs`` maps indicator ids to unit costs (:func:`gapwatch.monitor.settings.load_costs`;
    indicators without one get events but no £). ``area_names`` optionally maps area codes
    to names for the summary. Two rows per indicator × area, ``least_deprived`` then ``best_group``, with
    the columns in :data:`OUTPUT_COLUMNS`. The method, units and conventions are in the
    module docstring: the signed attributable number against a reference quintile with
    delta-method limits (Mackenbach & Kunst 1997).

    Raises :class:`~gapwatch.errors.InputError` for a missing column, an indicator without
    a definition, duplicate or impossible cells, or ``confidence`` outside (0, 1).
    """
    if not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise InputError(f"confidence: must be strictly between 0 and 1, got {confidence!r}")
    require_columns(values, VALUE_COLUMNS, "values (indicator_values)")
    require_columns(indicators, INDICATOR_COLUMNS, "indicators")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    names = area_names or {}

    cells = values.loc[values["breakdown"] == BREAKDOWN]
    if cells.empty:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    definitions = read_definitions(indicators, set(cells["indicator_id"]))
    assessed = [
        i
        for i, d in definitions.items()
        if d.measure in ASSESSED_MEASURES and d.polarity in ("higher_is_better", "lower_is_better")
    ]
    # The latest period is taken over every breakdown, not just the quintiles, so that a
    # period whose quintile cells were not produced is reported as withheld rather than
    # silently replaced by an older one.
    scope = values.loc[values["indicator_id"].isin(assessed)]
    cells = cells.loc[cells["indicator_id"].isin(assessed) & cells["group"].astype(str).isin(QUINTILES)]
    latest = scope.groupby(KEY, sort=True)["period_start"].max().rename("latest").reset_index()
    latest = latest.merge(cells[KEY].drop_duplicates(), on=KEY)  # only areas with quintile cells
    cells = cells.merge(latest, on=KEY)
    cells = cells.loc[cells["period_start"] == cells["latest"]].assign(group=lambda f: f["group"].astype(str))
    check_cells(cells, definitions)

    periods = scope.merge(latest, on=KEY)
    periods = periods.loc[periods["period_start"] == periods["latest"]]
    period_end = periods.groupby(KEY)["period_end"].max()

    # One pass to split the cells by area: filtering the whole table for each area would
    # make the loop quadratic (minutes on a national run).
    # The published value rides along (when the table has it) so the summary quotes the
    # same rate as the indicator page.
    shown = [column for column in ("value",) if column in cells.columns]
    indexed = cells[[*KEY, "group", "numerator", "denominator", "suppressed", *shown]].set_index("group")
    by_area = dict(iter(indexed.groupby(KEY, sort=False)))
    nothing = indexed.iloc[:0]
    out: list[dict[str, Any]] = []
    for key in latest.itertuples(index=False):
        indicator_id, area_type, area_code = str(key.indicator_id), str(key.area_type), str(key.area_code)
        group = by_area.get((key.indicator_id, key.area_type, key.area_code), nothing)
        out += _area_rows(
            indicator=definitions[indicator_id],
            cost=costs.get(indicator_id),
            cells=group,
            period_start=key.latest,
            period_end=period_end.loc[(indicator_id, area_type, area_code)],
            area_type=area_type,
            area_code=area_code,
            area=names.get(area_code) or words.area_label(area_type, area_code),
            z=z,
            confidence=confidence,
        )
    return pd.DataFrame(out, columns=OUTPUT_COLUMNS)


def _area_rows(
    *,
    indicator: CaseIndicator,
    cost: UnitCost | None,
    cells: pd.DataFrame,
    period_start: Any,
    period_end: Any,
    area_type: str,
    area_code: str,
    area: str,
    z: float,
    confidence: float,
) -> list[dict[str, Any]]:
    common: dict[str, Any] = {
        "indicator_id": indicator.indicator_id,
        "period_start": period_start,
        "period_end": period_end,
        "area_type": area_type,
        "area_code": area_code,
        "event": cost.event if cost else "",
        "pounds_per_event": cost.pounds_per_event if cost else math.nan,
        "cost_source": f"{cost.source} ({cost.year} prices)" if cost else "",
    }
    when, annual = words.when(indicator.period, period_start, period_end)
    most_deprived_denominator = (
        _cell(cells, MOST_DEPRIVED, "denominator") if MOST_DEPRIVED in cells.index else math.nan
    )
    # Valuing a one-unit move needs only quintile 1's denominator, which is published
    # whenever it is present, so it is given even when the excess itself is withheld.
    per_unit = (
        most_deprived_denominator / indicator.multiplier * cost.pounds_per_event
        if cost and most_deprived_denominator > 0
        else math.nan
    )
    common["pounds_per_unit_gap_closed"] = per_unit

    reason = _withheld_reason(cells)
    if reason is not None:
        note = words.withheld_note(reason)
        summary = words.summary_paragraph(
            title=indicator.title,
            area=area,
            when=when,
            annual=annual,
            polarity=indicator.polarity,
            cost=cost,
            confidence=confidence,
            withheld=reason,
        )
        return [
            {
                **common,
                "reference": reference,
                "reference_group": LEAST_DEPRIVED if reference == "least_deprived" else "",
                **dict.fromkeys(["excess_events", "lower", "upper"], math.nan),
                **dict.fromkeys(["pounds", "pounds_lower", "pounds_upper"], math.nan),
                "summary": summary if reference == "least_deprived" else "",
                "note": note,
            }
            for reference in ("least_deprived", "best_group")
        ]

    numerators = cells.loc[list(QUINTILES), "numerator"].to_numpy(dtype=float)
    denominators = cells.loc[list(QUINTILES), "denominator"].to_numpy(dtype=float)
    rates = numerators / denominators
    variances = rate_variances(rates, denominators, indicator.measure)
    sign = 1.0 if indicator.polarity == "lower_is_better" else -1.0
    least = attributable_events(rates, denominators, variances, QUINTILES.index(LEAST_DEPRIVED), sign, z)
    best = attributable_events(rates, denominators, variances, best_group(rates, indicator.polarity), sign, z)

    result = []
    for reference, estimate in (("least_deprived", least), ("best_group", best)):
        per_event = cost.pounds_per_event if cost else math.nan
        row = {
            **common,
            "reference": reference,
            "reference_group": QUINTILES[estimate.reference],
            "excess_events": estimate.excess,
            "lower": estimate.lower,
            "upper": estimate.upper,
            "pounds": estimate.excess * per_event,
            "pounds_lower": estimate.lower * per_event,
            "pounds_upper": estimate.upper * per_event,
            "summary": "",
            "note": words.estimate_notes(
                estimate.signed, estimate.excess, estimate.lower, reference == "best_group"
            ),
        }
        if reference == "least_deprived":
            terms = (indicator.unit, indicator.measure, indicator.multiplier)
            row["summary"] = words.summary_paragraph(
                title=indicator.title,
                area=area,
                when=when,
                annual=annual,
                polarity=indicator.polarity,
                cost=cost,
                confidence=confidence,
                excess=estimate.excess,
                lower=estimate.lower,
                upper=estimate.upper,
                signed=estimate.signed,
                reference_value=words.rate_words(_published(cells, LEAST_DEPRIVED), rates[-1], *terms),
                most_deprived_value=words.rate_words(_published(cells, MOST_DEPRIVED), rates[0], *terms),
                pounds_per_unit_gap_closed=per_unit,
                gap_unit=words.gap_unit(*terms),
            )
        result.append(row)
    return result
