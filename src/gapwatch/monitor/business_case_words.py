"""The business case in words: the summary paragraph for a commissioning paper, and the notes.

Presentation only: every number here was computed by :mod:`gapwatch.monitor.business_case`
(on :mod:`gapwatch.stats.attributable`); this module says it, with numbers formatted by
:mod:`gapwatch.formats`. Counts are given to 3 significant figures
(:func:`gapwatch.formats.estimate`), £ to the nearest £1,000 from £10,000
(:func:`gapwatch.formats.pounds`), and rates as the indicator pages show them
(:data:`gapwatch.formats.RATES`).

>>> count(1238.0), pounds(123_456.0), plural("tooth extraction under general anaesthetic")
('1,240', '£123,000', 'tooth extractions under general anaesthetic')
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from gapwatch.formats import RATES, area_label, percent, price
from gapwatch.formats import estimate as count
from gapwatch.formats import pounds as pounds
from gapwatch.monitor.settings import UnitCost
from gapwatch.words import day, period_words

__all__ = [
    "area_label",
    "count",
    "estimate_notes",
    "gap_unit",
    "plural",
    "pounds",
    "rate_words",
    "summary_paragraph",
    "when",
    "withheld_note",
    "withheld_reason",
]

_PERIODS = {
    "month": "in the month from",
    "quarter": "in the quarter from",
    "financial_year": "in the financial year from",
    "rolling_12_months": "in the 12 months from",
}
# Day counts from start to end of each period; inclusive and exclusive ends both fall in them.
_SPANS = {"month": (27, 31), "quarter": (88, 92), "rolling_12_months": (363, 366)}
_IRREGULAR = {"child": "children", "person": "people", "man": "men", "woman": "women"}
_PREPOSITIONS = re.compile(r"\s(with|under|for|in|of|at|from|on)\s")


def when(period: str, start: Any, end: Any) -> tuple[str, bool]:
    """How to say the period in a sentence, and whether it is a year (so '£ a year' is true).

    >>> when("quarter", "2025-01-01", "2025-03-31")
    ('in Q4 2024/25 (January to March 2025)', False)
    """
    if period not in _PERIODS:
        days = (pd.Timestamp(end) - pd.Timestamp(start)).days
        period = next((name for name, (low, high) in _SPANS.items() if low <= days <= high), "")
    first = pd.Timestamp(start)
    # Quarters and financial years as NHS readers write them (Q4 2024/25), like the pages.
    if period == "quarter" and first.day == 1 and first.month in (1, 4, 7, 10):
        return f"in {period_words(first)}", False
    if period == "financial_year" and first.day == 1 and first.month == 4:
        last = first + pd.DateOffset(years=1) - pd.Timedelta(days=1)
        return f"in the financial year {period_words(first, last)}", True
    if period in _PERIODS:
        return f"{_PERIODS[period]} {day(start)}", period in ("financial_year", "rolling_12_months")
    return f"in the period {day(start)} to {day(end)}", False


def plural(event: str) -> str:
    """Make a singular noun phrase plural: 'tooth extraction under ...' → 'tooth extractions under ...'."""
    match = _PREPOSITIONS.search(event)
    head, tail = (event[: match.start()], event[match.start() :]) if match else (event, "")
    words = head.split(" ")
    noun = words[-1]
    if noun.lower() in _IRREGULAR:
        many = _IRREGULAR[noun.lower()]
    elif noun.endswith("is"):
        many = noun[:-2] + "es"
    elif noun.endswith(("s", "x", "ch", "sh")):
        many = noun + "es"
    elif noun.endswith("y") and len(noun) > 1 and noun[-2] not in "aeiou":
        many = noun[:-1] + "ies"
    else:
        many = noun + "s"
    return " ".join([*words[:-1], many]) + tail


def _with_unit(shown: str, unit: str, measure: str, multiplier: float) -> str:
    if unit == "%" or (not unit and measure == "proportion"):
        return f"{shown}%"
    return f"{shown} {unit or f'per {multiplier:,.0f}'}"


def rate_words(published: float, rate: float, unit: str, measure: str, multiplier: float) -> str:
    """A quintile's rate as the indicator pages show it: the published value, one decimal.

    The rate recomputed from the (disclosure-rounded) counts can differ from the published
    value; the business case must show the same number as the indicator page for the same
    cell (issue 17), so the published value is used whenever there is one (not NaN); else
    the unscaled ``rate`` times ``multiplier`` to 3 significant figures.

    >>> rate_words(72.66, 0.7, "%", "proportion", 100.0)
    '72.7%'
    >>> rate_words(float("nan"), 0.7, "", "crude_rate", 1000.0)
    '700 per 1,000'
    """
    if math.isnan(published):
        return _with_unit(count(rate * multiplier), unit, measure, multiplier)
    return _with_unit(RATES.number(published), unit, measure, multiplier)


def gap_unit(unit: str, measure: str, multiplier: float) -> str:
    """One unit of the published value, as a gap closes: 'percentage point' or 'unit (1 per 1,000)'."""
    if unit == "%" or (not unit and measure == "proportion"):
        return "percentage point"
    return f"unit (1 {unit or f'per {multiplier:,.0f}'})"


def _quintiles(groups: list[str]) -> str:
    return ("quintile " if len(groups) == 1 else "quintiles ") + ", ".join(groups)


def withheld_reason(missing: list[str], suppressed: list[str], zero: list[str]) -> str | None:
    """Why an estimate is withheld, from the quintiles missing, suppressed and with a zero
    denominator; ``None`` when none is.

    >>> withheld_reason(["2"], [], ["4", "5"])
    'quintile 2 missing; quintiles 4, 5 with a zero denominator'
    """
    reasons = []
    if missing:
        reasons.append(f"{_quintiles(missing)} missing")
    if suppressed:
        reasons.append(f"{_quintiles(suppressed)} suppressed or withheld")
    if zero:
        reasons.append(f"{_quintiles(zero)} with a zero denominator")
    return "; ".join(reasons) if reasons else None


def withheld_note(reason: str) -> str:
    """The note of a withheld estimate."""
    return f"withheld: {reason}; not estimated from partial data"


def estimate_notes(signed: float, excess: float, lower: float, best_group: bool) -> str:
    """The note beside an estimate: a negative total reported as 0, a clipped lower limit,
    and the bias of choosing the best observed quintile as the reference."""
    notes = []
    if signed < 0:
        notes.append(
            f"signed excess {signed:.4g} is negative (the reference does worse than "
            "the other quintiles together) and is reported as 0"
        )
    elif lower == 0 and excess > 0:
        notes.append("lower limit clipped at 0")
    if best_group:
        notes.append(
            "reference is the best observed quintile, treated as fixed: selection makes the "
            "excess biased upwards and the limits optimistic"
        )
    return "; ".join(notes)


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
    level = percent(confidence)
    opening = f"{title}, {area}, {when}:"
    if withheld is not None:
        return (
            f"{opening} the number of extra events if every deprivation quintile matched the least "
            f"deprived fifth is withheld ({withheld}); it is not estimated from partial data."
        )
    interval = f"({level} CI {count(lower)} to {count(upper)})"
    if cost is not None and cost.direction == "reached":
        gain = f"about {count(excess)} more people {interval} would have been reached"
    elif cost is not None:
        gain = f"there would have been about {count(excess)} fewer {plural(cost.event)} {interval}"
    elif polarity == "lower_is_better":
        gain = (
            f"there would have been about {count(excess)} fewer events counted by this indicator {interval}"
        )
    else:
        gain = f"about {count(excess)} more people {interval} would have met this indicator"
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
        f" At {price(cost.pounds_per_event)} per {per} ({cost.source}, {cost.year} prices), that is "
        f"about {pounds(excess * cost.pounds_per_event)} {span} ({level} CI "
        f"{pounds(lower * cost.pounds_per_event)} to {pounds(upper * cost.pounds_per_event)})."
    )
    if math.isfinite(pounds_per_unit_gap_closed):
        text += (
            f" Each {gap_unit} by which the most deprived fifth closes its gap to the least deprived "
            f"is worth about {pounds(pounds_per_unit_gap_closed)} {span}."
        )
    return text
