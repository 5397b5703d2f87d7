"""Render a report as one self-contained HTML page, or as a PDF of that same page.

The page has no script and no external reference: styles are inline, charts are inline
SVG rendered offline (:func:`gapwatch.views.charts.svg`), so it can be emailed, archived
or opened without a network. Text is escaped by Jinja2's autoescaping; only chart SVG,
which gapwatch renders itself, is inserted as markup.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from gapwatch.errors import InputError
from gapwatch.report import fmt
from gapwatch.report.model import Report


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("gapwatch.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["day"] = fmt.day
    return environment


def render_html(report: Report) -> str:
    """The report as one HTML document (inline CSS and SVG, no script, no external URL).

    Each template's page is ``templates/<template>.html.j2`` (``board.html.j2``).
    """
    template = _environment().get_template(f"{report.template}.html.j2")
    return template.render(report=report)


def write_pdf(report: Report, path: Path) -> None:
    """Print the HTML page to an A4 PDF with WeasyPrint (page numbers in the footer)."""
    import weasyprint

    try:
        weasyprint.HTML(string=render_html(report)).write_pdf(str(path))
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror or error}") from error
