"""The annual statement's opening: the duty it answers, its scope and the four dimensions."""

from __future__ import annotations

from gapwatch.report import fmt, wording
from gapwatch.report.context import ReportContext
from gapwatch.report.model import Block, Bullets, Paragraph, Section


def statement(context: ReportContext) -> list[Section]:
    """The Statement on Information on Health Inequalities section."""
    start, end = context.window or (None, None)
    blocks: list[Block] = [
        Paragraph(wording.STATEMENT_DUTY),
        Paragraph(wording.statement_scope(context.area_name, context.year, fmt.months(start, end))),
        Bullets(list(wording.DIMENSION_DEFINITIONS)),
    ]
    return [Section("statement", "Statement on Information on Health Inequalities", blocks)]
