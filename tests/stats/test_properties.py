"""Invariants every interval method keeps, over generated inputs (Hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gapwatch import stats

counts = st.integers(min_value=0, max_value=100_000)


@st.composite
def numerator_denominator(draw: st.DrawFn) -> tuple[int, int]:
    denominator = draw(st.integers(min_value=1, max_value=1_000_000))
    return draw(st.integers(min_value=0, max_value=denominator)), denominator


@given(numerator_denominator())
def test_proportion_limits_contain_the_value_and_widen_with_confidence(
    case: tuple[int, int],
) -> None:
    x, n = case
    narrow = stats.proportion(x, n, 0.95)
    wide = stats.proportion(x, n, 0.998)
    assert narrow.lower.iloc[0] <= narrow.value.iloc[0] <= narrow.upper.iloc[0]
    assert wide.lower.iloc[0] <= narrow.lower.iloc[0] + 1e-15
    assert wide.upper.iloc[0] >= narrow.upper.iloc[0] - 1e-15


@given(counts, st.integers(min_value=1, max_value=10_000_000))
def test_rate_limits_contain_the_value_and_widen_with_confidence(x: int, n: int) -> None:
    narrow = stats.rate(x, n, 0.95)
    wide = stats.rate(x, n, 0.998)
    assert narrow.lower.iloc[0] <= narrow.value.iloc[0] <= narrow.upper.iloc[0]
    if x >= 10 or x == 0:
        assert wide.lower.iloc[0] <= narrow.lower.iloc[0]
    assert wide.upper.iloc[0] >= narrow.upper.iloc[0]


@st.composite
def quantile_tables(draw: st.DrawFn) -> pd.DataFrame:
    k = draw(st.sampled_from([5, 10]))
    pops = draw(st.lists(st.floats(100, 100_000), min_size=k, max_size=k))
    level = draw(st.floats(0.05, 0.95))
    ses = draw(st.lists(st.floats(0.001, 0.05), min_size=k, max_size=k))
    return pd.DataFrame({"q": range(1, k + 1), "pop": pops, "value": [level] * k, "se": ses})


@settings(max_examples=40, deadline=None)
@given(quantile_tables(), st.sampled_from(["other", "proportion"]))
def test_zero_gradient_gives_sii_interval_containing_zero(table: pd.DataFrame, kind: str) -> None:
    result = stats.sii(table, "q", "pop", "value", value_type=kind, se="se")  # type: ignore[arg-type]
    assert abs(result.sii.iloc[0]) < 1e-9
    assert result.sii_lower.iloc[0] <= 0 <= result.sii_upper.iloc[0]
    if result.note.iloc[0].startswith("RII limits withheld"):
        # A low value with wide errors: the fitted value the RII divides by could be 0.
        assert np.isnan(result.rii_lower.iloc[0])
        assert np.isnan(result.rii_upper.iloc[0])
    else:
        assert result.rii_lower.iloc[0] <= 1 <= result.rii_upper.iloc[0]


@settings(max_examples=30, deadline=None)
@given(quantile_tables(), st.randoms(use_true_random=False))
def test_sii_is_invariant_under_row_order(table: pd.DataFrame, random: object) -> None:
    table = table.assign(value=np.linspace(0.2, 0.6, len(table)))
    shuffled = table.sample(frac=1, random_state=np.random.RandomState(0))
    first = stats.sii(table, "q", "pop", "value", value_type="proportion", se="se")
    second = stats.sii(shuffled, "q", "pop", "value", value_type="proportion", se="se")
    pd.testing.assert_frame_equal(first, second)
    assert first.sii_lower.iloc[0] <= first.sii.iloc[0] <= first.sii_upper.iloc[0]
