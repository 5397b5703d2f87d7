"""The business case for closing gaps: excess events by deprivation, and what they cost.

Method
------
For one indicator in one area and period, with the five IMD quintiles ``q`` (1 = most
deprived) each giving a numerator and denominator, the unscaled rate is
``r_q = numerator_q / denominator_q`` (a proportion, or events per unit of denominator for a
crude rate). Against a reference quintile ``k`` the *excess events*, the attributable number
under the counterfactual that every quintile had the reference rate, is::

    excess = s × Σ_{q≠k} d_q (r_q − r_k)

with ``d_q`` the denominator and ``s = +1`` for ``lower_is_better`` indicators (excess =
harms that would not have occurred) and ``s = −1`` for ``higher_is_better`` (excess = extra
people reached, or extra events of the good kind). This is the population attributable
number (attributable risk times the population at risk) applied to socio-economic groups:
Mackenbach JP, Kunst AE (1997), "Measuring the magnitude of socio-economic inequalities in
health: an overview of available measures illustrated with two examples from Europe",
Social Science & Medicine 44(6):757-771.

Conventions
-----------
* Two references: ``least_deprived`` (quintile 5) and ``best_group`` (the quintile with the
  best rate by polarity; ties go to the less deprived quintile).
* The sum is *signed*: a quintile already better than the reference counts against the
  total, as the counterfactual moves it to the reference rate too. A negative total (the
  reference is worse than the rest put together) is reported as 0, with a note; the limits
  are clipped at 0 as well.
* Confidence limits by the delta method, quintiles independent::

      var(excess) = Σ_{q≠k} d_q² var(r_q) + (Σ_{q≠k} d_q)² var(r_k)

  with ``var(r) = r(1 − r)/d`` (binomial) for proportions and ``r/d`` (Poisson) for crude
  rates, and the normal quantile for ``confidence``. For ``best_group`` the choice of the
  reference is treated as fixed, as if made in advance: choosing the best *observed* group
  biases the excess upwards and makes the limits optimistic.
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
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from gapwatch.errors import ConfigError, InputError, rows
from gapwatch.model.yamlfile import YamlDocument
from gapwatch.words import period_words

__all__ = [
    "OUTPUT_COLUMNS",
    "UnitCost",
    "business_case",
    "load_costs",
    "summary_paragraph",
]

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

VALUE_COLUMNS = (
    "indicator_id",
    "period_start",
    "period_end",
    "area_type",
    "area_code",
    "breakdown",
    "group",
    "numerator",
    "denominator",
    "suppressed",
)
INDICATOR_COLUMNS = ("indicator_id", "title", "measure", "multiplier", "polarity")
ASSESSED_MEASURES = ("proportion", "crude_rate")
_KEY = ["indicator_id", "area_type", "area_code"]


# --------------------------------------------------------------------------- unit costs


class UnitCost(BaseModel):
    """The £ cost of one event counted by an indicator's numerator (or one person reached)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    indicator_id: str = Field(min_length=1)
    event: str = Field(min_length=1, description="what one unit is, singular, e.g. 'delayed bed day'")
    pounds_per_event: float = Field(gt=0, allow_inf_nan=False, description="£ per event")
    direction: Literal["avoidable", "reached"] = Field(
        description="avoidable: harms avoided by closing the gap; reached: extra people reached"
    )
    source: str = Field(min_length=1, description="the published source of the figure")
    year: str = Field(min_length=1, description="price year, e.g. '2022/23'")


class _CostsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    costs: list[dict[str, Any]]


def load_costs(path: Path | None = None) -> dict[str, UnitCost]:
    """Read unit costs from YAML (default: the shipped, indicative ``costs.yaml``), by indicator.

    Errors are :class:`~gapwatch.errors.ConfigError` naming file, line and field.

    >>> load_costs()["mmr2_age_5"].direction
    'reached'
    """
    if path is None:
        with resources.as_file(resources.files("gapwatch.monitor") / "costs.yaml") as shipped:
            return _read_costs(Path(shipped))
    return _read_costs(Path(path))


def _read_costs(path: Path) -> dict[str, UnitCost]:
    document = YamlDocument(path)
    if document.data is None:
        raise ConfigError(f"{path}:1: costs: empty file; expected a 'costs:' list")
    content = document.validate(_CostsFile, document.data)
    costs: dict[str, UnitCost] = {}
    for index, entry in enumerate(content.costs):
        cost = document.validate(UnitCost, entry, ("costs", index))
        if cost.indicator_id in costs:
            raise ConfigError(
                f"{document.where(('costs', index, 'indicator_id'))}: costs.{index}.indicator_id: "
                f"duplicate unit cost for {cost.indicator_id!r}"
            )
        costs[cost.indicator_id] = cost
    return costs


# --------------------------------------------------------------------------- estimation


@dataclass(frozen=True)
class _Indicator:
    indicator_id: str
    title: str
    measure: str
    unit: str
    multiplier: float
    polarity: str
    period: str


@dataclass(frozen=True)
class _Estimate:
    reference_group: str
    excess: float
    lower: float
    upper: float
    signed: float  # before clipping at 0, so the note and summary can say what happened


def _excess(
    rates: np.ndarray, denominators: np.ndarray, variances: np.ndarray, k: int, sign: float, z: float
) -> _Estimate:
    others = np.arange(len(rates)) != k
    signed = float(sign * np.sum(denominators[others] * (rates[others] - rates[k])))
    # The reference rate enters every other quintile's term, hence the squared sum of their
    # denominators; quintiles are independent samples, so there are no covariances.
    variance = float(
        np.sum(denominators[others] ** 2 * variances[others])
        + np.sum(denominators[others]) ** 2 * variances[k]
    )
    half = z * math.sqrt(max(variance, 0.0))
    return _Estimate(
        reference_group=QUINTILES[k],
        excess=max(signed, 0.0),
        lower=max(signed - half, 0.0),
        upper=max(signed + half, 0.0),
        signed=signed,
    )


def _best(rates: np.ndarray, polarity: str) -> int:
    # Walk from the least deprived so that ties go to the less deprived quintile.
    order = range(len(rates) - 1, -1, -1)
    if polarity == "lower_is_better":
        return min(order, key=lambda q: rates[q])
    return max(order, key=lambda q: rates[q])


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
    reasons = []
    if missing:
        reasons.append(f"{_quintiles(missing)} missing")
    if suppressed:
        reasons.append(f"{_quintiles(suppressed)} suppressed or withheld")
    if zero:
        reasons.append(f"{_quintiles(zero)} with a zero denominator")
    return "; ".join(reasons) if reasons else None


def _cell(cells: pd.DataFrame, group: str, column: str) -> float:
    value: Any = cells.at[group, column]
    return math.nan if value is None or value is pd.NA else float(value)


def _flag(value: Any) -> bool:
    # A missing flag is not evidence of suppression; withheld counts are caught by their NaNs.
    return False if value is None or value is pd.NA or value != value else bool(value)


def _quintiles(groups: list[str]) -> str:
    return ("quintile " if len(groups) == 1 else "quintiles ") + ", ".join(groups)


def business_case(
    values: pd.DataFrame,
    indicators: pd.DataFrame,
    costs: Mapping[str, UnitCost],
    confidence: float = 0.95,
    area_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Excess events, their cost and a summary paragraph, per indicator × area, latest period.

    ``values`` is a run's ``indicator_values`` table and ``indicators`` its ``indicators``
    table; ``costs`` maps indicator ids to unit costs (see :func:`load_costs`; indicators
    without one get events but no £). ``area_names`` optionally maps area codes to names for
    the summary. Two rows per indicator × area, ``least_deprived`` then ``best_group``, with
    the columns in :data:`OUTPUT_COLUMNS`. The method, units and conventions are in the
    module docstring: the signed attributable number against a reference quintile with
    delta-method limits (Mackenbach & Kunst 1997).

    Raises :class:`~gapwatch.errors.InputError` for a missing column, an indicator without
    a definition, duplicate or impossible cells, or ``confidence`` outside (0, 1).
    """
    if not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise InputError(f"confidence: must be strictly between 0 and 1, got {confidence!r}")
    _require(values, VALUE_COLUMNS, "values (indicator_values)")
    _require(indicators, INDICATOR_COLUMNS, "indicators")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    names = area_names or {}

    cells = values.loc[values["breakdown"] == BREAKDOWN]
    if cells.empty:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    definitions = _definitions(indicators, set(cells["indicator_id"]))
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
    latest = scope.groupby(_KEY, sort=True)["period_start"].max().rename("latest").reset_index()
    latest = latest.merge(cells[_KEY].drop_duplicates(), on=_KEY)  # only areas with quintile cells
    cells = cells.merge(latest, on=_KEY)
    cells = cells.loc[cells["period_start"] == cells["latest"]].assign(group=lambda f: f["group"].astype(str))
    _check_cells(cells, definitions)

    periods = scope.merge(latest, on=_KEY)
    periods = periods.loc[periods["period_start"] == periods["latest"]]
    period_end = periods.groupby(_KEY)["period_end"].max()

    # One pass to split the cells by area: filtering the whole table for each area would
    # make the loop quadratic (minutes on a national run).
    # The published value rides along (when the table has it) so the summary quotes the
    # same rate as the indicator page.
    shown = [column for column in ("value",) if column in cells.columns]
    indexed = cells[[*_KEY, "group", "numerator", "denominator", "suppressed", *shown]].set_index("group")
    by_area = dict(iter(indexed.groupby(_KEY, sort=False)))
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
            area=names.get(area_code) or _area_label(area_type, area_code),
            z=z,
            confidence=confidence,
        )
    return pd.DataFrame(out, columns=OUTPUT_COLUMNS)


def _area_rows(
    *,
    indicator: _Indicator,
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
    when, annual = _when(indicator.period, period_start, period_end)
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
        note = f"withheld: {reason}; not estimated from partial data"
        summary = summary_paragraph(
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
    if indicator.measure == "proportion":
        variances = rates * (1 - rates) / denominators
    else:
        variances = rates / denominators
    sign = 1.0 if indicator.polarity == "lower_is_better" else -1.0
    least = _excess(rates, denominators, variances, QUINTILES.index(LEAST_DEPRIVED), sign, z)
    best = _excess(rates, denominators, variances, _best(rates, indicator.polarity), sign, z)

    result = []
    for reference, estimate in (("least_deprived", least), ("best_group", best)):
        notes = []
        if estimate.signed < 0:
            notes.append(
                f"signed excess {estimate.signed:.4g} is negative (the reference does worse than "
                "the other quintiles together) and is reported as 0"
            )
        elif estimate.lower == 0 and estimate.excess > 0:
            notes.append("lower limit clipped at 0")
        if reference == "best_group":
            notes.append(
                "reference is the best observed quintile, treated as fixed: selection makes the "
                "excess biased upwards and the limits optimistic"
            )
        pounds = cost.pounds_per_event if cost else math.nan
        row = {
            **common,
            "reference": reference,
            "reference_group": estimate.reference_group,
            "excess_events": estimate.excess,
            "lower": estimate.lower,
            "upper": estimate.upper,
            "pounds": estimate.excess * pounds,
            "pounds_lower": estimate.lower * pounds,
            "pounds_upper": estimate.upper * pounds,
            "summary": "",
            "note": "; ".join(notes),
        }
        if reference == "least_deprived":
            row["summary"] = summary_paragraph(
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
                reference_value=_shown(cells, LEAST_DEPRIVED, rates[-1], indicator),
                most_deprived_value=_shown(cells, MOST_DEPRIVED, rates[0], indicator),
                pounds_per_unit_gap_closed=per_unit,
                gap_unit=_gap_unit(indicator),
            )
        result.append(row)
    return result


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(f"{name}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")


def _definitions(indicators: pd.DataFrame, needed: set[str]) -> dict[str, _Indicator]:
    duplicated = indicators["indicator_id"].duplicated(keep=False)
    if duplicated.any():
        ids = sorted(set(indicators.loc[duplicated, "indicator_id"].astype(str)))
        raise InputError(f"indicators: indicator_id: duplicate ids {', '.join(ids)}")
    unknown = sorted(str(i) for i in needed - set(indicators["indicator_id"]))
    if unknown:
        raise InputError(f"values: indicator_id: no definition in indicators for {', '.join(unknown[:5])}")
    out = {}
    for record in indicators.loc[indicators["indicator_id"].isin(needed)].to_dict("records"):
        multiplier = float(record["multiplier"])
        if not math.isfinite(multiplier) or multiplier <= 0:
            raise InputError(
                f"indicators: multiplier: must be a positive number for {record['indicator_id']}, "
                f"got {record['multiplier']!r}"
            )
        out[str(record["indicator_id"])] = _Indicator(
            indicator_id=str(record["indicator_id"]),
            title=str(record["title"]),
            measure=str(record["measure"]),
            unit=_text(record.get("unit")),
            multiplier=multiplier,
            polarity=str(record["polarity"]),
            period=_text(record.get("period")),
        )
    return out


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _check_cells(cells: pd.DataFrame, definitions: Mapping[str, _Indicator]) -> None:
    duplicated = cells.duplicated([*_KEY, "period_start", "group"], keep=False)
    if duplicated.any():
        raise InputError(
            f"values: {rows(int(duplicated.sum()))} repeat an indicator, area, period and "
            "imd_quintile group (pass the values of one run)"
        )
    numerator = pd.to_numeric(cells["numerator"], errors="coerce")
    denominator = pd.to_numeric(cells["denominator"], errors="coerce")
    negative = (numerator < 0) | (denominator < 0)
    if negative.any():
        raise InputError(f"values: numerator, denominator: {rows(int(negative.sum()))} are negative")
    proportion = cells["indicator_id"].isin([i for i, d in definitions.items() if d.measure == "proportion"])
    over = proportion & (numerator > denominator)
    if over.any():
        raise InputError(
            f"values: numerator: {rows(int(over.sum()))} of a proportion have numerator above denominator"
        )


# --------------------------------------------------------------------------- wording


_AREA_TYPES = {
    "region": "region",
    "icb": "ICB",
    "sub_icb": "sub-ICB location",
    "local_authority": "local authority",
    "provider": "provider",
}
_PERIODS = {
    "month": "in the month from",
    "quarter": "in the quarter from",
    "financial_year": "in the financial year from",
    "rolling_12_months": "in the 12 months from",
}
_IRREGULAR = {"child": "children", "person": "people", "man": "men", "woman": "women"}
_PREPOSITIONS = re.compile(r"\s(with|under|for|in|of|at|from|on)\s")


def _area_label(area_type: str, area_code: str) -> str:
    if area_type == "england":
        return "England"
    return f"{_AREA_TYPES.get(area_type, area_type)} {area_code}"


def _date(value: Any) -> str:
    day = pd.Timestamp(value)
    return f"{day.day} {day:%B %Y}"


def _when(period: str, start: Any, end: Any) -> tuple[str, bool]:
    """How to say the period in a sentence, and whether it is a year (so '£ a year' is true)."""
    if period not in _PERIODS:
        # Infer from the dates; inclusive and exclusive ends both fall in these ranges.
        days = (pd.Timestamp(end) - pd.Timestamp(start)).days
        period = next(
            (name for name, (low, high) in _SPANS.items() if low <= days <= high),
            "",
        )
    first = pd.Timestamp(start)
    # Quarters and financial years as NHS readers write them (Q4 2024/25), like the pages.
    if period == "quarter" and first.day == 1 and first.month in (1, 4, 7, 10):
        return f"in {period_words(first)}", False
    if period == "financial_year" and first.day == 1 and first.month == 4:
        last = first + pd.DateOffset(years=1) - pd.Timedelta(days=1)
        return f"in the financial year {period_words(first, last)}", True
    if period in _PERIODS:
        return f"{_PERIODS[period]} {_date(start)}", period in ("financial_year", "rolling_12_months")
    return f"in the period {_date(start)} to {_date(end)}", False


_SPANS = {"month": (27, 31), "quarter": (88, 92), "rolling_12_months": (363, 366)}


def _plural(event: str) -> str:
    """Make a singular noun phrase plural: 'tooth extraction under ...' → 'tooth extractions under ...'."""
    match = _PREPOSITIONS.search(event)
    head, tail = (event[: match.start()], event[match.start() :]) if match else (event, "")
    words = head.split(" ")
    noun = words[-1]
    if noun.lower() in _IRREGULAR:
        plural = _IRREGULAR[noun.lower()]
    elif noun.endswith("is"):
        plural = noun[:-2] + "es"
    elif noun.endswith(("s", "x", "ch", "sh")):
        plural = noun + "es"
    elif noun.endswith("y") and len(noun) > 1 and noun[-2] not in "aeiou":
        plural = noun[:-1] + "ies"
    else:
        plural = noun + "s"
    return " ".join([*words[:-1], plural]) + tail


def _significant(x: float, digits: int = 3) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def _count(x: float) -> str:
    """A count to 3 significant figures, with thousands separators: 1,240; 12.3; 0.456."""
    rounded = _significant(x)
    if rounded == 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:,.{decimals}f}"


def _pounds(x: float) -> str:
    """£ to the nearest £1,000 from £10,000, else to 3 significant figures (whole pounds)."""
    if abs(x) >= 10_000:
        return f"£{round(x, -3):,.0f}"
    return f"£{_significant(x):,.0f}"


def _price(x: float) -> str:
    return f"£{x:,.0f}" if float(x).is_integer() else f"£{x:,.2f}"


def _shown(cells: pd.DataFrame, group: str, rate: float, indicator: _Indicator) -> str:
    """A quintile's rate as the indicator pages show it: the published ``value``, one decimal.

    The rate recomputed from the (disclosure-rounded) counts can differ from the published
    value; the business case must show the same number as the indicator page for the same
    cell (issue 17), so the published value is read whenever the table carries it.
    """
    published = _cell(cells, group, "value") if "value" in cells.columns else math.nan
    if math.isnan(published):
        return _value(rate, indicator)
    shown = f"{published:,.1f}" if abs(published) >= 1 or published == 0 else f"{published:.3g}"
    if indicator.unit == "%" or (not indicator.unit and indicator.measure == "proportion"):
        return f"{shown}%"
    return f"{shown} {indicator.unit or f'per {indicator.multiplier:,.0f}'}"


def _value(rate: float, indicator: _Indicator) -> str:
    shown = _count(rate * indicator.multiplier)
    if indicator.unit == "%" or (not indicator.unit and indicator.measure == "proportion"):
        return f"{shown}%"
    return f"{shown} {indicator.unit or f'per {indicator.multiplier:,.0f}'}"


def _gap_unit(indicator: _Indicator) -> str:
    if indicator.unit == "%" or (not indicator.unit and indicator.measure == "proportion"):
        return "percentage point"
    return f"unit (1 {indicator.unit or f'per {indicator.multiplier:,.0f}'})"


def summary_paragraph(
    *,
    title: str,
    area: str,
    when: str,
    annual: bool,
    polarity: str,
    cost: UnitCost | None,
    confidence: float = 0.95,
    excess: float = math.nan,
    lower: float = math.nan,
    upper: float = math.nan,
    signed: float | None = None,
    reference_value: str = "",
    most_deprived_value: str = "",
    pounds_per_unit_gap_closed: float = math.nan,
    gap_unit: str = "percentage point",
    withheld: str | None = None,
) -> str:
    """A short plain-English paragraph for a commissioning paper, about the least-deprived reference.

    ``when`` is a phrase such as "in the quarter from 1 January 2025"; ``annual`` says whether
    the period is a year (only then is the £ figure called "a year"). Pass ``withheld`` (the
    reason) instead of the numbers when the estimate is withheld.

    >>> print(summary_paragraph(title="Screening coverage", area="ICB E54000057",
    ...     when="in the quarter from 1 January 2025", annual=False, polarity="higher_is_better",
    ...     cost=None, excess=1238.0, lower=1012.0, upper=1466.0,
    ...     reference_value="80%", most_deprived_value="60%"))
    Screening coverage, ICB E54000057, in the quarter from 1 January 2025: if every deprivation \
quintile had the rate of the least deprived fifth (80%, against 60% in the most deprived fifth), \
about 1,240 more people (95% CI 1,010 to 1,470) would have met this indicator. No unit cost is set \
for this indicator, so no £ figure is given.
    """
    level = f"{confidence * 100:g}%"
    opening = f"{title}, {area}, {when}:"
    if withheld is not None:
        return (
            f"{opening} the number of extra events if every deprivation quintile matched the least "
            f"deprived fifth is withheld ({withheld}); it is not estimated from partial data."
        )
    interval = f"({level} CI {_count(lower)} to {_count(upper)})"
    if cost is not None and cost.direction == "reached":
        gain = f"about {_count(excess)} more people {interval} would have been reached"
    elif cost is not None:
        gain = f"there would have been about {_count(excess)} fewer {_plural(cost.event)} {interval}"
    elif polarity == "lower_is_better":
        gain = (
            f"there would have been about {_count(excess)} fewer events counted by this indicator {interval}"
        )
    else:
        gain = f"about {_count(excess)} more people {interval} would have met this indicator"
    rates = (
        f" ({reference_value}, against {most_deprived_value} in the most deprived fifth)"
        if reference_value and most_deprived_value
        else ""
    )
    text = f"{opening} if every deprivation quintile had the rate of the least deprived fifth{rates}, "
    if signed is not None and signed < 0:
        text += (
            "nothing would be gained: the least deprived fifth does no better than the other "
            f"quintiles together, so the excess is reported as 0 {interval}."
        )
    else:
        text += f"{gain}."
    if cost is None:
        return text + " No unit cost is set for this indicator, so no £ figure is given."
    span = "a year" if annual else "in this period"
    per = "person reached" if cost.direction == "reached" else cost.event
    text += (
        f" At {_price(cost.pounds_per_event)} per {per} ({cost.source}, {cost.year} prices), that is "
        f"about {_pounds(excess * cost.pounds_per_event)} {span} ({level} CI "
        f"{_pounds(lower * cost.pounds_per_event)} to {_pounds(upper * cost.pounds_per_event)})."
    )
    if math.isfinite(pounds_per_unit_gap_closed):
        text += (
            f" Each {gap_unit} by which the most deprived fifth closes its gap to the least deprived "
            f"is worth about {_pounds(pounds_per_unit_gap_closed)} {span}."
        )
    return text
