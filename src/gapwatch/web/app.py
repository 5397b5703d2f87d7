"""The dashboard: server-rendered pages and a JSON API over one results store.

Read-only by construction: each request opens the store read-only, reads one published
run through :mod:`gapwatch.views` and renders; nothing computes a statistic and nothing
can write. Charts are SVG rendered on the server, so pages carry no script at all and
the Content-Security-Policy forbids every script. The whole state of a page is in its
URL (area, breakdown, period), so a link can be shared.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.exceptions import HTTPException

from gapwatch import __version__, formats, refdata
from gapwatch import words as say
from gapwatch.errors import GapwatchError
from gapwatch.stats.spc import MIN_POINTS
from gapwatch.store import open_store
from gapwatch.views import (
    AREA_TYPE_NAMES,
    ETHNIC_GROUPING_NAMES,
    GUARDRAILS_NOT_RUN,
    HEAT_BREAKDOWN,
    PAGE_BREAKDOWNS,
    RULE_NAMES,
    TARGET_STATUS_NAMES,
    WITHIN_INTERVAL_NAMES,
    Results,
    breakdown_name,
)
from gapwatch.views import charts as chart
from gapwatch.views.cells import spreadsheet_safe
from gapwatch.web.auth import (
    SIGNED_IN,
    LoginSettings,
    current_reader,
    install_login,
    latest_visible,
    visible_runs,
)
from gapwatch.web.cache import PAGE_CACHE_BYTES, PageCache, PageCacheMiddleware
from gapwatch.web.security import HardenedApp, declared_query_only, scrub

HERE = Path(__file__).parent
ENGLAND = "england:E92000001"
AREA_PATTERN = r"^(england|region|icb|sub_icb|local_authority|provider):[A-Za-z0-9]{1,12}$"
ID_PATTERN = r"^[a-z0-9_]{1,64}$"
BREAKDOWN_PATTERN = r"^[a-z_]{1,40}(:[a-z_]{1,40})?$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
COMPARE_TYPES = ["icb", "region", "sub_icb", "local_authority", "provider"]
STORE_UNAVAILABLE = "the results cannot be read just now; please try again in a minute"
_log = logging.getLogger("gapwatch.web")


class NotFoundError(Exception):
    """A page or record the URL names does not exist in this run."""


class BadValueError(Exception):
    """A URL parameter has the right shape but no meaning (a date like 2026-13-45)."""


class _Metadata:
    """Per-run tables every page needs; a published run never changes, so they are kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, dict[str, Any]] = {}

    def fill(self, results: Results) -> Results:
        with self._lock:
            cached = self._runs.get(results.run_id)
            if cached is None:
                cached = {name: getattr(results, name) for name in ("run", "indicators", "areas", "periods")}
                self._runs[results.run_id] = cached
        results.__dict__.update(cached)
        return results


def _number(value: Any) -> str:
    """A value for a table: one decimal from 1 upwards, three significant figures below."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    number = float(value)
    if number == 0:
        return "0"
    return f"{number:,.1f}" if abs(number) >= 1 else f"{number:.3g}"


def _count(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    return f"{float(value):,.0f}"


def _limits(lower: Any, upper: Any) -> str:
    if any(value is None or (isinstance(value, float) and math.isnan(value)) for value in (lower, upper)):
        return ""
    return f"{_number(lower)} to {_number(upper)}"


def _words(value: Any) -> str:
    # Every code a person reads is named in one place (views.words), never shown raw.
    return say.code_words(value)


def _svg(spec: dict[str, Any]) -> Markup:
    # The SVG comes from vl-convert rendering our own spec (whose text fields are data
    # values): it is markup, not user input, but its label was escaped in charts.svg.
    return Markup(chart.svg(spec))


def _input_note_rows(notes: pd.DataFrame) -> list[dict[str, Any]]:
    """The run's input notes for the quality page, what was found named in words."""
    rows = _records(notes)
    for row in rows:
        row["found"] = say.INPUT_NOTE_KINDS.get(str(row["kind"]), str(row["kind"]))
    return rows


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
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


def create_app(
    location: str, page_cache_bytes: int = PAGE_CACHE_BYTES, login: LoginSettings | None = None
) -> FastAPI:
    """The dashboard for the results store at ``location`` (a DuckDB file or a PostgreSQL URL).

    Rendered pages are kept per run and URL, at most ``page_cache_bytes`` bytes of them.
    Private runs are served only to readers signed in through ``login`` (never without it).
    """
    app = HardenedApp(
        title="gapwatch API",
        version=__version__,
        description="Published, disclosure-controlled health-inequality results: the same data as the pages.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(declared_query_only)],
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    environment = templates.env
    environment.filters.update(
        number=formats.DASHBOARD.number,
        count=formats.DASHBOARD.count,
        limits=formats.DASHBOARD.limits,
        words=_words,
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
        login_enabled=login is not None,
        current_reader=current_reader,
    )
    metadata = _Metadata()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @contextmanager
    def results(run: str | None = None) -> Iterator[Results]:
        store = open_store(location, read_only=True)
        try:
            # The newest run this reader may see: private runs only to a signed-in reader.
            chosen = run or latest_visible(store.runs(), current_reader())
            if chosen is None and store.latest_run(include_private=True) is not None:
                raise NotFoundError("no results are published for everyone yet")
            yield metadata.fill(Results.latest(store, chosen))
        finally:
            store.close()

    def parse_area(found: Results, area: str) -> tuple[str, str, str]:
        area_type, area_code = area.split(":", 1)
        name = found.area_name(area_type, area_code)
        if name is None:
            raise NotFoundError(f"area {area} is not in this run")
        return area_type, area_code, name

    def page(request: Request, template: str, found: Results, **context: Any) -> HTMLResponse:
        areas = found.areas.loc[found.areas["area_code"] != "unknown"]
        # Providers can number thousands: a list that long helps nobody, so the menu holds
        # only the provider being shown (the compare page lists them all).
        current = str(context.get("area") or "")
        areas = areas.loc[
            (areas["area_type"] != "provider") | (areas["area_type"] + ":" + areas["area_code"] == current)
        ]
        grouped = {
            area_type: areas.loc[areas["area_type"] == area_type, ["area_code", "area_name"]].values.tolist()
            for area_type in AREA_TYPE_NAMES
            if (areas["area_type"] == area_type).any()
        }
        return templates.TemplateResponse(
            request,
            template,
            {
                "run": found.run,
                # Typed facts about the run (policy, private, control_national, warning).
                "results": found,
                "areas_by_type": grouped,
                "indicators": found.indicators,
                # A run published without its monitor says so wherever alerts would be.
                "guardrails_not_run": None if found.guardrails_run else GUARDRAILS_NOT_RUN,
                **context,
            },
        )

    def indicator_or_404(found: Results, indicator_id: str) -> dict[str, Any]:
        indicator = found.indicator(indicator_id)
        if indicator is None:
            raise NotFoundError(f"indicator {indicator_id} is not in this run")
        return indicator

    def period_or_latest(found: Results, indicator_id: str, period: str | None) -> dt.date:
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

    # --- pages ---------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/overview", status_code=307)

    @app.get("/overview", response_class=HTMLResponse, include_in_schema=False)
    def overview(
        request: Request, area: Annotated[str, Query(pattern=AREA_PATTERN)] = ENGLAND
    ) -> HTMLResponse:
        with results() as found:
            area_type, area_code, name = parse_area(found, area)
            card = found.scorecard(area_type, area_code)
            gaps = found.gap_series(area_type, area_code)
            sparks = {
                indicator_id: _svg(
                    chart.sparkline(part.dropna(subset=["value"]), f"Quintile 1-5 gap, {indicator_id}")
                )
                for indicator_id, part in gaps.groupby("indicator_id")
                if part["value"].notna().sum() >= 2
            }
            alerts = found.alerts(area_type, area_code)
            return page(
                request,
                "overview.html",
                found,
                area=area,
                area_name=name,
                area_type=area_type,
                card=_with_period_ends(_records(card), found),
                sparks=sparks,
                alerts=_records(alerts.head(50)),
                alert_total=len(alerts),
            )

    def indicator_context(
        found: Results, indicator_id: str, area: str, breakdown: str, period: str | None
    ) -> dict[str, Any]:
        indicator = indicator_or_404(found, indicator_id)
        area_type, area_code, name = parse_area(found, area)
        if breakdown not in [*PAGE_BREAKDOWNS, HEAT_BREAKDOWN, "overall", "ethnic_category"]:
            raise NotFoundError(f"breakdown {breakdown} is not shown on this page")
        chosen = period_or_latest(found, indicator_id, period)
        values = found.values(indicator_id, area_type, area_code, breakdown, chosen)
        return {
            "indicator": indicator,
            "area": area,
            "area_type": area_type,
            "area_code": area_code,
            "area_name": name,
            "breakdown": breakdown,
            "period": chosen,
            "values": values,
        }

    @app.get("/indicator/{indicator_id}", response_class=HTMLResponse, include_in_schema=False)
    def indicator_page(
        request: Request,
        indicator_id: Annotated[str, PathParam(pattern=ID_PATTERN)],
        area: Annotated[str, Query(pattern=AREA_PATTERN)] = ENGLAND,
        breakdown: Annotated[str, Query(pattern=BREAKDOWN_PATTERN)] = "imd_quintile",
        period: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
    ) -> HTMLResponse:
        with results() as found:
            indicator = indicator_or_404(found, indicator_id)
            notes = _records(found.input_notes(indicator_id, str(indicator["source"])))
            if period is None and not (found.periods["indicator_id"] == indicator_id).any():
                # No record in the reporting window: the page says so instead of a 404.
                _, _, name = parse_area(found, area)
                return page(request, "indicator_empty.html", found, indicator=indicator, area=area,
                            area_name=name, notes=notes)  # fmt: skip
            context = indicator_context(found, indicator_id, area, breakdown, period)
            indicator, values = context["indicator"], context["values"]
            area_type, area_code = context["area_type"], context["area_code"]
            unit = str(indicator["unit"] or "")
            measures = found.measures(indicator_id, area_type, area_code)
            overall = found.values(indicator_id, area_type, area_code, "overall")
            england = found.values(indicator_id, "england", "E92000001", "overall", context["period"])
            current = measures.loc[measures["period_start"] == context["period"]]
            sii_row = current.loc[(current["breakdown"] == breakdown) & (current["measure"] == "sii")]
            overall_now = overall.loc[overall["period_start"] == context["period"], "value"]
            charts_html: dict[str, Markup] = {}
            if not values.empty:
                sii = float(sii_row["value"].iloc[0]) if not sii_row.empty else None
                charts_html["groups"] = _svg(
                    chart.groups_chart(
                        values,
                        unit,
                        f"{indicator['title']}: {breakdown_name(breakdown)}",
                        sii if breakdown in ("imd_quintile", "imd_decile") else None,
                        float(overall_now.iloc[0]) if not overall_now.empty else None,
                    )
                )
            shown = overall.dropna(subset=["value"])
            if len(shown) >= 2:
                charts_html["trend"] = _svg(
                    chart.trend_chart(shown, unit, f"{indicator['title']}: overall value")
                )
            gap_series = measures.loc[
                (measures["breakdown"] == "imd_quintile") & measures["measure"].isin(["gap_absolute", "sii"])
            ].dropna(subset=["value"])
            if gap_series["period_start"].nunique() >= 2:
                charts_html["gap_trend"] = _svg(
                    chart.trend_chart(
                        gap_series.assign(
                            measure=gap_series["measure"].map(
                                {
                                    "gap_absolute": "Quintile 1 minus 5 (most minus least deprived)",
                                    "sii": "Slope index of inequality (least minus most deprived)",
                                }
                            )
                        ),
                        unit,
                        "The gap over time",
                        colour_by="measure",
                    )
                )
            spc = found.charts(indicator_id, area_type, area_code)
            for series, key, title in (
                ("value", "xmr_value", "XmR chart of the overall value"),
                ("gap_absolute", "xmr_gap", "XmR chart of the quintile 1-5 gap"),
            ):
                part = spc.loc[spc["series"] == series]
                if len(part) >= 2 and part["mean"].notna().any():
                    # Making Data Count: limits from fewer than 13 points are trial limits.
                    short = part["value"].count() < MIN_POINTS
                    trial = f" (trial limits: fewer than {MIN_POINTS} points)" if short else ""
                    charts_html[key] = _svg(chart.xmr_chart(part, title + trial))
            heat = found.values(indicator_id, area_type, area_code, HEAT_BREAKDOWN, context["period"])
            if not heat.empty:
                charts_html["heat"] = _svg(
                    chart.heat_chart(heat, unit, "Deprivation quintile × ethnic group")
                )
            periods, period_ends = _periods_of(found, indicator_id)
            return page(
                request,
                "indicator.html",
                found,
                **context,
                rows=_records(values),
                charts=charts_html,
                measures=_measure_rows(_records(current), indicator),
                england=_records(england),
                periods=periods,
                period_ends=period_ends,
                breakdowns=[*PAGE_BREAKDOWNS, HEAT_BREAKDOWN],
                spc=_records(spc),
                alerts=_records(found.alerts(area_type, area_code).query("indicator_id == @indicator_id")),
                trends=_records(found.trends(indicator_id, area_type, area_code)),
                heat_rows=_records(heat),
                notes=notes,
            )

    @app.get("/indicator/{indicator_id}/data.csv", include_in_schema=False)
    def indicator_csv(
        indicator_id: Annotated[str, PathParam(pattern=ID_PATTERN)],
        area: Annotated[str, Query(pattern=AREA_PATTERN)] = ENGLAND,
        breakdown: Annotated[str, Query(pattern=BREAKDOWN_PATTERN)] = "imd_quintile",
        period: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
    ) -> Response:
        with results() as found:
            context = indicator_context(found, indicator_id, area, breakdown, period)
        buffer = io.StringIO()
        table = spreadsheet_safe(context["values"].drop(columns=["run_id"], errors="ignore"))
        table.to_csv(buffer, index=False)
        filename = re.sub(
            r"[^A-Za-z0-9_.-]", "_", f"{indicator_id}_{area}_{breakdown}_{context['period']}.csv"
        )
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @app.get("/compare/{indicator_id}", response_class=HTMLResponse, include_in_schema=False)
    def compare(
        request: Request,
        indicator_id: Annotated[str, PathParam(pattern=ID_PATTERN)],
        area_type: Annotated[str, Query(pattern=r"^(icb|region|sub_icb|local_authority|provider)$")] = "icb",
        period: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
    ) -> HTMLResponse:
        with results() as found:
            indicator = indicator_or_404(found, indicator_id)
            chosen = period_or_latest(found, indicator_id, period)
            frame = found.compare(indicator_id, area_type, chosen)
            unit = str(indicator["unit"] or "")
            charts_html: dict[str, Markup] = {}
            funnel = found.funnel(indicator_id, area_type, chosen)
            if funnel is not None:
                charts_html["funnel"] = _svg(chart.funnel_chart(*funnel, unit, "Funnel plot of the value"))
            if frame["gap"].notna().any():
                charts_html["ranking"] = _svg(chart.ranking_chart(frame, unit, "Quintile 1-5 gap by area"))
                boundaries = {
                    "icb": (refdata.icb_boundaries, "icb22_code"),
                    "local_authority": (refdata.ltla_boundaries, "ltla24_code"),
                }.get(area_type)
                if boundaries is not None:
                    shapes = boundaries[0]()
                    code = _code_property(shapes, boundaries[1])
                    charts_html["map"] = _svg(chart.map_chart(shapes, frame, code, unit, "Map of the gap"))
            periods, period_ends = _periods_of(found, indicator_id)
            return page(
                request,
                "compare.html",
                found,
                indicator=indicator,
                area_type=area_type,
                period=chosen,
                rows=_records(frame),
                charts=charts_html,
                periods=periods,
                period_ends=period_ends,
                compare_types=COMPARE_TYPES,
            )

    def listing(request: Request, template: str, area: str | None, method: str, **extra: Any) -> HTMLResponse:
        with results() as found:
            area_type = area_code = name = None
            if area:
                area_type, area_code, name = parse_area(found, area)
            frame = getattr(found, method)(area_type, area_code)
            titles = dict(zip(found.indicators["indicator_id"], found.indicators["title"], strict=True))
            rows = _records(frame.head(2000))
            for row in rows:
                # People read an indicator's title, never its id.
                row["title"] = titles.get(row.get("indicator_id"), row.get("indicator_id"))
            return page(
                request,
                template,
                found,
                area=area or "",
                area_name=name,
                rows=rows,
                total=len(frame),
                **extra,
            )

    @app.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
    def alerts_page(
        request: Request, area: Annotated[str | None, Query(pattern=AREA_PATTERN)] = None
    ) -> HTMLResponse:
        return listing(request, "alerts.html", area, "alerts")

    @app.get("/targets", response_class=HTMLResponse, include_in_schema=False)
    def targets_page(
        request: Request, area: Annotated[str | None, Query(pattern=AREA_PATTERN)] = None
    ) -> HTMLResponse:
        with results() as found:
            area_type = area_code = name = None
            if area:
                area_type, area_code, name = parse_area(found, area)
            frame = found.targets(area_type, area_code)
            trajectories: list[Markup] = []
            if area_type is not None and area_code is not None:
                for target in _records(frame.head(12)):
                    gaps = found.measures(str(target["indicator_id"]), area_type, area_code)
                    gaps = gaps.loc[
                        (gaps["breakdown"] == target["breakdown"]) & (gaps["measure"] == target["measure"])
                    ]
                    title = str(target["description"] or target["indicator_id"])
                    trajectories.append(
                        _svg(chart.trajectory_chart(target, gaps.dropna(subset=["value"]), title))
                    )
            return page(
                request,
                "targets.html",
                found,
                area=area or "",
                area_name=name,
                rows=_records(frame.head(2000)),
                total=len(frame),
                trajectories=trajectories,
            )

    @app.get("/business-case", response_class=HTMLResponse, include_in_schema=False)
    def business_page(
        request: Request, area: Annotated[str, Query(pattern=AREA_PATTERN)] = ENGLAND
    ) -> HTMLResponse:
        return listing(request, "business_case.html", area, "business_case")

    @app.get("/quality", response_class=HTMLResponse, include_in_schema=False)
    def quality_page(
        request: Request, area: Annotated[str, Query(pattern=AREA_PATTERN)] = ENGLAND
    ) -> HTMLResponse:
        with results() as found:
            area_type, area_code, name = parse_area(found, area)
            completeness = found.completeness(area_type, area_code)
            unseen = found.alerts(area_type, area_code, "cant_see_gap")
            providers = found.completeness("provider")
            if not providers.empty:
                latest = providers["period_start"].max()
                providers = providers.loc[
                    (providers["period_start"] == latest) & providers["ethnicity_valid"].notna()
                ]
                providers = providers.sort_values(
                    ["ethnicity_valid", "records"], ascending=[True, False]
                ).head(40)
                names = found.areas.loc[found.areas["area_type"] == "provider", ["area_code", "area_name"]]
                providers = providers.merge(names, on="area_code", how="left")
                providers["area_name"] = providers["area_name"].fillna(providers["area_code"])
            return page(
                request,
                "quality.html",
                found,
                area=area,
                area_name=name,
                rows=_records(completeness),
                unseen=_records(unseen),
                providers=_records(providers),
                linkage=_records(found.linkage()),
                notes=_input_note_rows(found.input_notes()),
            )

    @app.get("/methods", response_class=HTMLResponse, include_in_schema=False)
    def methods_page(request: Request) -> HTMLResponse:
        with results() as found:
            grouping = ETHNIC_GROUPING_NAMES.get(found.ethnic_grouping, found.ethnic_grouping)
            return page(request, "methods.html", found, ethnic_grouping=grouping)

    # --- JSON API ------------------------------------------------------------------------

    @app.get("/api/runs", tags=["runs"], summary="Published runs, newest first")
    def api_runs() -> list[dict[str, Any]]:
        store = open_store(location, read_only=True)
        try:
            runs = visible_runs(store.runs(), current_reader()).drop(columns=["config"], errors="ignore")
        finally:
            store.close()
        return _records(runs)

    @app.get("/api/indicators", tags=["catalogue"], summary="The run's indicators")
    def api_indicators() -> list[dict[str, Any]]:
        with results() as found:
            return _records(found.indicators.drop(columns=["run_id"]))

    @app.get("/api/areas", tags=["catalogue"], summary="The run's areas")
    def api_areas() -> list[dict[str, Any]]:
        with results() as found:
            return _records(found.areas.drop(columns=["run_id"]))

    @app.get("/api/overview", tags=["pages"], summary="The equity scorecard of one area")
    def api_overview(area: Annotated[str, Query(pattern=AREA_PATTERN)] = ENGLAND) -> list[dict[str, Any]]:
        with results() as found:
            area_type, area_code, _ = parse_area(found, area)
            return _records(found.scorecard(area_type, area_code))

    @app.get(
        "/api/values", tags=["pages"], summary="An indicator's values by group (the indicator page's table)"
    )
    def api_values(
        indicator: Annotated[str, Query(pattern=ID_PATTERN)],
        area: Annotated[str, Query(pattern=AREA_PATTERN)] = ENGLAND,
        breakdown: Annotated[str, Query(pattern=BREAKDOWN_PATTERN)] = "imd_quintile",
        period: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
    ) -> list[dict[str, Any]]:
        with results() as found:
            context = indicator_context(found, indicator, area, breakdown, period)
            return _records(context["values"].drop(columns=["run_id"]))

    @app.get("/api/alerts", tags=["monitor"], summary="Guardrail alerts")
    def api_alerts(area: Annotated[str | None, Query(pattern=AREA_PATTERN)] = None) -> list[dict[str, Any]]:
        return api_listing(area, "alerts")

    @app.get("/api/targets", tags=["monitor"], summary="Gap-reduction targets and where each area stands")
    def api_targets(area: Annotated[str | None, Query(pattern=AREA_PATTERN)] = None) -> list[dict[str, Any]]:
        return api_listing(area, "targets")

    @app.get("/api/business-case", tags=["monitor"], summary="Excess events and their cost")
    def api_business(area: Annotated[str | None, Query(pattern=AREA_PATTERN)] = None) -> list[dict[str, Any]]:
        return api_listing(area, "business_case")

    @app.get("/api/completeness", tags=["quality"], summary="Completeness of the fields gaps depend on")
    def api_completeness(
        area: Annotated[str | None, Query(pattern=AREA_PATTERN)] = None,
    ) -> list[dict[str, Any]]:
        return api_listing(area, "completeness")

    @app.get(
        "/api/input-notes", tags=["quality"], summary="What the run found in its inputs (future dates, ...)"
    )
    def api_input_notes(
        indicator: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    ) -> list[dict[str, Any]]:
        with results() as found:
            if indicator is None:
                return _records(found.input_notes().drop(columns=["run_id"]))
            chosen = indicator_or_404(found, indicator)
            return _records(found.input_notes(indicator, str(chosen["source"])).drop(columns=["run_id"]))

    def api_listing(area: str | None, method: str) -> list[dict[str, Any]]:
        with results() as found:
            area_type = area_code = None
            if area:
                area_type, area_code, _ = parse_area(found, area)
            return _records(getattr(found, method)(area_type, area_code).drop(columns=["run_id"]))

    # --- page cache ----------------------------------------------------------------------

    latest: dict[str, Any] = {"signed_in": None, "public": None, "checked": -1e9}

    def current_run() -> str | None:
        # A new run may be published at any moment; looking once every two seconds keeps
        # the page cache from outliving it for longer than that. The run is the one this
        # reader is shown, so a private run's pages are kept under its own id only.
        now = time.monotonic()
        if now - latest["checked"] > 2.0:
            store = open_store(location, read_only=True)
            try:
                runs = store.runs()
            finally:
                store.close()
            # Worked out once per look, not once per request: the newest run for anyone
            # signed in and the newest public one.
            latest.update(signed_in=latest_visible(runs, SIGNED_IN), public=latest_visible(runs, None))
            latest["checked"] = now
        reader = current_reader()
        if reader is None:
            return latest["public"]
        # A signed-in reader's pages name them in the header: kept for them alone.
        run = latest["signed_in"] if reader.private else latest["public"]
        return None if run is None else f"{run} for {reader.subject} {sorted(reader.areas or ())}"

    # A published run never changes, so a page is the same for everyone until the next
    # run: pages are kept by run and URL (what the bench/web.py goal needs on 2 cores).
    app.add_middleware(PageCacheMiddleware, cache=PageCache(page_cache_bytes), current_run=current_run)
    if login is not None:
        install_login(app, login)

    # --- safety: errors (the security headers are added in web/security.py) --------------

    def error(request: Request, status: int, message: str) -> Response:
        message = scrub(message)
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": message}, status_code=status)
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status
        )

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, problem: NotFoundError) -> Response:
        return error(request, 404, str(problem))

    @app.exception_handler(BadValueError)
    async def bad_value(request: Request, problem: BadValueError) -> Response:
        return error(request, 422, str(problem))

    @app.exception_handler(GapwatchError)
    async def gapwatch_error(request: Request, problem: GapwatchError) -> Response:
        # The reason (a store path, a lock held by a named process) is for the server log;
        # the page says only that the results cannot be read now.
        _log.warning("results store unavailable: %s", problem.message)
        return error(request, 503, STORE_UNAVAILABLE)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, problem: RequestValidationError) -> Response:
        fields = ", ".join(str(item["loc"][-1]) for item in problem.errors()) or "request"
        return error(request, 422, f"not a valid value for: {fields}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, problem: HTTPException) -> Response:
        return error(
            request,
            problem.status_code,
            "page not found" if problem.status_code == 404 else str(problem.detail),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, problem: Exception) -> Response:
        # Internals (paths, SQL, tracebacks) stay in the server log, never in the page.
        return error(request, 500, "something went wrong on our side; the error has been logged")

    return app


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


#: Breakdowns whose first group is the most deprived: their gaps get a phrase in words.
DEPRIVATION_BREAKDOWNS = ("imd_quintile", "imd_decile", "core20")


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


def _code_property(shapes: dict[str, Any], preferred: str) -> str:
    properties = shapes["features"][0]["properties"] if shapes.get("features") else {}
    if preferred in properties:
        return preferred
    for name in properties:
        if name.upper().endswith("CD"):
            return str(name)
    return preferred
