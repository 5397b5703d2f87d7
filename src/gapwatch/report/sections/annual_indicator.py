"""An indicator's section of the annual statement.

Its description, headline and gap paragraph, a table by the statement's four dimensions
(deprivation, ethnicity, age, sex), the deprivation chart, the gap and SII in each period
of the financial year, its alerts, and a workbook sheet of those breakdowns.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gapwatch.report import columns, fmt
from gapwatch.report.context import ReportContext
from gapwatch.report.model import Block, Chart, Paragraph, Section, Table
from gapwatch.report.sections.common import VALUE_NUMBERS, alert_bullets, with_labels, withheld
from gapwatch.report.sections.indicators import gap_paragraph, groups, headline, indicator_sheet
from gapwatch.report.wording import DIMENSIONS


def gap_table(context: ReportContext, identifier: str) -> pd.DataFrame:
    """The quintile 1-5 gap and the SII with their limits, one row per period."""
    measures = context.measures(identifier)
    names = ["period_start", "gap", "gap_lower", "gap_upper", "sii", "sii_lower", "sii_upper", "suppressed"]
    if measures.empty:
        return pd.DataFrame(columns=names)
    quintile = measures.loc[measures["breakdown"] == "imd_quintile"]
    parts = []
    for measure, name in (("gap_absolute", "gap"), ("sii", "sii")):
        part = quintile.loc[
            quintile["measure"] == measure, ["period_start", "value", "lower", "upper", "suppressed"]
        ]
        parts.append(
            part.rename(
                columns={
                    "value": name,
                    "lower": f"{name}_lower",
                    "upper": f"{name}_upper",
                    "suppressed": f"{name}_suppressed",
                }
            )
        )
    frame = parts[0].merge(parts[1], on="period_start", how="outer").sort_values("period_start")
    frame["suppressed"] = frame["gap_suppressed"].fillna(False).astype(bool) | frame["sii_suppressed"].fillna(
        False
    ).astype(bool)
    return frame[names].reset_index(drop=True)


def annual_indicator(context: ReportContext, indicator: dict[str, Any]) -> Section:
    """One indicator's sub-section of the annual statement, with its sheet."""
    identifier, unit, title = indicator["indicator_id"], str(indicator["unit"]), str(indicator["title"])
    latest = context.latest(identifier)
    blocks: list[Block] = [
        Paragraph(str(indicator.get("description") or "")),
        Paragraph(headline(context, indicator, latest)),
        Paragraph(gap_paragraph(context, indicator, latest)),
    ]
    parts = []
    for breakdown, dimension in DIMENSIONS.items():
        values = context.values(identifier, breakdown)
        part = values.loc[values["period_start"] == latest] if not values.empty else values
        if not part.empty:
            parts.append(part.assign(dimension=dimension))
    if parts:
        frame = withheld(with_labels(pd.concat(parts, ignore_index=True)), VALUE_NUMBERS)
        when = fmt.period(frame["period_start"].iloc[0], frame["period_end"].iloc[0])
        blocks.append(
            Table(
                f"{title} ({unit}) by deprivation, ethnicity, age and sex, {context.area_name}, {when}",
                frame,
                columns.DIMENSION_VALUES.page(),
            )
        )
    else:
        blocks.append(
            Paragraph("No values by deprivation, ethnicity, age or sex are published for this area.")
        )
    blocks += [
        block for block in groups(context, indicator, "imd_quintile", latest) if isinstance(block, Chart)
    ]
    blocks.append(
        Table(
            f"{title}: deprivation gap ({fmt.difference_unit(unit)}) in each period of {context.year}",
            gap_table(context, identifier),
            columns.GAPS.page(),
        )
    )
    blocks += alert_bullets(context, identifier)
    sheet = indicator_sheet(context, indicator, ["overall", *DIMENSIONS])
    return Section(f"indicator-{identifier}", title, blocks, [sheet])
