"""Targets and trajectories: the area's gap-reduction targets and where it stands against them."""

from __future__ import annotations

import pandas as pd

from gapwatch.report import columns, wording
from gapwatch.report.context import ReportContext
from gapwatch.report.model import Block, Bullets, Paragraph, Section, Sheet, Table
from gapwatch.report.sections.common import no_alerts
from gapwatch.views import TARGET_STATUS_NAMES, WITHIN_INTERVAL_NAMES


def targets(context: ReportContext) -> list[Section]:
    """The targets section, and the Targets sheet."""
    frame = context.results.targets(context.area_type, context.area_code).copy()
    frame["title"] = (
        frame["indicator_id"].map(context.titles).fillna(frame["indicator_id"]) if not frame.empty else []
    )
    frame["status_text"] = (
        frame["status"].map(lambda s: TARGET_STATUS_NAMES.get(str(s), str(s).replace("_", " ")))
        if not frame.empty
        else []
    )
    frame["within_text"] = (
        frame["within_interval"].map(lambda w: "" if pd.isna(w) else WITHIN_INTERVAL_NAMES[bool(w)])
        if not frame.empty
        else []
    )
    blocks: list[Block] = [Paragraph(wording.TARGETS_INTRO)]
    if frame.empty:
        blocks.append(Paragraph(no_alerts(context, wording.NO_TARGETS)))
    else:
        frame = frame.assign(_order=frame["indicator_id"].map(context.order)).sort_values(
            "_order", kind="stable"
        )
        counts = frame["status_text"].value_counts()
        blocks.append(
            Paragraph(
                f"{len(frame)} target{'s' if len(frame) != 1 else ''}: "
                + ", ".join(f"{number} {str(status).lower()}" for status, number in counts.items())
                + "."
            )
        )
        blocks.append(Bullets([str(text) for text in frame["description"]]))
        blocks.append(
            Table(
                f"Targets and trajectories, {context.area_name}",
                frame.reset_index(drop=True),
                columns.TARGETS.page(),
            )
        )
    sheet = Sheet(
        context.sheet_name("Targets"),
        "Gap-reduction targets and trajectories",
        Table("Targets", frame.reset_index(drop=True), columns.TARGETS.sheet()),
    )
    return [Section("targets", "Targets and trajectories", blocks, [sheet])]
