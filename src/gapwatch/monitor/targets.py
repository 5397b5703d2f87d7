"""Gap-reduction targets: a straight-line trajectory from the baseline and where each area stands.

A target such as "halve the quintile 1-5 gap by March 2028" sets the target gap to
(1 - reduce_by) × the baseline gap, due on the last day of the month given. The
trajectory runs in a straight line from the baseline period's start to that day; an
area is ``on_track`` when its latest gap is no wider than the trajectory's value at the
latest period, ``met`` when it is no wider than the target itself, and ``off_track``
otherwise. "Wider" compares sizes (absolute values; log ratios for ratio measures), so a
gap that closes past zero counts as met.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gapwatch.monitor.settings import Targets
from gapwatch.monitor.trends import SERIES_KEYS

TARGET_COLUMNS = ["indicator_id", "area_type", "area_code", "breakdown", "measure", "description",
                  "baseline_start", "baseline", "target_date", "target_value", "latest_start", "latest",
                  "expected_now", "gap_to_close", "status", "note"]  # fmt: skip


def trajectories(points: pd.DataFrame, targets: Targets) -> pd.DataFrame:
    """Status of every declared target in every area that has the gap's series.

    Units: those of the gap (a ratio's target, trajectory and gap still to close are
    ratios, computed on the log scale).

    >>> from gapwatch.monitor.settings import Target
    >>> points = pd.DataFrame({"indicator_id": "x", "area_type": "icb", "area_code": "E1",
    ...     "breakdown": "imd_quintile", "series": "gap_absolute", "scale": "linear",
    ...     "period_start": pd.to_datetime(["2024-01-01", "2025-01-01"]), "value": [-10.0, -7.0]})
    >>> goal = Target(indicator_id="x", measure="gap_absolute", reduce_by=0.5, by="2025-12")
    >>> row = trajectories(points, Targets(targets=[goal])).iloc[0]
    >>> float(row["target_value"]), row["status"]
    (-5.0, 'on_track')
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
        grouped = chosen.sort_values("period_start").groupby(SERIES_KEYS, sort=True)
        first, last = grouped.head(1).set_index(SERIES_KEYS), grouped.tail(1).set_index(SERIES_KEYS)
        log = (first["scale"] == "log").to_numpy()
        baseline = first["value"].to_numpy(dtype="float64")
        latest = last["value"].to_numpy(dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            size_baseline = np.where(log, np.log(baseline), baseline)
            size_latest = np.where(log, np.log(latest), latest)
        goal = size_baseline * (1 - target.reduce_by)
        due = pd.Timestamp(target.due)
        span = (due - first["period_start"]).dt.days.to_numpy(dtype="float64")
        elapsed = (last["period_start"] - first["period_start"]).dt.days.to_numpy(dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.clip(np.where(span > 0, elapsed / span, 1.0), 0.0, 1.0)
        expected = size_baseline + (goal - size_baseline) * share
        met = np.abs(size_latest) <= np.abs(goal)
        on_track = np.abs(size_latest) <= np.abs(expected)
        frame = first.reset_index()[["indicator_id", "area_type", "area_code", "breakdown"]].copy()
        frame["measure"] = target.measure
        frame["description"] = target.description
        frame["baseline_start"] = first["period_start"].dt.date.to_numpy()
        frame["baseline"] = baseline
        frame["target_date"] = target.due
        frame["target_value"] = np.where(log, np.exp(goal), goal)
        frame["latest_start"] = last["period_start"].dt.date.to_numpy()
        frame["latest"] = latest
        frame["expected_now"] = np.where(log, np.exp(expected), expected)
        remaining = np.maximum(np.abs(size_latest) - np.abs(goal), 0.0)
        frame["gap_to_close"] = np.where(log, np.exp(remaining), remaining)
        frame["status"] = np.select([met, on_track], ["met", "on_track"], "off_track")
        frame["note"] = np.where(
            span <= 0, "the target falls due before the baseline period: judged against the target itself", ""
        )
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    return pd.concat(frames, ignore_index=True)[TARGET_COLUMNS]
