"""XmR charts (NHS "Making Data Count") for each indicator's value and its gaps.

The chart of an indicator's overall value uses the indicator's polarity to name special
causes improving or concerning, and its target for the assurance icon. The chart of a
gap calls a move towards no difference (zero) improving, whichever group is ahead.

The rules and categories are those of :func:`gapwatch.stats.spc.xmr`. A series with
fewer than 13 published points has trial limits: its ``assurance`` is empty, and the
pages give it no variation icon either (they show why, from
:func:`gapwatch.stats.spc.icon_note`); each point's ``variation`` is still its category
against those trial limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gapwatch.monitor.trends import SERIES_KEYS
from gapwatch.stats.spc import xmr

CHART_COLUMNS = [*SERIES_KEYS, "period_start", "value", "mean", "lower", "upper", "special_cause", "rules",
                 "variation", "assurance"]  # fmt: skip
_RULES = ("outside_limits", "shift", "trend", "two_of_three")


def charts(points: pd.DataFrame, indicators: pd.DataFrame, gaps: Mapping[Any, Sequence[str]]) -> pd.DataFrame:
    """One row per point of every value series and every gap series named in ``gaps``.

    ``points`` is the long table of :func:`gapwatch.monitor.trends.series`; gap series on
    the log scale are charted as log ratios.

    >>> points = pd.DataFrame({"indicator_id": "x", "area_type": "icb", "area_code": "E1",
    ...     "breakdown": "overall", "series": "value", "scale": "linear",
    ...     "period_start": pd.to_datetime(["2024-04-01", "2024-07-01", "2024-10-01"]),
    ...     "value": [10.0, 12.0, 11.0]})
    >>> indicators = pd.DataFrame({"indicator_id": ["x"], "polarity": ["higher_is_better"], "target": [5.0]})
    >>> first = charts(points, indicators, {}).iloc[0]
    >>> float(first["mean"]), first["variation"], first["assurance"]
    (11.0, 'common_cause', None)

    Three points give trial limits, so no assurance (13 would judge the target of 5).
    """
    wanted = pd.DataFrame(
        [("overall", "value")]
        + [(breakdown, measure) for breakdown, measures in gaps.items() for measure in measures],
        columns=["breakdown", "series"],
    )
    chosen = points.merge(wanted, on=["breakdown", "series"])
    if chosen.empty:
        return pd.DataFrame(columns=CHART_COLUMNS)
    polarity = dict(zip(indicators["indicator_id"], indicators["polarity"], strict=True))
    target = dict(zip(indicators["indicator_id"], indicators["target"], strict=True))
    chosen = chosen.sort_values([*SERIES_KEYS, "period_start"], kind="stable").reset_index(drop=True)
    # Plain arrays and one slice per series: per-series pandas operations cost minutes on
    # a national run with tens of thousands of series.
    values = chosen["value"].to_numpy(dtype="float64").copy()
    log = (chosen["scale"] == "log").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        values[log] = np.log(values[log])
    keys = chosen[SERIES_KEYS].to_numpy(dtype=object)
    codes = chosen.groupby(SERIES_KEYS, sort=False).ngroup().to_numpy()
    bounds = np.flatnonzero(np.diff(codes)) + 1
    starts, stops = np.concatenate([[0], bounds]), np.concatenate([bounds, [len(chosen)]])
    size = len(chosen)
    mean, lower, upper = np.full(size, np.nan), np.full(size, np.nan), np.full(size, np.nan)
    special = np.zeros(size, dtype=bool)
    rules = np.empty(size, dtype=object)
    variation = np.empty(size, dtype=object)
    assurance = np.empty(size, dtype=object)
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        indicator, series_name = str(keys[start, 0]), str(keys[start, 4])
        part = values[start:stop]
        goal = None
        if series_name == "value":
            direction = {"higher_is_better": "up", "lower_is_better": "down"}.get(polarity.get(indicator, ""))
            raw = target.get(indicator)
            goal = None if direction is None or raw is None or pd.isna(raw) else float(raw)
        else:
            direction = "up" if np.nanmean(part) < 0 else "down"
        chart = xmr(part, improvement=direction, target=goal)  # type: ignore[arg-type]
        mean[start:stop], lower[start:stop], upper[start:stop] = chart.mean, chart.lower, chart.upper
        special[start:stop] = chart.special_cause
        flags = np.stack([getattr(chart, rule) for rule in _RULES])
        rules[start:stop] = [", ".join(rule for rule, hit in zip(_RULES, column, strict=True) if hit)
                             for column in flags.T]  # fmt: skip
        variation[start:stop] = chart.variation
        assurance[start:stop] = chart.assurance
    result = chosen[[*SERIES_KEYS, "period_start"]].copy()
    result["value"], result["mean"], result["lower"], result["upper"] = values, mean, lower, upper
    result["special_cause"], result["rules"] = special, rules
    result["variation"], result["assurance"] = variation, assurance
    result["period_start"] = pd.to_datetime(result["period_start"]).dt.date
    return result[CHART_COLUMNS]
