"""The dashboard's HTML pages: one router, each handler reading one run through ``views``.

Each handler opens the run (:meth:`gapwatch.web.context.WebContext.results`), checks
what the URL asks for (:mod:`gapwatch.web.deps`), calls the typed read methods of
:class:`gapwatch.views.Results` it needs and renders one template. The whole state of a
page is in its URL (area, breakdown, period), so a link can be shared.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from gapwatch import words as say
from gapwatch.codes import ENGLAND
from gapwatch.views import ETHNIC_GROUPING_NAMES, HEAT_BREAKDOWN, PAGE_BREAKDOWNS, Results
from gapwatch.views import charts as chart
from gapwatch.web.context import Web, WebContext
from gapwatch.web.deps import (
    COMPARE_TYPES,
    AreaRequest,
    CompareRequest,
    IndicatorRequest,
    Place,
    any_area,
    area_or_england,
    compare_request,
    indicator_of,
    indicator_request,
    place_of,
    where,
)
from gapwatch.web.figures import compare_charts, indicator_charts
from gapwatch.web.render import records, svg

router = APIRouter(include_in_schema=False)

#: Breakdowns whose first group is the most deprived: their gaps get a phrase in words.
DEPRIVATION_BREAKDOWNS = ("imd_quintile", "imd_decile", "core20")

OneArea = Annotated[AreaRequest, Depends(area_or_england)]
AnyArea = Annotated[AreaRequest | None, Depends(any_area)]


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/overview", status_code=307)


@router.get("/overview", response_class=HTMLResponse)
def overview(request: Request, web: Web, area: OneArea) -> HTMLResponse:
    with web.results() as found:
        place = area.resolve(found)
        card = found.scorecard(place.area_type, place.area_code)
        gaps = found.gap_series(place.area_type, place.area_code)
        sparks = {
            indicator_id: svg(
                chart.sparkline(part.dropna(subset=["value"]), f"Quintile 1-5 gap, {indicator_id}")
            )
            for indicator_id, part in gaps.groupby("indicator_id")
            if part["value"].notna().sum() >= 2
        }
        alerts = found.alerts(place.area_type, place.area_code)
        return web.page(
            request,
            "overview.html",
            found,
            area=place.key,
            area_name=place.name,
            area_type=place.area_type,
            card=_with_period_ends(records(card), found),
            sparks=sparks,
            alerts=records(alerts.head(50)),
            alert_total=len(alerts),
        )


@router.get("/indicator/{indicator_id}", response_class=HTMLResponse)
def indicator_page(
    request: Request, web: Web, asked: Annotated[IndicatorRequest, Depends(indicator_request)]
) -> HTMLResponse:
    with web.results() as found:
        indicator = indicator_of(found, asked.indicator_id)
        notes = records(found.input_notes(asked.indicator_id, str(indicator["source"])))
        if asked.period is None and not (found.periods["indicator_id"] == asked.indicator_id).any():
            # No record in the reporting window: the page says so instead of a 404.
            place = asked.area.resolve(found)
            return web.page(request, "indicator_empty.html", found, indicator=indicator, area=place.key,
                            area_name=place.name, notes=notes)  # fmt: skip
        chosen = asked.resolve(found)
        indicator, place, period = chosen.indicator, chosen.place, chosen.period
        indicator_id, area_type, area_code = chosen.indicator_id, place.area_type, place.area_code
        values = found.values(indicator_id, area_type, area_code, chosen.breakdown, period)
        measures = found.measures(indicator_id, area_type, area_code)
        overall = found.values(indicator_id, area_type, area_code, "overall")
        england = found.values(indicator_id, "england", ENGLAND, "overall", period)
        spc = found.charts(indicator_id, area_type, area_code)
        heat = found.values(indicator_id, area_type, area_code, HEAT_BREAKDOWN, period)
        charts = indicator_charts(indicator, chosen.breakdown, period, values, measures, overall, spc, heat)
        periods, period_ends = _periods_of(found, indicator_id)
        return web.page(
            request,
            "indicator.html",
            found,
            indicator=indicator,
            area=place.key,
            area_type=area_type,
            area_code=area_code,
            area_name=place.name,
            breakdown=chosen.breakdown,
            period=period,
            values=values,
            rows=records(values),
            charts=charts,
            measures=_measure_rows(records(measures.loc[measures["period_start"] == period]), indicator),
            england=records(england),
            periods=periods,
            period_ends=period_ends,
            breakdowns=[*PAGE_BREAKDOWNS, HEAT_BREAKDOWN],
            spc=records(spc),
            alerts=records(found.alerts(area_type, area_code).query("indicator_id == @indicator_id")),
            trends=records(found.trends(indicator_id, area_type, area_code)),
            heat_rows=records(heat),
            notes=notes,
        )


@router.get("/compare/{indicator_id}", response_class=HTMLResponse)
def compare(
    request: Request, web: Web, asked: Annotated[CompareRequest, Depends(compare_request)]
) -> HTMLResponse:
    with web.results() as found:
        indicator, period = asked.resolve(found)
        frame = found.compare(asked.indicator_id, asked.area_type, period)
        charts = compare_charts(found, indicator, asked.area_type, period, frame)
        periods, period_ends = _periods_of(found, asked.indicator_id)
        return web.page(
            request,
            "compare.html",
            found,
            indicator=indicator,
            area_type=asked.area_type,
            period=period,
            rows=records(frame),
            charts=charts,
            periods=periods,
            period_ends=period_ends,
            compare_types=COMPARE_TYPES,
        )


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, web: Web, area: AnyArea) -> HTMLResponse:
    with web.results() as found:
        place = place_of(found, area)
        frame = found.alerts(*where(place))
        return _listing(request, web, found, "alerts.html", place, frame)


@router.get("/targets", response_class=HTMLResponse)
def targets_page(request: Request, web: Web, area: AnyArea) -> HTMLResponse:
    with web.results() as found:
        place = place_of(found, area)
        frame = found.targets(*where(place))
        trajectories: list[Markup] = []
        if place is not None:
            for target in records(frame.head(12)):
                gaps = found.measures(str(target["indicator_id"]), place.area_type, place.area_code)
                gaps = gaps.loc[
                    (gaps["breakdown"] == target["breakdown"]) & (gaps["measure"] == target["measure"])
                ]
                title = str(target["description"] or target["indicator_id"])
                trajectories.append(svg(chart.trajectory_chart(target, gaps.dropna(subset=["value"]), title)))
        return web.page(
            request,
            "targets.html",
            found,
            area=place.key if place else "",
            area_name=place.name if place else None,
            rows=records(frame.head(2000)),
            total=len(frame),
            trajectories=trajectories,
        )


@router.get("/business-case", response_class=HTMLResponse)
def business_page(request: Request, web: Web, area: OneArea) -> HTMLResponse:
    with web.results() as found:
        place = area.resolve(found)
        frame = found.business_case(place.area_type, place.area_code)
        return _listing(request, web, found, "business_case.html", place, frame)


@router.get("/quality", response_class=HTMLResponse)
def quality_page(request: Request, web: Web, area: OneArea) -> HTMLResponse:
    with web.results() as found:
        place = area.resolve(found)
        completeness = found.completeness(place.area_type, place.area_code)
        unseen = found.alerts(place.area_type, place.area_code, "cant_see_gap")
        providers = found.completeness("provider")
        if not providers.empty:
            latest = providers["period_start"].max()
            providers = providers.loc[
                (providers["period_start"] == latest) & providers["ethnicity_valid"].notna()
            ]
            providers = providers.sort_values(["ethnicity_valid", "records"], ascending=[True, False]).head(
                40
            )
            names = found.areas.loc[found.areas["area_type"] == "provider", ["area_code", "area_name"]]
            providers = providers.merge(names, on="area_code", how="left")
            providers["area_name"] = providers["area_name"].fillna(providers["area_code"])
        return web.page(
            request,
            "quality.html",
            found,
            area=place.key,
            area_name=place.name,
            rows=records(completeness),
            unseen=records(unseen),
            providers=records(providers),
            linkage=records(found.linkage()),
            notes=_input_note_rows(found.input_notes()),
        )


@router.get("/methods", response_class=HTMLResponse)
def methods_page(request: Request, web: Web) -> HTMLResponse:
    with web.results() as found:
        grouping = ETHNIC_GROUPING_NAMES.get(found.ethnic_grouping, found.ethnic_grouping)
        return web.page(request, "methods.html", found, ethnic_grouping=grouping)


# --- rows as the templates show them ------------------------------------------------------


def _listing(
    request: Request, web: WebContext, found: Results, template: str, place: Place | None, frame: pd.DataFrame
) -> HTMLResponse:
    """A page listing rows (alerts, the business case), each with its indicator's title."""
    titles = dict(zip(found.indicators["indicator_id"], found.indicators["title"], strict=True))
    rows = records(frame.head(2000))
    for row in rows:
        # People read an indicator's title, never its id.
        row["title"] = titles.get(row.get("indicator_id"), row.get("indicator_id"))
    return web.page(
        request,
        template,
        found,
        area=place.key if place else "",
        area_name=place.name if place else None,
        rows=rows,
        total=len(frame),
    )


def _input_note_rows(notes: pd.DataFrame) -> list[dict[str, Any]]:
    """The run's input notes for the quality page, what was found named in words."""
    rows = records(notes)
    for row in rows:
        row["found"] = say.INPUT_NOTE_KINDS.get(str(row["kind"]), str(row["kind"]))
    return rows


def _periods_of(found: Results, indicator_id: str) -> tuple[list[dt.date], dict[dt.date, dt.date]]:
    """An indicator's period starts (for URLs) and the end of each (for naming it)."""
    mine = found.periods.loc[found.periods["indicator_id"] == indicator_id]
    return mine["period_start"].tolist(), dict(zip(mine["period_start"], mine["period_end"], strict=True))


def _with_period_ends(rows: list[dict[str, Any]], found: Results) -> list[dict[str, Any]]:
    """Scorecard rows with their period's end, so the period can be named (Q4 2025/26)."""
    ends = {
        (str(key), value.isoformat()[:10]): end
        for key, value, end in found.periods[["indicator_id", "period_start", "period_end"]].itertuples(
            index=False
        )
    }
    for row in rows:
        row["period_end"] = ends.get((str(row.get("indicator_id")), str(row.get("period_start"))))
    return rows


def _measure_rows(rows: list[dict[str, Any]], indicator: dict[str, Any]) -> list[dict[str, Any]]:
    """Gap measures with their names and, for deprivation, which end fares worse in words."""
    for row in rows:
        row["in_words"] = ""
        if row.get("breakdown") in DEPRIVATION_BREAKDOWNS and row.get("measure") in ("gap_absolute", "sii"):
            row["in_words"] = say.gap_phrase(
                str(row["measure"]),
                row.get("value"),
                row.get("lower"),
                row.get("upper"),
                indicator.get("polarity"),
                str(indicator.get("unit") or ""),
            )
    return rows
