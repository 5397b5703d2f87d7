"""Trends, guardrail rules, XmR charts and targets on small tables worked out by hand."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gapwatch.errors import ConfigError
from gapwatch.monitor.charts import charts
from gapwatch.monitor.guardrails import alerts
from gapwatch.monitor.settings import Target, Targets, load_rules, load_targets
from gapwatch.monitor.targets import trajectories
from gapwatch.monitor.trends import direction, series, trends

EXAMPLES = int(os.environ.get("GAPWATCH_PROPERTY_EXAMPLES", "150"))
QUARTERS = pd.date_range("2023-04-01", periods=16, freq="QS-APR")


def _points(values: list[float], half_width: float = 1.0, name: str = "value", breakdown: str = "overall"):
    return pd.DataFrame({
        "indicator_id": "x", "area_type": "icb", "area_code": "E54000057", "breakdown": breakdown,
        "series": name, "scale": "linear", "period_start": QUARTERS[: len(values)], "value": values,
        "lower": np.array(values) - half_width, "upper": np.array(values) + half_width,
    })  # fmt: skip


def test_a_straight_line_gives_its_slope_per_year_and_the_change_between_its_ends() -> None:
    # Quarterly steps of 0.5 are 2.0 a year; ends 50.0 and 53.5 differ by 3.5, with MOVER
    # limits 3.5 ± sqrt(1.96² + 1.96²)·(1/1.96)... each end's half-width is 1, so ± sqrt(2).
    row = trends(_points([50 + 0.5 * i for i in range(8)])).iloc[0]
    assert row["slope_per_year"] == pytest.approx(2.0 * 365.25 / 365.25, rel=0.01)
    assert row["change"] == pytest.approx(3.5)
    assert row["change_lower"] == pytest.approx(3.5 - np.sqrt(2))
    assert row["change_upper"] == pytest.approx(3.5 + np.sqrt(2))
    assert row["periods"] == 8


def test_slope_limits_follow_weighted_least_squares_by_hand() -> None:
    # Three points a year apart with equal standard errors s = 1/1.96 (half-width 1):
    # t = 0, 1, 2 (years, roughly), Sxx = sum w (t - 1)² = 2 / s², so se(slope) = s / sqrt(2)
    # when the points lie on a line (no extra dispersion).
    points = _points([10.0, 11.0, 12.0]).assign(
        period_start=pd.to_datetime(["2022-01-01", "2023-01-01", "2024-01-01"])
    )
    row = trends(points).iloc[0]
    times = np.array([0, 365, 730]) / 365.25
    s = 1 / 1.959964
    expected_se = s / np.sqrt(((times - times.mean()) ** 2).sum())
    assert row["slope_per_year"] == pytest.approx(2 / times[2], rel=1e-9)
    assert row["slope_upper"] - row["slope_per_year"] == pytest.approx(1.959964 * expected_se, rel=1e-6)


def test_extra_variation_between_periods_widens_the_slope_limits() -> None:
    steady = trends(_points([50, 51, 52, 53, 54, 55, 56, 57], half_width=0.5)).iloc[0]
    jumpy = trends(_points([50, 56, 47, 58, 49, 60, 50, 62], half_width=0.5)).iloc[0]
    assert (jumpy["slope_upper"] - jumpy["slope_lower"]) > 5 * (steady["slope_upper"] - steady["slope_lower"])


def test_too_few_periods_give_a_change_but_no_trend() -> None:
    row = trends(_points([50.0, 52.0])).iloc[0]
    assert row["change"] == pytest.approx(2.0)
    assert np.isnan(row["slope_per_year"])
    assert "fewer than 3" in row["note"]


@settings(max_examples=max(EXAMPLES // 10, 30), deadline=None)
@given(
    st.lists(st.floats(-50, 50), min_size=3, max_size=8),
    st.floats(0.1, 5),
    st.floats(-100, 100),
)
def test_slope_limits_contain_the_slope_and_move_with_a_shift(
    values: list[float], width: float, shift: float
) -> None:
    row = trends(_points(values, width)).iloc[0]
    moved = trends(_points([value + shift for value in values], width)).iloc[0]
    assert row["slope_lower"] <= row["slope_per_year"] <= row["slope_upper"]
    assert moved["slope_per_year"] == pytest.approx(row["slope_per_year"], abs=1e-6)
    assert moved["slope_upper"] == pytest.approx(row["slope_upper"], abs=1e-6)


@pytest.mark.parametrize(
    ("series_name", "values", "polarity", "expected"),
    [
        ("value", [50, 52, 54, 56], "higher_is_better", "improving"),
        ("value", [50, 52, 54, 56], "lower_is_better", "worsening"),
        ("value", [50, 52, 54, 56], "no_judgement", "increasing"),
        ("gap_absolute", [-5, -7, -9, -11], "higher_is_better", "widening"),
        ("gap_absolute", [-11, -9, -7, -5], "higher_is_better", "narrowing"),
        ("gap_absolute", [5, 7, 9, 11], "lower_is_better", "widening"),
        ("sii", [5, 5.1, 4.9, 5.0], "higher_is_better", "no_significant_change"),
    ],
)
def test_directions_in_words(series_name: str, values: list[float], polarity: str, expected: str) -> None:
    trend = trends(_points(values, 0.5, series_name))
    assert direction(trend, pd.Series([polarity])).tolist() == [expected]


def test_a_closing_gap_that_ends_within_noise_of_zero_is_narrowing_not_reversed() -> None:
    # Issue 17: planted "closing" gaps were called reversed because the trend line crossed
    # zero. Here the gap goes from -8 to +0.5 and the latest period's limits (-0.5 to 1.5)
    # still hold zero: the gap closed, the other group is not significantly ahead.
    trend = trends(_points([-8, -6.5, -5, -4, -2.5, -1.5, 0, 0.5], 1.0, "gap_absolute"))
    assert trend["fitted_latest"].iloc[0] > 0 > trend["fitted_baseline"].iloc[0]
    assert direction(trend, pd.Series(["higher_is_better"])).tolist() == ["narrowing"]
    # Ending wholly on the other side (latest 4 to 6) is a reversal.
    trend = trends(_points([-8, -6, -4, -2, 0, 2, 4, 5], 1.0, "gap_absolute"))
    assert direction(trend, pd.Series(["higher_is_better"])).tolist() == ["reversed"]


def test_series_drop_withheld_points_and_put_ratios_on_the_log_scale() -> None:
    values = pd.DataFrame({
        "indicator_id": "x", "area_type": "icb", "area_code": "E1", "breakdown": "overall", "group": "all",
        "period_start": ["2024-04-01", "2024-07-01"], "value": [50.0, np.nan], "lower": [45.0, np.nan],
        "upper": [55.0, np.nan], "suppressed": [False, True],
    })  # fmt: skip
    measures = pd.DataFrame({
        "indicator_id": "x", "area_type": "icb", "area_code": "E1", "breakdown": "imd_quintile",
        "measure": ["gap_ratio", "gap_ratio"], "period_start": ["2024-04-01", "2024-07-01"],
        "value": [0.8, 0.0], "lower": [0.7, 0.0], "upper": [0.9, 0.1], "suppressed": [False, False],
    })  # fmt: skip
    points = series(values, measures)
    assert points[["series", "scale"]].values.tolist() == [["gap_ratio", "log"], ["value", "linear"]]


# --- guardrail rules on a small run: one indicator, one ICB, eight quarters -------------


def _run(
    overall: list[float], gap: list[float], polarity: str = "higher_is_better", target: float | None = None
):
    """Published tables of a run whose overall value and quintile 1-5 gap follow the lists given."""
    starts = QUARTERS[: len(overall)].date
    ends = (QUARTERS[: len(overall)] + pd.offsets.QuarterEnd(0)).date
    values = pd.DataFrame({
        "indicator_id": "x", "period_start": starts, "period_end": ends, "area_type": "icb",
        "area_code": "E54000057", "breakdown": "overall", "group": "all", "numerator": 500.0,
        "denominator": 1000.0, "value": overall, "lower": np.array(overall) - 1, "upper": np.array(overall) + 1,
        "completeness": np.nan, "suppressed": False,
    })  # fmt: skip
    measures = pd.DataFrame({
        "indicator_id": "x", "period_start": starts, "period_end": ends, "area_type": "icb",
        "area_code": "E54000057", "breakdown": "imd_quintile", "measure": "gap_absolute", "value": gap,
        "lower": np.array(gap) - 1.5, "upper": np.array(gap) + 1.5, "group_a": "1", "group_b": "5",
        "suppressed": False,
    })  # fmt: skip
    indicators = pd.DataFrame({"indicator_id": ["x"], "title": ["Screening"], "polarity": [polarity],
                               "target": [target]})  # fmt: skip
    return values, measures, indicators


def _alerts(values: pd.DataFrame, measures: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    rules = load_rules()
    points = series(values, measures)
    trend = trends(points, 0.95, rules.min_periods)
    polarity = dict(zip(indicators["indicator_id"], indicators["polarity"], strict=True))
    trend["direction"] = direction(trend, trend["indicator_id"].map(polarity))
    chart = charts(points, indicators, rules.rules.special_cause.gaps)
    return alerts(values, measures, indicators, trend, chart, rules)


def test_average_improving_while_the_gap_widens_raises_the_headline_alert() -> None:
    found = _alerts(*_run([60, 61, 62, 63, 64, 65, 66, 67], [-5, -6, -7, -8, -9, -10, -11, -12]))
    headline = found.loc[found["rule"] == "average_improving_gap_widening"]
    assert len(headline) == 1
    row = headline.iloc[0]
    assert (row["severity"], row["breakdown"], row["area_code"]) == ("high", "imd_quintile", "E54000057")
    evidence = json.loads(row["evidence"])
    assert evidence["average"]["baseline"] == 60
    assert evidence["gaps"]["gap_absolute"]["latest"] == -12
    assert "widened" in row["message"]
    assert "falling behind" not in row["message"]
    assert set(found["rule"]) >= {"average_improving_gap_widening", "most_deprived_falling_behind"}


@pytest.mark.parametrize(
    ("overall", "gap", "polarity"),
    [
        ([60, 61, 62, 63, 64, 65, 66, 67], [-12, -11, -10, -9, -8, -7, -6, -5], "higher_is_better"),
        ([60, 60.2, 59.9, 60.1, 60, 59.8, 60.1, 60], [-5, -6, -7, -8, -9, -10, -11, -12], "higher_is_better"),
        ([60, 61, 62, 63, 64, 65, 66, 67], [-5, -6, -7, -8, -9, -10, -11, -12], "lower_is_better"),
    ],
    ids=["gap-closing", "average-flat", "average-rising-is-worse"],
)
def test_the_headline_alert_needs_both_halves(overall: list[float], gap: list[float], polarity: str) -> None:
    found = _alerts(*_run(overall, gap, polarity))
    assert "average_improving_gap_widening" not in set(found["rule"])


def test_a_group_below_target_while_the_average_meets_it() -> None:
    values, measures, indicators = _run([81] * 8, [-2] * 8, target=80.0)
    last = values["period_start"].max()
    groups = pd.DataFrame({
        "indicator_id": "x", "period_start": last, "period_end": values["period_end"].max(),
        "area_type": "icb", "area_code": "E54000057", "breakdown": "imd_quintile", "group": ["1", "2", "5"],
        "numerator": 1.0, "denominator": 1.0, "value": [70.0, 78.0, 88.0], "lower": [66.0, 74.0, 85.0],
        "upper": [74.0, 82.0, 91.0], "completeness": 0.95, "suppressed": False,
    })  # fmt: skip
    found = _alerts(pd.concat([values, groups], ignore_index=True), measures, indicators)
    below = found.loc[found["rule"] == "below_standard"]
    assert len(below) == 1
    # Quintile 2's limits reach the target: not significantly below it.
    assert [group["group"] for group in json.loads(below.iloc[0]["evidence"])["groups"]] == ["1"]
    assert "cant_see_gap" not in set(found["rule"])


def test_an_incomplete_breakdown_field_means_the_gap_cannot_be_seen() -> None:
    values, measures, indicators = _run([81] * 8, [-2] * 8)
    groups = pd.DataFrame({
        "indicator_id": "x", "period_start": values["period_start"].max(), "period_end": values["period_end"].max(),
        "area_type": "icb", "area_code": "E54000057", "breakdown": "ethnic_group", "group": ["Asian", "White"],
        "numerator": 1.0, "denominator": 1.0, "value": 80.0, "lower": 75.0, "upper": 85.0, "completeness": 0.82,
        "suppressed": False,
    })  # fmt: skip
    found = _alerts(pd.concat([values, groups], ignore_index=True), measures, indicators)
    seen = found.loc[found["rule"] == "cant_see_gap"]
    assert seen[["breakdown", "severity"]].values.tolist() == [["ethnic_group", "medium"]]
    assert "82.0%" in seen.iloc[0]["message"]


def test_a_spike_in_the_gap_is_special_cause() -> None:
    # Thirteen quarters (the alert needs 13 points, as a Making Data Count icon does): mean
    # of the first twelve gaps about -5 with moving ranges about 0.3: -12 is far outside.
    gap = [-5.0, -5.3, -4.9, -5.2, -5.0, -4.8, -5.1, -5.0, -5.2, -4.9, -5.1, -5.0, -12.0]
    overall = [60.0, 60.2, 59.9, 60.1, 60.0, 59.8, 60.1, 60.0, 60.2, 59.9, 60.1, 60.0, 60.0]
    found = _alerts(*_run(overall, gap))
    special = found.loc[found["rule"] == "special_cause"]
    assert len(special) == 1
    assert json.loads(special.iloc[0]["evidence"])["variation"] == "special_cause_concerning"
    assert "outside_limits" in special.iloc[0]["message"]


def test_value_charts_use_the_target_for_assurance() -> None:
    # Thirteen quarters (MDC gives icons from 13 points): mean 1183/13 = 91; limits well
    # above 80 (moving ranges at most 2), so the target is consistently met.
    overall = [90, 91, 90, 92, 91, 90, 91, 92, 91, 90, 92, 91, 92]
    values, measures, indicators = _run(overall, [-2] * 13, target=80.0)
    chart = charts(series(values, measures), indicators, {"imd_quintile": ["gap_absolute"]})
    value_chart = chart.loc[chart["series"] == "value"]
    assert set(value_chart["assurance"]) == {"consistently_met"}
    assert set(chart.loc[chart["series"] == "gap_absolute", "assurance"].dropna()) == set()


def test_value_charts_of_twelve_quarters_give_no_assurance() -> None:
    # The same without the last quarter: twelve points, trial limits, no assurance icon.
    overall = [90, 91, 90, 92, 91, 90, 91, 92, 91, 90, 92, 91]
    values, measures, indicators = _run(overall, [-2] * 12, target=80.0)
    chart = charts(series(values, measures), indicators, {"imd_quintile": ["gap_absolute"]})
    assert chart.loc[chart["series"] == "value", "assurance"].isna().all()


def test_a_rising_trend_below_the_mean_is_improvement_for_every_area() -> None:
    # Issue 17: 16, 24 three times then 1…7 (a shift below the mean and a rising trend of
    # seven; see tests/stats/test_spc.py RISING_BELOW). Higher is better, so the trend is
    # improvement and the shift concern: MDC shows improvement. Two areas, rows shuffled.
    overall = [16, 24] * 3 + [1, 2, 3, 4, 5, 6, 7]
    values, measures, indicators = _run(overall, [-2] * 13)
    other = values.assign(area_code="E54000008", value=[24 - v if v > 7 else v for v in overall])
    values = pd.concat([values, other], ignore_index=True).sample(frac=1, random_state=3)
    chart = charts(series(values, measures), indicators, {})
    latest = chart.sort_values("period_start").groupby("area_code").tail(1).set_index("area_code")
    assert latest["variation"].to_dict() == {
        "E54000057": "special_cause_improving",
        "E54000008": "special_cause_improving",
    }
    assert chart.loc[chart["area_code"] == "E54000057", "rules"].iloc[-1] == "shift, trend"


# --- targets ----------------------------------------------------------------------------------


def test_target_trajectory_by_hand() -> None:
    # Baseline gap -10 on 2023-04-01, halve it (-5) by 2025-03-31 (730 days). Latest point
    # 2024-01-01 is 275 days in: trajectory -10 + 5 × 275/730 = -8.116; -8 is inside it.
    points = _points([-10.0, -9.5, -9.0, -8.0], name="gap_absolute", breakdown="imd_quintile")
    target = Target(indicator_id="x", reduce_by=0.5, by="2025-03", description="halve it")
    row = trajectories(points, Targets(targets=[target])).iloc[0]
    assert row["target_value"] == pytest.approx(-5.0)
    assert row["expected_now"] == pytest.approx(-10 + 5 * 275 / 730)
    assert row["status"] == "on_track"
    assert row["gap_to_close"] == pytest.approx(3.0)
    # -9 ± 1 is wider than -8.116, but its interval [-10, -8] reaches it: not clearly off
    # track. -9.5 ± 1 is wider throughout ([-10.5, -8.5]): off track.
    behind = trajectories(points.assign(value=[-10.0, -10.0, -10.0, -9.0]), Targets(targets=[target]))
    assert behind.iloc[0]["status"] == "not_clearly_off_track"
    behind = trajectories(
        points.assign(value=[-10.0, -10.0, -10.0, -9.5], lower=-10.5, upper=-8.5), Targets(targets=[target])
    )
    assert behind.iloc[0]["status"] == "off_track"
    done = trajectories(points.assign(value=[-10.0, -8.0, -6.0, 1.0]), Targets(targets=[target]))
    assert done.iloc[0]["status"] == "met"


def test_settings_files_report_the_line_and_field_of_a_mistake(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  cant_see_gap:\n    threshold: 1.5\n")
    with pytest.raises(ConfigError, match=r"rules.yaml:3: rules.cant_see_gap.threshold"):
        load_rules(rules)
    targets = tmp_path / "targets.yaml"
    targets.write_text("targets:\n  - indicator_id: x\n    reduce_by: 0.5\n    by: March 2028\n")
    with pytest.raises(ConfigError, match=r"targets.yaml:4: targets.0.by"):
        load_targets(targets)
    rules.write_text("rules:\n  below_standard:\n    breakdowns: [postcode]\n")
    with pytest.raises(ConfigError, match="postcode"):
        load_rules(rules)


def test_shipped_targets_name_catalogue_indicators() -> None:
    from gapwatch.model.catalogue import load_catalogue

    known = {indicator.id for indicator in load_catalogue()}
    assert {target.indicator_id for target in load_targets().targets} <= known
