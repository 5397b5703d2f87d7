"""The charts of the indicator and compare pages, from rows read through :mod:`gapwatch.views`.

Each chart is a Vega-Lite spec from :mod:`gapwatch.views.charts` rendered to SVG
(:func:`gapwatch.web.render.svg`); a chart is left out when it would have too few
points to say anything. Nothing here computes a statistic: the SII line, the XmR limits
and the funnel limits all come from the run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from markupsafe import Markup

from gapwatch import refdata
from gapwatch.stats.spc import MIN_POINTS
from gapwatch.views import Results, breakdown_name
from gapwatch.views import charts as chart
from gapwatch.web.render import svg

#: What the gap-over-time chart calls each measure.
GAP_MEASURE_NAMES = {
    "gap_absolute": "Quintile 1 minus 5 (most minus least deprived)",
    "sii": "Slope index of inequality (least minus most deprived)",
}
#: Maps of the gap, by area type: the boundaries and the property holding the area code.
MAP_BOUNDARIES = {
    "icb": (refdata.icb_boundaries, "icb22_code"),
    "local_authority": (refdata.ltla_boundaries, "ltla24_code"),
}


def indicator_charts(
    indicator: dict[str, Any],
    breakdown: str,
    period: dt.date,
    values: pd.DataFrame,
    measures: pd.DataFrame,
    overall: pd.DataFrame,
    spc: pd.DataFrame,
    heat: pd.DataFrame,
) -> dict[str, Markup]:
    """An indicator page's charts: groups, overall trend, gap trend, XmR charts, heat map."""
    unit = str(indicator["unit"] or "")
    current = measures.loc[measures["period_start"] == period]
    sii_row = current.loc[(current["breakdown"] == breakdown) & (current["measure"] == "sii")]
    overall_now = overall.loc[overall["period_start"] == period, "value"]
    charts: dict[str, Markup] = {}
    if not values.empty:
        sii = float(sii_row["value"].iloc[0]) if not sii_row.empty else None
        charts["groups"] = svg(
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
        charts["trend"] = svg(chart.trend_chart(shown, unit, f"{indicator['title']}: overall value"))
    gap_series = measures.loc[
        (measures["breakdown"] == "imd_quintile") & measures["measure"].isin(["gap_absolute", "sii"])
    ].dropna(subset=["value"])
    if gap_series["period_start"].nunique() >= 2:
        named = gap_series.assign(measure=gap_series["measure"].map(GAP_MEASURE_NAMES))
        charts["gap_trend"] = svg(chart.trend_chart(named, unit, "The gap over time", colour_by="measure"))
    for series, key, title in (
        ("value", "xmr_value", "XmR chart of the overall value"),
        ("gap_absolute", "xmr_gap", "XmR chart of the quintile 1-5 gap"),
    ):
        part = spc.loc[spc["series"] == series]
        if len(part) >= 2 and part["mean"].notna().any():
            # Making Data Count: limits from fewer than 13 points are trial limits.
            short = part["value"].count() < MIN_POINTS
            trial = f" (trial limits: fewer than {MIN_POINTS} points)" if short else ""
            charts[key] = svg(chart.xmr_chart(part, title + trial))
    if not heat.empty:
        charts["heat"] = svg(chart.heat_chart(heat, unit, "Deprivation quintile × ethnic group"))
    return charts


def compare_charts(
    found: Results, indicator: dict[str, Any], area_type: str, period: dt.date, frame: pd.DataFrame
) -> dict[str, Markup]:
    """The compare page's charts: the funnel plot, the ranking of gaps and a map of them."""
    unit = str(indicator["unit"] or "")
    charts: dict[str, Markup] = {}
    funnel = found.funnel(str(indicator["indicator_id"]), area_type, period)
    if funnel is not None:
        charts["funnel"] = svg(
            chart.funnel_chart(funnel.areas, funnel.limits, unit, "Funnel plot of the value")
        )
    if frame["gap"].notna().any():
        charts["ranking"] = svg(chart.ranking_chart(frame, unit, "Quintile 1-5 gap by area"))
        boundaries = MAP_BOUNDARIES.get(area_type)
        if boundaries is not None:
            shapes = boundaries[0]()
            code = _code_property(shapes, boundaries[1])
            charts["map"] = svg(chart.map_chart(shapes, frame, code, unit, "Map of the gap"))
    return charts


def _code_property(shapes: dict[str, Any], preferred: str) -> str:
    # Boundary files name their code property differently from year to year (ICB22CD).
    properties = shapes["features"][0]["properties"] if shapes.get("features") else {}
    if preferred in properties:
        return preferred
    for name in properties:
        if name.upper().endswith("CD"):
            return str(name)
    return preferred
