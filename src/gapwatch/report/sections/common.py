"""Helpers the section modules share: picking rows, labelling groups, withholding numbers.

None computes a statistic: they select and label what the store holds, and blank what
disclosure control withheld.

>>> row(pd.DataFrame({"a": ["1", "2"], "b": ["x", "y"]}), b="y")
{'a': '2', 'b': 'y'}
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gapwatch import words
from gapwatch.report import fmt, wording
from gapwatch.report.context import ReportContext
from gapwatch.report.model import Block, Bullets, Chart, Paragraph
from gapwatch.views import GUARDRAILS_NOT_RUN, breakdown_name
from gapwatch.views import charts as vc

#: The numbers of a values row that a suppressed row must not show.
VALUE_NUMBERS = ["numerator", "denominator", "value", "lower", "upper", "completeness"]


def row(frame: pd.DataFrame, **match: Any) -> dict[str, Any] | None:
    """The last row of ``frame`` whose columns equal ``match``, as a dict (None if none)."""
    keep = pd.Series(True, index=frame.index)
    for column, value in match.items():
        if column not in frame:
            return None
        keep &= frame[column] == value
    found = frame.loc[keep]
    return None if found.empty else dict(found.iloc[-1])


def finite(frame: pd.DataFrame, column: str = "value") -> bool:
    """True when ``column`` has at least one number."""
    return not frame.empty and bool(pd.to_numeric(frame[column], errors="coerce").notna().any())


def with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each breakdown's name and each group's label for a table."""
    frame = frame.copy()
    frame["breakdown_name"] = [breakdown_name(str(breakdown)) for breakdown in frame["breakdown"]]
    frame["label"] = [
        wording.group_label(b, g) for b, g in zip(frame["breakdown"], frame["group"], strict=True)
    ]
    return frame


def withheld(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Blank every number of a suppressed row: a withheld cell is never shown, even by mistake."""
    frame = frame.copy()
    if "suppressed" in frame and not frame.empty:
        hidden = frame["suppressed"].fillna(False).astype(bool)
        for column in columns:
            if column in frame:
                frame[column] = frame[column].astype("float64").where(~hidden)
    return frame


def chart(spec: dict[str, Any], caption: str = "") -> Chart:
    """A Vega-Lite spec rendered to SVG offline (:func:`gapwatch.views.charts.svg`)."""
    return Chart(str(spec.get("title", "")), vc.svg(spec), caption)


def no_alerts(context: ReportContext, sentence: str) -> str:
    """``sentence`` where the guardrails ran, else that they did not run (see ``GUARDRAILS_NOT_RUN``)."""
    return sentence if context.results.guardrails_run else GUARDRAILS_NOT_RUN


def alert_bullets(context: ReportContext, identifier: str) -> list[Block]:
    """An indicator's alert messages, most important first."""
    alerts = context.alerts()
    mine = alerts.loc[alerts["indicator_id"] == identifier] if not alerts.empty else alerts
    if mine.empty:
        return [Paragraph(no_alerts(context, wording.NO_ALERTS_INDICATOR))]
    return [Paragraph("Alerts:"), Bullets([str(message) for message in mine["message"]])]


def trend_sentence(subject: str, trend: dict[str, Any] | None, unit: str, confidence: float) -> str | None:
    """The direction of a trend, with the weighted trend and its limits it rests on."""
    if trend is None or fmt.missing(trend.get("direction")):
        return None
    phrase = wording.DIRECTION_WORDS.get(str(trend["direction"]), words.code_words(trend["direction"]))
    sentence = (
        f"Over {int(trend['periods'])} periods from {words.period_short(trend['baseline_start'])}, "
        f"{subject} {phrase}"
    )
    # The words rest on the weighted trend (monitor.trends.direction), so the trend and
    # its limits are what is printed: a word and its number never disagree (issue 17).
    if fmt.is_finite(trend.get("slope_per_year")) and trend.get("scale") != "log":
        sentence += (
            f" (trend {fmt.number(trend['slope_per_year'])} {fmt.difference_unit(unit)} a year, "
            f"{fmt.interval(trend.get('slope_lower'), trend.get('slope_upper'), confidence)})"
        )
    return sentence + "."
