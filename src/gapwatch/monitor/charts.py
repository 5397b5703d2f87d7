"""XmR charts (NHS "Making Data Count") for each indicator's value and its gaps.

The chart of an indicator's overall value uses the indicator's polarity to name special
causes improving or concerning, and its target for the assurance icon. The chart of a
gap calls a move towards no difference (zero) improving, whichever group is ahead.
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
    >>> float(first["mean"]), first["assurance"]
    (11.0, 'consistently_met')
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
    frames = []
    for key, part in chosen.groupby(SERIES_KEYS, sort=True):
        indicator, series = str(key[0]), str(key[4])
        values = part["value"].to_numpy(dtype="float64")
        if (part["scale"] == "log").any():
            values = np.log(values)
        goal = None
        if series == "value":
            direction = {"higher_is_better": "up", "lower_is_better": "down"}.get(polarity.get(indicator, ""))
            raw = target.get(indicator)
            goal = None if direction is None or raw is None or pd.isna(raw) else float(raw)
        else:
            direction = "up" if np.nanmean(values) < 0 else "down"
        chart = xmr(values, improvement=direction, target=goal)  # type: ignore[arg-type]
        flags = np.stack([getattr(chart, rule) for rule in _RULES])
        frame = part[[*SERIES_KEYS, "period_start"]].copy()
        frame["value"] = values
        frame["mean"], frame["lower"], frame["upper"] = chart.mean, chart.lower, chart.upper
        frame["special_cause"] = chart.special_cause
        frame["rules"] = [", ".join(rule for rule, hit in zip(_RULES, column, strict=True) if hit)
                          for column in flags.T]  # fmt: skip
        frame["variation"] = list(chart.variation)
        frame["assurance"] = chart.assurance
        frames.append(frame)
    result = pd.concat(frames, ignore_index=True)
    result["period_start"] = pd.to_datetime(result["period_start"]).dt.date
    return result[CHART_COLUMNS]
