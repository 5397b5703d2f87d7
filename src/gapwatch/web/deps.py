"""What a dashboard URL asks for: its area, indicator, breakdown and period, parsed and checked.

Parsing is two steps, both here, so every 4xx for a bad value comes from one module:

1. FastAPI dependencies (:func:`area_or_england`, :func:`any_area`, :func:`indicator_request`,
   :func:`values_request`, :func:`compare_request`) declare each query and path parameter
   with its pattern; a value of the wrong shape is a 422 naming the parameter
   (:mod:`gapwatch.web.errors`), and :func:`gapwatch.web.security.declared_query_only`
   refuses any parameter they do not declare. They return small typed requests.
2. Each request's ``resolve`` checks it against the run being shown: an area, indicator,
   breakdown or period the run does not have is a 404 (:class:`NotFoundError`); a date
   that matches the pattern but is no date (2026-13-45) is a 422 (:class:`BadValueError`).

The run is not a dependency: the store is opened in the handler
(:meth:`gapwatch.web.context.WebContext.results`) only once the parameters are valid, so
a malformed request is refused without reading the store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Query

from gapwatch.codes import ENGLAND
from gapwatch.views import HEAT_BREAKDOWN, PAGE_BREAKDOWNS, Results
from gapwatch.web.errors import BadValueError, NotFoundError

#: England as an area key in URLs (``england:E92000001``), the default area of a page.
ENGLAND_KEY = f"england:{ENGLAND}"
AREA_PATTERN = r"^(england|region|icb|sub_icb|local_authority|provider):[A-Za-z0-9]{1,12}$"
ID_PATTERN = r"^[a-z0-9_]{1,64}$"
BREAKDOWN_PATTERN = r"^[a-z_]{1,40}(:[a-z_]{1,40})?$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
COMPARE_TYPE_PATTERN = r"^(icb|region|sub_icb|local_authority|provider)$"
#: Area types the compare page offers, in its menu's order.
COMPARE_TYPES = ["icb", "region", "sub_icb", "local_authority", "provider"]
#: Breakdowns an indicator page (and its CSV and API twins) will show.
SHOWN_BREAKDOWNS = [*PAGE_BREAKDOWNS, HEAT_BREAKDOWN, "overall", "ethnic_category"]


@dataclass(frozen=True)
class Place:
    """An area of the run: its key as in URLs (``icb:E54000057``), type, code and name."""

    key: str
    area_type: str
    area_code: str
    name: str


@dataclass(frozen=True)
class AreaRequest:
    """An ``area`` parameter of the right shape (``type:code``), not yet checked against a run."""

    key: str

    def resolve(self, found: Results) -> Place:
        """The area in ``found``'s run, or a 404 if the run has no such area."""
        area_type, area_code = self.key.split(":", 1)
        name = found.area_name(area_type, area_code)
        if name is None:
            raise NotFoundError(f"area {self.key} is not in this run")
        return Place(self.key, area_type, area_code, name)


def place_of(found: Results, area: AreaRequest | None) -> Place | None:
    """The area of a list filtered to one area (a 404 if the run lacks it), or ``None`` for all."""
    return area.resolve(found) if area is not None else None


def where(place: Place | None) -> tuple[str | None, str | None]:
    """The ``(area_type, area_code)`` filter of a list: one area's, or ``(None, None)`` for all."""
    return (place.area_type, place.area_code) if place is not None else (None, None)


@dataclass(frozen=True)
class Selection:
    """An indicator page's choice, checked against the run: indicator, area, breakdown, period."""

    indicator: dict[str, Any]
    place: Place
    breakdown: str
    period: dt.date

    @property
    def indicator_id(self) -> str:
        return str(self.indicator["indicator_id"])


@dataclass(frozen=True)
class IndicatorRequest:
    """An indicator page's parameters (also those of its CSV download and of ``/api/values``)."""

    indicator_id: str
    area: AreaRequest
    breakdown: str
    period: str | None

    def resolve(self, found: Results) -> Selection:
        """Checked in the page's order: indicator, area, breakdown, then period (404 or 422)."""
        indicator = indicator_of(found, self.indicator_id)
        place = self.area.resolve(found)
        if self.breakdown not in SHOWN_BREAKDOWNS:
            raise NotFoundError(f"breakdown {self.breakdown} is not shown on this page")
        return Selection(indicator, place, self.breakdown, period_of(found, self.indicator_id, self.period))


@dataclass(frozen=True)
class CompareRequest:
    """The compare page's parameters: an indicator, an area type and a period."""

    indicator_id: str
    area_type: str
    period: str | None

    def resolve(self, found: Results) -> tuple[dict[str, Any], dt.date]:
        """The indicator and the period (the latest unless one is given); 404 or 422 as above."""
        indicator = indicator_of(found, self.indicator_id)
        return indicator, period_of(found, self.indicator_id, self.period)


def indicator_of(found: Results, indicator_id: str) -> dict[str, Any]:
    """The indicator's catalogue row, or a 404 if the run has no such indicator."""
    indicator = found.indicator(indicator_id)
    if indicator is None:
        raise NotFoundError(f"indicator {indicator_id} is not in this run")
    return indicator


def period_of(found: Results, indicator_id: str, period: str | None) -> dt.date:
    """The period named (``2025-04-01``, a period start) or, if none is, the latest one.

    ``2026-13-45`` matches the pattern but is no date: a 422; a date that is not one of
    the indicator's period starts is a 404.
    """
    periods = found.periods.loc[found.periods["indicator_id"] == indicator_id, "period_start"].tolist()
    if not periods:
        raise NotFoundError(f"indicator {indicator_id} has no periods in this run")
    if period is None:
        return max(periods)
    try:
        chosen = dt.date.fromisoformat(period)
    except ValueError:
        # The pattern lets 2026-13-45 through; it is the asker's mistake, not ours.
        raise BadValueError(f"not a valid value for: period ({period} is not a date)") from None
    if chosen not in periods:
        raise NotFoundError(f"period {period} is not one of {indicator_id}'s periods")
    return chosen


# --- the dependencies ------------------------------------------------------------------


def area_or_england(area: Annotated[str, Query(pattern=AREA_PATTERN)] = ENGLAND_KEY) -> AreaRequest:
    """The ``area`` parameter of a page about one area; England when it is not given."""
    return AreaRequest(area)


def any_area(area: Annotated[str | None, Query(pattern=AREA_PATTERN)] = None) -> AreaRequest | None:
    """The ``area`` parameter of a list of every area's rows; ``None`` (every area) when not given."""
    return AreaRequest(area) if area else None


def indicator_request(
    indicator_id: Annotated[str, PathParam(pattern=ID_PATTERN)],
    area: Annotated[str, Query(pattern=AREA_PATTERN)] = ENGLAND_KEY,
    breakdown: Annotated[str, Query(pattern=BREAKDOWN_PATTERN)] = "imd_quintile",
    period: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
) -> IndicatorRequest:
    """``/indicator/{indicator_id}?area=&breakdown=&period=`` (the page and its CSV)."""
    return IndicatorRequest(indicator_id, AreaRequest(area), breakdown, period)


def values_request(
    indicator: Annotated[str, Query(pattern=ID_PATTERN)],
    area: Annotated[str, Query(pattern=AREA_PATTERN)] = ENGLAND_KEY,
    breakdown: Annotated[str, Query(pattern=BREAKDOWN_PATTERN)] = "imd_quintile",
    period: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
) -> IndicatorRequest:
    """``/api/values?indicator=&area=&breakdown=&period=``: the indicator page's table."""
    return IndicatorRequest(indicator, AreaRequest(area), breakdown, period)


def compare_request(
    indicator_id: Annotated[str, PathParam(pattern=ID_PATTERN)],
    area_type: Annotated[str, Query(pattern=COMPARE_TYPE_PATTERN)] = "icb",
    period: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
) -> CompareRequest:
    """``/compare/{indicator_id}?area_type=&period=``."""
    return CompareRequest(indicator_id, area_type, period)
