"""Data quality (data completeness in the annual statement): how complete the fields gaps depend on are.

The latest quarter's completeness of each input table (England's when the area has none
of its own), a warning where ethnicity is poorly recorded, and each indicator's share of
records with a known group in each of the four dimensions; sheets of both.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gapwatch.formats import percent
from gapwatch.report import columns, fmt, wording
from gapwatch.report.context import ReportContext
from gapwatch.report.model import Block, Paragraph, Section, Sheet, Table
from gapwatch.report.notes import input_note_blocks, input_note_sheet
from gapwatch.report.wording import DIMENSIONS


def data_quality(context: ReportContext) -> list[Section]:
    """The data quality section, and its two sheets."""
    frame = context.in_window(context.results.completeness(context.area_type, context.area_code))
    blocks: list[Block] = [Paragraph(wording.data_quality_intro(context.completeness_warning))]
    if frame.empty:
        england = context.results.areas.loc[context.results.areas["area_type"] == "england", "area_code"]
        frame = context.in_window(context.results.completeness("england")) if not england.empty else frame
        blocks.append(
            Paragraph(
                f"No completeness figures are published for {context.area_name} (they are kept for England, "
                "ICBs and providers), so England's figures are shown."
            )
        )
    if frame.empty:
        blocks.append(Paragraph("No completeness figures are published in this run."))
    else:
        frame = frame.copy()
        # The complement of a published share, shown because the annual statement asks for it in this form.
        frame["ethnicity_unknown"] = 1 - frame["ethnicity_valid"].astype("float64")
        latest = frame.loc[frame.groupby("source")["period_start"].transform("max") == frame["period_start"]]
        low = latest.loc[latest["ethnicity_valid"].astype("float64") < context.completeness_warning, "source"]
        if not low.empty:
            blocks.append(
                Paragraph(
                    "In the latest quarter, ethnicity is recorded for less than "
                    f"{percent(context.completeness_warning)} of records in: {', '.join(sorted(set(low)))}. "
                    "Gaps by ethnic group from these tables may be unreliable."
                )
            )
        blocks.append(
            Table(
                "Completeness of the fields gaps depend on, latest quarter, "
                f"{fmt.period(latest['period_start'].min(), latest['period_end'].max())}",
                latest.reset_index(drop=True),
                columns.COMPLETENESS.page(),
            )
        )
    found_blocks, found_table = input_note_blocks(context.results)
    blocks.extend(found_blocks)
    dimensions = dimension_completeness(context)
    blocks.append(Paragraph(wording.DIMENSION_COMPLETENESS_INTRO))
    blocks.append(
        Table(
            f"Share of records with a known group, by indicator, {context.area_name}",
            dimensions,
            columns.COMPLETENESS_BY_INDICATOR.page(),
        )
    )
    sheet_columns = columns.COMPLETENESS.sheet()
    sheet_frame = frame if not frame.empty else pd.DataFrame(columns=[c.key for c in sheet_columns])
    if "ethnicity_unknown" not in sheet_frame:
        sheet_frame = sheet_frame.assign(ethnicity_unknown=pd.Series(dtype="float64"))
    sheets = [
        Sheet(
            context.sheet_name("Data quality"),
            "Completeness of the fields gaps depend on, every quarter",
            Table("Data quality", sheet_frame.reset_index(drop=True), sheet_columns),
        ),
        Sheet(
            context.sheet_name("Completeness by indicator"),
            "Share of each denominator with a known group",
            Table("Completeness by indicator", dimensions, columns.COMPLETENESS_BY_INDICATOR.sheet()),
        ),
        input_note_sheet(context.sheet_name("Found in the inputs"), found_table),
    ]
    title = "Data quality" if context.template == "board" else "Data completeness"
    return [Section("data-quality", title, blocks, sheets)]


def dimension_completeness(context: ReportContext) -> pd.DataFrame:
    """Each indicator's share of its denominator with a known group, by dimension, in its latest period."""
    rows = []
    for indicator in context.indicators:
        identifier = indicator["indicator_id"]
        latest = context.latest(identifier)
        found: dict[str, Any] = {
            "indicator_id": identifier,
            "title": indicator["title"],
            "period_start": latest,
        }
        for breakdown in DIMENSIONS:
            values = context.values(identifier, breakdown)
            shares = pd.Series(dtype="float64")
            if not values.empty:
                shares = pd.to_numeric(
                    values.loc[values["period_start"] == latest, "completeness"], errors="coerce"
                ).dropna()
            # Every row of a breakdown carries the same share; a withheld one stays missing.
            found[breakdown] = float(shares.iloc[0]) if len(shares) else float("nan")
        found["ethnic_group_unknown"] = 1 - found["ethnic_group"]
        rows.append(found)
    return pd.DataFrame(
        rows, columns=["indicator_id", "title", "period_start", *DIMENSIONS, "ethnic_group_unknown"]
    )
