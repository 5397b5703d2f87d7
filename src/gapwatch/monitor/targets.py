"""Gap-reduction targets: a straight-line trajectory from the baseline and where each area stands.

A target such as "halve the quintile 1-5 gap by March 2028" sets the target gap to
(1 - reduce_by) × the baseline gap, due on the last day of the month given. The
trajectory runs in a straight line from the baseline period's start to that day.

Each area's baseline and latest gap are the first and latest points of *its own* series
(matched on indicator, area, breakdown and measure, ordered by period), never of another
area's.

Where an area stands is judged on sizes (absolute values; log ratios for ratio measures),
so a gap that closes past zero counts as closing:

* ``met``: the latest gap is no wider than the target itself;
* ``on_track``: it is no wider than the trajectory's value at the latest period;
* ``off_track``: it is wider than the trajectory, and so is the whole of its confidence
  interval: the trajectory's value lies outside the interval on the wider side;
* ``not_clearly_off_track``: it is wider than the trajectory, but the interval still
  reaches the trajectory's value, so the difference may be chance.

``within_interval`` says, for every row, whether the latest gap's confidence interval
includes the trajectory's value. This follows the usual reading of a confidence interval
as the range of values compatible with the data (Gardner and Altman, in Altman et al.,
*Statistics with Confidence*, 2nd ed., BMJ Books 2000, ch. 1): with a 95% interval,
"off track" is claimed only when the gap is wider than the trajectory at the one-sided
2.5% level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gapwatch.errors import InputError, rows
from gapwatch.monitor.settings import Targets
from gapwatch.monitor.trends import SERIES_KEYS

TARGET_COLUMNS = ["indicator_id", "area_type", "area_code", "breakdown", "measure", "description",
                  "baseline_start", "baseline", "target_date", "target_value", "latest_start", "latest",
                  "latest_lower", "latest_upper", "expected_now", "within_interval", "gap_to_close",
                  "status", "note"]  # fmt: skip
STATUSES = ["met", "on_track", "not_clearly_off_track", "off_track"]


def judge(
    latest: np.ndarray, lower: np.ndarray, upper: np.ndarray, expected: np.ndarray, goal: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Status and ``within_interval`` of each latest gap against its trajectory and target.

    All arrays are on the analysis scale (gap units; log ratios for ratio measures) and
    signed. Sizes are compared: a confidence interval [l, u] that crosses zero covers
    every size from 0 to max(|l|, |u|); otherwise sizes min(|l|, |u|) to max(|l|, |u|).
    A value on an interval's limit is inside it. Returns the status (one of
    :data:`STATUSES`) and whether the interval includes the trajectory's value (missing
    where the interval is).

    >>> status, within = judge(np.array([-9.0, -9.0]), np.array([-10.0, -12.0]),
    ...     np.array([-8.0, -8.5]), np.array([-8.0, -8.0]), np.array([-5.0, -5.0]))
    >>> status.tolist(), within.tolist()
    (['not_clearly_off_track', 'off_track'], [True, False])
    """
    size_latest, size_expected, size_goal = np.abs(latest), np.abs(expected), np.abs(goal)
    crosses = (lower <= 0) & (upper >= 0)
    size_low = np.where(crosses, 0.0, np.minimum(np.abs(lower), np.abs(upper)))
    size_high = np.maximum(np.abs(lower), np.abs(upper))
    known = ~(np.isnan(lower) | np.isnan(upper))
    within = (size_low <= size_expected) & (size_expected <= size_high)
    # Without an interval the gap alone decides, as it is all there is to go on.
    clearly_wider = np.where(known, size_low > size_expected, True)
    status = np.select(
        [size_latest <= size_goal, size_latest <= size_expected, clearly_wider],
        ["met", "on_track", "off_track"],
        "not_clearly_off_track",
    )
    inside = within.astype(object)
    inside[~known] = None
    return status, inside


def _ends(chosen: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First and latest point of every series, indexed by SERIES_KEYS in the same order."""
    repeated = chosen.duplicated([*SERIES_KEYS, "period_start"])
    if repeated.any():
        raise InputError(
            f"targets: {rows(int(repeated.sum()))} repeat a series' period (indicator, area, breakdown, "
            "measure and period together must be unique); the baseline and latest gap would be ambiguous"
        )
    # Sort by the series and then its period, and match the two ends by key, not position:
    # the rows of a series may arrive in any order, mixed with other series'.
    ordered = chosen.sort_values([*SERIES_KEYS, "period_start"], kind="stable")
    grouped = ordered.groupby(SERIES_KEYS, sort=True)
    first = grouped.head(1).set_index(SERIES_KEYS)
    last = grouped.tail(1).set_index(SERIES_KEYS).reindex(first.index)
    return first, last


def trajectories(points: pd.DataFrame, targets: Targets) -> pd.DataFrame:
    """Status of every declared target in every area that has the gap's series.

    ``points`` is :func:`gapwatch.monitor.trends.series`: SERIES_KEYS, scale, period_start,
    value, lower, upper, in any row order. Units: those of the gap (a ratio's target,
    trajectory and gap still to close are ratios, computed on the log scale). The status
    is decided by :func:`judge`.

    >>> from gapwatch.monitor.settings import Target
    >>> points = pd.DataFrame({"indicator_id": "x", "area_type": "icb", "area_code": "E1",
    ...     "breakdown": "imd_quintile", "series": "gap_absolute", "scale": "linear",
    ...     "period_start": pd.to_datetime(["2024-01-01", "2025-01-01"]), "value": [-10.0, -7.0],
    ...     "lower": [-12.0, -9.0], "upper": [-8.0, -5.0]})
    >>> goal = Target(indicator_id="x", measure="gap_absolute", reduce_by=0.5, by="2025-12")
    >>> row = trajectories(points, Targets(targets=[goal])).iloc[0]
    >>> float(row["target_value"]), row["status"], row["within_interval"]
    (-5.0, 'on_track', True)
    """
    frames = []
    for target in targets.targets:
        chosen = points.loc[
            (points["indicator_id"] == target.indicator_id) & (points["breakdown"] == target.breakdown)
            & (points["series"] == target.measure)
        ]  # fmt: skip
        if target.areas is not None:
            chosen = chosen.loc[chosen["area_type"].isin(target.areas)]
        if chosen.empty:
            continue
        first, last = _ends(chosen)
        log = (first["scale"] == "log").to_numpy()

        def scaled(frame: pd.DataFrame, column: str, log: np.ndarray = log) -> np.ndarray:
            raw = frame[column].to_numpy(dtype="float64")
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(log, np.log(raw), raw)

        baseline, latest = first["value"].to_numpy(dtype="float64"), last["value"].to_numpy(dtype="float64")
        size_baseline, size_latest = scaled(first, "value"), scaled(last, "value")
        goal = size_baseline * (1 - target.reduce_by)
        due = pd.Timestamp(target.due)
        span = (due - first["period_start"]).dt.days.to_numpy(dtype="float64")
        elapsed = (last["period_start"] - first["period_start"]).dt.days.to_numpy(dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.clip(np.where(span > 0, elapsed / span, 1.0), 0.0, 1.0)
        expected = size_baseline + (goal - size_baseline) * share
        status, within = judge(size_latest, scaled(last, "lower"), scaled(last, "upper"), expected, goal)
        frame = first.reset_index()[["indicator_id", "area_type", "area_code", "breakdown"]].copy()
        frame["measure"] = target.measure
        frame["description"] = target.description
        frame["baseline_start"] = first["period_start"].dt.date.to_numpy()
        frame["baseline"] = baseline
        frame["target_date"] = target.due
        frame["target_value"] = np.where(log, np.exp(goal), goal)
        frame["latest_start"] = last["period_start"].dt.date.to_numpy()
        frame["latest"] = latest
        frame["latest_lower"] = last["lower"].to_numpy(dtype="float64")
        frame["latest_upper"] = last["upper"].to_numpy(dtype="float64")
        frame["expected_now"] = np.where(log, np.exp(expected), expected)
        frame["within_interval"] = within
        remaining = np.maximum(np.abs(size_latest) - np.abs(goal), 0.0)
        frame["gap_to_close"] = np.where(log, np.exp(remaining), remaining)
        frame["status"] = status
        frame["note"] = np.where(
            span <= 0, "the target falls due before the baseline period: judged against the target itself", ""
        )
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    return pd.concat(frames, ignore_index=True)[TARGET_COLUMNS]
