"""The business case: the events the deprivation gap costs, and their value in pounds.

The sentences are the monitor's (``summary`` in the store, written by
:mod:`gapwatch.monitor.business_case_words`); this section orders and tabulates them.
"""

from __future__ import annotations

from gapwatch.report import columns, wording
from gapwatch.report.context import ReportContext
from gapwatch.report.model import Block, Paragraph, Section, Sheet, Table
from gapwatch.report.sections.common import no_alerts


def business_case(context: ReportContext) -> list[Section]:
    """The business case section, and its sheet."""
    frame = context.results.business_case(context.area_type, context.area_code).copy()
    blocks: list[Block] = [Paragraph(wording.BUSINESS_CASE_INTRO)]
    if frame.empty:
        blocks.append(Paragraph(no_alerts(context, wording.NO_BUSINESS_CASE)))
    else:
        frame["title"] = frame["indicator_id"].map(context.titles).fillna(frame["indicator_id"])
        frame["reference_text"] = frame["reference"].map(wording.REFERENCE_NAMES).fillna(frame["reference"])
        frame = frame.assign(_order=frame["indicator_id"].map(context.order)).sort_values(
            ["_order", "reference"], ascending=[True, False], kind="stable"
        )
        least = frame.loc[(frame["reference"] == "least_deprived") & frame["summary"].fillna("").astype(bool)]
        # Estimated results first: a board reads what is known before what is withheld.
        least = least.assign(_known=least["excess_events"].isna()).sort_values(
            ["_known", "_order"], kind="stable"
        )
        blocks += [Paragraph(str(text)) for text in least["summary"]]
        blocks.append(
            Table(
                f"Business case, {context.area_name}",
                frame.reset_index(drop=True),
                columns.BUSINESS_CASE.page(),
            )
        )
    sheet = Sheet(
        context.sheet_name("Business case"),
        "Excess events and their cost, by indicator",
        Table("Business case", frame.reset_index(drop=True), columns.BUSINESS_CASE.sheet()),
    )
    return [Section("business-case", "Business case", blocks, [sheet])]
