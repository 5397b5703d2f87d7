"""Gaps, comparisons, funnel limits and WHO HEAT summary measures on hand-worked examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from gapwatch import stats
from gapwatch.errors import InputError


def test_newcombe_difference_matches_his_published_example() -> None:
    # Newcombe (1998) Stat Med 17:873, Table II example (a): 56/70 vs 48/80,
    # method 10 gives 0.0524 to 0.3339.
    result = stats.gap(56, 70, 48, 80)
    assert result.difference.iloc[0] == pytest.approx(0.2)
    assert result.difference_lower.iloc[0] == pytest.approx(0.0524, abs=5e-5)
    assert result.difference_upper.iloc[0] == pytest.approx(0.3339, abs=5e-5)


def test_ratio_limits_on_the_log_scale() -> None:
    result = stats.gap(30, 100, 10, 100)
    se = np.sqrt(1 / 30 - 1 / 100 + 1 / 10 - 1 / 100)
    z = scipy_stats.norm.ppf(0.975)
    assert result.ratio_lower.iloc[0] == pytest.approx(3 * np.exp(-z * se))
    assert result.ratio_upper.iloc[0] == pytest.approx(3 * np.exp(z * se))
    rates = stats.gap(30, 1000, 10, 1000, measure="rate", multiplier=1000)
    assert rates.difference.iloc[0] == pytest.approx(20)
    assert rates.ratio_lower.iloc[0] == pytest.approx(3 * np.exp(-z * np.sqrt(1 / 30 + 1 / 10)))
    assert np.isnan(stats.gap(0, 100, 10, 100).ratio_lower.iloc[0])


def test_compare_follows_polarity() -> None:
    low, high = [1.0, 5.0, 9.0], [4.0, 12.0, 15.0]
    assert list(stats.compare([2, 8, 12], low, high, 5.0)) == ["lower", "similar", "higher"]
    assert list(stats.compare([2, 8, 12], low, high, 5.0, "lower_is_better")) == [
        "better",
        "similar",
        "worse",
    ]
    assert list(stats.compare([2], [np.nan], [3], 5.0)) == ["not compared"]
    with pytest.raises(InputError, match="polarity='up'"):
        stats.compare([1], [0], [2], 1, "up")  # type: ignore[arg-type]


def test_funnel_limits_narrow_with_size_and_widen_with_confidence() -> None:
    limits = stats.funnel_limits([50, 500, 5000], target=0.3)
    assert (np.diff(limits.upper_95) < 0).all()
    assert (limits.lower_99_8 < limits.lower_95).all()
    # Large denominators approach the normal approximation.
    normal = 0.3 - 1.959964 * np.sqrt(0.3 * 0.7 / 5000)
    assert limits.lower_95.iloc[2] == pytest.approx(normal, abs=5e-4)
    rates = stats.funnel_limits(
        [1000, 100_000], target=50, measure="rate", multiplier=100_000, confidence=0.95
    )
    # 100,000 people at 50 per 100,000 expect 50 events; the limit is near 50 + 1.96 sqrt(50).
    assert rates.upper_95.iloc[1] == pytest.approx(50 + 1.959964 * np.sqrt(50), rel=0.02)
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        stats.funnel_limits([10], target=1.5)


def test_heat_measures_on_a_worked_example() -> None:
    frame = pd.DataFrame({"quintile": [1, 2, 3, 4, 5], "coverage": [60.0, 65, 70, 75, 80],
                          "pop": [100.0] * 5, "se": [2.0] * 5})  # fmt: skip
    result = stats.heat_measures(frame, "quintile", "coverage", "pop", se="se", ordered=True).set_index(
        "measure"
    )
    mean = 70.0
    assert result.value["difference"] == pytest.approx(20)
    assert result.lower["difference"] == pytest.approx(20 - 1.959964 * np.sqrt(8), rel=1e-6)
    assert result.value["ratio"] == pytest.approx(80 / 60)
    assert result.value["between_group_variance"] == pytest.approx(50)
    assert result.value["population_attributable_risk"] == pytest.approx(10)
    assert result.value["population_attributable_fraction"] == pytest.approx(10 / mean * 100)
    ranks = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    aci = (0.2 * (2 * ranks - 1) * frame.coverage).sum()
    assert result.value["absolute_concentration_index"] == pytest.approx(aci)
    ratios = frame.coverage / mean
    assert result.value["theil_index"] == pytest.approx((0.2 * ratios * np.log(ratios)).sum() * 1000)
    assert result.value["index_of_disparity_unweighted"] == pytest.approx(6 / mean * 100)
    assert set(result.index) == set(stats.heat.MEASURES)


def test_heat_by_groups_and_unordered() -> None:
    frame = pd.DataFrame({"area": ["a", "a", "b", "b"], "group": ["x", "y", "x", "y"],
                          "rate": [5.0, 10.0, 8.0, 4.0], "pop": [1.0, 1.0, 1.0, 3.0]})  # fmt: skip
    result = stats.heat_measures(frame, "group", "rate", "pop", by="area", favourable=False)
    par = result[result.measure == "population_attributable_risk"].set_index("area").value
    assert par["a"] == pytest.approx(5 - 7.5)
    assert par["b"] == pytest.approx(4 - 5.0)
    assert result[result.measure == "absolute_concentration_index"].value.isna().all()


def test_against_the_best_group_both_uncertainties_count() -> None:
    # Issue 17: White, 69% of 605, was "worse" than Other, 76% of 21 (the best point value),
    # because White's interval was held against Other's point estimate. With the MOVER
    # interval of the difference (Newcombe 1998 method 10; Zou & Donner 2008), by hand from
    # the Wilson limits: White 68.93 (65.13 to 72.48), Other 76.19 (54.91 to 89.37);
    # d = -7.26, lower = d - sqrt(3.80² + 13.18²) = -20.98, upper = d + sqrt(3.56² + 21.28²)
    # = 14.31: holds 0, so "similar". Black 49.50 (45.53 to 53.48): d = -26.69, upper =
    # -26.69 + sqrt(3.98² + 21.28²) = -5.04 < 0, so "worse". Three areas, scrambled rows.
    from gapwatch.model.catalogue import load_catalogue
    from gapwatch.stats.indicators import indicator_values

    indicator = load_catalogue().indicators["cervical_screening_25_49"]
    rows = [
        {"indicator_id": "cervical_screening_25_49", "period_start": pd.Timestamp("2025-01-01").date(),
         "period_end": pd.Timestamp("2025-03-31").date(), "area_type": area_type, "area_code": code,
         "breakdown": "overall" if group == "all" else "ethnic_group", "group": group,
         "numerator": float(numerator), "denominator": float(denominator)}
        for area_type, code in (("england", "E92000001"), ("icb", "E54000057"), ("icb", "E54000036"))
        for group, numerator, denominator in (("all", 732, 1230), ("White", 417, 605), ("Other", 16, 21),
                                              ("Black", 299, 604))
    ]  # fmt: skip
    cells = pd.DataFrame(rows).sample(frac=1, random_state=3).reset_index(drop=True)
    out = indicator_values(cells, pd.DataFrame(), {"cervical_screening_25_49": indicator})
    verdict = out.loc[out["group"] != "all"].groupby("group")["comparison_best"].agg(set)
    assert verdict.to_dict() == {"White": {"similar"}, "Other": {"best"}, "Black": {"worse"}}
    from gapwatch.stats.compare import difference_limits

    white, other = out.loc[out["group"] == "White"].iloc[0], out.loc[out["group"] == "Other"].iloc[0]
    d, low, high = difference_limits(
        *(np.array([row[key]]) for row in (white, other) for key in ("value", "lower", "upper"))
    )
    assert (round(float(d[0]), 2), round(float(low[0]), 2), round(float(high[0]), 2)) == (
        -7.26,
        -20.98,
        14.31,
    )


def _funnel_values(rng: np.random.Generator) -> pd.DataFrame:
    """Overall published values of three indicators, two area types and two periods, shuffled."""
    rows = []
    for indicator, england in (("screening", 62.0), ("admissions", 410.0), ("wait", 9.0)):
        for period in ("2024-04-01", "2024-07-01"):
            rows.append(("england", "E92000001", indicator, period, 50_000.0, england, False))
            for area_type, sizes in (("icb", [900.0, 4_000.0, 12_000.0]), ("region", [20_000.0, 30_000.0])):
                for number, size in enumerate(sizes):
                    rows.append((area_type, f"E{number}", indicator, period, size, england * 1.1, False))
            # Suppressed, empty and zero-denominator areas are not plotted.
            rows.append(("icb", "EX", indicator, period, 5.0, 40.0, True))
            rows.append(("icb", "EY", indicator, period, 300_000.0, np.nan, False))
            rows.append(("icb", "EZ", indicator, period, 0.0, 10.0, False))
    frame = pd.DataFrame(
        rows,
        columns=[
            "area_type",
            "area_code",
            "indicator_id",
            "period_start",
            "denominator",
            "value",
            "suppressed",
        ],
    )
    people = frame.assign(breakdown="sex", group="female")
    frame = pd.concat([frame.assign(breakdown="overall", group="overall"), people], ignore_index=True)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def test_funnel_plots_are_drawn_around_england_for_each_indicator_area_type_and_period() -> None:
    indicators = pd.DataFrame(
        {
            "indicator_id": ["wait", "admissions", "screening"],
            "measure": ["median", "crude_rate", "proportion"],
            "multiplier": [1.0, 100_000.0, 100.0],
        }
    )
    values = _funnel_values(np.random.default_rng(7))
    plots = stats.funnel_plots(values, indicators)
    # A median gets no funnel; each of the others one per area type and period.
    keys = plots[["indicator_id", "area_type", "period_start"]].drop_duplicates()
    assert sorted(map(tuple, keys.to_numpy())) == [
        (indicator, area_type, period)
        for indicator in ("admissions", "screening")
        for area_type in ("icb", "region")
        for period in ("2024-04-01", "2024-07-01")
    ]
    one = plots.loc[
        (plots["indicator_id"] == "screening")
        & (plots["area_type"] == "icb")
        & (plots["period_start"] == "2024-07-01")
    ]
    # The published areas only (not the suppressed, empty or zero-sized ones) set its span.
    expected = stats.funnel_plot([900.0, 4_000.0, 12_000.0], 62.0, "proportion", multiplier=100)
    assert expected is not None
    pd.testing.assert_frame_equal(
        one.drop(columns=["indicator_id", "area_type", "period_start"]).reset_index(drop=True), expected
    )
    assert one["denominator"].iloc[0] == 720
    assert one["denominator"].iloc[-1] == 14_400
    assert (one["target"] == 62.0).all()
    rates = plots.loc[(plots["indicator_id"] == "admissions") & (plots["area_type"] == "region")]
    assert (rates["target"] == 410.0).all()
    assert (rates["upper_99_8"] > 410.0).all()


def test_no_funnel_without_england_or_around_an_impossible_target() -> None:
    indicators = pd.DataFrame(
        {"indicator_id": ["screening"], "measure": ["proportion"], "multiplier": [100.0]}
    )
    values = _funnel_values(np.random.default_rng(3))
    values = values.loc[values["indicator_id"] == "screening"]
    withheld = values.assign(value=values["value"].where(values["area_type"] != "england"))
    assert stats.funnel_plots(withheld, indicators).empty
    assert stats.funnel_plot([100.0], 100.0, "proportion", multiplier=100) is None
    assert stats.funnel_plot([100.0], 0.0, "rate") is None
    assert stats.funnel_plot([], 5.0, "rate") is None
