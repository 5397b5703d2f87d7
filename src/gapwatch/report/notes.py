"""The board report's account of what the run found in its inputs (``input_notes``).

Records dated after the day of the run, dates coded as not known, indicators with no record
in the reporting window: the data-quality section says how many records each concerned and
what became of them, so that nothing leaves a table unexplained. Counts are the published,
disclosure-controlled ones (:func:`gapwatch.disclosure.control_input_notes`).
"""

from __future__ import annotations

import pandas as pd

from gapwatch.report.model import Block, Bullets, Column, Paragraph, Sheet, Table
from gapwatch.views import Results
from gapwatch.words import INPUT_NOTE_KINDS

INPUT_NOTE_COLUMNS = [
    Column("file", "Input file"),
    Column("found", "What was found"),
    Column("rows", "Records", "count"),
    Column("share", "Share of the table", "share"),
    Column("sentence", "In words"),
]


def input_note_frame(results: Results) -> pd.DataFrame:
    """The run's input notes with what was found named in words (column ``found``)."""
    notes = results.input_notes()
    return notes.assign(found=notes["kind"].map(lambda kind: INPUT_NOTE_KINDS.get(kind, kind))).reset_index(
        drop=True
    )


def input_note_blocks(results: Results) -> tuple[list[Block], Table]:
    """Paragraphs for the data-quality section (each note a sentence with its count), and
    the table of notes for the workbook's sheet."""
    notes = input_note_frame(results)
    table = Table("What the run found in the inputs", notes, INPUT_NOTE_COLUMNS)
    if notes.empty:
        return [
            Paragraph(
                "What the run found in the inputs: no record was dated after the day of the run, no date "
                "was coded as not known, and every indicator has records in the reporting window."
            )
        ], table
    return [
        Paragraph(
            "What the run found in the inputs. Counts are of whole input tables, controlled as the "
            "completeness counts are."
        ),
        Bullets([f"{sentence}." for sentence in notes["sentence"]]),
    ], table


def input_note_sheet(name: str, table: Table) -> Sheet:
    """The workbook sheet of the notes (``name`` already made unique by the report)."""
    return Sheet(name, "What the run found in the inputs, whole tables", table)
