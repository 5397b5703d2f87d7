"""An indicator's section of the board report.

Its description, headline and gap paragraph, the values by deprivation quintile (chart
and table), the trends of the overall value and of the quintile 1-5 gap, the Making
Data Count XmR chart, its alerts, and a workbook sheet of every breakdown.
"""

from __future__ import annotations

from typing import Any

from gapwatch.model.breakdowns import DEFAULT_BREAKDOWNS
from gapwatch.report import fmt, wording
from gapwatch.report.context import ReportContext
from gapwatch.report.model import Block, Paragraph, Section
from gapwatch.report.sections.common import alert_bullets, chart, finite
from gapwatch.report.sections.indicators import gap_paragraph, groups, headline, indicator_sheet
from gapwatch.stats.spc import icon_note
from gapwatch.views import charts as vc

#: Breakdowns written to an indicator's workbook sheet (the board report: all of them).
SHEET_BREAKDOWNS = list(DEFAULT_BREAKDOWNS)


def board_indicator(context: ReportContext, indicator: dict[str, Any]) -> Section:
    """One indicator's sub-section of the board report, with its sheet."""
    identifier, unit, title = indicator["indicator_id"], str(indicator["unit"]), str(indicator["title"])
    latest = context.latest(identifier)
    blocks: list[Block] = [
        Paragraph(str(indicator.get("description") or "")),
        Paragraph(headline(context, indicator, latest)),
        Paragraph(gap_paragraph(context, indicator, latest)),
    ]
    blocks += groups(context, indicator, "imd_quintile", latest)
    overall = context.values(identifier, "overall")
    if finite(overall) and len(overall) > 1:
        blocks.append(
            chart(vc.trend_chart(overall, unit, f"{title}: overall value over time"), wording.TREND_CAPTION)
        )
    measures = context.measures(identifier)
    gaps = (
        measures.loc[(measures["breakdown"] == "imd_quintile") & (measures["measure"] == "gap_absolute")]
        if not measures.empty
        else measures
    )
    if finite(gaps) and len(gaps) > 1:
        blocks.append(
            chart(
                vc.trend_chart(
                    gaps, fmt.difference_unit(unit), f"{title}: quintile 1 minus quintile 5 over time"
                ),
                wording.GAP_TREND_CAPTION,
            )
        )
    spc = context.spc(identifier)
    points = spc.loc[(spc["breakdown"] == "overall") & (spc["series"] == "value")] if not spc.empty else spc
    if finite(points):
        last = points.iloc[-1]
        variation = wording.VARIATION_WORDS.get(
            str(last["variation"]), wording.VARIATION_WORDS["common_cause"]
        )
        caption = f"Making Data Count XmR chart. The latest point shows {variation}"
        if not fmt.missing(last.get("assurance")):
            caption += f"; {wording.ASSURANCE_WORDS.get(str(last['assurance']), str(last['assurance']))}"
        # Fewer than 13 points: trial limits, so the caption gives the reason, not an icon.
        note = icon_note(int(points["value"].notna().sum()))
        if note is not None:
            caption = f"Making Data Count XmR chart with trial limits. {note.removesuffix('.')}"
        blocks.append(
            chart(
                vc.xmr_chart(points.reset_index(drop=True), f"{title}: statistical process control"),
                caption + ".",
            )
        )
    blocks += alert_bullets(context, identifier)
    sheet = indicator_sheet(context, indicator, SHEET_BREAKDOWNS)
    return Section(f"indicator-{identifier}", title, blocks, [sheet])
