"""The dashboard's JSON API (documented at ``/api/openapi.json``) and its CSV download.

The API serves the same rows as the pages, read through the same typed methods of
:class:`gapwatch.views.Results`, without the ``run_id`` column. The indicator page's
table is also a CSV download, whose text cells cannot run as spreadsheet formulas
(:func:`gapwatch.views.cells.spreadsheet_safe`).
"""

from __future__ import annotations

import io
import re
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from gapwatch.views.cells import spreadsheet_safe
from gapwatch.web.context import Web
from gapwatch.web.deps import (
    ID_PATTERN,
    AreaRequest,
    IndicatorRequest,
    any_area,
    area_or_england,
    indicator_of,
    indicator_request,
    place_of,
    values_request,
    where,
)
from gapwatch.web.render import records

router = APIRouter()

OneArea = Annotated[AreaRequest, Depends(area_or_england)]
AnyArea = Annotated[AreaRequest | None, Depends(any_area)]


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return records(frame.drop(columns=["run_id"]))


@router.get("/indicator/{indicator_id}/data.csv", include_in_schema=False)
def indicator_csv(web: Web, asked: Annotated[IndicatorRequest, Depends(indicator_request)]) -> Response:
    with web.results() as found:
        chosen = asked.resolve(found)
        place = chosen.place
        values = found.values(
            chosen.indicator_id, place.area_type, place.area_code, chosen.breakdown, chosen.period
        )
    buffer = io.StringIO()
    table = spreadsheet_safe(values.drop(columns=["run_id"], errors="ignore"))
    table.to_csv(buffer, index=False)
    filename = re.sub(
        r"[^A-Za-z0-9_.-]",
        "_",
        f"{asked.indicator_id}_{asked.area.key}_{asked.breakdown}_{chosen.period}.csv",
    )
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/api/runs", tags=["runs"], summary="Published runs, newest first")
def api_runs(web: Web) -> list[dict[str, Any]]:
    return records(web.visible_runs())


@router.get("/api/indicators", tags=["catalogue"], summary="The run's indicators")
def api_indicators(web: Web) -> list[dict[str, Any]]:
    with web.results() as found:
        return _rows(found.indicators)


@router.get("/api/areas", tags=["catalogue"], summary="The run's areas")
def api_areas(web: Web) -> list[dict[str, Any]]:
    with web.results() as found:
        return _rows(found.areas)


@router.get("/api/overview", tags=["pages"], summary="The equity scorecard of one area")
def api_overview(web: Web, area: OneArea) -> list[dict[str, Any]]:
    with web.results() as found:
        place = area.resolve(found)
        return records(found.scorecard(place.area_type, place.area_code))


@router.get(
    "/api/values", tags=["pages"], summary="An indicator's values by group (the indicator page's table)"
)
def api_values(web: Web, asked: Annotated[IndicatorRequest, Depends(values_request)]) -> list[dict[str, Any]]:
    with web.results() as found:
        chosen = asked.resolve(found)
        place = chosen.place
        return _rows(
            found.values(
                chosen.indicator_id, place.area_type, place.area_code, chosen.breakdown, chosen.period
            )
        )


@router.get("/api/alerts", tags=["monitor"], summary="Guardrail alerts")
def api_alerts(web: Web, area: AnyArea) -> list[dict[str, Any]]:
    with web.results() as found:
        place = place_of(found, area)
        return _rows(found.alerts(*where(place)))


@router.get("/api/targets", tags=["monitor"], summary="Gap-reduction targets and where each area stands")
def api_targets(web: Web, area: AnyArea) -> list[dict[str, Any]]:
    with web.results() as found:
        place = place_of(found, area)
        return _rows(found.targets(*where(place)))


@router.get("/api/business-case", tags=["monitor"], summary="Excess events and their cost")
def api_business(web: Web, area: AnyArea) -> list[dict[str, Any]]:
    with web.results() as found:
        place = place_of(found, area)
        return _rows(found.business_case(*where(place)))


@router.get("/api/completeness", tags=["quality"], summary="Completeness of the fields gaps depend on")
def api_completeness(web: Web, area: AnyArea) -> list[dict[str, Any]]:
    with web.results() as found:
        place = place_of(found, area)
        return _rows(found.completeness(*where(place)))


@router.get(
    "/api/input-notes", tags=["quality"], summary="What the run found in its inputs (future dates, ...)"
)
def api_input_notes(
    web: Web, indicator: Annotated[str | None, Query(pattern=ID_PATTERN)] = None
) -> list[dict[str, Any]]:
    with web.results() as found:
        if indicator is None:
            return _rows(found.input_notes())
        chosen = indicator_of(found, indicator)
        return _rows(found.input_notes(indicator, str(chosen["source"])))
