"""Board and annual reports for one area of a published run: HTML, PDF and Excel.

::

    report = build_report(store, "icb", "E54000057")
    write_report(report, Path("board.html"), "html")
    write_report(report, Path("board.pdf"), "pdf")
    write_report(report, Path("board.xlsx"), "xlsx")

:func:`build_report` reads the results store through :mod:`gapwatch.views` only and
returns a :class:`Report`; :func:`write_report` renders that one object to any format, so
the page, the PDF and the workbook show the same numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from gapwatch.errors import InputError
from gapwatch.report.build import TEMPLATES, build_report
from gapwatch.report.model import Bullets, Chart, Column, Paragraph, Report, Section, Sheet, Table

__all__ = [
    "FORMATS",
    "TEMPLATES",
    "Bullets",
    "Chart",
    "Column",
    "Paragraph",
    "Report",
    "Section",
    "Sheet",
    "Table",
    "build_report",
    "render_html",
    "write_report",
]

FORMATS = ("html", "pdf", "xlsx")


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document."""
    from gapwatch.report.render import render_html as render

    return render(report)


def write_report(report: Report, path: Path, format: Literal["html", "pdf", "xlsx"]) -> Path:
    """Write ``report`` to ``path`` as ``html``, ``pdf`` or ``xlsx`` and return the path.

    * ``html``: one self-contained page (inline CSS and SVG charts, no script, no external
      URL), NHS styling, print-friendly;
    * ``pdf``: that same page printed to A4 by WeasyPrint, with page numbers;
    * ``xlsx``: a Contents sheet (run, area, disclosure policy, licence), one sheet per
      indicator with values by breakdown and period (withheld cells empty, flagged in a
      ``suppressed`` column), and Alerts, Targets, Business case and Data quality sheets.
    """
    if format not in FORMATS:
        raise InputError(f"report format {format!r} is unknown; choose one of {', '.join(FORMATS)}")
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot create the folder {path.parent}: {error.strerror or error}") from error
    if format == "html":
        try:
            path.write_text(render_html(report), encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot write {path}: {error.strerror or error}") from error
    elif format == "pdf":
        from gapwatch.report.render import write_pdf

        write_pdf(report, path)
    else:
        from gapwatch.report.workbook import write_xlsx

        write_xlsx(report, path)
    return path
