"""Numbers, dates and periods as a board paper writes them.

Every number in the HTML and PDF goes through these functions, so a test (or a reader)
can find a stored value in the report by formatting it the same way. The numbers are
formatted by :mod:`gapwatch.formats` (the reports' convention, :data:`gapwatch.formats.REPORT`)
and the periods named by :mod:`gapwatch.words`; this module adds the report's sentences.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pandas as pd

from gapwatch import formats, words
from gapwatch.errors import InputError
from gapwatch.formats import REPORT, missing

__all__ = [
    "count",
    "day",
    "difference_unit",
    "financial_year",
    "financial_year_of",
    "gap_sentence",
    "interval",
    "is_finite",
    "missing",
    "money",
    "months",
    "number",
    "period",
    "share",
    "with_unit",
]


def number(value: Any, digits: int = 1) -> str:
    """An indicator value or limit: thousands separated, one decimal place.

    >>> number(1234.567), number(-7.16), number(None)
    ('1,234.6', '-7.2', 'not available')
    """
    return REPORT.number(value, digits)


def count(value: Any) -> str:
    """A count (after disclosure control): a whole number.

    >>> count(1130.0)
    '1,130'
    """
    return REPORT.count(value)


def share(value: Any) -> str:
    """A share from 0 to 1 as a percentage.

    >>> share(0.825397)
    '82.5%'
    """
    return formats.share(value)


def money(value: Any) -> str:
    """Pounds, to the pound.

    >>> money(12345.6)
    '£12,346'
    """
    return formats.money(value)


def day(value: Any) -> str:
    """A date as people write it.

    >>> day(dt.date(2025, 1, 1))
    '1 January 2025'
    """
    return "" if missing(value) else words.day(value)


def period(start: Any, end: Any) -> str:
    """A reporting period's name as NHS readers write it (:func:`gapwatch.words.period_words`).

    >>> period(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    'Q4 2024/25 (January to March 2025)'
    >>> period(dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    '2024/25 (April 2024 to March 2025)'
    >>> period(dt.date(2024, 4, 1), dt.date(2024, 4, 30))
    'April 2024'
    """
    if missing(start) or missing(end):
        return "no period"
    return words.period_words(start, end)


def months(start: Any, end: Any) -> str:
    """A span of months in words (:func:`gapwatch.words.months`).

    >>> months(dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    'April 2024 to March 2025'
    """
    return words.months(start, end)


def with_unit(value: Any, unit: str) -> str:
    """A value in its indicator's unit.

    >>> with_unit(67.91, "%"), with_unit(634.67, "per 100,000 people")
    ('67.9%', '634.7 per 100,000 people')
    """
    if missing(value):
        return "not available"
    return f"{number(value)}%" if unit == "%" else f"{number(value)} {unit}"


def difference_unit(unit: str) -> str:
    """The unit of a difference between two values: percentages differ in percentage points.

    >>> difference_unit("%"), difference_unit("weeks")
    ('percentage points', 'weeks')
    """
    return "percentage points" if unit == "%" else unit


def interval(lower: Any, upper: Any, confidence: float) -> str:
    """A confidence interval in brackets.

    >>> interval(-12.44, -1.88, 0.95)
    '95% CI -12.4 to -1.9'
    """
    return f"{formats.percent(confidence)} CI {REPORT.limits(lower, upper) or 'not available'}"


def gap_sentence(title: str, gap: Any, lower: Any, upper: Any, unit: str, confidence: float) -> str:
    """The quintile 1 minus quintile 5 gap in words.

    >>> gap_sentence("MMR2", -12.09, -31.6, 7.5, "%", 0.95)  # doctest: +NORMALIZE_WHITESPACE
    'MMR2: quintile 1 (most deprived) is 12.1 percentage points below quintile 5 (least deprived)
     (95% CI -31.6 to 7.5).'
    """
    limits = interval(lower, upper, confidence)
    if missing(gap):
        return f"{title}: the quintile 1-5 gap is not available."
    size = abs(float(gap))
    if round(size, 1) == 0:
        return f"{title}: quintile 1 (most deprived) and quintile 5 (least deprived) are level ({limits})."
    side = "above" if float(gap) > 0 else "below"
    return (
        f"{title}: quintile 1 (most deprived) is {number(size)} {difference_unit(unit)} {side} "
        f"quintile 5 (least deprived) ({limits})."
    )


def financial_year(text: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a financial year written ``2024/25`` (April to March).

    >>> financial_year("2024/25")
    (datetime.date(2024, 4, 1), datetime.date(2025, 3, 31))
    """
    found = re.fullmatch(r"\s*(\d{4})\s*[/-]\s*(\d{2}|\d{4})\s*", str(text))
    if not found:
        raise InputError(f"year {text!r}: write a financial year as YYYY/YY, for example 2024/25")
    first = int(found.group(1))
    second = int(found.group(2))
    following = second if second >= 1000 else (first // 100) * 100 + second
    if following != first + 1 and not (second < 100 and following + 100 == first + 1):
        raise InputError(
            f"year {text!r}: a financial year runs April to March of consecutive years, e.g. 2024/25"
        )
    return dt.date(first, 4, 1), dt.date(first + 1, 3, 31)


def financial_year_of(value: Any) -> str:
    """The financial year a date falls in.

    >>> financial_year_of(dt.date(2025, 1, 1)), financial_year_of(dt.date(2025, 4, 1))
    ('2024/25', '2025/26')
    """
    moment = pd.Timestamp(value)
    first = moment.year if moment.month >= 4 else moment.year - 1
    return f"{first}/{(first + 1) % 100:02d}"


def is_finite(value: Any) -> bool:
    """A number that can be drawn or compared.

    >>> is_finite(1.0), is_finite(float("nan")), is_finite(None)
    (True, False, False)
    """
    if missing(value):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
