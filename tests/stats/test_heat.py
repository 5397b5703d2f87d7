"""WHO HEAT summary measures against values worked by hand from the HEAT Plus technical notes.

Reference: World Health Organization (2021, 2022) *Health Equity Assessment Toolkit Plus (HEAT
Plus): technical notes*, section "Summary measures of health inequality"; each test names the
measure's entry there. p_j = population share, mu = Σ p_j y_j, z = 1.959964 (95%).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gapwatch import stats
from gapwatch.errors import InputError

Z = 1.959963984540054


def _table(result: pd.DataFrame) -> pd.DataFrame:
    return result.set_index("measure")


def test_ordered_difference_and_ratio_follow_the_indicator_direction() -> None:
    # Notes, "Difference (D)" and "Ratio (R)": ordered dimensions compare the most advantaged
    # and most disadvantaged groups; favourable D = y_adv - y_dis, adverse D = y_dis - y_adv
    # (R likewise), so D > 0 always means the disadvantaged fare worse.
    # Area "a" is the example, quintile 1 most disadvantaged, adverse indicator:
    #   30, 22, 25, 18, 20 -> D = 30 - 20 = +10, R = 30 / 20 = 1.5.
    #   se 2 (q1) and 1 (q5): D limits 10 -/+ z sqrt(4 + 1);
    #   R limits exp(ln 1.5 -/+ z sqrt(2²/30² + 1²/20²)).
    # Area "b", adverse with the most advantaged faring worst: 10, 20, 30, 40
    #   -> D = 10 - 40 = -30, R = 10 / 40 = 0.25 (the advantaged fare worse).
    # Rows are scrambled: the quintile, not the row order, says who is disadvantaged.
    frame = pd.DataFrame(
        {
            "area": ["b", "a", "a", "b", "a", "a", "b", "a", "b"],
            "q": [3, 5, 2, 1, 4, 1, 4, 3, 2],
            "y": [30.0, 20, 22, 10, 18, 30, 40, 25, 20],
            "pop": [1.0] * 9,
            "se": [1.0, 1, 1, 1, 1, 2, 1, 1, 1],
        }
    )
    result = stats.heat_measures(frame, "q", "y", "pop", by="area", se="se", ordered=True, favourable=False)
    a = _table(result[result.area == "a"])
    b = _table(result[result.area == "b"])
    assert a.value["difference"] == pytest.approx(10)
    assert a.value["ratio"] == pytest.approx(1.5)
    assert a.lower["difference"] == pytest.approx(10 - Z * math.sqrt(5))
    assert a.upper["difference"] == pytest.approx(10 + Z * math.sqrt(5))
    log_se = math.sqrt(4 / 900 + 1 / 400)
    assert a.lower["ratio"] == pytest.approx(1.5 * math.exp(-Z * log_se))
    assert a.upper["ratio"] == pytest.approx(1.5 * math.exp(Z * log_se))
    assert b.value["difference"] == pytest.approx(-30)
    assert b.value["ratio"] == pytest.approx(0.25)
    # Favourable, ordered: 50, 80, 70, 60, 55 -> D = 55 - 50 = 5, R = 55 / 50 = 1.1.
    fav = pd.DataFrame({"q": [5, 4, 3, 2, 1], "y": [55.0, 60, 70, 80, 50], "pop": [1.0] * 5})
    f = _table(stats.heat_measures(fav, "q", "y", "pop", ordered=True, favourable=True))
    assert f.value["difference"] == pytest.approx(5)
    assert f.value["ratio"] == pytest.approx(1.1)
    # Unordered: highest minus lowest whatever the direction (notes, "Difference (D)").
    u = _table(stats.heat_measures(fav, "q", "y", "pop", favourable=False))
    assert u.value["difference"] == pytest.approx(30)
    assert u.value["ratio"] == pytest.approx(80 / 50)


def test_population_attributable_risk_uses_the_most_advantaged_group_and_stops_at_zero() -> None:
    # Notes, "Population attributable risk (PAR)" and "fraction (PAF)": PAR = y_ref - mu with
    # ref = the most advantaged group (ordered) or the best-performing group (unordered);
    # PAR = 0 when ref fares worse than the mean; PAF = PAR / mu × 100.
    cases = [
        # Ordered, adverse, q5 (20) better than the mean: mu = (30+22+25+18+20)/5 = 23,
        # PAR = 20 - 23 = -3 (not 18 - 23, the best group), PAF = -3/23 × 100.
        ([30.0, 22, 25, 18, 20], [1.0] * 5, True, False, -3.0, -300 / 23),
        # Ordered, favourable, q5 (55) worse than the mean 63 -> PAR = PAF = 0.
        ([50.0, 80, 70, 60, 55], [1.0] * 5, True, True, 0.0, 0.0),
        # Ordered, adverse, q4 (40) worse than the mean 25 -> PAR = PAF = 0.
        ([10.0, 20, 30, 40], [1.0] * 4, True, False, 0.0, 0.0),
        # Ordered, favourable, unequal populations, q3 (70) better than the mean:
        # mu = (40·1 + 50·1 + 70·2)/4 = 57.5, PAR = 12.5, PAF = 12.5/57.5 × 100.
        ([40.0, 50, 70], [1.0, 1, 2], True, True, 12.5, 1250 / 57.5),
        # Unordered, favourable: best = 9, mu = (5 + 9 + 7·2)/4 = 7, PAR = 2, PAF = 200/7.
        ([5.0, 9, 7], [1.0, 1, 2], False, True, 2.0, 200 / 7),
        # Unordered, adverse: best = 5, mu = 7, PAR = -2, PAF = -200/7.
        ([5.0, 9, 7], [1.0, 1, 2], False, False, -2.0, -200 / 7),
    ]
    for y, pop, ordered, favourable, par, paf in cases:
        frame = pd.DataFrame({"q": range(1, len(y) + 1), "y": y, "pop": pop})
        t = _table(stats.heat_measures(frame, "q", "y", "pop", ordered=ordered, favourable=favourable))
        assert t.value["population_attributable_risk"] == pytest.approx(par, abs=1e-12), (y, favourable)
        assert t.value["population_attributable_fraction"] == pytest.approx(paf, abs=1e-12), (y, favourable)


def test_between_group_variance_limits_keep_the_second_order_terms() -> None:
    # Notes, "Between-group variance (BGV)"; variance from Ahn et al. (2018), the exact
    # variance of Σ p_j (y_j - mu)² for independent normal errors.
    # y = 10, 20, 30; populations 2, 1, 1 -> p = 0.5, 0.25, 0.25; se = 2, 1, 3.
    # mu = 5 + 5 + 7.5 = 17.5; deviations -7.5, 2.5, 12.5.
    # BGV = 0.5·56.25 + 0.25·6.25 + 0.25·156.25 = 68.75.
    # First order 4 Σ p² d² se² = 4 (0.25·56.25·4 + 0.0625·6.25·1 + 0.0625·156.25·9)
    #   = 4 (56.25 + 0.390625 + 87.890625) = 578.125.
    # Second order 2 [Σ p²(1-p)² se⁴ + (Σ p² se²)² - Σ p⁴ se⁴]:
    #   Σ p²(1-p)² se⁴ = 0.0625·16 + 0.03515625·1 + 0.03515625·81 = 3.8828125
    #   Σ p² se² = 1 + 0.0625 + 0.5625 = 1.625, squared 2.640625
    #   Σ p⁴ se⁴ = 0.0625·16 + 0.00390625·1 + 0.00390625·81 = 1.3203125
    #   -> 2 (3.8828125 + 2.640625 - 1.3203125) = 10.40625.
    # se = sqrt(588.53125) = 24.2597 (first order alone: 24.0442, 0.9% narrower).
    frame = pd.DataFrame({"g": ["c", "a", "b"], "y": [30.0, 10, 20], "pop": [1.0, 2, 1], "se": [3.0, 2, 1]})
    t = _table(stats.heat_measures(frame, "g", "y", "pop", se="se"))
    se = math.sqrt(588.53125)
    assert t.value["between_group_variance"] == pytest.approx(68.75)
    assert t.lower["between_group_variance"] == pytest.approx(68.75 - Z * se, rel=1e-9)
    assert t.upper["between_group_variance"] == pytest.approx(68.75 + Z * se, rel=1e-9)
    # BGSD = sqrt(68.75); delta-method se = se(BGV) / (2 BGSD).
    bgsd = math.sqrt(68.75)
    assert t.upper["between_group_sd"] == pytest.approx(bgsd + Z * se / (2 * bgsd), rel=1e-9)


def test_a_zero_estimate_is_replaced_as_heat_does() -> None:
    # Notes, "Theil index (TI)" and "Mean log deviation (MLD)"; HEAT replaces a zero
    # estimate by 1e-6 inside r_j = y_j / mu.
    # y = 0, 10, 20; populations 1, 1, 2 -> p = 0.25, 0.25, 0.5; mu = 0 + 2.5 + 10 = 12.5.
    # r = 1e-6/12.5 = 8e-8, 0.8, 1.6.
    # TI = 1000 Σ p r ln r = 1000 (0.25·8e-8·ln 8e-8 + 0.25·0.8·ln 0.8 + 0.5·1.6·ln 1.6)
    #    = 1000 (-3.27e-7 - 0.0446287 + 0.3760029) = 331.3739.
    # MLD = 1000 Σ p (-ln r) = 1000 (0.25·16.34124 + 0.25·0.2231436 - 0.5·0.4700036) = 3906.094.
    frame = pd.DataFrame({"g": [3, 1, 2], "y": [20.0, 0, 10], "pop": [2.0, 1, 1]})
    t = _table(stats.heat_measures(frame, "g", "y", "pop"))
    theil = 1000 * (0.25 * 8e-8 * math.log(8e-8) + 0.25 * 0.8 * math.log(0.8) + 0.5 * 1.6 * math.log(1.6))
    mld = 1000 * (-0.25 * math.log(8e-8) - 0.25 * math.log(0.8) - 0.5 * math.log(1.6))
    assert t.value["theil_index"] == pytest.approx(theil, rel=1e-12)
    assert t.value["theil_index"] == pytest.approx(331.3739, abs=1e-4)
    assert t.value["mean_log_deviation"] == pytest.approx(mld, rel=1e-12)
    assert t.value["mean_log_deviation"] == pytest.approx(3906.094, abs=1e-3)


def test_all_zero_estimates_give_zero_absolute_and_missing_relative_measures() -> None:
    # Every absolute measure is 0; those relative to the mean are missing (mu = 0), never an
    # exception. Notes: each relative measure divides by mu (R by the reference group).
    zeros = pd.DataFrame({"area": ["x"] * 3 + ["y"] * 3, "q": [1, 2, 3] * 2,
                          "y": [0.0, 0, 0, 2, 4, 6], "pop": [1.0] * 6})  # fmt: skip
    result = stats.heat_measures(zeros, "q", "y", "pop", by="area", ordered=True)
    x = _table(result[result.area == "x"])
    for name in ("difference", "between_group_variance", "population_attributable_risk",
                 "absolute_concentration_index", "mean_difference_from_mean_weighted"):  # fmt: skip
        assert x.value[name] == 0, name
    for name in ("ratio", "theil_index", "mean_log_deviation", "population_attributable_fraction",
                 "relative_concentration_index", "index_of_disparity_weighted"):  # fmt: skip
        assert np.isnan(x.value[name]), name
    # The other area is unaffected: mu = 4, PAR = 6 - 4 = 2.
    assert _table(result[result.area == "y"]).value["population_attributable_fraction"] == pytest.approx(50)


def test_concentration_index_limits() -> None:
    # Notes, "Absolute concentration index (ACI)" and "Relative concentration index (RCI)".
    # Ordered, y = 40, 50, 70; populations 1, 1, 2 -> p = 0.25, 0.25, 0.5; se = 2, 2, 1.
    # X = 0.125, 0.375, 0.75 -> 2X - 1 = -0.75, -0.25, 0.5; mu = 10 + 12.5 + 35 = 57.5.
    # ACI = 0.25·-0.75·40 + 0.25·-0.25·50 + 0.5·0.5·70 = -7.5 - 3.125 + 17.5 = 6.875.
    # var(ACI) = Σ p² (2X-1)² se² = 0.0625·0.5625·4 + 0.0625·0.0625·4 + 0.25·0.25·1 = 0.21875.
    # RCI = 6.875 / 57.5 = 0.1195652 (×100 = 11.95652); 2X - 1 - RCI = -0.8695652,
    #   -0.3695652, 0.3804348; var = 0.0625·4·0.7561437 + 0.0625·4·0.1365784
    #   + 0.25·1·0.1447306 = 0.2593632; se = 100·sqrt(0.2593632)/57.5 = 0.8856993.
    frame = pd.DataFrame({"q": [3, 1, 2], "y": [70.0, 40, 50], "pop": [2.0, 1, 1], "se": [1.0, 2, 2]})
    t = _table(stats.heat_measures(frame, "q", "y", "pop", se="se", ordered=True))
    assert t.value["absolute_concentration_index"] == pytest.approx(6.875)
    assert t.lower["absolute_concentration_index"] == pytest.approx(6.875 - Z * math.sqrt(0.21875))
    assert t.upper["absolute_concentration_index"] == pytest.approx(6.875 + Z * math.sqrt(0.21875))
    assert t.value["relative_concentration_index"] == pytest.approx(687.5 / 57.5)
    assert t.upper["relative_concentration_index"] == pytest.approx(687.5 / 57.5 + Z * 0.8856993, rel=1e-6)


def test_theil_and_mean_log_deviation_limits() -> None:
    # Notes, "Theil index (TI)" and "Mean log deviation (MLD)"; delta-method limits.
    # y = 10, 20, 30; p = 0.5, 0.25, 0.25; se = 2, 1, 3; mu = 17.5.
    # r = 0.5714286, 1.1428571, 1.7142857; ln r = -0.5596158, 0.1335314, 0.5389965.
    # T = Σ p r ln r = -0.1598902 + 0.0381518 + 0.2310985 = 0.1092601 (×1000 = 109.2601).
    # dT/dy_j = p_j (ln r_j - T) / mu = -0.01911074, 0.00034673, 0.00613909;
    #   se(T) = 1000 sqrt(Σ (dT/dy_j)² se_j²) = 1000 sqrt(0.00180020) = 42.42874.
    # MLD = -Σ p ln r = 0.1116759 (×1000 = 111.6759); dM/dy_j = p_j (1 - 1/r_j) / mu
    #   = -0.02142857, 0.00178571, 0.00595238; se = 1000 sqrt(0.0021587) = 46.46290.
    frame = pd.DataFrame({"g": ["a", "b", "c"], "y": [10.0, 20, 30], "pop": [2.0, 1, 1], "se": [2.0, 1, 3]})
    t = _table(stats.heat_measures(frame, "g", "y", "pop", se="se"))
    assert t.value["theil_index"] == pytest.approx(109.2601, abs=1e-4)
    assert t.lower["theil_index"] == pytest.approx(109.26010 - Z * 42.42874, abs=1e-4)
    assert t.value["mean_log_deviation"] == pytest.approx(111.67592, abs=1e-4)
    assert t.upper["mean_log_deviation"] == pytest.approx(111.67592 + Z * 46.46290, abs=1e-4)
    # Notes, "Mean difference from best performing subgroup (MDB)", "Mean difference from
    # mean (MDM)" and "Index of disparity (IDIS)", on the same data:
    # favourable, best = 30: MDBW = 0.5·20 + 0.25·10 + 0.25·0 = 12.5; MDBU = (20+10+0)/3 = 10;
    # MDMW = 0.5·7.5 + 0.25·2.5 + 0.25·12.5 = 7.5; MDMU = (7.5+2.5+12.5)/3 = 7.5;
    # IDISW = IDISU = 7.5 / 17.5 × 100 = 42.857143. No limits (HEAT simulates them).
    assert t.value["mean_difference_from_best_weighted"] == pytest.approx(12.5)
    assert t.value["mean_difference_from_best_unweighted"] == pytest.approx(10)
    assert t.value["mean_difference_from_mean_weighted"] == pytest.approx(7.5)
    assert t.value["mean_difference_from_mean_unweighted"] == pytest.approx(7.5)
    assert t.value["index_of_disparity_weighted"] == pytest.approx(750 / 17.5)
    assert t.value["index_of_disparity_unweighted"] == pytest.approx(750 / 17.5)
    assert np.isnan(t.lower["index_of_disparity_weighted"])
    # Adverse, best = 10: MDBW = 0.5·0 + 0.25·10 + 0.25·20 = 7.5; MDBU = (0+10+20)/3 = 10.
    adverse = _table(stats.heat_measures(frame, "g", "y", "pop", favourable=False))
    assert adverse.value["mean_difference_from_best_weighted"] == pytest.approx(7.5)
    assert adverse.value["mean_difference_from_best_unweighted"] == pytest.approx(10)
    # Independent check of the gradients: central differences of the point estimates.
    for name in ("theil_index", "mean_log_deviation"):
        gradient = []
        for j in range(3):
            step = np.zeros(3)
            step[j] = 1e-5
            up = frame.assign(y=frame.y + step)
            down = frame.assign(y=frame.y - step)
            value_up = _table(stats.heat_measures(up, "g", "y", "pop")).value[name]
            value_down = _table(stats.heat_measures(down, "g", "y", "pop")).value[name]
            gradient.append((value_up - value_down) / 2e-5)
        se = math.sqrt(sum((g * s) ** 2 for g, s in zip(gradient, [2.0, 1, 3], strict=True)))
        assert (t.upper[name] - t.value[name]) / Z == pytest.approx(se, rel=1e-5), name


def test_a_set_with_no_population_is_an_error() -> None:
    frame = pd.DataFrame({"g": [1, 2], "y": [1.0, 2.0], "pop": [0.0, 0.0]})
    with pytest.raises(InputError, match="total population of 0"):
        stats.heat_measures(frame, "g", "y", "pop")
