"""Words for people: periods, codes and gaps, as pages, reports and alert messages say them.

A module at the bottom of the layers (like :mod:`gapwatch.errors`) so that the monitor's
alert sentences, the pages and the reports name things the same way. Presentation only:
nothing here computes a statistic. Periods read as NHS readers write them (financial
year April to March: "Q4 2025/26", "January to March 2026"); every status, direction,
variation and alert code has one plain-English name here (numbers are formatted by
:mod:`gapwatch.formats`), so a page and a report never
show ``off_track`` or ``special_cause_improving``; and the two deprivation gap measures,
which the store keeps in their published sign conventions (the quintile 1-5 gap is most
minus least deprived; the slope index of inequality, as in OHID Fingertips, is least
minus most deprived), are each given a phrase saying which end fares worse.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (the examples below use it)
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from gapwatch.formats import REPORT

#: The guardrail rules' names for people, the same on the dashboard and in reports
#: (re-exported by :mod:`gapwatch.views`).
RULE_NAMES = {
    "average_improving_gap_widening": "Average improving, gap widening",
    "most_deprived_falling_behind": "Most deprived falling behind",
    "below_standard": "Below the standard",
    "cant_see_gap": "Can't see the gap",
    "special_cause": "Special-cause variation",
}

#: Where an area stands against a gap-reduction target, in words for people (the same on
#: the dashboard and in reports; see gapwatch.monitor.targets for how it is decided).
TARGET_STATUS_NAMES = {
    "met": "Met",
    "on_track": "On track",
    "not_clearly_off_track": "Not clearly off track (within the margin of error)",
    "off_track": "Off track",
}
#: Whether the trajectory's value lies inside the latest gap's confidence interval.
WITHIN_INTERVAL_NAMES = {True: "Yes", False: "No"}

#: Plain English for every code a person might otherwise read (trend directions, SPC
#: variation and assurance, target status, comparisons, guardrail rules, series).
CODE_WORDS: dict[str, str] = {
    # trends (monitor/trends.py)
    "improving": "improving",
    "worsening": "getting worse",
    "increasing": "increasing",
    "decreasing": "decreasing",
    "widening": "gap widening",
    "narrowing": "gap narrowing",
    "reversed": "gap reversed",
    "no_significant_change": "no significant change",
    "too_few_periods": "too few periods to judge",
    # SPC (stats/spc.py), Making Data Count wording
    "common_cause": "common cause variation",
    "special_cause_improving": "special cause variation: improving",
    "special_cause_concerning": "special cause variation: concerning",
    "special_cause_high": "special cause variation: high",
    "special_cause_low": "special cause variation: low",
    "consistently_met": "target consistently met",
    "hit_and_miss": "target hit and miss",
    "consistently_not_met": "target consistently not met",
    # targets (monitor/targets.py)
    **{code: name[0].lower() + name[1:] for code, name in TARGET_STATUS_NAMES.items()},
    # comparisons (stats/compare.py)
    "not compared": "not compared",
    "similar": "similar",
    "higher": "higher",
    "lower": "lower",
    "better": "better",
    "worse": "worse",
    # business case references
    "least_deprived": "least deprived fifth",
    "best_group": "best quintile",
    # trend scales (monitor/trends.py): a ratio's numbers in a trend are logarithms
    "log": "log scale (natural logarithm of the ratio)",
    "linear": "as published",
    # series and measures
    "value": "overall value",
    "gap_absolute": "gap (group minus comparison group)",
    "gap_ratio": "ratio (group ÷ comparison group; its trend is on the log scale)",
    "sii": "slope index of inequality (least minus most deprived)",
    "rii": "relative index of inequality (a ratio; its trend is on the log scale)",
    **{code: name[0].lower() + name[1:] for code, name in RULE_NAMES.items()},
}

BREAKDOWN_NAMES = {
    "overall": "Overall",
    "imd_quintile": "Deprivation quintile (IMD, 1 = most deprived)",
    "imd_decile": "Deprivation decile (IMD, 1 = most deprived)",
    "core20": "Core20 (most deprived 20%) vs rest",
    "ethnic_group": "Ethnic group",
    "ethnic_category": "Ethnic category (NHS)",
    "age_band": "Age band",
    "sex": "Sex",
    "learning_disability": "Learning disability",
    "autism": "Autism",
    "serious_mental_illness": "Serious mental illness",
    "imd_quintile:ethnic_group": "Deprivation quintile × ethnic group",
}


def breakdown_name(breakdown: str) -> str:
    """A breakdown's name for people.

    >>> breakdown_name("imd_quintile:sex")
    'Deprivation quintile (IMD, 1 = most deprived) × Sex'
    """
    if breakdown in BREAKDOWN_NAMES:
        return BREAKDOWN_NAMES[breakdown]
    return " × ".join(BREAKDOWN_NAMES.get(part, part) for part in breakdown.split(":"))


def code_words(code: Any) -> str:
    """A code in plain English; a missing code is a dash.

    >>> code_words("special_cause_improving"), code_words("off_track"), code_words("cant_see_gap")
    ('special cause variation: improving', 'off track', "can't see the gap")
    """
    if _missing(code):
        return "–"
    text = str(code)
    return CODE_WORDS.get(text, text.replace("_", " "))


def financial_year(value: Any) -> str:
    """The NHS financial year (April to March) a date falls in.

    >>> financial_year(dt.date(2026, 1, 1)), financial_year(dt.date(2026, 4, 1))
    ('2025/26', '2026/27')
    """
    moment = pd.Timestamp(value)
    first = moment.year if moment.month >= 4 else moment.year - 1
    return f"{first}/{(first + 1) % 100:02d}"


def months(start: Any, end: Any) -> str:
    """A period's months in words.

    >>> months(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    'January to March 2026'
    >>> months(dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    'April 2024 to March 2025'
    >>> months(dt.date(2024, 4, 1), dt.date(2024, 4, 30))
    'April 2024'
    """
    if _missing(start) or _missing(end):
        return "no period"
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    if (first.year, first.month) == (last.year, last.month):
        return first.strftime("%B %Y")
    if first.year == last.year:
        return f"{first.strftime('%B')} to {last.strftime('%B %Y')}"
    return f"{first.strftime('%B %Y')} to {last.strftime('%B %Y')}"


def day(value: Any) -> str:
    """A date as people write it.

    >>> day(dt.date(2026, 3, 31))
    '31 March 2026'
    """
    if _missing(value):
        return "–"
    moment = pd.Timestamp(value)
    return f"{moment.day} {moment.strftime('%B %Y')}"


def _end_of_quarter(first: pd.Timestamp) -> pd.Timestamp:
    return first + pd.DateOffset(months=3) - pd.Timedelta(days=1)


def period_short(start: Any, end: Any = None) -> str:
    """A period as NHS readers write it: a financial quarter, a financial year, or months.

    Without ``end``, a period starting on the first day of a financial quarter is read as
    that quarter (gapwatch's periods are quarters unless a run says otherwise).

    >>> period_short(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    'Q4 2025/26'
    >>> period_short(dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    '2025/26'
    >>> period_short(dt.date(2025, 5, 1), dt.date(2025, 5, 31))
    'May 2025'
    """
    if _missing(start):
        return "–"
    first = pd.Timestamp(start)
    last = _end_of_quarter(first) if _missing(end) else pd.Timestamp(end)
    if first.day == 1 and first.month == 4 and last == first + pd.DateOffset(years=1) - pd.Timedelta(days=1):
        return financial_year(first)
    if first.day == 1 and first.month in (1, 4, 7, 10) and last == _end_of_quarter(first):
        quarter = {4: 1, 7: 2, 10: 3, 1: 4}[first.month]
        return f"Q{quarter} {financial_year(first)}"
    return months(first, last)


def period_words(start: Any, end: Any = None) -> str:
    """A period for headings: the short name and, for quarters and years, its months.

    >>> period_words(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    'Q4 2025/26 (January to March 2026)'
    >>> period_words(dt.date(2025, 5, 1), dt.date(2025, 5, 31))
    'May 2025'
    """
    if _missing(start):
        return "–"
    first = pd.Timestamp(start)
    last = _end_of_quarter(first) if _missing(end) else pd.Timestamp(end)
    short, long = period_short(first, last), months(first, last)
    return short if short == long else f"{short} ({long})"


def gap_phrase(
    measure: str, value: Any, lower: Any, upper: Any, polarity: Any = "no_judgement", unit: str = ""
) -> str:
    """Which end of the deprivation scale fares worse, and by how much, in words.

    The store keeps each measure in its published convention: ``gap_absolute`` is
    quintile 1 (most deprived) minus quintile 5; ``sii`` is the fitted least minus the
    fitted most deprived end (Low & Low 2004, as in OHID Fingertips), so the same
    disadvantage has opposite signs. This phrase reads both the same way, from the most
    deprived end. When the confidence interval holds zero it says there is no
    significant difference. Units as the indicator's (percentage points for %).

    >>> gap_phrase("gap_absolute", -18.2, -20.0, -16.4, "higher_is_better", "%")
    'the most deprived fare worse by 18.2 percentage points'
    >>> gap_phrase("sii", 22.7, 19.0, 26.4, "higher_is_better", "%")
    'the most deprived fare worse by 22.7 percentage points'
    >>> gap_phrase("sii", 1.0, -2.0, 4.0, "higher_is_better", "%")
    'no significant difference between the most and least deprived'
    """
    if _missing(value):
        return ""
    number = float(value)
    if not _missing(lower) and not _missing(upper) and float(lower) <= 0 <= float(upper):
        return "no significant difference between the most and least deprived"
    # Most deprived minus least deprived, whatever the measure's own convention.
    most_minus_least = -number if measure == "sii" else number
    size = REPORT.number(abs(number))
    units = " percentage points" if unit == "%" else (f" {unit}" if unit else "")
    if most_minus_least == 0:
        return "the most and least deprived are level"
    if polarity in ("higher_is_better", "lower_is_better"):
        worse = (most_minus_least < 0) == (polarity == "higher_is_better")
        return f"the most deprived fare {'worse' if worse else 'better'} by {size}{units}"
    return f"the most deprived are {'lower' if most_minus_least < 0 else 'higher'} by {size}{units}"


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


#: What a run can find in its inputs (``input_notes.kind``), in words.
INPUT_NOTE_KINDS = {
    "no_rows_in_window": "No record in the reporting window",
    "future_dated": "Dated after the day of the run",
    "received_future": "Received after the day of the run",
    "missing_date_codes": "Dates coded as not known",
    "renamed_columns": "Column name read in another case",
    "spellings_read": "Codes written as words, read as codes",
}


def input_note_sentence(note: Mapping[Any, Any], about: str | None = None) -> str:
    """One note of ``input_notes`` as a sentence: its published count and share, then its text.

    ``about`` names the table for the reader (``"this indicator's table"``); by default the
    note's file. A withheld count is said to be withheld, never shown.

    >>> input_note_sentence({"kind": "future_dated", "rows": 12.0, "share": 0.05, "file": "apc.csv",
    ...     "text": "are dated after the day of the run"}, "this indicator's table")
    "12 records (5.0%) of this indicator's table are dated after the day of the run"
    >>> input_note_sentence({"kind": "future_dated", "rows": None, "share": None, "file": "apc.csv",
    ...     "suppressed": True, "text": "are dated later"})
    'A few records (the number is withheld) of apc.csv are dated later'
    >>> input_note_sentence({"kind": "no_rows_in_window", "indicator_id": "a1",
    ...     "text": "No record of indicator a1 is in the window"}, "this indicator's table")
    'No record of this indicator is in the window'
    """
    text = str(note.get("text") or "")
    if note.get("kind") == "no_rows_in_window":
        # On the indicator's own page, the indicator is "this indicator".
        named = f"indicator {note.get('indicator_id')}"
        return text.replace(named, "this indicator", 1) if about else text
    rows: Any = note.get("rows")
    share: Any = note.get("share")
    if _missing(rows):
        count = "A few records (the number is withheld)" if note.get("suppressed") else "Records"
    else:
        number = round(float(rows))
        count = f"{number:,} record{'' if number == 1 else 's'}"
        if not _missing(share):
            count += f" ({float(share):.1%})"
    return f"{count} of {about or note.get('file') or note.get('source')} {text}"
