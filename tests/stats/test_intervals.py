"""Wilson, Byars and exact Poisson limits against the published reference values."""

from __future__ import annotations

import numpy as np
import pytest

from gapwatch import stats
from gapwatch.errors import InputError
from tests.stats._oracle import DIGITS, oracle


@pytest.mark.parametrize("method", ["Byars", "Wilson"])
def test_limits_equal_the_reference(method: str) -> None:
    cases = oracle("testdata_B_W.csv")
    cases = cases[cases.method == method]
    assert len(cases) >= 4
    confidence = cases.confidence.str.rstrip("%").astype(float).to_numpy() / 100
    if method == "Byars":
        lower, upper = stats.byars(cases.x, confidence)
    else:
        lower, upper = stats.wilson(cases.x, cases.n, confidence)
        # The reference gives Wilson limits per 100 (percentages) in this file.
        scale = 100 if cases.uppercl.max() > 1 else 1
        lower, upper = lower * scale, upper * scale
    np.testing.assert_allclose(lower, cases.lowercl, rtol=DIGITS)
    np.testing.assert_allclose(upper, cases.uppercl, rtol=DIGITS)


def test_exact_poisson_at_zero_and_one() -> None:
    lower, upper = stats.exact_poisson([0, 1], 0.95)
    assert lower[0] == 0
    # Garwood's limits for x = 0: upper = -ln(0.025).
    assert upper[0] == pytest.approx(-np.log(0.025), rel=1e-12)
    assert lower[1] == pytest.approx(0.0253178079842899, rel=DIGITS)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: stats.wilson([5, -1, -2], 10), "numerator: 2 rows negative"),
        (lambda: stats.wilson([11, 3], [10, 10]), "numerator: 1 row above denominator"),
        (lambda: stats.byars(10, 0.8), r"confidence: 1 row outside \[0.9, 1\)"),
        (lambda: stats.byars(["a", 3, "b"]), "count: 2 rows not numeric"),
        (lambda: stats.exact_poisson(4, 1.0), r"outside \[0.9, 1\)"),
    ],
)
def test_bad_input_is_one_line(call: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call()  # type: ignore[operator]
