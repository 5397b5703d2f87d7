"""Vega-Lite chart specifications for the dashboard and the reports, rendered to SVG offline.

Charts are rendered on the server by vl-convert (Vega-Lite compiled in-process, no
browser, no network), so a page needs no script at all and a report is one file. Every
chart has a title and a text description (its ``aria-label``); pages and reports put the
numbers in a table under it. Colours are the Okabe-Ito palette, safe for the common forms
of colour blindness (Okabe M, Ito K (2008) *Color Universal Design*), with NHS blue first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from gapwatch.words import TARGET_STATUS_NAMES, code_words

NHS_BLUE = "#005EB8"
PALETTE = [NHS_BLUE, "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
SUPPRESSED = "#BBBBBB"
VARIATION_COLOURS = {
    "common_cause": "#7F7F7F",
    "special_cause_improving": NHS_BLUE,
    "special_cause_concerning": "#E69F00",
    "special_cause_high": "#7F7F7F",
    "special_cause_low": "#7F7F7F",
}
_CONFIG = {
    "font": "Arial, Helvetica, sans-serif",
    "view": {"stroke": None},
    "axis": {"labelFontSize": 12, "titleFontSize": 12},
    "title": {"fontSize": 14, "anchor": "start"},
}


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """JSON-safe rows: dates as ISO text, NaN as null."""
    part = frame[list(columns)].copy()
    for column in part.columns:
        if part[column].dtype == object:
            part[column] = part[column].map(
                lambda value: value.isoformat() if hasattr(value, "isoformat") else value
            )
    return json.loads(part.to_json(orient="records", date_format="iso"))


def _spec(
    title: str, description: str, layers: dict[str, Any], width: int = 560, height: int = 260
) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "description": description,
        "width": width,
        "height": height,
        "config": _CONFIG,
        **layers,
    }


def groups_chart(
    values: pd.DataFrame, unit: str, title: str, sii: float | None = None, overall: float | None = None
) -> dict[str, Any]:
    """Each group's value with its confidence limits; for deprivation, the SII line.

    The SII line is the weighted regression line of value on relative rank (Low & Low
    2004): it passes through the overall value at the mean rank (0.5) with slope SII, so
    at each quantile's rank midpoint it is ``overall + SII × (rank - 0.5)``.
    """
    frame = values.loc[values["group"] != "unknown"].copy()
    frame["label"] = frame["group"].astype(str)
    data = _records(frame, ["label", "value", "lower", "upper", "suppressed"])
    order = frame["label"].tolist()
    x = {"field": "label", "type": "nominal", "sort": order, "title": None, "axis": {"labelAngle": 0}}
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "rule", "color": NHS_BLUE},
            "encoding": {
                "x": x,
                "y": {"field": "lower", "type": "quantitative", "title": unit},
                "y2": {"field": "upper"},
            },
        },
        {
            "mark": {"type": "point", "filled": True, "size": 80, "color": NHS_BLUE},
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"}},
        },
    ]
    description = f"{title}: " + "; ".join(
        f"{row['label']} {_fmt(row['value'])}" if not row["suppressed"] else f"{row['label']} suppressed"
        for row in data
    )
    if sii is not None and overall is not None and not np.isnan(sii) and "denominator" in frame:
        shares = frame["denominator"].to_numpy(dtype="float64")
        if np.isfinite(shares).all() and shares.sum() > 0:
            shares = shares / shares.sum()
            rank = np.cumsum(shares) - shares / 2
            line = pd.DataFrame({"label": order, "fitted": overall + sii * (rank - 0.5)})
            layers.append(
                {
                    "data": {"values": _records(line, ["label", "fitted"])},
                    "mark": {"type": "line", "color": PALETTE[1], "strokeDash": [6, 3]},
                    "encoding": {"x": x, "y": {"field": "fitted", "type": "quantitative"}},
                }
            )
            description += f". Dashed line: slope index of inequality {_fmt(sii)}."
    return _spec(title, description, {"data": {"values": data}, "layer": layers}, height=240)


def trend_chart(frame: pd.DataFrame, unit: str, title: str, colour_by: str | None = None) -> dict[str, Any]:
    """A value over periods with its confidence band (one line per ``colour_by`` value)."""
    columns = ["period_start", "value", "lower", "upper"] + ([colour_by] if colour_by else [])
    data = _records(frame, columns)
    colour = (
        {"color": {"field": colour_by, "type": "nominal", "scale": {"range": PALETTE}, "title": None}}
        if colour_by
        else {}
    )
    x = {"field": "period_start", "type": "temporal", "title": "Period starting"}
    layers = [
        {
            "mark": {"type": "area", "opacity": 0.2},
            "encoding": {
                "x": x,
                "y": {"field": "lower", "type": "quantitative", "title": unit},
                "y2": {"field": "upper"},
                **colour,
            },
        },
        {
            "mark": {"type": "line", "point": True},
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"}, **colour},
        },
    ]
    if not colour_by:
        for layer in layers:
            layer["mark"]["color"] = NHS_BLUE
    description = f"{title}: " + "; ".join(f"{row['period_start']} {_fmt(row['value'])}" for row in data[:40])
    return _spec(title, description, {"data": {"values": data}, "layer": layers}, height=220)


def xmr_chart(points: pd.DataFrame, title: str) -> dict[str, Any]:
    """A Making Data Count XmR chart: the values, the mean and the process limits."""
    frame = points.copy()
    # Plain names in the legend, never the codes (issue 17).
    frame["variation"] = frame["variation"].fillna("common_cause").map(code_words)
    data = _records(frame, ["period_start", "value", "mean", "lower", "upper", "variation", "rules"])
    x = {"field": "period_start", "type": "temporal", "title": "Period starting"}
    colours = {
        "domain": [code_words(code) for code in VARIATION_COLOURS],
        "range": list(VARIATION_COLOURS.values()),
    }
    layers = [
        {
            "mark": {"type": "line", "color": "#4C6272", "strokeDash": [4, 4]},
            "encoding": {"x": x, "y": {"field": "upper", "type": "quantitative"}},
        },
        {
            "mark": {"type": "line", "color": "#4C6272", "strokeDash": [4, 4]},
            "encoding": {"x": x, "y": {"field": "lower", "type": "quantitative"}},
        },
        {
            "mark": {"type": "line", "color": "#231F20"},
            "encoding": {"x": x, "y": {"field": "mean", "type": "quantitative"}},
        },
        {
            "mark": {"type": "line", "color": "#7F7F7F"},
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative", "title": None}},
        },
        {
            "mark": {"type": "point", "filled": True, "size": 70},
            "encoding": {
                "x": x,
                "y": {"field": "value", "type": "quantitative"},
                "color": {"field": "variation", "type": "nominal", "scale": colours, "title": "Variation"},
                "shape": {"field": "variation", "type": "nominal", "title": "Variation"},
            },
        },
    ]
    special = frame.loc[frame["special_cause"].astype(bool)]
    description = (
        f"{title}: mean {_fmt(frame['mean'].iloc[-1])}, process limits {_fmt(frame['lower'].iloc[-1])} to "
        f"{_fmt(frame['upper'].iloc[-1])}; {len(special)} of {len(frame)} points show special-cause "
        "variation."
    )
    return _spec(title, description, {"data": {"values": data}, "layer": layers}, height=220)


def heat_chart(values: pd.DataFrame, unit: str, title: str) -> dict[str, Any]:
    """Quintile × ethnic group: the value in each cell; suppressed cells are grey and say so."""
    frame = values.copy()
    parts = frame["group"].astype(str).str.split(":", n=1, expand=True)
    frame["row"], frame["column"] = parts[0], parts[1]
    frame["text"] = np.where(
        frame["suppressed"].astype(bool),
        "suppressed",
        frame["value"].map(lambda value: "" if pd.isna(value) else _fmt(value)),
    )
    data = _records(frame, ["row", "column", "value", "text", "suppressed"])
    encoding = {
        "x": {"field": "column", "type": "nominal", "title": None, "axis": {"labelAngle": 0}},
        "y": {"field": "row", "type": "nominal", "title": "IMD quintile"},
    }
    layers = [
        {"mark": {"type": "rect", "color": SUPPRESSED}, "encoding": encoding},
        {
            "transform": [{"filter": "datum.value != null"}],
            "mark": "rect",
            "encoding": {
                **encoding,
                "color": {
                    "field": "value",
                    "type": "quantitative",
                    "title": unit,
                    "scale": {"scheme": "blues"},
                },
            },
        },
        {"mark": {"type": "text", "fontSize": 11}, "encoding": {**encoding, "text": {"field": "text"}}},
    ]
    hidden = int(frame["suppressed"].astype(bool).sum())
    description = f"{title}: {len(frame)} cells, {hidden} suppressed to protect confidentiality."
    return _spec(title, description, {"data": {"values": data}, "layer": layers}, width=520, height=200)


def ranking_chart(frame: pd.DataFrame, unit: str, title: str) -> dict[str, Any]:
    """Every area's quintile 1-5 gap with its limits, largest gap first."""
    data = _records(frame.dropna(subset=["gap"]), ["area_name", "gap", "gap_lower", "gap_upper"])
    y = {"field": "area_name", "type": "nominal", "sort": None, "title": None}
    layers = [
        {
            "mark": {"type": "rule", "color": NHS_BLUE},
            "encoding": {
                "y": y,
                "x": {"field": "gap_lower", "type": "quantitative", "title": f"Quintile 1 minus 5 ({unit})"},
                "x2": {"field": "gap_upper"},
            },
        },
        {
            "mark": {"type": "point", "filled": True, "color": NHS_BLUE},
            "encoding": {"y": y, "x": {"field": "gap", "type": "quantitative"}},
        },
        {
            "data": {"values": [{"zero": 0}]},
            "mark": {"type": "rule", "color": "#231F20"},
            "encoding": {"x": {"field": "zero", "type": "quantitative"}},
        },
    ]
    description = f"{title}: " + "; ".join(f"{row['area_name']} {_fmt(row['gap'])}" for row in data[:20])
    return _spec(
        title, description, {"data": {"values": data}, "layer": layers}, height=max(120, 14 * len(data))
    )


def funnel_chart(areas: pd.DataFrame, limits: pd.DataFrame, unit: str, title: str) -> dict[str, Any]:
    """Each area's value against its denominator, inside 95% and 99.8% funnel limits around England."""
    points = _records(areas, ["area_name", "denominator", "value"])
    lines = _records(limits, ["denominator", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "target"])
    x = {
        "field": "denominator",
        "type": "quantitative",
        "scale": {"type": "log"},
        "title": "Denominator (log scale)",
    }
    layers: list[dict[str, Any]] = [
        {
            "data": {"values": lines},
            "mark": {"type": "line", "color": "#231F20"},
            "encoding": {"x": x, "y": {"field": "target", "type": "quantitative", "title": unit}},
        },
    ]
    for column, dash in (
        ("lower_95", [4, 3]),
        ("upper_95", [4, 3]),
        ("lower_99_8", [1, 2]),
        ("upper_99_8", [1, 2]),
    ):
        layers.append(
            {
                "data": {"values": lines},
                "mark": {"type": "line", "color": "#4C6272", "strokeDash": dash},
                "encoding": {"x": x, "y": {"field": column, "type": "quantitative"}},
            }
        )
    layers.append(
        {
            "data": {"values": points},
            "mark": {"type": "point", "filled": True, "color": NHS_BLUE, "size": 60},
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"}},
        }
    )
    low, high = _limits_at(areas, limits)
    values = areas["value"].to_numpy(dtype="float64")
    outside = int(((values < low) | (values > high)).sum())
    description = (
        f"{title}: {len(points)} areas plotted against their denominators around England's value "
        f"{_fmt(limits['target'].iloc[0])}; {outside} lie outside the 99.8% limits."
    )
    return _spec(title, description, {"layer": layers}, height=300)


def _limits_at(areas: pd.DataFrame, limits: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    size = areas["denominator"].to_numpy(dtype="float64")
    grid = limits["denominator"].to_numpy(dtype="float64")
    lower = np.interp(size, grid, limits["lower_99_8"].to_numpy(dtype="float64"))
    upper = np.interp(size, grid, limits["upper_99_8"].to_numpy(dtype="float64"))
    return lower, upper


def trajectory_chart(target: dict[str, Any], gaps: pd.DataFrame, title: str) -> dict[str, Any]:
    """A gap-reduction target: the gap so far, and the straight line from its baseline to the target."""
    line = pd.DataFrame(
        {
            "period_start": [target["baseline_start"], target["target_date"]],
            "value": [target["baseline"], target["target_value"]],
        }
    )
    x = {"field": "period_start", "type": "temporal", "title": None}
    layers = [
        {
            "data": {"values": _records(line, ["period_start", "value"])},
            "mark": {"type": "line", "color": PALETTE[1], "strokeDash": [6, 3]},
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative", "title": "Gap"}},
        },
        {
            "data": {"values": _records(gaps, ["period_start", "value", "lower", "upper"])},
            "mark": {"type": "rule", "color": NHS_BLUE},
            "encoding": {"x": x, "y": {"field": "lower", "type": "quantitative"}, "y2": {"field": "upper"}},
        },
        {
            "data": {"values": _records(gaps, ["period_start", "value"])},
            "mark": {"type": "line", "color": NHS_BLUE, "point": True},
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"}},
        },
        {
            "data": {"values": [{"zero": 0}]},
            "mark": {"type": "rule", "color": "#231F20"},
            "encoding": {"y": {"field": "zero", "type": "quantitative"}},
        },
    ]
    status = TARGET_STATUS_NAMES.get(str(target["status"]), str(target["status"]).replace("_", " ")).lower()
    description = (
        f"{title}: the gap was {_fmt(target['baseline'])} at the baseline and {_fmt(target['latest'])} most "
        f"recently; the target is {_fmt(target['target_value'])} by {target['target_date']} "
        f"(dashed line: the straight-line trajectory). Status: {status}."
    )
    return _spec(title, description, {"layer": layers}, width=420, height=180)


def map_chart(
    boundaries: dict[str, Any], frame: pd.DataFrame, code_property: str, unit: str, title: str
) -> dict[str, Any]:
    """Choropleth of each area's gap; areas without a published gap are grey."""
    data = _records(frame.dropna(subset=["gap"]), ["area_code", "area_name", "gap"])
    spec = {
        "data": {"values": boundaries, "format": {"type": "json", "property": "features"}},
        "projection": {"type": "mercator"},
        "layer": [
            {"mark": {"type": "geoshape", "fill": SUPPRESSED, "stroke": "white", "strokeWidth": 0.5}},
            {
                "transform": [
                    {
                        "lookup": f"properties.{code_property}",
                        "from": {
                            "data": {"values": data},
                            "key": "area_code",
                            "fields": ["gap", "area_name"],
                        },
                    },
                    {"filter": "datum.gap != null"},
                ],
                "mark": {"type": "geoshape", "stroke": "white", "strokeWidth": 0.5},
                "encoding": {
                    "color": {
                        "field": "gap",
                        "type": "quantitative",
                        "title": unit,
                        "scale": {"scheme": "blueorange", "domainMid": 0},
                    }
                },
            },
        ],
    }
    description = (
        f"{title}: map of {len(data)} areas shaded by the quintile 1 minus 5 gap; the table lists them."
    )
    return _spec(title, description, spec, width=420, height=480)


def sparkline(frame: pd.DataFrame, title: str) -> dict[str, Any]:
    """A tiny line of a series (the gap over periods) for a scorecard row."""
    data = _records(frame, ["period_start", "value"])
    spec = {
        "data": {"values": data},
        "mark": {"type": "line", "color": NHS_BLUE, "point": {"size": 12}},
        "encoding": {
            "x": {"field": "period_start", "type": "temporal", "axis": None},
            "y": {"field": "value", "type": "quantitative", "axis": None, "scale": {"zero": False}},
        },
    }
    description = f"{title}: " + ", ".join(_fmt(row["value"]) for row in data)
    result = _spec(title, description, spec, width=110, height=28)
    result.pop("title")
    result["config"] = {**_CONFIG, "view": {"stroke": None}, "padding": 2}
    return result


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "not available"
    return f"{float(value):.3g}"


@lru_cache(maxsize=4096)
def _render(spec_json: str) -> str:
    import vl_convert

    svg: str = vl_convert.vegalite_to_svg(spec_json, vl_version="5.20")
    return svg


def svg(spec: dict[str, Any]) -> str:
    """The chart as an SVG element with ``role="img"`` and its description as ``aria-label``.

    Results are immutable once published, so rendered charts are cached by their spec.
    """
    rendered = _render(json.dumps(spec, sort_keys=True, default=str))
    label = str(spec.get("description", spec.get("title", "chart"))).replace('"', "'")
    label = label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"<svg\b", f'<svg role="img" aria-label="{label}" focusable="false"', rendered, count=1)
