"""Fast paths give exactly what the plain computations they replace give, bit for bit."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from gapwatch.stats._frames import sorted_group_ids, text_from_codes, text_series
from gapwatch.stats.compare import compare

sii_module = importlib.import_module("gapwatch.stats.sii")


def _plain_bisection(
    numerator: np.ndarray,
    denominator: np.ndarray,
    cumulants: np.ndarray,
    z: float,
    start: np.ndarray,
    scale: np.ndarray,
) -> np.ndarray:
    """All 80 steps, every one computed exactly: the reference for the fast bisection."""
    low = start - 40 * scale
    high = start + 40 * scale
    for _ in range(80):
        middle = (low + high) / 2
        value = sii_module._combination_quantile(
            numerator - middle[..., None] * denominator, cumulants, np.asarray(-z)
        )
        above = value > 0
        low = np.where(above, middle, low)
        high = np.where(above, high, middle)
    result: np.ndarray = (low + high) / 2
    return result


@pytest.mark.parametrize("kind", ["other", "rate", "proportion"])
@pytest.mark.parametrize("quantiles", [2, 5, 10])
def test_ratio_quantile_equals_every_step_computed_exactly(kind: str, quantiles: int) -> None:
    rng = np.random.default_rng(quantiles)
    groups = 300
    population = rng.uniform(10, 1000, (groups, quantiles))
    slope, intercept = sii_module.regression_weights(population)
    if kind == "proportion":
        mean = rng.normal(-1.0, 1.5, (groups, quantiles))
    elif kind == "rate":
        mean = rng.normal(-4.0, 2.0, (groups, quantiles))
    else:
        mean = rng.normal(70.0, 5.0, (groups, quantiles))
    sd = rng.uniform(0.001, 1.5, (groups, quantiles)) * (10 if kind == "other" else 1)
    cumulants = sii_module._cumulants(mean, sd, kind)
    top = slope + intercept
    start = (top * cumulants[0]).sum(axis=-1) / (intercept * cumulants[0]).sum(axis=-1)
    start[::17] = np.nan
    scale = rng.uniform(0.001, 2.0, groups)
    for z in (-2.5758, -1.96, 1.96, 2.5758):
        fast = sii_module._ratio_quantile(top, intercept, cumulants, z, start, scale)
        plain = _plain_bisection(top, intercept, cumulants, z, start, scale)
        assert np.array_equal(fast.view(np.int64), plain.view(np.int64))


def test_sorted_group_ids_equal_groupby_ngroup() -> None:
    rng = np.random.default_rng(0)
    size = 5000
    frame = pd.DataFrame(
        {
            "category": pd.Categorical(
                rng.choice(["z", "b", "m", None], size), categories=["z", "m", "b", "q"]
            ),
            "text": pd.Series(rng.choice(["x", "a", None, "c"], size), dtype="str"),
            "number": rng.choice([1.5, np.nan, -2.0], size),
            "objects": pd.Series(rng.choice(["x", "a", "c"], size), dtype=object),
        }
    )
    for keys in (["category"], ["text"], ["number"], ["text", "number", "objects", "category"]):
        expected = frame.groupby(keys, sort=True, dropna=False, observed=True).ngroup().to_numpy()
        assert np.array_equal(sorted_group_ids(frame, keys), expected)


def test_text_columns_equal_the_general_conversion() -> None:
    words = np.array(["", "a; b", "é", "similar"], dtype=object)
    codes = np.array([3, 0, 1, 2, 1, 3])
    index = pd.RangeIndex(codes.size)
    expected = pd.Series(words[codes], index=index, dtype="str")
    pd.testing.assert_series_equal(text_series(words[codes], index, "str"), expected, check_exact=True)
    pd.testing.assert_series_equal(text_from_codes(codes, list(words), index), expected, check_exact=True)
    mixed = np.array(["a", np.nan, "b"], dtype=object)
    pd.testing.assert_series_equal(
        text_series(mixed, pd.RangeIndex(3), "str"), pd.Series(mixed, dtype="str"), check_exact=True
    )


def test_compare_keeps_its_shapes() -> None:
    scalar = compare(70, 65, 75, 60, polarity="higher_is_better")
    assert isinstance(scalar, np.ndarray)
    assert scalar.shape == ()
    assert scalar.dtype == object
    assert scalar.item() == "better"
    assert list(compare([1.0, 1.0, 1.0], [0.5, 0.9, np.nan], [0.8, 1.1, 1.5], 1.0)) == [
        "lower",
        "similar",
        "not compared",
    ]
