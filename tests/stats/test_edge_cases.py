"""Edge cases of the statistics (issue 17, item 3): limits in range, clear errors, withheld limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from gapwatch import stats
from gapwatch.errors import InputError


def test_funnel_lower_limit_is_zero_where_the_tail_count_is_zero() -> None:
    # Binomial(10, 0.08): P(X = 0) = 0.92**10 = 0.434 is above 0.025 and 0.001, so both
    # lower tail counts are 0; the interpolation toward count -1 used to give -0.094.
    assert scipy_stats.binom(10, 0.08).cdf(0) == pytest.approx(0.92**10)
    limits = stats.funnel_limits([10], 0.08)
    assert limits.lower_95.iloc[0] == 0.0
    assert limits.lower_99_8.iloc[0] == 0.0
    # Where the tail count is above 0 nothing changes: Binomial(100, 0.08) at 0.025 is 3,
    # F(3) = 0.03745, F(2) = 0.01127, limit = (3 - (F(3) - 0.025) / (F(3) - F(2))) / 100.
    f3, f2 = scipy_stats.binom(100, 0.08).cdf([3, 2])
    expected = (3 - (f3 - 0.025) / (f3 - f2)) / 100
    assert stats.funnel_limits([100], 0.08).lower_95.iloc[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("target", "measure", "multiplier"),
    [(0.08, "proportion", 1), (0.95, "proportion", 1), (3.0, "proportion", 100), (99.0, "proportion", 100),
     (0.08, "rate", 1), (50.0, "rate", 100_000)],
)  # fmt: skip
def test_funnel_limits_stay_within_the_range_of_the_measure(
    target: float, measure: str, multiplier: float
) -> None:
    rng = np.random.default_rng(17)
    denominators = rng.permutation(np.concatenate([np.arange(1, 60), [100, 1000, 10_000]]))
    limits = stats.funnel_limits(denominators, target, measure, multiplier=multiplier)  # type: ignore[arg-type]
    bounds = limits.drop(columns="denominator").to_numpy()
    assert np.isfinite(bounds).all()
    assert (bounds >= 0).all()
    if measure == "proportion":
        assert (bounds <= multiplier).all()
    # Order of the rows does not matter: each denominator gets the same limits.
    again = stats.funnel_limits(np.sort(denominators), target, measure, multiplier=multiplier)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(
        limits.sort_values("denominator", ignore_index=True), again.reset_index(drop=True)
    )


def _banded() -> pd.DataFrame:
    # Three areas, two bands each, rows scrambled: the error must name the right band.
    frame = pd.DataFrame(
        {
            "area": ["a", "a", "b", "b", "c", "c"],
            "age_band": ["0-4", "5-9", "0-4", "5-9", "0-4", "5-9"],
            "count": [5.0, 7.0, 3.0, 4.0, 9.0, 2.0],
            "pop": [100.0] * 6,
            "ref_count": [50.0, 60.0] * 3,
            "ref_pop": [1000.0, 1200.0] * 3,
        }
    )
    return frame.iloc[[3, 0, 5, 1, 4, 2]].reset_index(drop=True)


@pytest.mark.parametrize("function", ["isr", "smr"])
@pytest.mark.parametrize("reference", [0.0, np.nan])
def test_zero_or_missing_reference_population_is_an_error_naming_the_band(
    function: str, reference: float
) -> None:
    frame = _banded()
    frame.loc[frame["age_band"] == "5-9", "ref_pop"] = reference
    method = getattr(stats, function)
    with pytest.raises(
        InputError,
        match=r"ref_pop: reference population zero or missing in 3 rows \(e\.g\. age band '5-9' of area 'b'\)",
    ):
        method(frame, "count", "pop", "ref_count", "ref_pop", by="area")
    # Reference populations given as an array, no band column: the row is named instead.
    populations = np.where(frame["age_band"] == "0-4", 1000.0, reference)
    with pytest.raises(InputError, match=r"ref_population: .* in 3 rows \(e\.g\. row 1 of area .b.\)"):
        method(frame.drop(columns="age_band"), "count", "pop", "ref_count", populations, by="area")


def test_complete_reference_populations_still_give_the_ratio() -> None:
    # Area a: expected = 100 × 50/1000 + 100 × 60/1200 = 10, observed 12: SMR 1.2.
    result = stats.smr(_banded(), "count", "pop", "ref_count", "ref_pop", by="area").set_index("area")
    assert result.loc["a", "value"] == pytest.approx(1.2)
    assert result.loc["c", "value"] == pytest.approx(11 / 10)


def _waits() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "area": ["a", "a", "a", "b", "b", "b", "c", "c"],
            "wait": [2.0, np.nan, 4.0, 3.0, 5.0, 7.0, np.nan, np.nan],
        }
    )
    return frame.iloc[[4, 0, 7, 2, 5, 1, 3, 6]].reset_index(drop=True)


def test_mean_with_missing_values_is_an_error_by_default() -> None:
    with pytest.raises(InputError, match=r"wait: 3 rows missing; .*missing='drop'"):
        stats.mean(_waits(), "wait", by="area")
    with pytest.raises(InputError, match="wait: 3 rows missing"):
        stats.mean(_waits(), "wait")
    with pytest.raises(InputError, match="missing='skip'"):
        stats.mean(_waits(), "wait", missing="skip")  # type: ignore[arg-type]


def test_mean_drops_missing_values_only_when_asked_and_says_how_many() -> None:
    result = stats.mean(_waits(), "wait", by="area", missing="drop").set_index("area")
    # a: (2 + 4) / 2 = 3 from 2 values, 1 left out; b: 5 from 3, none; c: nothing to average.
    assert result.loc["a", "value"] == pytest.approx(3.0)
    assert result.loc["b", "value"] == pytest.approx(5.0)
    assert np.isnan(result.loc["c", "value"])
    assert result["value_count"].to_dict() == {"a": 2, "b": 3, "c": 0}
    assert result["value_missing"].to_dict() == {"a": 1, "b": 0, "c": 2}
    overall = stats.mean(_waits(), "wait", missing="drop")
    assert overall.value.iloc[0] == pytest.approx(21 / 5)
    assert overall.value_missing.iloc[0] == 3
    # Complete data are unchanged and carry no count of missing values.
    complete = stats.mean(_waits().dropna(), "wait", by="area")
    assert "value_missing" not in complete.columns


@pytest.mark.parametrize(
    ("numerator", "denominator", "message"),
    [
        ([5, 12, 3], [10, 10, 10], "numerator: 1 row above denominator"),
        ([5, -1, 3], [10, 10, 10], "numerator: 1 row negative"),
        ([5, 1, 3], [10, -10, 10], "denominator: 1 row negative"),
        ([5, 3, 2], [10, 0, 0], "denominator: 2 rows zero with events in the numerator"),
    ],
)
def test_proportion_errors_name_numerator_and_denominator(
    numerator: list[int], denominator: list[int], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        stats.proportion(numerator, denominator)
    with pytest.raises(InputError, match=message):
        stats.wilson(numerator, denominator)


def test_rate_errors_name_numerator_and_denominator() -> None:
    with pytest.raises(InputError, match="numerator: 1 row negative"):
        stats.rate([5, -1], [100, 100])
    with pytest.raises(InputError, match="denominator: 1 row zero with events in the numerator; a rate"):
        stats.rate([5, 3, 0], [100, 0, 0])
    with pytest.raises(InputError, match="count: 1 row negative"):
        stats.poisson_limits([5, -1])
    # No events over nothing is a missing value, not an error.
    result = stats.rate([0, 5], [0, 100], multiplier=100)
    assert np.isnan(result.value.iloc[0])
    assert result.value.iloc[1] == pytest.approx(5.0)


def test_pipeline_cells_with_events_over_a_zero_denominator_are_noted_not_raised() -> None:
    from gapwatch.model.catalogue import Indicator
    from gapwatch.stats.indicators import CELL_KEYS, indicator_values

    indicator = Indicator.model_validate(
        {"id": "admissions", "title": "Admissions", "description": "d", "domain": "outcome",
         "reference": "test only", "source": "spells", "date_column": "admitted", "measure": "crude_rate",
         "numerator": {"where": "emergency"}, "denominator": {"population": "population"},
         "multiplier": 1000, "polarity": "lower_is_better"}
    )  # fmt: skip
    # Quintile 3 has records but no population: the unknown group is another matter (a
    # count alone, never a rate: see stats.indicators), so a known group is used here.
    groups = ["overall", "1", "2", "3"]
    cells = pd.DataFrame(
        {
            "indicator_id": "admissions",
            "period_start": pd.Timestamp("2024-04-01"),
            "period_end": pd.Timestamp("2024-06-30"),
            "area_type": "icb",
            "area_code": "E54000001",
            "breakdown": ["overall", "imd_quintile", "imd_quintile", "imd_quintile"],
            "group": groups,
            # The unknown quintile has records but no population (0) to divide them by.
            "numerator": [30.0, 20.0, 6.0, 4.0],
            "denominator": [3000.0, 1000.0, 2000.0, 0.0],
        }
    ).iloc[[2, 3, 0, 1]]
    values = indicator_values(cells, pd.DataFrame(), {"admissions": indicator}).set_index("group")
    assert set(CELL_KEYS) <= set(values.reset_index().columns)
    assert np.isnan(values.loc["3", "value"])
    assert values.loc["3", "note"] == "events counted but the denominator is 0: not calculated"
    assert values.loc["1", "value"] == pytest.approx(20.0)
    assert values.loc["2", "note"] == ""


def _quintiles() -> pd.DataFrame:
    # Equal populations: slope weights (-1, -0.5, 0, 0.5, 1) and intercept weights
    # (0.7, 0.45, 0.2, -0.05, -0.3) (Low & Low 2004 regression, worked by hand).
    # Area "low": c = 0.7×1 + 0.45×4 + 0.2×6 - 0.05×9 - 0.3×12 = -0.35, se(c) = 2 ×
    # sqrt(0.49 + 0.2025 + 0.04 + 0.0025 + 0.09) = 1.817: the interval of the value the
    # RII divides by includes 0. Area "high": c = 69, far from 0.
    frame = pd.DataFrame(
        {
            "area": ["low"] * 5 + ["high"] * 5,
            "q": [1, 2, 3, 4, 5] * 2,
            "pop": 1000.0,
            "v": [1.0, 4.0, 6.0, 9.0, 12.0, 70.0, 72.0, 74.0, 76.0, 78.0],
            "se": 2.0,
        }
    )
    return frame.iloc[[7, 2, 9, 0, 4, 5, 8, 1, 3, 6]].reset_index(drop=True)


@pytest.mark.parametrize("method", ["analytic", "simulation"])
def test_rii_limits_are_withheld_when_the_value_it_divides_by_could_be_zero(method: str) -> None:
    result = stats.sii(
        _quintiles(), "q", "pop", "v", se="se", by="area", confidence=[0.95, 0.998], method=method,  # type: ignore[arg-type]
        reps=20_000, seed=3,
    ).set_index(["area", "confidence"])  # fmt: skip
    low = result.loc["low"]
    assert low.rii.to_numpy() == pytest.approx((-0.35 + 13.5) / -0.35)
    assert low.rii_lower.isna().all()
    assert low.rii_upper.isna().all()
    assert low.note.str.startswith("RII limits withheld").all()
    # The SII is a difference, bounded whatever c: its limits stay, 13.5 ± 1.96 × 2 × sqrt(2.5).
    expected = 13.5 - 1.959964 * 2 * np.sqrt(2.5)
    assert low.loc[0.95, "sii_lower"] == pytest.approx(expected, rel=1e-6 if method == "analytic" else 0.02)
    high = result.loc["high"]
    assert high.rii_lower.notna().all()
    assert (high.note == "").all()
    assert (high.rii_lower < high.rii).all()
    assert (high.rii < high.rii_upper).all()


def test_rii_limits_withheld_for_the_least_deprived_end_when_inverted() -> None:
    # With a negative multiplier the RII is inverted and divides by c + s, the fitted
    # least-deprived value: the mirror image of area "low" withholds, area "low" does not
    # (c + s = 13.15, se = 2 × sqrt(0.09 + 0.0025 + 0.04 + 0.2025 + 0.49) = 1.817).
    frame = _quintiles()
    mirrored = frame.assign(q=6 - frame["q"], area=frame["area"] + " mirrored")
    both = pd.concat([frame, mirrored], ignore_index=True)
    result = stats.sii(both, "q", "pop", "v", se="se", by="area", multiplier=-1).set_index("area")
    assert np.isnan(result.loc["low mirrored", "rii_lower"])
    assert "least deprived end" in result.loc["low mirrored", "note"]
    assert np.isfinite(result.loc["low", "rii_lower"])


def test_pipeline_rii_row_carries_the_withheld_note() -> None:
    from gapwatch.model.catalogue import Indicator
    from gapwatch.stats.indicators import inequality_measures

    indicator = Indicator.model_validate(
        {"id": "wait", "title": "Waiting time", "description": "d", "domain": "access",
         "reference": "test only", "source": "referrals", "date_column": "referred", "measure": "mean",
         "value": "days", "polarity": "lower_is_better"}
    )  # fmt: skip
    quintiles = _quintiles()
    values = pd.DataFrame(
        {
            "indicator_id": "wait",
            "period_start": pd.Timestamp("2024-04-01"),
            "period_end": pd.Timestamp("2024-06-30"),
            "area_type": "icb",
            "area_code": quintiles["area"].map({"low": "E54000001", "high": "E54000002"}),
            "breakdown": "imd_quintile",
            "group": quintiles["q"].astype(str),
            "numerator": np.nan,
            "denominator": quintiles["pop"],
            "value": quintiles["v"],
            "lower": quintiles["v"] - 1.959964 * quintiles["se"],
            "upper": quintiles["v"] + 1.959964 * quintiles["se"],
        }
    )
    values["lower_95"], values["upper_95"] = values["lower"], values["upper"]
    measures = inequality_measures(values, {"wait": indicator}).set_index(["area_code", "measure"])
    withheld = measures.loc[("E54000001", "rii")]
    assert np.isnan(withheld["lower"])
    assert np.isnan(withheld["upper"])
    assert withheld["note"].startswith("Low & Low (2004) across 5 quintiles; RII limits withheld")
    kept = measures.loc[("E54000002", "rii")]
    assert np.isfinite(kept["lower"])
    assert kept["note"] == "Low & Low (2004) across 5 quintiles"
    assert measures.loc[("E54000001", "sii"), "note"] == "Low & Low (2004) across 5 quintiles"
