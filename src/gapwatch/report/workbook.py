"""Write a report as an Excel workbook: the numbers behind every section, as numbers.

Sheets: ``Contents`` (a private run's "Not for publication" banner in its first row, the
run, the area, when it was generated, the disclosure policy, the licence, and a list of
the other sheets), then one sheet per indicator with its
values by breakdown and period, and the Alerts, Targets, Business case and Data quality
sheets (and, for the annual template, Core20PLUS5). A withheld value is an empty cell,
never a zero, and its row says ``suppressed`` = TRUE.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gapwatch.errors import InputError
from gapwatch.report import fmt
from gapwatch.report.model import Column, Report, Table
from gapwatch.views.cells import safe_text

NUMBER_FORMATS = {
    "value": "#,##0.0##",
    "count": "#,##0",
    "share": "0.0%",
    "money": "£#,##0",
    "date": "yyyy-mm-dd",
    "period": "yyyy-mm-dd",
}
BOLD = Font(bold=True)
HEADER_FILL_FONT = Font(bold=True, color="FFFFFF")
WARNING_FONT = Font(bold=True, color="FFFFFF", size=14)
WARNING_FILL = PatternFill("solid", fgColor="D4351C")


def write_xlsx(report: Report, path: Path) -> None:
    """Write the workbook to ``path``."""
    book = Workbook()
    contents = book.active
    assert contents is not None  # a new workbook always has its first sheet
    contents.title = "Contents"
    sheets = report.sheets()
    _contents(contents, report, [(sheet.name, sheet.description) for sheet in sheets])
    for sheet in sheets:
        _table(book.create_sheet(sheet.name), sheet.table)
    try:
        book.save(str(path))
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror or error}") from error


def _contents(sheet: Worksheet, report: Report, listing: list[tuple[str, str]]) -> None:
    if report.warning:
        # A private run's banner: the first cell of the first sheet, white on red across the page.
        sheet.append([report.warning])
        sheet.merge_cells("A1:B1")
        sheet["A1"].font = WARNING_FONT
        sheet["A1"].fill = WARNING_FILL
        sheet.row_dimensions[1].height = 30
    sheet.append(["Item", "Value"])
    header = sheet.max_row
    rows: list[tuple[str, str]] = [
        ("Title", report.title),
        *report.metadata,
        ("Area code", report.area_code),
        ("Area type", report.area_type),
        ("Run id", report.run_id),
        ("Generated", report.generated_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("Licence", report.licence),
        (
            "Suppression",
            "Withheld values are empty cells; the row's 'suppressed' column is TRUE. Never read an "
            "empty cell as zero.",
        ),
    ]
    for name, value in rows:
        # Titles and metadata can carry names from the data (an area or provider name).
        sheet.append([name, safe_text(value)])
    sheet.append([])
    sheet.append(["Sheet", "What it holds"])
    sheet.cell(sheet.max_row, 1).font = BOLD
    sheet.cell(sheet.max_row, 2).font = BOLD
    for name, description in listing:
        sheet.append([name, description])
        cell = sheet.cell(sheet.max_row, 1)
        # An internal link: the workbook refers to nothing outside itself.
        cell.hyperlink = f"#'{name}'!A1"
        cell.style = "Hyperlink"
    for cell in sheet[header]:
        cell.font = BOLD
    sheet.freeze_panes = f"A{header + 1}"
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 110
    for row in sheet.iter_rows(min_row=header + 1, min_col=2, max_col=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _table(sheet: Worksheet, table: Table) -> None:
    columns = table.columns
    sheet.append([column.heading for column in columns])
    for cell in sheet[1]:
        cell.font = BOLD
    sheet.freeze_panes = "A2"
    widths = [len(column.heading) for column in columns]
    records = table.frame.to_dict("records")
    for record in records:
        row = [_excel(record.get(column.key), column) for column in columns]
        sheet.append(row)
        for position, value in enumerate(row):
            widths[position] = max(widths[position], min(len(str(value)) if value is not None else 0, 60))
    for position, column in enumerate(columns, start=1):
        number_format = NUMBER_FORMATS.get(column.kind)
        if number_format and records:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
                cell.number_format = number_format
        sheet.column_dimensions[get_column_letter(position)].width = max(8, widths[position - 1] + 2)
    if records:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(records) + 1}"


def _excel(value: Any, column: Column) -> Any:
    """A cell value of the column's kind; missing (and withheld) values become empty cells."""
    if fmt.missing(value):
        return None
    if column.kind in ("value", "count", "share", "money"):
        number = float(value)
        return number if pd.notna(number) else None
    if column.kind in ("date", "period"):
        moment = pd.Timestamp(value)
        return moment.date() if isinstance(value, dt.date | pd.Timestamp | str) else moment.to_pydatetime()
    if column.kind == "flag":
        return bool(value)
    # Text from the data (a provider code, an area name) that begins like a formula would
    # run as one when the workbook is opened: it is kept as text (views/cells.py).
    return safe_text(str(value))
