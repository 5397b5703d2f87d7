"""What a run found in its inputs that did not stop it, as records (``input_notes``).

Each warning line a run prints about an input (:func:`gapwatch.engine.normalise.warn`) is
also kept as one :class:`InputNote` per column or indicator it concerns: the table, the
file's name (never its folder), what was found (``kind``), how many records it touched and
how many the table holds. The ``text`` says what was found without any count, so that the
counts can be controlled for disclosure (:func:`gapwatch.disclosure.control_input_notes`)
and the text published as it stands; pages put the controlled count in front of it
(:func:`gapwatch.words.input_note_sentence`).

>>> InputNote("admissions", "admissions.csv", "future_dated", "are dated later", "date", 3).kind
'future_dated'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

#: What a note can say, in the order pages list them.
KINDS = (
    "no_rows_in_window",
    "future_dated",
    "received_future",
    "missing_date_codes",
    "renamed_columns",
    "spellings_read",
)
COLUMNS = ["source", "file", "indicator_id", "kind", "column_name", "rows", "total", "text"]


@dataclass
class InputNote:
    """One thing found in one input table: ``rows`` of its ``total`` records (None: not counted)."""

    source: str
    file: str
    kind: str
    text: str
    column_name: str | None = None
    rows: int | None = None
    total: int | None = None
    indicator_id: str | None = None


def file_name(location: str) -> str:
    """The name of an input's file without its folder (a machine path is never published).

    >>> file_name("/data/extracts/hes_apc.csv"), file_name("table public.hes")
    ('hes_apc.csv', 'table public.hes')
    """
    if location.startswith("table "):
        return location
    return location.replace("\\", "/").rsplit("/", 1)[-1]


def frame(notes: list[InputNote]) -> pd.DataFrame:
    """The notes as a table (columns :data:`COLUMNS`), in the order of :data:`KINDS`."""
    result = pd.DataFrame([asdict(note) for note in notes], columns=COLUMNS)
    if result.empty:
        return result
    result["rows"] = result["rows"].astype("float64")
    result["total"] = result["total"].astype("float64")
    order = result["kind"].map({kind: index for index, kind in enumerate(KINDS)})
    return (
        result.assign(_order=order)
        .sort_values(["_order", "source", "column_name"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
