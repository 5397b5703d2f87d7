"""Build a :class:`~gapwatch.report.model.Report` for one area from a published run.

Everything is read through :mod:`gapwatch.views` (the same read models as the dashboard),
so the report computes no statistic of its own: it selects, orders and words what the
pipeline and the monitor published. Withheld values stay withheld: a suppressed cell is
shown as "suppressed" and is never filled in, estimated or summed.

This module only assembles: the context is :mod:`gapwatch.report.context`, each section
a module of :mod:`gapwatch.report.sections`, the tables' columns
:mod:`gapwatch.report.columns` and the fixed text :mod:`gapwatch.report.wording`. The two
templates are the same pipeline with a different selection of sections:

* ``board``: executive summary, one section per indicator, data quality, targets,
  business case, methods and sources;
* ``annual-health-inequalities``: the information NHS England's Statement on Information
  on Health Inequalities asks for, for one financial year: every indicator by the four
  mandatory dimensions, the deprivation gap and its direction, data completeness and
  Core20PLUS5 alignment.

Each template's HTML is ``templates/<template>.html.j2`` (:mod:`gapwatch.report.render`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gapwatch.errors import InputError
from gapwatch.report import fmt
from gapwatch.report.context import ReportContext, check_area, financial_window
from gapwatch.report.model import Report, Section
from gapwatch.report.sections.annual_indicator import annual_indicator
from gapwatch.report.sections.board_indicator import board_indicator
from gapwatch.report.sections.business_case import business_case
from gapwatch.report.sections.core20plus5 import core20plus5
from gapwatch.report.sections.data_quality import data_quality
from gapwatch.report.sections.indicators import domains
from gapwatch.report.sections.methods import methods
from gapwatch.report.sections.statement import statement
from gapwatch.report.sections.summary import summary
from gapwatch.report.sections.targets import targets
from gapwatch.report.wording import LICENCE
from gapwatch.store import Store
from gapwatch.views import Results

TemplateName = Literal["board", "annual-health-inequalities"]


@dataclass(frozen=True)
class TemplateSpec:
    """A report template: its title and its sections in order."""

    title: str
    sections: tuple[Callable[[ReportContext], list[Section]], ...]


TEMPLATES: dict[str, TemplateSpec] = {
    "board": TemplateSpec(
        "Health inequalities report to the board: {area}",
        (summary, domains(board_indicator), data_quality, targets, business_case, methods),
    ),
    "annual-health-inequalities": TemplateSpec(
        "Annual statement on information on health inequalities {year}: {area}",
        (statement, summary, domains(annual_indicator), data_quality, core20plus5, methods),
    ),
}


def build_report(
    store: Store,
    area_type: str,
    area_code: str,
    *,
    run_id: str | None = None,
    template: TemplateName = "board",
    year: str | None = None,
) -> Report:
    """Build the report for one area of a published run (the latest public one unless ``run_id``).

    A private run (policy ``none`` or ``private: true``) is reported only when named, and
    its report carries :attr:`Report.warning` ("Not for publication") on its first page.

    ``template="board"`` gives a board paper: an executive summary (the area's alerts,
    the headline rule first, and its largest deprivation gaps), one section per indicator
    (latest value against England, values by deprivation quintile with the slope index of
    inequality, trends of the value and of the quintile 1-5 gap, the XmR chart, alerts),
    data quality, targets and trajectories, the business case, and methods and sources.

    ``template="annual-health-inequalities"`` gives the annual statement for the financial
    ``year`` (``"2024/25"``; the run's latest by default): every indicator by deprivation,
    ethnicity, age and sex for the periods in that year, with the quintile 1-5 gap, the
    SII and their trends; data completeness; Core20PLUS5 alignment; methods and sources.

    Raises :class:`~gapwatch.errors.InputError` for an unknown template, area or year.
    """
    spec = TEMPLATES.get(template)
    if spec is None:
        raise InputError(f"template {template!r} is unknown; choose one of {', '.join(TEMPLATES)}")
    results = Results.latest(store, run_id)
    area_name = check_area(results, area_type, area_code)
    window, year = financial_window(results, template, year)
    context = ReportContext(results, area_type, area_code, area_name, template, window, year)
    sections = [part for builder in spec.sections for part in builder(context)]
    first, last = context.coverage()
    when = f"financial year {year} ({fmt.months(*window)})" if window else f"{fmt.months(first, last)}"
    return Report(
        template=template,
        title=spec.title.format(area=area_name, year=year or ""),
        subtitle=f"{area_name}, {when}. Results run {results.run_id}.",
        area_type=area_type,
        area_code=area_code,
        area_name=area_name,
        run_id=results.run_id,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        year=year,
        summary=context.summary,
        sections=sections,
        metadata=context.metadata(when),
        licence=LICENCE,
        warning=results.warning,
    )
