"""XmR charts and the Making Data Count rules, against series worked by hand.

Every worked example writes out its arithmetic: the mean, the moving ranges and their
average mR̄, the limits mean ± 2.66 mR̄ and, where a rule needs it, the two-thirds line
mean ± (2/3)(2.66 mR̄) = mean ± 1.7733 mR̄.
"""

from __future__ import annotations

import itertools
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gapwatch.errors import InputError
from gapwatch.stats.spc import XmrResult, xmr

# CI runs many more examples than a developer's machine (see the Makefile's test target).
EXAMPLES = int(os.environ.get("GAPWATCH_PROPERTY_EXAMPLES", "150"))
NAN = math.nan
RULES = ("outside_limits", "shift", "trend", "two_of_three")


def _flagged(result: XmrResult) -> dict[str, list[int]]:
    return {rule: np.flatnonzero(getattr(result, rule)).tolist() for rule in RULES}


def _only(result: XmrResult, rule: str, points: list[int]) -> None:
    """Exactly ``rule`` fires, on exactly ``points``."""
    expected = {name: points if name == rule else [] for name in RULES}
    assert _flagged(result) == expected


def _none(result: XmrResult) -> None:
    assert _flagged(result) == {name: [] for name in RULES}
    assert not result.special_cause.any()


# --- The basic chart -----------------------------------------------------------------


def test_worked_example_limits() -> None:
    # 10, 12, 11, 13, 12: mean 58/5 = 11.6; moving ranges 2, 1, 2, 1 -> mR̄ 6/4 = 1.5;
    # 2.66 × 1.5 = 3.99, so limits 11.6 ± 3.99 = 7.61 and 15.59. Nothing is special.
    result = xmr([10, 12, 11, 13, 12])
    np.testing.assert_allclose(result.mean, 11.6)
    np.testing.assert_allclose(result.average_moving_range, 1.5)
    np.testing.assert_allclose(result.moving_range, [NAN, 2, 1, 2, 1])
    np.testing.assert_allclose(result.lower, 7.61)
    np.testing.assert_allclose(result.upper, 15.59)
    assert result.segment.tolist() == [0, 0, 0, 0, 0]
    _none(result)
    assert result.variation == ("common_cause",) * 5
    assert result.latest_variation == "common_cause"
    assert result.assurance is None


def test_result_arrays_are_read_only_and_input_is_not_aliased() -> None:
    values = np.array([10.0, 12, 11, 13, 12])
    result = xmr(values)
    with pytest.raises(ValueError, match="read-only"):
        result.mean[0] = 0
    values[0] = 99
    assert result.values[0] == 10


def test_accepts_pandas_series() -> None:
    import pandas as pd

    np.testing.assert_allclose(xmr(pd.Series([10, 12, 11, 13, 12])).upper, 15.59)


def test_empty_series() -> None:
    result = xmr([], target=3.0)
    assert result.values.size == 0
    assert result.variation == ()
    assert result.latest_variation is None
    assert result.assurance is None


# --- Rule (a): outside the limits ----------------------------------------------------


def test_outside_limits_flags_the_point_beyond_the_upper_limit() -> None:
    # 9, 11 five times then 19: mean (45 + 55 + 19)/11 = 119/11 = 10.818; moving ranges
    # nine 2s and |19 - 11| = 8 -> mR̄ 26/10 = 2.6; upper 10.818 + 2.66 × 2.6 = 17.734.
    # 19 > 17.734. The two-thirds line 10.818 + 4.611 = 15.429 has only 19 beyond it, and
    # the 9s and 11s straddle the mean, so no other rule fires.
    result = xmr([9, 11] * 5 + [19])
    np.testing.assert_allclose(result.upper, 119 / 11 + 2.66 * 2.6)
    _only(result, "outside_limits", [10])


def test_outside_limits_near_miss() -> None:
    # Same with 17: mean 117/11 = 10.636; mR̄ (18 + 6)/10 = 2.4; upper
    # 10.636 + 6.384 = 17.020, and 17 is just inside it.
    result = xmr([9, 11] * 5 + [17])
    np.testing.assert_allclose(result.upper, 117 / 11 + 2.66 * 2.4)
    _none(result)


def test_outside_limits_below_the_lower_limit() -> None:
    # The mirror image: negating a series negates the mean and swaps the limits.
    result = xmr([-9, -11] * 5 + [-19])
    np.testing.assert_allclose(result.lower, -(119 / 11 + 2.66 * 2.6))
    _only(result, "outside_limits", [10])


# --- Rule (b): a shift of 7 on one side of the mean ------------------------------------


def test_shift_of_seven_above_the_mean() -> None:
    # 16, 4, 16, 4 | 11, 12, 11, 11, 11, 12, 11 | 4, 16, 2: sum 40 + 79 + 22 = 141, mean
    # 141/14 = 10.071. The middle seven are all above it, bounded by 4s below it.
    # Moving ranges 12, 12, 12, 7, 1, 1, 0, 0, 1, 1, 7, 12, 14 = 80 -> mR̄ 80/13 = 6.154;
    # limits 10.071 ± 16.37 and two-thirds line 10.071 ± 10.91, which 16 and 2 stay inside.
    result = xmr([16, 4, 16, 4, 11, 12, 11, 11, 11, 12, 11, 4, 16, 2])
    np.testing.assert_allclose(result.mean, 141 / 14)
    np.testing.assert_allclose(result.average_moving_range, 80 / 13)
    _only(result, "shift", [4, 5, 6, 7, 8, 9, 10])


def test_shift_run_of_six_is_not_flagged() -> None:
    # 14, 6, 14, 6 | 11, 12, 11, 12, 11, 12 | 6, 14, 6: mean 135/13 = 10.385; only six
    # values in a row above it.
    result = xmr([14, 6, 14, 6, 11, 12, 11, 12, 11, 12, 6, 14, 6])
    np.testing.assert_allclose(result.mean, 135 / 13)
    _none(result)


def test_shift_run_of_seven_is_flagged() -> None:
    # One more 11 in the run: mean 146/14 = 10.429, seven values above it.
    result = xmr([14, 6, 14, 6, 11, 12, 11, 12, 11, 12, 11, 6, 14, 6])
    np.testing.assert_allclose(result.mean, 146 / 14)
    _only(result, "shift", [4, 5, 6, 7, 8, 9, 10])


def test_shift_point_on_the_mean_breaks_the_run() -> None:
    # The first shift series with its middle 11 replaced by 10: sum 140, mean exactly 10,
    # so the seven become three above, one on the mean, three above.
    result = xmr([16, 4, 16, 4, 11, 12, 11, 10, 11, 12, 11, 4, 16, 2])
    assert result.mean[0] == 10
    _none(result)


def test_shift_below_the_mean() -> None:
    result = xmr([-v for v in [16, 4, 16, 4, 11, 12, 11, 11, 11, 12, 11, 4, 16, 2]])
    _only(result, "shift", [4, 5, 6, 7, 8, 9, 10])


# --- Rule (c): a trend of 6 -------------------------------------------------------------


def test_trend_of_six_rising() -> None:
    # 1…6: mean 3.5, moving ranges all 1 -> mR̄ 1; limits 3.5 ± 2.66 = 0.84 and 6.16;
    # two-thirds line 3.5 ± 1.773 = 1.727 and 5.273, beyond which only 1 and 6 lie (never
    # two in one window of three); three below and three above the mean. Five rises.
    result = xmr([1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(result.lower, 0.84)
    np.testing.assert_allclose(result.upper, 6.16)
    _only(result, "trend", [0, 1, 2, 3, 4, 5])


def test_trend_of_five_rising_is_not_flagged() -> None:
    # 1…5: mean 3, mR̄ 1, limits 0.34 and 5.66; only four rises.
    _none(xmr([1, 2, 3, 4, 5]))


def test_trend_of_six_falling() -> None:
    _only(xmr([6, 5, 4, 3, 2, 1]), "trend", [0, 1, 2, 3, 4, 5])


def test_trend_equal_values_break_it() -> None:
    # 1, 2, 3, 3, 4, 5, 6: three rises, no change, three rises.
    assert not xmr([1, 2, 3, 3, 4, 5, 6]).trend.any()


def test_trend_flags_only_the_trend() -> None:
    # 6, 14, 7, 8, 9, 10, 11, 12, 6, 14, 6: 14 -> 7 falls, then five rises to 12.
    # Mean 103/11 = 9.364, so 7, 8, 9 are below and 10, 11, 12 above; moving ranges
    # 8, 7, 1, 1, 1, 1, 1, 6, 8, 8 -> mR̄ 4.2; limits 9.364 ± 11.17, two-thirds ± 7.45.
    _only(xmr([6, 14, 7, 8, 9, 10, 11, 12, 6, 14, 6]), "trend", [2, 3, 4, 5, 6, 7])


# --- Rule (d): two of three beyond two-thirds of the way to a limit ----------------------


TWO_OF_THREE = [9, 11] * 4 + [18, 11, 18] + [11, 9] * 3 + [11]


def test_two_of_three_flags_the_two_beyond() -> None:
    # 18 values, sum 198 -> mean exactly 11. Moving ranges: seven 2s, four 7s around the
    # 18s, six 2s = 54 -> mR̄ 54/17 = 3.176; upper limit 11 + 8.449 = 19.449; two-thirds
    # line 11 + 1.7733 × 3.176 = 16.633. Both 18s are beyond the line, inside the limit,
    # and in one window of three (18, 11, 18); the 11 between them is not flagged.
    result = xmr(TWO_OF_THREE)
    assert result.mean[0] == 11
    np.testing.assert_allclose(result.average_moving_range, 54 / 17)
    _only(result, "two_of_three", [8, 10])


def test_two_of_three_near_miss_when_three_apart() -> None:
    # 9, 11 ×4, 18, 11, 9, 18, 11, 9 ×3, 11: mean 207/19 = 10.895, mR̄ 58/18 = 3.222,
    # two-thirds line 10.895 + 5.714 = 16.609. Both 18s are beyond it but no window of
    # three consecutive values holds both.
    result = xmr([9, 11] * 4 + [18, 11, 9, 18] + [11, 9] * 3 + [11])
    np.testing.assert_allclose(result.mean, 207 / 19)
    _none(result)


def test_two_of_three_below() -> None:
    _only(xmr([-v for v in TWO_OF_THREE]), "two_of_three", [8, 10])


def test_two_of_three_needs_the_same_side() -> None:
    # 10, 11 ×3, 14, 6, 10, 11 ×3: sum 146, mean 146/14 = 10.429; moving ranges five 1s,
    # 3, 8, 4, five 1s = 25 -> mR̄ 25/13 = 1.923; two-thirds lines 10.429 ± 3.410 =
    # 13.839 and 7.018. 14 is beyond the upper line and 6 beyond the lower one, in one
    # window, but one on each side is not the pattern.
    result = xmr([10, 11] * 3 + [14, 6] + [10, 11] * 3)
    np.testing.assert_allclose(result.average_moving_range, 25 / 13)
    _none(result)


# --- Change points ------------------------------------------------------------------------


def test_change_point_recalculates_limits() -> None:
    # Two copies of the worked example, the second 10 higher. Each segment: mean 11.6 and
    # 21.6, moving ranges 2, 1, 2, 1 -> mR̄ 1.5, limits ± 3.99. The jump 12 -> 20 is not a
    # moving range of either segment.
    values = [10, 12, 11, 13, 12, 20, 22, 21, 23, 22]
    result = xmr(values, change_points=[5])
    np.testing.assert_allclose(result.mean, [11.6] * 5 + [21.6] * 5)
    np.testing.assert_allclose(result.average_moving_range, 1.5)
    np.testing.assert_allclose(result.moving_range, [NAN, 2, 1, 2, 1, NAN, 2, 1, 2, 1])
    np.testing.assert_allclose(result.upper, [15.59] * 5 + [25.59] * 5)
    assert result.segment.tolist() == [0] * 5 + [1] * 5
    assert result.change_points == (5,)
    _none(result)
    # Without it: mean 16.6, moving ranges 2, 1, 2, 1, 8, 2, 1, 2, 1 -> mR̄ 20/9 = 2.222,
    # limits 16.6 ± 5.911 = 10.689 and 22.511, so 10 and 23 fall outside.
    whole = xmr(values)
    np.testing.assert_allclose(whole.upper, 16.6 + 2.66 * 20 / 9)
    assert _flagged(whole)["outside_limits"] == [0, 8]


def test_trends_and_runs_do_not_cross_a_change_point() -> None:
    assert xmr([1, 2, 3, 4, 5, 6]).trend.all()
    assert not xmr([1, 2, 3, 4, 5, 6], change_points=[3]).trend.any()
    shifted = [16, 4, 16, 4, 11, 12, 11, 11, 11, 12, 11, 4, 16, 2]
    assert not xmr(shifted, change_points=[8]).shift[4:11].any()


def test_change_points_in_any_order_with_repeats() -> None:
    values = list(range(12))
    assert xmr(values, change_points=[8, 4, 8]).change_points == (4, 8)
    assert xmr(values, change_points=np.array([4, 8])).segment.tolist() == [0] * 4 + [1] * 4 + [2] * 4


def test_single_point_segment_has_no_limits_or_rules() -> None:
    # The last segment is 50 alone: its mean is 50 but there is no moving range.
    result = xmr([10, 12, 11, 13, 12, 50], change_points=[5], target=5.0)
    assert result.mean[5] == 50
    assert math.isnan(result.lower[5])
    assert math.isnan(result.upper[5])
    assert not result.special_cause[5]
    assert result.assurance is None
    one = xmr([7.0])
    assert one.mean.tolist() == [7.0]
    assert math.isnan(one.upper[0])
    assert one.variation == ("common_cause",)


# --- Missing periods ----------------------------------------------------------------------


def test_nan_is_left_out_of_mean_and_moving_ranges() -> None:
    # The worked example with a gap: the moving range bridges it (|12 - 10| = 2), so the
    # mean (11.6) and mR̄ (1.5) are those of the five values.
    result = xmr([10, NAN, 12, 11, 13, 12])
    np.testing.assert_allclose(result.mean, 11.6)
    np.testing.assert_allclose(result.average_moving_range, 1.5)
    np.testing.assert_allclose(result.moving_range, [NAN, NAN, 2, 1, 2, 1])
    assert result.variation[1] is None
    assert result.variation[0] == "common_cause"


def test_nan_is_never_flagged_and_does_not_break_a_run() -> None:
    values = [16, 4, 16, 4, 11, 12, 11, NAN, 11, 11, 12, 11, 4, 16, 2]
    result = xmr(values)
    assert _flagged(result)["shift"] == [4, 5, 6, 8, 9, 10, 11]
    assert not result.special_cause[7]


def test_latest_variation_skips_trailing_missing_periods() -> None:
    result = xmr([*([9, 11] * 5), 19, NAN], improvement="up")
    assert result.variation[-1] is None
    assert result.latest_variation == "special_cause_improving"


def test_all_missing() -> None:
    result = xmr([NAN, NAN, NAN], target=1.0)
    assert np.isnan(result.mean).all()
    assert result.latest_variation is None
    assert result.assurance is None
    assert not result.special_cause.any()


# --- Variation categories -----------------------------------------------------------------


SPIKE_UP = [9, 11] * 5 + [19]
SPIKE_DOWN = [-9, -11] * 5 + [-19]


@pytest.mark.parametrize(
    ("values", "improvement", "expected"),
    [
        (SPIKE_UP, "up", "special_cause_improving"),
        (SPIKE_UP, "down", "special_cause_concerning"),
        (SPIKE_UP, None, "special_cause_high"),
        (SPIKE_DOWN, "up", "special_cause_concerning"),
        (SPIKE_DOWN, "down", "special_cause_improving"),
        (SPIKE_DOWN, None, "special_cause_low"),
    ],
)
def test_variation_category(values: list[int], improvement: str | None, expected: str) -> None:
    result = xmr(values, improvement=improvement)  # type: ignore[arg-type]
    assert result.latest_variation == expected
    assert result.variation == ("common_cause",) * 10 + (expected,)


def test_variation_by_side_of_the_mean_within_a_shift_and_trend() -> None:
    # 1…6 rising with improvement "up": 1, 2, 3 are below the mean 3.5, so concerning;
    # 4, 5, 6 above it, so improving.
    result = xmr([1, 2, 3, 4, 5, 6], improvement="up")
    assert result.variation == ("special_cause_concerning",) * 3 + ("special_cause_improving",) * 3


def test_variation_of_a_trend_point_on_the_mean_follows_the_trend() -> None:
    # 1…7: mean 4; the 4 is on the mean and flagged only by the rising trend, so high.
    assert xmr([1, 2, 3, 4, 5, 6, 7], improvement=None).variation[3] == "special_cause_high"
    assert xmr([7, 6, 5, 4, 3, 2, 1], improvement=None).variation[3] == "special_cause_low"
    # 21, 1…6…1, 21: sum 78 over 13 values, mean exactly 6, the peak. It ends a rising
    # trend and starts a falling one: a peak, so high; mirrored, a trough, so low.
    peak = [21, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1, 21]
    result = xmr(peak, improvement=None)
    assert result.mean[0] == 6
    assert result.trend[6]
    assert result.variation[6] == "special_cause_high"
    assert xmr([-v for v in peak], improvement=None).variation[6] == "special_cause_low"


# --- Assurance ----------------------------------------------------------------------------


WORKED = [10, 12, 11, 13, 12]  # limits 7.61 and 15.59


@pytest.mark.parametrize(
    ("improvement", "target", "expected"),
    [
        ("up", 7.0, "consistently_met"),  # lower 7.61 >= 7
        ("up", 16.0, "consistently_not_met"),  # upper 15.59 < 16
        ("up", 11.0, "hit_and_miss"),
        ("down", 16.0, "consistently_met"),  # upper 15.59 <= 16
        ("down", 7.0, "consistently_not_met"),  # lower 7.61 > 7
        ("down", 11.0, "hit_and_miss"),
        ("up", None, None),
        ("down", None, None),
        (None, None, None),
    ],
)
def test_assurance(improvement: str | None, target: float | None, expected: str | None) -> None:
    assert xmr(WORKED, improvement=improvement, target=target).assurance == expected  # type: ignore[arg-type]


def test_assurance_target_on_the_limit() -> None:
    # A target exactly on the limit that must clear it counts as met for "up" (lower ≥
    # target) and for "down" (upper ≤ target). The chart's own limits are used because
    # 7.61 and 15.59 are not exact in binary.
    chart = xmr(WORKED)
    assert xmr(WORKED, target=float(chart.lower[0])).assurance == "consistently_met"
    assert xmr(WORKED, improvement="down", target=float(chart.upper[0])).assurance == "consistently_met"


def test_assurance_uses_the_latest_segment() -> None:
    # First segment limits 7.61-15.59 would be hit and miss for 16; after the step up
    # (21.6 ± 3.99 = 17.61-25.59) the target 16 is consistently met.
    values = [10, 12, 11, 13, 12, 20, 22, 21, 23, 22]
    assert xmr(values, target=16.0).assurance == "hit_and_miss"
    assert xmr(values, change_points=[5], target=16.0).assurance == "consistently_met"


# --- Errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "options", "match"),
    [
        ([[1.0, 2.0], [3.0, 4.0]], {}, "1-D"),
        (5.0, {}, "1-D"),
        (["a", 1.0], {}, "not numeric"),
        ([1.0, math.inf], {}, "infinite"),
        ([1.0, 2.0, 3.0], {"change_points": [0]}, "out of range"),
        ([1.0, 2.0, 3.0], {"change_points": [3]}, "out of range"),
        ([1.0, 2.0, 3.0], {"change_points": [-1]}, "out of range"),
        ([1.0, 2.0, 3.0], {"change_points": [1.5]}, "not an integer"),
        ([1.0, 2.0, 3.0], {"change_points": [True]}, "not an integer"),
        ([1.0, 2.0, 3.0], {"change_points": 2}, "not a list"),
        ([1.0, 2.0, 3.0], {"improvement": "higher"}, "improvement"),
        ([1.0, 2.0, 3.0], {"improvement": None, "target": 2.0}, "needs improvement"),
        ([1.0, 2.0, 3.0], {"target": math.nan}, "finite"),
        ([1.0, 2.0, 3.0], {"target": "2"}, "finite"),
    ],
)
def test_bad_input(values: object, options: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        xmr(values, **options)  # type: ignore[arg-type]


# --- Properties ---------------------------------------------------------------------------


def _reference_rules(values: list[float], mean: float, spread: float) -> dict[str, list[bool]]:
    """The four rules by brute force over windows, for one segment without gaps."""
    n = len(values)
    width = 2.66 * spread
    near = 2 * width / 3
    out = {rule: [False] * n for rule in RULES}
    for i, value in enumerate(values):
        out["outside_limits"][i] = value > mean + width or value < mean - width
    for start in range(n - 6):
        window = values[start : start + 7]
        if all(v > mean for v in window) or all(v < mean for v in window):
            out["shift"][start : start + 7] = [True] * 7
    for start in range(n - 5):
        window = values[start : start + 6]
        steps = [b - a for a, b in itertools.pairwise(window)]
        if all(s > 0 for s in steps) or all(s < 0 for s in steps):
            out["trend"][start : start + 6] = [True] * 6
    for start in range(max(n - 2, 1)):
        indices = range(start, min(start + 3, n))
        for beyond in (lambda v: v > mean + near, lambda v: v < mean - near):
            hits = [i for i in indices if beyond(values[i])]
            if len(hits) >= 2:
                for i in hits:
                    out["two_of_three"][i] = True
    return out


small_values = st.lists(st.one_of(st.integers(0, 6).map(float), st.just(NAN)), min_size=0, max_size=30)
real_values = st.lists(
    st.one_of(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), st.just(NAN)),
    min_size=0,
    max_size=40,
)


@st.composite
def charts(draw: st.DrawFn, values: st.SearchStrategy[list[float]]) -> tuple[list[float], list[int]]:
    series = draw(values)
    points = draw(st.sets(st.integers(1, len(series) - 1), max_size=3)) if len(series) > 1 else set()
    return series, sorted(points)


@settings(max_examples=EXAMPLES, deadline=None)
@given(charts(small_values))
def test_rules_match_brute_force(chart: tuple[list[float], list[int]]) -> None:
    # Small integers make ties, values on the mean and equal neighbours common.
    series, points = chart
    result = xmr(series, change_points=points)
    bounds = [0, *points, len(series)]
    for start, stop in itertools.pairwise(bounds):
        where = [i for i in range(start, stop) if not math.isnan(series[i])]
        present = [series[i] for i in where]
        if len(present) < 2:
            assert not result.special_cause[start:stop].any()
            continue
        mean = sum(present) / len(present)
        spread = sum(abs(b - a) for a, b in itertools.pairwise(present)) / (len(present) - 1)
        np.testing.assert_allclose(result.mean[start:stop], mean, rtol=1e-12)
        np.testing.assert_allclose(result.average_moving_range[start:stop], spread, rtol=1e-12)
        expected = _reference_rules(present, float(result.mean[start]), spread)
        for rule in RULES:
            assert getattr(result, rule)[where].tolist() == expected[rule], rule
    assert not result.special_cause[np.isnan(result.values)].any()


@settings(max_examples=EXAMPLES, deadline=None)
@given(charts(real_values))
def test_mean_lies_between_limits(chart: tuple[list[float], list[int]]) -> None:
    series, points = chart
    result = xmr(series, change_points=points)
    has_limits = ~np.isnan(result.upper)
    assert (result.lower[has_limits] <= result.mean[has_limits]).all()
    assert (result.mean[has_limits] <= result.upper[has_limits]).all()


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.integers(0, 40),
    st.sampled_from(["up", "down", None]),
)
def test_constant_series_has_no_flags(level: float, n: int, improvement: str | None) -> None:
    result = xmr([level] * n, improvement=improvement)  # type: ignore[arg-type]
    assert not result.special_cause.any()
    assert set(result.variation) <= {"common_cause"}
    if n > 1:
        assert (result.lower == level).all()
        assert (result.upper == level).all()


def _close(a: np.ndarray, b: np.ndarray, scale: float) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * scale)


@settings(max_examples=EXAMPLES, deadline=None)
@given(charts(real_values), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
def test_limits_move_with_a_constant_shift(chart: tuple[list[float], list[int]], shift: float) -> None:
    series, points = chart
    before = xmr(series, change_points=points)
    after = xmr([v + shift for v in series], change_points=points)
    scale = 1e6 + abs(shift)
    _close(after.mean, before.mean + shift, scale)
    _close(after.lower, before.lower + shift, scale)
    _close(after.upper, before.upper + shift, scale)
    _close(after.average_moving_range, before.average_moving_range, scale)


@settings(max_examples=EXAMPLES, deadline=None)
@given(charts(real_values), st.floats(-1e3, 1e3, allow_nan=False).filter(lambda k: abs(k) > 1e-3))
def test_limits_scale_linearly(chart: tuple[list[float], list[int]], factor: float) -> None:
    series, points = chart
    before = xmr(series, change_points=points)
    after = xmr([v * factor for v in series], change_points=points)
    scale = 1e6 * abs(factor)
    _close(after.mean, before.mean * factor, scale)
    _close(after.average_moving_range, before.average_moving_range * abs(factor), scale)
    # A negative factor turns the chart upside down, so the limits swap.
    low, high = (after.lower, after.upper) if factor > 0 else (after.upper, after.lower)
    _close(low, before.lower * factor, scale)
    _close(high, before.upper * factor, scale)
