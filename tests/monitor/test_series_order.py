"""Trends and the special-cause alert read each series' first and latest point by period,
whatever order its rows arrive in (mixed with other areas' and series', scrambled)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gapwatch.monitor.charts import charts
from gapwatch.monitor.guardrails import special_cause
from gapwatch.monitor.settings import RuleSettings
from gapwatch.monitor.trends import SERIES_KEYS, trends

AREAS = ["E54000008", "E54000010", "E54000015", "E54000057"]
SERIES = ["value", "gap_absolute", "sii"]
PERIODS = pd.date_range("2021-04-01", periods=13, freq="QS-APR")


def _points(seed: int) -> pd.DataFrame:
    """Areas × series × periods, each series rising by its own amount from its own start."""
    rng = np.random.default_rng(seed)
    rows = []
    for area_index, area in enumerate(AREAS):
        for series_index, name in enumerate(SERIES):
            start = 10.0 * (area_index + 1) + series_index
            step = 0.5 * (area_index + 1) - series_index * 0.2
            for index, period in enumerate(PERIODS):
                value = start + step * index + rng.normal(0, 0.05)
                rows.append({
                    "indicator_id": "screened", "area_type": "icb", "area_code": area,
                    "breakdown": "overall" if name == "value" else "imd_quintile", "series": name,
                    "scale": "linear", "period_start": period, "value": value, "lower": value - 1.0,
                    "upper": value + 1.0,
                })  # fmt: skip
    return pd.DataFrame(rows)


def test_trends_take_the_first_and_latest_period_of_scrambled_rows() -> None:
    ordered = _points(4)
    scrambled = ordered.sample(frac=1.0, random_state=11).reset_index(drop=True)
    assert not scrambled["period_start"].is_monotonic_increasing
    got = trends(scrambled).sort_values(SERIES_KEYS, ignore_index=True)
    expected = trends(ordered).sort_values(SERIES_KEYS, ignore_index=True)
    pd.testing.assert_frame_equal(got, expected)
    # And by hand: each series' baseline is its first period's value, its latest the last's.
    firsts = ordered.loc[ordered["period_start"] == PERIODS[0]].set_index(SERIES_KEYS)["value"]
    lasts = ordered.loc[ordered["period_start"] == PERIODS[-1]].set_index(SERIES_KEYS)["value"]
    got = got.set_index(SERIES_KEYS)
    assert (got["baseline_start"] == PERIODS[0].date()).all()
    assert (got["latest_start"] == PERIODS[-1].date()).all()
    assert np.allclose(got["baseline"], firsts.reindex(got.index))
    assert np.allclose(got["latest"], lasts.reindex(got.index))
    assert np.allclose(got["change"], (lasts - firsts).reindex(got.index))


def _charts() -> pd.DataFrame:
    """Gap charts of 13 points; a spike at the latest point in two areas, at the 7th in two."""
    steady = [5.0, 5.2, 4.9, 5.1, 5.0, 4.8, 5.1, 5.2, 4.9, 5.0, 5.1, 4.9, 5.0]
    frames = []
    for index, area in enumerate(AREAS):
        values = list(steady)
        values[-1 if index % 2 == 0 else 6] = 9.0
        frames.append(pd.DataFrame({
            "indicator_id": "screened", "area_type": "icb", "area_code": area, "breakdown": "imd_quintile",
            "series": "gap_absolute", "scale": "linear", "period_start": PERIODS, "value": values,
        }))  # fmt: skip
    indicators = pd.DataFrame(
        {"indicator_id": ["screened"], "polarity": ["higher_is_better"], "target": [None]}
    )
    return charts(pd.concat(frames, ignore_index=True), indicators, {"imd_quintile": ["gap_absolute"]})


def test_the_special_cause_alert_reads_the_latest_period_of_scrambled_rows() -> None:
    chart = _charts()
    # Every spike is special cause on its chart: only those at the latest period alert.
    assert chart.loc[chart["value"] == 9.0, "special_cause"].all()
    titles = {"screened": "People screened"}
    expected = {(AREAS[0], PERIODS[-1].date()), (AREAS[2], PERIODS[-1].date())}
    found = special_cause(chart, titles, {}, RuleSettings())
    assert set(zip(found["area_code"], found["period_start"], strict=True)) == expected
    for seed in range(5):
        scrambled = chart.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        found = special_cause(scrambled, titles, {}, RuleSettings())
        assert set(zip(found["area_code"], found["period_start"], strict=True)) == expected, seed
