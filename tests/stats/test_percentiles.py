"""Percentiles from value histograms: Hyndman & Fan definition 6 with order-statistic limits."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gapwatch import stats

EXAMPLES = int(os.environ.get("GAPWATCH_PROPERTY_EXAMPLES", "150"))


def test_hand_worked_92nd_percentile_of_one_to_a_hundred() -> None:
    # n = 100, q = 0.92: rank h = 0.92 × 101 = 92.92, so 92 + 0.92 × (93 − 92) = 92.92.
    # Limits (Campbell & Gardner 1988): nq ∓ 1.96 √(nq(1 − q)) = 92 ∓ 1.96 × 2.7129 = 92 ∓ 5.317;
    # r = round(86.68) = 87 and s = round(1 + 97.32) = 98.
    frame = pd.DataFrame({"weeks": np.arange(1.0, 101.0), "rows": 1.0})
    result = stats.percentile_from_counts(frame, "weeks", "rows", percentile=92)
    assert result["denominator"].item() == 100
    assert result["value"].item() == pytest.approx(92.92)
    assert result["lower"].item() == 87
    assert result["upper"].item() == 98


def test_the_median_is_the_50th_percentile_and_keeps_its_published_limits() -> None:
    # Campbell & Gardner's ranks for the median: n/2 − z√n/2 and 1 + n/2 + z√n/2; for n = 35,
    # 17.5 ∓ 1.96 × 5.916 / 2 = 17.5 ∓ 5.797, so ranks round(11.70) = 12 and round(24.30) = 24.
    frame = pd.DataFrame({"weeks": np.arange(1.0, 36.0), "rows": 1.0})
    median = stats.median_from_counts(frame, "weeks", "rows")
    assert (median["value"].item(), median["lower"].item(), median["upper"].item()) == (18.0, 12.0, 24.0)
    fiftieth = stats.percentile_from_counts(frame, "weeks", "rows", percentile=50)
    pd.testing.assert_frame_equal(median, fiftieth)


def test_limits_are_missing_when_too_few_values() -> None:
    frame = pd.DataFrame({"weeks": [3.0, 9.0], "rows": [1.0, 1.0]})
    result = stats.percentile_from_counts(frame, "weeks", "rows", percentile=92)
    assert result["value"].item() == 9.0
    assert np.isnan(result["lower"].item()) or np.isnan(result["upper"].item())


@pytest.mark.parametrize("percentile", [0, 100, -5, 150])
def test_a_percentile_outside_0_to_100_is_refused(percentile: float) -> None:
    frame = pd.DataFrame({"weeks": [1.0], "rows": [1.0]})
    with pytest.raises(ValueError, match="percentile must be above 0 and below 100"):
        stats.percentile_from_counts(frame, "weeks", "rows", percentile=percentile)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(1, 30), st.sampled_from(["a", "b"])),
             min_size=1, max_size=40),
    st.floats(1, 99),
)  # fmt: skip
def test_agrees_with_numpy_on_the_expanded_records(
    histogram: list[tuple[int, int, str]], percentile: float
) -> None:
    frame = pd.DataFrame(histogram, columns=["weeks", "rows", "area"]).astype({"weeks": float, "rows": float})
    result = stats.percentile_from_counts(frame, "weeks", "rows", "area", percentile).set_index("area")
    for area, part in frame.groupby("area"):
        records = np.repeat(part["weeks"].to_numpy(), part["rows"].to_numpy().astype(int))
        # numpy's "weibull" method is Hyndman & Fan's definition 6: an independent implementation.
        expected = np.percentile(records, percentile, method="weibull")
        assert result.loc[area, "value"] == pytest.approx(expected)
        assert result.loc[area, "denominator"] == len(records)
        lower, upper = result.loc[area, "lower"], result.loc[area, "upper"]
        if not np.isnan(lower) and not np.isnan(upper):
            assert lower <= result.loc[area, "value"] <= upper
            assert records.min() <= lower
            assert upper <= records.max()
