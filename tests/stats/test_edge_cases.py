"""Edge cases of the statistics (issue 17, item 3): limits in range, clear errors, withheld limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from gapwatch import stats


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
