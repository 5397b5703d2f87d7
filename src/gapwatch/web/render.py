"""How the dashboard writes what it reads: template filters, JSON-ready rows and charts.

Nothing here computes a statistic: numbers are only formatted (one decimal from 1
upwards, three significant figures below), rows are made JSON-ready (dates as ISO text,
NaN as null) and chart specs from :mod:`gapwatch.views.charts` are rendered to SVG.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from gapwatch import __version__, formats
from gapwatch import words as say
from gapwatch.views import (
    AREA_TYPE_NAMES,
    RULE_NAMES,
    TARGET_STATUS_NAMES,
    WITHIN_INTERVAL_NAMES,
    breakdown_name,
)
from gapwatch.views import charts as chart
from gapwatch.web.auth import current_reader

TEMPLATES = Path(__file__).parent / "templates"


#: Values, counts and limits as the dashboard writes them (one decimal from 1 upwards,
#: three significant figures below, "–" for a missing value): :data:`gapwatch.formats.DASHBOARD`.
number = formats.DASHBOARD.number
count = formats.DASHBOARD.count
limits = formats.DASHBOARD.limits


def words(value: Any) -> str:
    """A code as people read it (every code is named in one place, gapwatch.words)."""
    return say.code_words(value)


def svg(spec: dict[str, Any]) -> Markup:
    """A chart spec rendered to SVG markup for a template.

    The SVG comes from vl-convert rendering our own spec (whose text fields are data
    values): it is markup, not user input, but its label was escaped in charts.svg.
    """
    return Markup(chart.svg(spec))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dictionaries: dates as ISO text (``2025-04-01``), NaN and NA as None."""
    clean = frame.astype(object).where(frame.notna(), None)
    rows: list[dict[str, Any]] = [
        {str(key): value for key, value in row.items()} for row in clean.to_dict("records")
    ]
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dt.date | dt.datetime | pd.Timestamp):
                row[key] = value.isoformat()[:10] if isinstance(value, dt.date) else str(value)
            elif isinstance(value, float) and math.isnan(value):
                row[key] = None
    return rows


def templates(login_enabled: bool = False) -> Jinja2Templates:
    """The dashboard's Jinja2 templates with its filters and the names every page uses
    (with ``login_enabled``, the header's "Sign in" link or who is signed in)."""
    found = Jinja2Templates(directory=str(TEMPLATES))
    environment = found.env
    environment.filters.update(
        number=number,
        count=count,
        limits=limits,
        words=words,
        breakdown=breakdown_name,
        period=say.period_words,
        period_short=say.period_short,
        day=say.day,
    )
    environment.globals.update(
        area_type_names=AREA_TYPE_NAMES,
        rule_names=RULE_NAMES,
        target_status_names=TARGET_STATUS_NAMES,
        within_interval_names=WITHIN_INTERVAL_NAMES,
        version=__version__,
        gap_phrase=say.gap_phrase,
        # The header's "Sign in" link, or who is signed in (web/auth.py).
        login_enabled=login_enabled,
        current_reader=current_reader,
    )
    return found
