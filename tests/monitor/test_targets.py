"""Gap-reduction targets: each area's own baseline and latest gap, and status against the interval."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gapwatch.errors import InputError
from gapwatch.monitor.settings import Target, Targets
from gapwatch.monitor.targets import TARGET_COLUMNS, judge, trajectories

QUARTERS = pd.date_range("2023-04-01", periods=12, freq="QS-APR")
# Each area's series starts and ends in a different quarter, so a series' first and latest
# rows sit at different places in a list sorted by period alone.
AREA_QUARTERS = {"E1": (0, 8), "E2": (3, 12), "E3": (1, 6), "E4": (5, 11), "E5": (2, 10)}
SERIES = [  # indicator, breakdown, measure, scale
    ("screening", "imd_quintile", "gap_absolute", "linear"),
    ("screening", "core20", "gap_absolute", "linear"),
    ("mmr", "imd_quintile", "gap_ratio", "log"),
]


def _scrambled_points(seed: int = 17) -> pd.DataFrame:
    """Several areas × indicators × breakdowns × measures × periods, rows in a shuffled order."""
    generator = np.random.default_rng(seed)
    rows = []
    for indicator, breakdown, measure, scale in SERIES:
        for area, (start, stop) in AREA_QUARTERS.items():
            for quarter in QUARTERS[start:stop]:
                value = generator.uniform(0.5, 0.95) if scale == "log" else generator.uniform(-15.0, -2.0)
                half = 0.05 if scale == "log" else 1.0
                rows.append({"indicator_id": indicator, "area_type": "icb", "area_code": area,
                             "breakdown": breakdown, "series": measure, "scale": scale,
                             "period_start": quarter, "value": value, "lower": value - half,
                             "upper": value + half})  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame.iloc[generator.permutation(len(frame))].reset_index(drop=True)


TARGETS = Targets(
    targets=[
        Target(indicator_id=indicator, breakdown=breakdown, measure=measure, reduce_by=0.5, by="2027-03")
        for indicator, breakdown, measure, _ in SERIES
    ]
)


def test_every_row_takes_its_baseline_and_latest_from_its_own_series() -> None:
    points = _scrambled_points()
    table = trajectories(points, TARGETS)
    assert len(table) == len(SERIES) * len(AREA_QUARTERS)
    keys = ["indicator_id", "area_code", "breakdown"]
    for row in table.itertuples():
        own = points.loc[
            (points["indicator_id"] == row.indicator_id) & (points["area_code"] == row.area_code)
            & (points["breakdown"] == row.breakdown) & (points["series"] == row.measure)
        ].sort_values("period_start")  # fmt: skip
        first, last = own.iloc[0], own.iloc[-1]
        where = dict(zip(keys, (row.indicator_id, row.area_code, row.breakdown), strict=True))
        assert row.baseline == first["value"], where
        assert row.latest == last["value"], where
        assert row.baseline_start == first["period_start"].date(), where
        assert row.latest_start == last["period_start"].date(), where
        # The trajectory from this series' own baseline and dates, worked from the definition:
        # baseline + (target - baseline) × elapsed / span, on the log scale for ratios.
        log = first["scale"] == "log"
        size = math.log(first["value"]) if log else first["value"]
        span = (pd.Timestamp("2027-03-31") - first["period_start"]).days
        elapsed = (last["period_start"] - first["period_start"]).days
        expected = size + (0.5 * size - size) * elapsed / span
        assert row.expected_now == pytest.approx(math.exp(expected) if log else expected), where
        assert row.target_value == pytest.approx(math.exp(0.5 * size) if log else 0.5 * size), where
        assert (row.latest_lower, row.latest_upper) == (last["lower"], last["upper"]), where


def test_a_repeated_period_in_a_series_is_refused() -> None:
    points = _scrambled_points()
    with pytest.raises(InputError, match=r"1 row repeat a series' period"):
        trajectories(pd.concat([points, points.iloc[[0]]], ignore_index=True), TARGETS)


# --- status against the latest gap's confidence interval ----------------------------------------
# judge(latest, lower, upper, expected, goal): the target is two thirds of the trajectory's value
# (-5 for -7.5).


@pytest.mark.parametrize(
    ("latest", "lower", "upper", "expected", "status", "within"),
    [
        # No wider than the trajectory: on track (a gap equal to the trajectory is on it).
        (-7.5, -8.5, -6.5, -7.5, "on_track", True),
        (-7.0, -8.0, -6.0, -7.5, "on_track", True),
        # On track and clearly narrower than the trajectory: the interval does not reach it.
        (-6.0, -6.9, -5.1, -7.5, "on_track", False),
        # No wider than the target: met, whatever the interval.
        (-5.0, -6.0, -4.0, -7.5, "met", False),
        (1.0, -1.0, 3.0, -7.5, "met", False),
        # Wider than the trajectory; the interval's narrow limit exactly on it: not clearly off.
        (-8.0, -8.5, -7.5, -7.5, "not_clearly_off_track", True),
        # ... and just beyond it: off track.
        (-8.0, -8.5, -7.6, -7.5, "off_track", False),
        # Positive gaps mirror negative ones.
        (8.0, 7.5, 8.5, 7.5, "not_clearly_off_track", True),
        (8.0, 7.6, 8.5, 7.5, "off_track", False),
        # An interval crossing zero covers every size from 0: never clearly wider.
        (-8.0, -20.0, 4.0, -7.5, "not_clearly_off_track", True),
        # A gap reversed past zero, wider (as a size) than the trajectory but not clearly.
        (3.7, 3.0, 4.0, -3.5, "not_clearly_off_track", True),
        # Reversed and wider throughout its interval.
        (9.0, 8.0, 10.0, -7.5, "off_track", False),
    ],
)
def test_status_at_the_boundaries(
    latest: float, lower: float, upper: float, expected: float, status: str, within: bool
) -> None:
    goal = expected * 2 / 3  # -5 for a trajectory of -7.5: the target is narrower than the trajectory
    found, inside = judge(*(np.array([x]) for x in (latest, lower, upper, expected, goal)))
    assert (found.tolist(), inside.tolist()) == ([status], [within])


def test_without_an_interval_the_gap_alone_decides() -> None:
    found, inside = judge(*(np.array([x]) for x in (-9.0, math.nan, math.nan, -7.5, -5.0)))
    assert (found.tolist(), inside.tolist()) == (["off_track"], [None])


def _one_series(latest: float, lower: float, upper: float, scale: str = "linear") -> pd.DataFrame:
    # Baseline 2023-01-01; the target falls due 2023-12-31 (364 days on); the latest
    # period 2023-07-02 is 182 days in, half way: the trajectory is half way to the target.
    return pd.DataFrame({"indicator_id": "x", "area_type": "icb", "area_code": "E1",
                         "breakdown": "imd_quintile", "series": "gap_ratio" if scale == "log" else "gap_absolute",
                         "scale": scale, "period_start": pd.to_datetime(["2023-07-02", "2023-01-01"]),
                         "value": [latest, -10.0 if scale == "linear" else 0.25],
                         "lower": [lower, -11.0 if scale == "linear" else 0.2],
                         "upper": [upper, -9.0 if scale == "linear" else 0.3]})  # fmt: skip


@pytest.mark.parametrize(
    ("latest", "lower", "upper", "status", "within"),
    [
        # Halve -10 by the due date: trajectory -10 + 5 × 182/364 = -7.5 at the latest period.
        (-8.0, -9.0, -7.5, "not_clearly_off_track", True),
        (-8.0, -9.0, -7.6, "off_track", False),
        (-7.5, -8.5, -6.5, "on_track", True),
        (-4.0, -5.0, -3.0, "met", False),
    ],
)
def test_status_stored_in_the_targets_table(
    latest: float, lower: float, upper: float, status: str, within: bool
) -> None:
    target = Target(indicator_id="x", reduce_by=0.5, by="2023-12")
    row = trajectories(_one_series(latest, lower, upper), Targets(targets=[target])).iloc[0]
    assert row["expected_now"] == -7.5
    assert (row["status"], row["within_interval"]) == (status, within)
    assert list(row.index) == TARGET_COLUMNS


def test_ratio_gaps_are_judged_on_the_log_scale() -> None:
    # Ratio 0.25 → target 0.25^0.5 = 0.5 (log scale halved); half way the trajectory is
    # 0.25^0.75 = 0.3536. A latest ratio of 0.3 (interval 0.28 to 0.34) is further from 1
    # than the trajectory, and so is its whole interval: off track. With an upper limit of
    # 0.36 the interval reaches the trajectory: not clearly off track.
    target = Target(indicator_id="x", measure="gap_ratio", reduce_by=0.5, by="2023-12")
    row = trajectories(_one_series(0.3, 0.28, 0.34, "log"), Targets(targets=[target])).iloc[0]
    assert row["expected_now"] == pytest.approx(0.25**0.75)
    assert (row["status"], row["within_interval"]) == ("off_track", False)
    row = trajectories(_one_series(0.3, 0.28, 0.36, "log"), Targets(targets=[target])).iloc[0]
    assert (row["status"], row["within_interval"]) == ("not_clearly_off_track", True)
