"""What a report holds: sections of paragraphs, lists, charts and tables, ready to render.

A :class:`Report` is built once from the results store (:mod:`gapwatch.report.build`) and
rendered by every format from the same object, so the HTML page, the PDF and the workbook
never disagree. Tables keep their numbers as numbers (the workbook writes them as such);
the HTML formats them through :meth:`Table.rows`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias

import pandas as pd

from gapwatch import words
from gapwatch.report import fmt

ColumnKind = Literal["text", "value", "count", "share", "date", "period", "money", "flag"]


@dataclass(frozen=True)
class Column:
    """A table column: the frame's column ``key`` shown under ``heading`` as ``kind``.

    ``value`` is an indicator value or limit (one decimal), ``count`` a whole number,
    ``share`` a proportion from 0 to 1 shown as a percentage, ``money`` pounds.
    """

    key: str
    heading: str
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class Cell:
    text: str
    css: str


@dataclass
class Table:
    """A table with a caption; a ``suppressed`` column in ``frame`` marks withheld rows.

    In a withheld row every missing number reads "suppressed" (never blank, never zero);
    numbers that were published in it (a rounded record count) are shown.
    """

    caption: str
    frame: pd.DataFrame
    columns: list[Column]
    kind: ClassVar[str] = "table"

    def __post_init__(self) -> None:
        missing = [column.key for column in self.columns if column.key not in self.frame.columns]
        if missing and self.frame.empty:
            # An empty view comes back without the columns a builder adds; it still has headings.
            self.frame = self.frame.reindex(columns=[*self.frame.columns, *missing])
        elif missing:
            raise ValueError(f"table {self.caption!r}: no column(s) {', '.join(missing)}")

    def rows(self) -> Iterator[list[Cell]]:
        """Each row as formatted cells (the first cell heads the row)."""
        suppressed = (
            self.frame["suppressed"].fillna(False).astype(bool).tolist()
            if "suppressed" in self.frame.columns
            else [False] * len(self.frame)
        )
        records = self.frame.to_dict("records")
        for record, withheld in zip(records, suppressed, strict=True):
            yield [_cell(record.get(column.key), column.kind, withheld) for column in self.columns]


def _cell(value: Any, kind: ColumnKind, withheld: bool) -> Cell:
    numeric = kind in ("value", "count", "share", "money")
    if fmt.missing(value):
        if withheld and numeric:
            return Cell("suppressed", "num suppressed")
        return Cell("not available" if numeric else "", "num missing" if numeric else "")
    if kind == "value":
        return Cell(fmt.number(value), "num")
    if kind == "count":
        return Cell(fmt.count(value), "num")
    if kind == "share":
        return Cell(fmt.share(value), "num")
    if kind == "money":
        return Cell(fmt.money(value), "num")
    if kind == "date":
        return Cell(fmt.day(value), "date")
    if kind == "period":
        # A period named as NHS readers write it (Q4 2025/26), from its first day.
        return Cell(words.period_short(value), "date")
    if kind == "flag":
        return Cell("yes" if bool(value) else "no", "")
    return Cell(str(value), "")


@dataclass
class Paragraph:
    text: str
    kind: ClassVar[str] = "paragraph"


@dataclass
class Bullets:
    items: list[str]
    kind: ClassVar[str] = "bullets"


@dataclass
class Chart:
    """A chart rendered to SVG by :func:`gapwatch.views.charts.svg` (trusted markup)."""

    title: str
    svg: str
    caption: str = ""
    kind: ClassVar[str] = "chart"


@dataclass
class Sheet:
    """A workbook sheet: a unique name (at most 31 characters) and the table it holds."""

    name: str
    description: str
    table: Table


@dataclass
class Section:
    """A titled part of the report: blocks in reading order, sub-sections among them."""

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    sheets: list[Sheet] = field(default_factory=list)
    kind: ClassVar[str] = "section"

    def walk(self) -> Iterator[Section]:
        """This section and every section inside it, in reading order."""
        yield self
        for block in self.blocks:
            if isinstance(block, Section):
                yield from block.walk()


Block: TypeAlias = Paragraph | Bullets | Chart | Table | Section


@dataclass
class Report:
    """Everything a report shows, for one area of one published run.

    ``summary`` holds the executive summary's sentences; ``metadata`` the facts about the
    run printed on the cover and on the workbook's Contents sheet.
    """

    template: str
    title: str
    subtitle: str
    area_type: str
    area_code: str
    area_name: str
    run_id: str
    generated_at: dt.datetime
    year: str | None
    summary: list[str]
    sections: list[Section]
    metadata: list[tuple[str, str]]
    licence: str
    #: The "not for publication" banner of a private run (first thing on the first page).
    warning: str | None = None

    def walk(self) -> Iterator[Section]:
        for section in self.sections:
            yield from section.walk()

    def sheets(self) -> list[Sheet]:
        """The workbook's data sheets (after Contents), in reading order."""
        return [sheet for section in self.walk() for sheet in section.sheets]

    def charts(self) -> list[Chart]:
        return [block for section in self.walk() for block in section.blocks if isinstance(block, Chart)]

    def tables(self) -> list[Table]:
        return [block for section in self.walk() for block in section.blocks if isinstance(block, Table)]
