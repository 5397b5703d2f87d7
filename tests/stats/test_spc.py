"""XmR charts and the Making Data Count rules, against series worked by hand.

Every worked example writes out its arithmetic: the mean, the moving ranges and their
average mR̄, the limits mean ± 2.66 mR̄ and, where a rule needs it, the two-thirds line
mean ± (2/3)(2.66 mR̄) = mean ± 1.7733 mR̄.

The rules are NHS England's Making Data Count (MDC) rules as its SPC tools apply them
(NHS England / NHS Improvement 2019, *Making Data Count: Strengthening your decisions*;
MDC's Excel tool as its team describes it: icons from 13 points, improvement wins where
improvement and concern both fire; MDC SQL SPC tool v2.5 defaults: shift 7, trend 7
points counting both ends) and as NHSRplotthedots 0.2 describes them (trend points
coloured by direction, pull request 180; two-of-three on one side of the mean, issue
143). The module docstring of gapwatch.stats.spc gives the full references.
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
from gapwatch.stats.spc import MIN_POINTS, XmrResult, icon_note, xmr

# CI runs many more examples than a developer's machine (see the Makefile's test target).
EXAMPLES = int(os.environ.get("GAPWATCH_PROPERTY_EXAMPLES", "150"))
NAN = math.nan
RULES = ("outside_limits", "shift", "trend", "two_of_three")
# 9, 11 six times then 19: mean 139/13 = 10.692; moving ranges eleven 2s and 8 -> mR̄
# 30/12 = 2.5; upper limit 10.692 + 6.65 = 17.342, which 19 passes; the two-thirds line
# 10.692 + 4.433 = 15.126 has only 19 beyond it. Thirteen points, so icons are given.
SPIKE_UP = [9, 11] * 6 + [19]
SPIKE_DOWN = [-v for v in SPIKE_UP]
# 10, 12, 11 four times then 11: sum 143, mean 11; moving ranges 2, 1, 1 (×3), 2, 1, 0 =
# 15 -> mR̄ 15/12 = 1.25; limits 11 ± 3.325 = 7.675 and 14.325; two-thirds line
# 11 ± 2.217, which nothing passes. Thirteen points of common-cause variation.
WORKED = [10, 12, 11] * 4 + [11]


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
    # Five points: trial limits, so no variation icon.
    assert result.trial_limits
    assert result.latest_variation is None
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


# --- Rule (c): a trend of 7 (six successive rises or falls) ----------------------------


def test_six_rising_points_are_not_a_trend() -> None:
    # 1…6 (MDC: five rises are not a trend): mean 3.5, moving ranges all 1 -> mR̄ 1;
    # limits 3.5 ± 2.66 = 0.84 and 6.16; two-thirds line 3.5 ± 1.773 = 1.727 and 5.273,
    # beyond which only 1 and 6 lie (never two in one window of three).
    result = xmr([1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(result.lower, 0.84)
    np.testing.assert_allclose(result.upper, 6.16)
    _none(result)


def test_six_falling_points_are_not_a_trend() -> None:
    _none(xmr([6, 5, 4, 3, 2, 1]))


# 6, 14, then 7…13 rising (six rises), then 6, 14, 6.
TREND = [6, 14, 7, 8, 9, 10, 11, 12, 13, 6, 14, 6]


def test_seven_rising_points_are_a_trend() -> None:
    # Sum 116 over 12 values, mean 9.667, so 7, 8, 9 are below it and 10…13 above.
    # Moving ranges 8, 7, six 1s, 7, 8, 8 = 44 -> mR̄ 4; limits 9.667 ± 10.64 = -0.973
    # and 20.307; two-thirds line 9.667 ± 7.093 = 2.573 and 16.760, which nothing passes.
    # No run of 7 on one side. 14 -> 7 falls, then six rises 7 -> 13: all 7 flagged.
    result = xmr(TREND)
    np.testing.assert_allclose(result.mean, 116 / 12)
    np.testing.assert_allclose(result.average_moving_range, 4.0)
    _only(result, "trend", [2, 3, 4, 5, 6, 7, 8])


def test_five_rises_inside_a_longer_series_are_not_a_trend() -> None:
    # TREND without the 13: 6, 14, 7…12, 6, 14, 6. Mean 103/11 = 9.364; moving ranges
    # 8, 7, five 1s, 6, 8, 8 -> mR̄ 42/10 = 4.2; limits 9.364 ± 11.17, two-thirds ± 7.45.
    # 7…12 is six points (five rises): not a trend.
    result = xmr([6, 14, 7, 8, 9, 10, 11, 12, 6, 14, 6])
    np.testing.assert_allclose(result.average_moving_range, 4.2)
    _none(result)


def test_seven_falling_points_are_a_trend() -> None:
    _only(xmr([-v for v in TREND]), "trend", [2, 3, 4, 5, 6, 7, 8])


def test_trend_equal_values_break_it() -> None:
    # 1, 2, 3, 3, 4, 5, 6, 7: two rises, no change, four rises.
    assert not xmr([1, 2, 3, 3, 4, 5, 6, 7]).trend.any()


# --- Rule (d): two of three beyond two-thirds of the way to a limit ----------------------


# 18 values: 9, 11 four times, then 18, 12, 18, then 11, 9 three times, then 10.
TWO_OF_THREE = [9, 11] * 4 + [18, 12, 18] + [11, 9] * 3 + [10]


def test_two_of_three_flags_the_two_beyond() -> None:
    # Sum 80 + 48 + 60 + 10 = 198 -> mean exactly 11. Moving ranges: seven 2s (14), 7, 6,
    # 6, 7, five 2s (10), 1 = 51 -> mR̄ 51/17 = 3; limits 11 ± 7.98 = 3.02 and 18.98;
    # two-thirds line 11 ± 5.32 = 5.68 and 16.32. Both 18s are beyond the upper line,
    # inside the limit, and the window 18, 12, 18 is wholly above the mean; the 12 between
    # them is not flagged. The 11s sit on the mean, so no run of 7 forms.
    result = xmr(TWO_OF_THREE)
    assert result.mean[0] == 11
    np.testing.assert_allclose(result.average_moving_range, 3.0)
    _only(result, "two_of_three", [8, 10])


def test_two_of_three_window_with_a_point_on_the_mean_does_not_fire() -> None:
    # As above with the 12 replaced by 11 and the last 10 by 11: sum 198, mean exactly 11,
    # so the middle of 18, 11, 18 is on the mean, on neither side. Moving ranges seven 2s,
    # four 7s, six 2s = 54 -> mR̄ 54/17 = 3.176; two-thirds line 11 + 5.633 = 16.633, which
    # both 18s pass, but MDC needs all three points of the window on one side.
    result = xmr([9, 11] * 4 + [18, 11, 18] + [11, 9] * 3 + [11])
    assert result.mean[0] == 11
    np.testing.assert_allclose(result.average_moving_range, 54 / 17)
    _none(result)


def test_two_of_three_window_with_a_point_below_the_mean_does_not_fire() -> None:
    # 9, 11 ×4, 18, 6, 18, 11, 9 ×3, 14: sum 80 + 42 + 60 + 14 = 196, mean 10.889. Moving
    # ranges 14, 7, 12, 12, 7, 10, 5 = 67 -> mR̄ 67/17 = 3.941; limits 10.889 ± 10.484 =
    # 0.405 and 21.373; two-thirds line 10.889 ± 6.989 = 3.900 and 17.878. Both 18s pass
    # the upper line, but the 6 between them is below the mean.
    result = xmr([9, 11] * 4 + [18, 6, 18] + [11, 9] * 3 + [14])
    np.testing.assert_allclose(result.mean, 196 / 18)
    np.testing.assert_allclose(result.average_moving_range, 67 / 17)
    _none(result)


def test_two_of_three_counts_a_point_beyond_the_limit() -> None:
    # Kept from MDC's tool since November 2023 (passes before and after this change):
    # 9, 11 ×4, 20, 12, 18, 11, 9 ×3, 8: sum 198, mean 11; moving ranges 14, 9, 8, 6, 7,
    # 10, 1 = 55 -> mR̄ 55/17 = 3.235; upper limit 11 + 8.606 = 19.606, which 20 passes;
    # two-thirds line 11 + 5.737 = 16.737, which 18 passes. The 20 counts for both rules.
    result = xmr([9, 11] * 4 + [20, 12, 18] + [11, 9] * 3 + [8])
    assert _flagged(result) == {"outside_limits": [8], "shift": [], "trend": [], "two_of_three": [8, 10]}


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
    assert xmr([1, 2, 3, 4, 5, 6, 7]).trend.all()
    assert not xmr([1, 2, 3, 4, 5, 6, 7], change_points=[3]).trend.any()
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
    result = xmr([*SPIKE_UP, NAN], improvement="up")
    assert result.variation[-1] is None
    assert result.latest_variation == "special_cause_improving"


def test_all_missing() -> None:
    result = xmr([NAN, NAN, NAN], target=1.0)
    assert np.isnan(result.mean).all()
    assert result.latest_variation is None
    assert result.assurance is None
    assert not result.special_cause.any()


# --- Variation categories -----------------------------------------------------------------


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
    assert result.variation == ("common_cause",) * 12 + (expected,)


def test_trend_points_take_the_trends_direction_not_their_side_of_the_mean() -> None:
    # TREND's rising 7…13 crosses its mean 9.667 (7, 8, 9 below it): every point of the
    # trend is improvement when up is better and concern when down is better.
    assert xmr(TREND, improvement="up").variation[2:9] == ("special_cause_improving",) * 7
    assert xmr(TREND, improvement="down").variation[2:9] == ("special_cause_concerning",) * 7
    assert xmr(TREND, improvement=None).variation[2:9] == ("special_cause_high",) * 7


# 16, 24 three times, then 1…7 rising: sum 120 + 28 = 148 over 13, mean 11.385. Moving
# ranges five 8s, 23, six 1s = 69 -> mR̄ 69/12 = 5.75; limits 11.385 ± 15.295 = -3.910
# and 26.680 (nothing outside); two-thirds line 11.385 ± 10.197 = 1.188 and 21.582. The
# 24s pass the upper line in windows 24, 16, 24 wholly above the mean (two-of-three);
# 1…7 is seven points below the mean (a shift) and six rises (a trend).
RISING_BELOW = [16, 24] * 3 + [1, 2, 3, 4, 5, 6, 7]


def test_improvement_wins_where_improvement_and_concern_both_fire() -> None:
    # With up better, the last point is a concern by the shift below the mean and an
    # improvement by the rising trend: MDC shows improvement.
    result = xmr(RISING_BELOW, improvement="up")
    np.testing.assert_allclose(result.mean, 148 / 13)
    np.testing.assert_allclose(result.average_moving_range, 69 / 12)
    assert _flagged(result) == {
        "outside_limits": [],
        "shift": [6, 7, 8, 9, 10, 11, 12],
        "trend": [6, 7, 8, 9, 10, 11, 12],
        "two_of_three": [1, 3, 5],
    }
    assert result.variation[6:] == ("special_cause_improving",) * 7
    assert result.latest_variation == "special_cause_improving"
    # With down better, the shift below is the improvement and the trend the concern.
    assert xmr(RISING_BELOW, improvement="down").latest_variation == "special_cause_improving"
    # Without a direction, both fire and the point's side of the mean decides.
    assert xmr(RISING_BELOW, improvement=None).latest_variation == "special_cause_low"


# 28, 1…7…1, 28: sum 56 + 28 + 21 = 105 over 15 values, mean exactly 7, the peak. Moving
# ranges 27, twelve 1s, 27 = 66 -> mR̄ 66/14 = 4.714; limits 7 ± 12.54, so the 28s are
# outside. 1…7 is a rising trend and 7…1 a falling one; the peak ends one, starts the other.
PEAK = [28, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1, 28]


def test_variation_at_the_turn_between_two_trends() -> None:
    result = xmr(PEAK, improvement=None)
    assert result.mean[0] == 7
    assert _flagged(result)["trend"] == list(range(1, 14))
    # On the mean and in both trends: a peak, so high; mirrored, a trough, so low.
    assert result.variation[7] == "special_cause_high"
    assert xmr([-v for v in PEAK], improvement=None).variation[7] == "special_cause_low"
    # The rising trend's points below the mean are high, the falling trend's low.
    assert result.variation[1:7] == ("special_cause_high",) * 6
    assert result.variation[8:14] == ("special_cause_low",) * 6
    # With a direction, the peak is in an improving and a concerning trend: improvement.
    assert xmr(PEAK, improvement="up").variation[7] == "special_cause_improving"
    assert xmr(PEAK, improvement="down").variation[7] == "special_cause_improving"


def test_variation_of_a_trend_point_on_the_mean_follows_the_trend() -> None:
    # 1…7: mean 4; limits 4 ± 2.66 put 1 and 7 outside; the 4 is on the mean and flagged
    # only by the trend, so rising is high and falling low.
    assert xmr([1, 2, 3, 4, 5, 6, 7], improvement=None).variation[3] == "special_cause_high"
    assert xmr([7, 6, 5, 4, 3, 2, 1], improvement=None).variation[3] == "special_cause_low"


# --- Icons need 13 points -------------------------------------------------------------------


def test_twelve_points_give_no_icon_thirteen_do() -> None:
    # WORKED's first 12 values: mean 11, moving ranges 2, 1, 1 (×3), 2, 1 = 15 -> mR̄
    # 15/11; lower limit 11 - 3.627 = 7.373 would meet a target of 7, but twelve points
    # give trial limits: no variation or assurance icon, and a reason.
    short = xmr(WORKED[:12], target=7.0)
    np.testing.assert_allclose(short.lower, 11 - 2.66 * 15 / 11)
    assert short.trial_limits
    assert short.latest_variation is None
    assert short.assurance is None
    assert short.icon_note is not None
    assert short.icon_note.startswith("Only 12 points")
    assert "13" in short.icon_note
    assert short.variation == ("common_cause",) * 12  # each point is still categorised
    full = xmr(WORKED, target=7.0)
    assert not full.trial_limits
    assert full.icon_note is None
    assert (full.latest_variation, full.assurance) == ("common_cause", "consistently_met")


def test_a_special_cause_in_a_short_series_gives_no_icon() -> None:
    # SPIKE_UP without its first two values: 11 points, 19 still outside its limits.
    result = xmr(SPIKE_UP[2:], improvement="up")
    assert result.outside_limits[-1]
    assert result.variation[-1] == "special_cause_improving"
    assert result.latest_variation is None


def test_missing_periods_do_not_count_towards_the_13() -> None:
    # Thirteen periods, one of them missing: twelve points.
    result = xmr([*WORKED[:12], NAN], target=7.0)
    assert result.trial_limits
    assert result.assurance is None
    assert icon_note(0) is not None
    assert "Only 1 point:" in str(icon_note(1))


def test_icons_count_the_points_since_the_last_change_point() -> None:
    # 13 + 7 values, limits recalculated at 13: the last segment has 7 points.
    values = WORKED + [v + 10 for v in WORKED[:7]]
    result = xmr(values, change_points=[13], target=7.0)
    assert result.trial_limits
    assert result.latest_variation is None
    assert result.assurance is None
    assert result.icon_note is not None
    assert "since the limits were last recalculated" in result.icon_note
    assert not xmr(WORKED + [v + 10 for v in WORKED], change_points=[13]).trial_limits
    assert MIN_POINTS == 13


# --- Assurance ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("improvement", "target", "expected"),
    [
        ("up", 7.0, "consistently_met"),  # lower 7.675 > 7
        ("up", 15.0, "consistently_not_met"),  # upper 14.325 < 15
        ("up", 11.0, "hit_and_miss"),
        ("down", 15.0, "consistently_met"),  # upper 14.325 < 15
        ("down", 7.0, "consistently_not_met"),  # lower 7.675 > 7
        ("down", 11.0, "hit_and_miss"),
        ("up", None, None),
        ("down", None, None),
        (None, None, None),
    ],
)
def test_assurance(improvement: str | None, target: float | None, expected: str | None) -> None:
    assert xmr(WORKED, improvement=improvement, target=target).assurance == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("improvement", "limit"), [("up", "lower"), ("up", "upper"), ("down", "lower"), ("down", "upper")]
)
def test_assurance_target_on_a_limit_is_hit_and_miss(improvement: str, limit: str) -> None:
    # MDC compares strictly: a target exactly on a process limit can be hit or missed.
    # The chart's own limits are used because 7.675 and 14.325 are not exact in binary.
    target = float(getattr(xmr(WORKED), limit)[0])
    assert xmr(WORKED, improvement=improvement, target=target).assurance == "hit_and_miss"  # type: ignore[arg-type]


def test_assurance_uses_the_latest_segment() -> None:
    # WORKED, then WORKED 10 higher: as one chart, mean 16, moving ranges 15 + 9 + 15 = 39
    # -> mR̄ 39/25 = 1.56, limits 16 ± 4.15 = 11.85 and 20.15: a target of 16 is hit and
    # miss. Recalculated at 13, the last segment's limits are 21 ± 3.325 = 17.675 and
    # 24.325, all above 16: consistently met.
    values = WORKED + [v + 10 for v in WORKED]
    assert xmr(values, target=16.0).assurance == "hit_and_miss"
    assert xmr(values, change_points=[13], target=16.0).assurance == "consistently_met"


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


@pytest.mark.parametrize("points", [-1, 2.5, True, "13"])
def test_icon_note_needs_a_count(points: object) -> None:
    with pytest.raises(InputError, match="not a count of points"):
        icon_note(points)  # type: ignore[arg-type]


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
    for start in range(n - 6):
        window = values[start : start + 7]
        steps = [b - a for a, b in itertools.pairwise(window)]
        if all(s > 0 for s in steps) or all(s < 0 for s in steps):
            out["trend"][start : start + 7] = [True] * 7
    for start in range(n - 2):
        indices = range(start, start + 3)
        for side, beyond in (
            (lambda v: v > mean, lambda v: v > mean + near),
            (lambda v: v < mean, lambda v: v < mean - near),
        ):
            hits = [i for i in indices if beyond(values[i])]
            if all(side(values[i]) for i in indices) and len(hits) >= 2:
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
