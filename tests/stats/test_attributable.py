"""Events attributable to a gap, with delta-method limits, on examples worked by hand.

The formula: the population attributable number against a reference group (Mackenbach JP,
Kunst AE (1997), Soc Sci Med 44(6):757-771), ``s × Σ_{q≠k} d_q (r_q − r_k)``, and its
delta-method variance with independent groups, ``Σ_{q≠k} d_q² var(r_q) + (Σ_{q≠k} d_q)²
var(r_k)``, with binomial ``r(1 − r)/d`` or Poisson ``r/d`` rate variances (see
``gapwatch.stats.attributable``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gapwatch.stats.attributable import attributable_events, best_group, rate_variances

Z95 = 1.959963984540054


def test_screening_quintiles_worked_by_hand() -> None:
    # Coverage 50%, 60%, 70%, 80%, 90% of 100 people each; quintile 5 the reference,
    # higher is better. Excess: 100 × (0.4 + 0.3 + 0.2 + 0.1) = 100 people not reached.
    # Variance: 100² × [0.5·0.5 + 0.6·0.4 + 0.7·0.3 + 0.8·0.2]/100 = 86, plus
    # 400² × 0.9·0.1/100 = 144: 230 in all.
    rates, denominators = np.array([0.5, 0.6, 0.7, 0.8, 0.9]), np.full(5, 100.0)
    variances = rate_variances(rates, denominators, "proportion")
    found = attributable_events(rates, denominators, variances, reference=4, sign=-1.0, z=Z95)
    assert found.reference == 4
    assert found.signed == pytest.approx(100.0)
    assert found.excess == pytest.approx(100.0)
    assert found.lower == pytest.approx(100.0 - Z95 * math.sqrt(230.0))
    assert found.upper == pytest.approx(100.0 + Z95 * math.sqrt(230.0))
    assert (round(found.lower, 1), round(found.upper, 1)) == (70.3, 129.7)


def test_unequal_groups_and_a_crude_rate_worked_by_hand() -> None:
    # Admissions: 30 in 1,000, 20 in 2,000 and 10 in 4,000 person-years; the last group the
    # reference, lower is better. Rates 0.03, 0.01, 0.0025. Excess:
    # 1000 × 0.0275 + 2000 × 0.0075 = 27.5 + 15 = 42.5 admissions.
    # Poisson variances r/d: 3e-5, 5e-6, 6.25e-7. Variance:
    # 1000² × 3e-5 + 2000² × 5e-6 + 3000² × 6.25e-7 = 30 + 20 + 5.625 = 55.625.
    numerators, denominators = np.array([30.0, 20.0, 10.0]), np.array([1000.0, 2000.0, 4000.0])
    rates = numerators / denominators
    variances = rate_variances(rates, denominators, "crude_rate")
    assert variances == pytest.approx([3e-5, 5e-6, 6.25e-7])
    found = attributable_events(rates, denominators, variances, reference=2, sign=1.0, z=2.0)
    assert found.excess == pytest.approx(42.5)
    assert found.lower == pytest.approx(42.5 - 2 * math.sqrt(55.625))
    assert found.upper == pytest.approx(42.5 + 2 * math.sqrt(55.625))


def test_a_reference_worse_than_the_rest_gives_nothing_and_keeps_its_sign() -> None:
    # Lower is better and the reference (group 0, rate 0.3) is the worst: 100 × (0.1 − 0.3)
    # + 100 × (0.2 − 0.3) = −30; everything reported is clipped at 0, the sign kept.
    rates, denominators = np.array([0.3, 0.1, 0.2]), np.full(3, 100.0)
    found = attributable_events(
        rates, denominators, rate_variances(rates, denominators, "proportion"), 0, 1.0, Z95
    )
    assert found.signed == pytest.approx(-30.0)
    assert (found.excess, found.lower) == (0.0, 0.0)
    # Variance 100 × (0.09 + 0.16) + 200² × 0.0021 = 25 + 84 = 109.
    assert found.upper == pytest.approx(max(-30.0 + Z95 * math.sqrt(109.0), 0.0))


def test_the_best_group_by_polarity_ties_to_the_last() -> None:
    rates = np.array([0.4, 0.9, 0.2, 0.9, 0.2])
    assert best_group(rates, "higher_is_better") == 3
    assert best_group(rates, "lower_is_better") == 4
    assert best_group(rates[::-1], "lower_is_better") == 2
