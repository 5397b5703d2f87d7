"""Core20PLUS5 alignment: the indicators defined against a Core20PLUS5 area, and their gaps."""

from __future__ import annotations

from typing import Any

import pandas as pd

from gapwatch.report import columns, fmt, wording
from gapwatch.report.context import ReportContext
from gapwatch.report.model import Block, Bullets, Paragraph, Section, Sheet, Table
from gapwatch.report.sections.common import row


def core20plus5(context: ReportContext) -> list[Section]:
    """The Core20PLUS5 section (annual statement), and its sheet."""
    rows = []
    for indicator in context.indicators:
        text = " ".join(str(indicator.get(key) or "") for key in ("indicator_id", "title", "reference"))
        if "core20plus5" not in text.lower().replace(" ", ""):
            continue
        identifier = indicator["indicator_id"]
        latest = context.latest(identifier)
        reference = str(indicator.get("reference") or "")
        mentions = [part.strip() for part in reference.split(";") if "core20plus5" in part.lower()]
        area = mentions[0] if mentions else "Core20PLUS5"
        found: dict[str, Any] = {
            "indicator_id": identifier,
            "title": indicator["title"],
            "area": area,
            "period_start": latest,
            "unit": fmt.difference_unit(str(indicator["unit"])),
        }
        measures = context.measures(identifier)
        for name, breakdown in (("core20", "core20"), ("quintile", "imd_quintile")):
            gap = row(measures, breakdown=breakdown, measure="gap_absolute", period_start=latest)
            found[f"{name}_gap"] = gap["value"] if gap else float("nan")
            found[f"{name}_lower"] = gap["lower"] if gap else float("nan")
            found[f"{name}_upper"] = gap["upper"] if gap else float("nan")
        rows.append(found)
    frame = pd.DataFrame(rows, columns=[field.key for field in columns.CORE20PLUS5])
    blocks: list[Block] = [Paragraph(wording.CORE20PLUS5)]
    if frame.empty:
        blocks.append(Paragraph(wording.NO_CORE20PLUS5))
    else:
        blocks.append(Paragraph(f"{len(frame)} of this run's indicators measure a Core20PLUS5 area:"))
        blocks.append(Bullets([f"{item['title']}: {item['area']}" for item in frame.to_dict("records")]))
        blocks.append(
            Table(
                f"Core20PLUS5 indicators: the Core20 and quintile 1-5 gaps, {context.area_name}, latest "
                f"period in {context.year}",
                frame,
                columns.CORE20PLUS5.page(),
            )
        )
    sheet = Sheet(
        context.sheet_name("Core20PLUS5"),
        "Indicators aligned to Core20PLUS5 and their gaps",
        Table("Core20PLUS5", frame, columns.CORE20PLUS5.sheet()),
    )
    return [Section("core20plus5", "Core20PLUS5 alignment", blocks, [sheet])]
