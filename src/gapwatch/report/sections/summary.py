"""The executive summary: the area's alerts (the headline rule first) and its largest gaps.

Its sentences are also kept on the context (``context.summary``) for the report's
summary; the Alerts sheet lists every alert.
"""

from __future__ import annotations

import pandas as pd

from gapwatch.report import columns, fmt, wording
from gapwatch.report.context import HEADLINE_RULE, ReportContext
from gapwatch.report.model import Block, Bullets, Paragraph, Section, Sheet, Table
from gapwatch.report.sections.common import no_alerts, row
from gapwatch.store import SCHEMA
from gapwatch.views import RULE_NAMES, breakdown_name


def alerts_frame(context: ReportContext, frame: pd.DataFrame) -> pd.DataFrame:
    """The alerts with each indicator's title and the breakdown and rule named for people."""
    frame = frame.copy()
    if frame.empty:
        frame = pd.DataFrame(columns=[name for name, _ in SCHEMA["alerts"]])
    frame["title"] = frame["indicator_id"].map(context.titles).fillna(frame["indicator_id"])
    frame["breakdown_name"] = frame["breakdown"].map(lambda value: breakdown_name(str(value)))
    frame["rule_name"] = frame["rule"].map(lambda value: RULE_NAMES.get(str(value), str(value)))
    return frame


def largest_gaps(context: ReportContext) -> pd.DataFrame:
    """Each indicator's quintile 1-5 gap in the latest period (of the year, for the annual template)."""
    if context.window is None:
        # The scorecard already holds each indicator's latest gap for the area.
        card = context.results.scorecard(context.area_type, context.area_code)
        frame = card[
            [
                "indicator_id",
                "title",
                "unit",
                "gap_absolute",
                "gap_absolute_lower",
                "gap_absolute_upper",
                "gap_absolute_period",
            ]
        ].rename(
            columns={
                "gap_absolute": "gap",
                "gap_absolute_lower": "lower",
                "gap_absolute_upper": "upper",
                "gap_absolute_period": "period_start",
            }
        )
    else:
        rows = []
        for indicator in context.indicators:
            latest = context.latest(indicator["indicator_id"])
            gap = row(
                context.measures(indicator["indicator_id"]),
                breakdown="imd_quintile",
                measure="gap_absolute",
                period_start=latest,
            )
            if gap is not None:
                rows.append(
                    {
                        "indicator_id": indicator["indicator_id"],
                        "title": indicator["title"],
                        "unit": indicator["unit"],
                        "gap": gap["value"],
                        "lower": gap["lower"],
                        "upper": gap["upper"],
                        "period_start": gap["period_start"],
                    }
                )
        frame = pd.DataFrame(
            rows, columns=["indicator_id", "title", "unit", "gap", "lower", "upper", "period_start"]
        )
    frame = frame.loc[pd.to_numeric(frame["gap"], errors="coerce").notna()].copy()
    frame["size"] = frame["gap"].astype(float).abs()
    # A gap that rounds to zero is not a "largest gap", whatever else is missing.
    frame = frame.loc[frame["size"].round(1) > 0]
    return frame.sort_values("size", ascending=False, kind="stable")


def gap_sentences(context: ReportContext) -> list[str]:
    """The largest gaps, per unit: a gap in percentage points cannot be ranked against a rate's."""
    gaps = largest_gaps(context)
    if gaps.empty:
        return [wording.NO_GAPS]
    sentences = []
    percent = gaps.loc[gaps["unit"] == "%"].head(3)
    for position, found in enumerate(percent.to_dict("records")):
        lead = "The largest gap is in " if position == 0 else "The next largest gap is in "
        sentences.append(
            lead
            + fmt.gap_sentence(
                found["title"], found["gap"], found["lower"], found["upper"], "%", context.confidence
            )
        )
    for unit, part in gaps.loc[gaps["unit"] != "%"].groupby("unit", sort=True):
        first = dict(part.iloc[0])
        measured = str(unit) if str(unit).startswith("per ") else f"in {unit}"
        sentences.append(
            f"Among indicators measured {measured}, the largest gap is in "
            + fmt.gap_sentence(
                first["title"], first["gap"], first["lower"], first["upper"], str(unit), context.confidence
            )
        )
    return sentences


def summary(context: ReportContext) -> list[Section]:
    """The executive summary section, and the Alerts sheet."""
    alerts = alerts_frame(context, context.alerts())
    count = len(context.indicators)
    scope = f"in {context.year}" if context.year else "in the latest period"
    intro = (
        f"This report covers {count} indicators for {context.area_name}. It lists the area's alerts {scope} "
        "(the most important first) and the indicators with the largest gaps between the most and least "
        "deprived fifths of the population (quintile 1 and quintile 5 of the Index of Multiple Deprivation)."
    )
    messages = [str(message) for message in alerts["message"]]
    gaps = gap_sentences(context)
    blocks: list[Block] = [Paragraph(intro)]
    headline = int((alerts["rule"] == HEADLINE_RULE).sum())
    if messages:
        blocks.append(
            Paragraph(
                f"{len(messages)} alert{'s' if len(messages) != 1 else ''}"
                + (f", {headline} of them the headline alert ({wording.HEADLINE_ALERT})" if headline else "")
                + ":"
            )
        )
        blocks.append(Bullets(messages))
    else:
        # A run published without its monitor has no alerts table to read: "no alerts" would be untrue.
        blocks.append(Paragraph(no_alerts(context, wording.NO_ALERTS_AREA)))
    blocks.append(Paragraph(wording.LARGEST_GAPS))
    blocks.append(Bullets(gaps))
    context.summary.extend(messages or [no_alerts(context, wording.NO_ALERTS_AREA)])
    context.summary.extend(gaps)
    sheet = Sheet(
        context.sheet_name("Alerts"),
        "Every alert for the area, most important first",
        Table("Alerts", alerts, columns.ALERTS.sheet()),
    )
    return [Section("summary", "Executive summary", blocks, [sheet])]
