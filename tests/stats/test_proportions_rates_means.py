"""Proportions, crude rates and means against the published reference values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from gapwatch import stats
from gapwatch.errors import InputError
from tests.stats._oracle import DIGITS, oracle


@pytest.mark.parametrize(("function", "name"), [(stats.proportion, "Prop"), (stats.rate, "Rate")])
def test_values_and_both_confidence_levels_equal_the_reference(function: object, name: str) -> None:
    every = oracle(f"testdata_{name}.csv")
    assert every.multiplier.nunique() >= 2
    for multiplier, cases in every.groupby("multiplier"):
        for level, suffix in [(0.95, "95_0"), (0.998, "99_8")]:
            result = function(cases.Numerator, cases.Denominator, level, multiplier)  # type: ignore[operator]
            np.testing.assert_allclose(result.value, cases.value, rtol=DIGITS)
            np.testing.assert_allclose(result.lower, cases[f"lower{suffix}cl"], rtol=DIGITS)
            np.testing.assert_allclose(result.upper, cases[f"upper{suffix}cl"], rtol=DIGITS)


@pytest.mark.parametrize(("function", "name"), [(stats.proportion, "Prop_g"), (stats.rate, "Rate_g")])
def test_grouped_examples_equal_the_reference(function: object, name: str) -> None:
    cases = oracle(f"testdata_{name}.csv")
    result = function(cases.Numerator, cases.Denominator, 0.95, cases.multiplier.iloc[0])  # type: ignore[operator]
    np.testing.assert_allclose(result.value, cases.value, rtol=DIGITS)
    np.testing.assert_allclose(result.lower, cases.lowercl, rtol=DIGITS)
    np.testing.assert_allclose(result.upper, cases.uppercl, rtol=DIGITS)
    if name == "Rate_g":
        # A missing numerator has no method in the reference either.
        assert result.method.astype(object).fillna("none").tolist() == cases.method.fillna("none").tolist()


def test_polars_in_gives_polars_out() -> None:
    result = stats.proportion(pl.Series([1, 5]), pl.Series([100, 100]))
    assert isinstance(result, pl.DataFrame)
    assert result["value"].to_list() == [0.01, 0.05]


def test_zero_denominator_gives_missing_not_an_error() -> None:
    result = stats.proportion([0, 3], [0, 10])
    assert np.isnan(result.value.iloc[0])
    assert result.value.iloc[1] == pytest.approx(0.3)


def test_proportion_rejects_numerator_above_denominator() -> None:
    with pytest.raises(InputError, match="numerator: 1 row above denominator"):
        stats.proportion([5, 12], [10, 10])


def test_means_equal_the_reference() -> None:
    data = oracle("testdata_Mean.csv")
    expected = oracle("testdata_Mean_results.csv").set_index("area")
    grouped = stats.mean(data, "values", by="area").set_index("area")
    overall = stats.mean(data, "values", confidence=0.998)
    for area in ["Area1", "Area2"]:
        row = expected.loc[area]
        assert grouped.loc[area, "value"] == pytest.approx(row.value, rel=DIGITS)
        assert grouped.loc[area, "lower"] == pytest.approx(row.lower95_0cl, rel=DIGITS)
        assert grouped.loc[area, "upper"] == pytest.approx(row.upper95_0cl, rel=DIGITS)
        assert grouped.loc[area, "stdev"] == pytest.approx(row.stdev, rel=DIGITS)
    everyone = expected.loc["No grouping"]
    assert overall.value.iloc[0] == pytest.approx(everyone.value, rel=DIGITS)
    assert overall.lower.iloc[0] == pytest.approx(everyone.lower99_8cl, rel=DIGITS)
    assert overall.upper.iloc[0] == pytest.approx(everyone.upper99_8cl, rel=DIGITS)


def test_mean_rejects_non_numeric_values() -> None:
    frame = pd.DataFrame({"v": [1.0, "x", 3.0]})
    with pytest.raises(InputError, match="v: 1 row not numeric"):
        stats.mean(frame, "v")
