"""The indicator sections: one section per domain, one sub-section per indicator.

The parts both templates print for an indicator are here: its headline sentence (latest
value against England and the standard), the deprivation gap paragraph (the quintile
1-5 gap, the SII and their trends), the groups of a breakdown as a chart and a table,
and the indicator's workbook sheet. :mod:`.board_indicator` and :mod:`.annual_indicator`
assemble them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from gapwatch import words
from gapwatch.report import columns, fmt, wording
from gapwatch.report.context import ReportContext
from gapwatch.report.model import Block, Paragraph, Section, Sheet, Table
from gapwatch.report.sections.common import (
    VALUE_NUMBERS,
    chart,
    finite,
    row,
    trend_sentence,
    with_labels,
    withheld,
)
from gapwatch.views import breakdown_name
from gapwatch.views import charts as vc


def domains(
    indicator_section: Callable[[ReportContext, dict[str, Any]], Section],
) -> Callable[[ReportContext], list[Section]]:
    """One section per domain holding one sub-section per indicator, by domain then title."""

    def build(context: ReportContext) -> list[Section]:
        sections: dict[str, Section] = {}
        for indicator in context.indicators:
            domain = str(indicator["domain"])
            if domain not in sections:
                sections[domain] = Section(
                    f"domain-{domain}", wording.DOMAIN_NAMES.get(domain, domain.capitalize())
                )
            sections[domain].blocks.append(indicator_section(context, indicator))
        return list(sections.values())

    return build


def indicator_sheet(context: ReportContext, indicator: dict[str, Any], breakdowns: list[str]) -> Sheet:
    """The indicator's values by ``breakdowns`` and period, withheld cells empty."""
    parts = [context.values(indicator["indicator_id"], breakdown) for breakdown in breakdowns]
    parts = [part for part in parts if not part.empty]
    sheet_columns = columns.VALUES.sheet()
    empty = pd.DataFrame(columns=[column.key for column in sheet_columns if column.key != "breakdown_name"])
    frame = pd.concat(parts, ignore_index=True) if parts else empty
    frame = withheld(with_labels(frame), VALUE_NUMBERS)
    frame = (
        frame.sort_values(["period_start", "breakdown", "group"], kind="stable") if not frame.empty else frame
    )
    caption = (
        f"{indicator['title']} ({indicator['unit']}): values by breakdown and period, {context.area_name}"
    )
    return Sheet(
        context.sheet_name(str(indicator["title"])),
        caption,
        Table(caption, frame.reset_index(drop=True), sheet_columns),
    )


def headline(context: ReportContext, indicator: dict[str, Any], latest: Any) -> str:
    """The latest overall value with its interval, against England and the standard."""
    identifier, unit = indicator["indicator_id"], str(indicator["unit"])
    overall = context.values(identifier, "overall")
    found = row(overall, period_start=latest)
    when = fmt.period(found["period_start"], found["period_end"]) if found else "the latest period"
    if found is None:
        return f"No overall value is published for {context.area_name}."
    if bool(found.get("suppressed")) or fmt.missing(found.get("value")):
        reason = f" ({found['note']})" if not fmt.missing(found.get("note")) and found.get("note") else ""
        word = "suppressed to protect confidentiality" if bool(found.get("suppressed")) else "not available"
        return f"In {when} the overall value for {context.area_name} is {word}{reason}."
    text = (
        f"In {when} the value for {context.area_name} was {fmt.with_unit(found['value'], unit)} "
        f"({fmt.interval(found['lower'], found['upper'], context.confidence)})"
    )
    england = row(context.england(identifier), period_start=latest)
    if england is not None and fmt.is_finite(england.get("value")):
        text += f"; England {fmt.with_unit(england['value'], unit)}"
        comparison = str(found.get("comparison") or "not compared")
        text += (
            f". Compared with England it is {comparison}"
            if comparison not in ("not compared", "nan")
            else ". It is not compared with England"
        )
    if not fmt.missing(indicator.get("target")):
        text += f". The standard is {fmt.with_unit(indicator['target'], unit)}"
        if not fmt.missing(indicator.get("standard")) and indicator.get("standard"):
            text += f" ({indicator['standard']})"
    return text + "."


def gap_paragraph(context: ReportContext, indicator: dict[str, Any], latest: Any) -> str:
    """The quintile 1-5 gap, the SII and which end fares worse, and the trends of all three."""
    identifier, unit = indicator["indicator_id"], str(indicator["unit"])
    measures = context.measures(identifier)
    gap = row(measures, breakdown="imd_quintile", measure="gap_absolute", period_start=latest)
    sii = row(measures, breakdown="imd_quintile", measure="sii", period_start=latest)
    if gap is None or fmt.missing(gap.get("value")):
        note = f" ({gap['note']})" if gap is not None and gap.get("note") else ""
        text = f"The quintile 1-5 gap is not available for this period{note}."
    else:
        text = "In " + fmt.gap_sentence(
            "this period", gap["value"], gap["lower"], gap["upper"], unit, context.confidence
        )
    if sii is not None and fmt.is_finite(sii.get("value")):
        text += (
            f" {wording.SII_MEANING} is {fmt.number(sii['value'])} {fmt.difference_unit(unit)} "
            f"({fmt.interval(sii['lower'], sii['upper'], context.confidence)}): "
            + words.gap_phrase(
                "sii", sii["value"], sii["lower"], sii["upper"], indicator.get("polarity"), unit
            )
            + "."
        )
    trends = context.trends(identifier)
    for subject, breakdown, series in (
        ("the overall value", "overall", "value"),
        ("the quintile 1-5 gap", "imd_quintile", "gap_absolute"),
        ("the slope index of inequality", "imd_quintile", "sii"),
    ):
        sentence = trend_sentence(
            subject, row(trends, breakdown=breakdown, series=series), unit, context.confidence
        )
        if sentence:
            text += " " + sentence
    return text


def groups(context: ReportContext, indicator: dict[str, Any], breakdown: str, latest: Any) -> list[Block]:
    """The groups of one breakdown in one period: a chart (with the SII line for deprivation) and a table."""
    identifier, unit, title = indicator["indicator_id"], str(indicator["unit"]), str(indicator["title"])
    values = context.values(identifier, breakdown)
    frame = values.loc[values["period_start"] == latest] if not values.empty else values
    if frame.empty:
        return [Paragraph(f"No values by {breakdown_name(breakdown).lower()} are published for this area.")]
    frame = withheld(with_labels(frame), VALUE_NUMBERS)
    when = fmt.period(frame["period_start"].iloc[0], frame["period_end"].iloc[0])
    name = breakdown_name(breakdown)
    blocks: list[Block] = []
    known = frame.loc[frame["group"] != "unknown"]
    if finite(known):
        sii = overall = None
        if breakdown == "imd_quintile":
            found = row(
                context.measures(identifier), breakdown="imd_quintile", measure="sii", period_start=latest
            )
            sii = float(found["value"]) if found and fmt.is_finite(found.get("value")) else None
            top = row(context.values(identifier, "overall"), period_start=latest)
            overall = float(top["value"]) if top and fmt.is_finite(top.get("value")) else None
        spec = vc.groups_chart(known, unit, f"{title}: by {name.lower()}, {when}", sii=sii, overall=overall)
        caption = wording.GROUPS_CHART_CAPTION
        caption += "; the dashed line is the slope index of inequality." if sii is not None else "."
        blocks.append(chart(spec, caption))
    hidden = int(frame["suppressed"].fillna(False).astype(bool).sum())
    if hidden:
        blocks.append(
            Paragraph(
                f"{hidden} of {len(frame)} groups are suppressed to protect confidentiality; they are shown "
                "as 'suppressed' and left out of the chart."
            )
        )
    blocks.append(
        Table(
            f"{title} ({unit}) by {name.lower()}, {context.area_name}, {when}", frame, columns.VALUES.page()
        )
    )
    return blocks
