"""Methods and sources: how every number was made, the references, the data and the licence."""

from __future__ import annotations

import pandas as pd

from gapwatch.formats import percent
from gapwatch.report import columns, wording
from gapwatch.report.context import ReportContext, disclosure_text
from gapwatch.report.model import Block, Bullets, Paragraph, Section, Sheet, Table


def methods(context: ReportContext) -> list[Section]:
    """The methods section with the indicator definitions, and the Indicators sheet."""
    blocks: list[Block] = [
        Paragraph(wording.methods_intervals(percent(context.confidence))),
        *[Paragraph(text) for text in wording.METHODS],
        Paragraph("Disclosure control: " + disclosure_text(context.results.run)),
        Paragraph(wording.DEPRIVATION_DEFINITION),
        Bullets(list(wording.REFERENCES)),
        Paragraph(wording.DATA_SOURCES),
        Paragraph(wording.LICENCE),
    ]
    frame = pd.DataFrame(context.indicators)
    frame["polarity_text"] = frame["polarity"].astype(str).str.replace("_", " ")
    frame["domain"] = frame["domain"].map(lambda domain: wording.DOMAIN_NAMES.get(str(domain), str(domain)))
    blocks.append(Table("Indicator definitions", frame, columns.INDICATORS.page()))
    sheet = Sheet(
        context.sheet_name("Indicators"),
        "Indicator definitions",
        Table("Indicator definitions", frame, columns.INDICATORS.sheet()),
    )
    return [Section("methods", "Methods and sources", blocks, [sheet])]
