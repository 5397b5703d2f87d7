"""Events attributable to a gap between groups, with delta-method confidence limits.

For groups ``q`` (say the five IMD quintiles) each with a rate ``r_q = numerator_q /
denominator_q`` (a proportion, or events per unit of denominator for a crude rate; not
scaled by any multiplier) and a reference group ``k``, the *attributable events* are the
events that would not have happened (or, for a good outcome, the extra events that would
have) had every group the reference group's rate::

    attributable = s × Σ_{q≠k} d_q (r_q − r_k)

with ``d_q`` the denominator and ``s = +1`` when lower is better (harms) and ``s = −1``
when higher is better (people not reached). This is the population attributable number
(the attributable risk times the population at risk) applied to socio-economic groups:
Mackenbach JP, Kunst AE (1997), "Measuring the magnitude of socio-economic inequalities in
health: an overview of available measures illustrated with two examples from Europe",
Social Science & Medicine 44(6):757-771.

The sum is *signed*: a group already better than the reference counts against the total,
as the counterfactual moves it to the reference rate too.

Confidence limits by the delta method (first-order Taylor expansion; e.g. Armitage P,
Berry G, Matthews JNS (2002), *Statistical Methods in Medical Research*, 4th ed., §5.3),
groups independent, so with no covariances::

    var(attributable) = Σ_{q≠k} d_q² var(r_q) + (Σ_{q≠k} d_q)² var(r_k)

(the reference rate enters every other group's term, hence the squared sum of their
denominators), with ``var(r) = r(1 − r)/d`` (binomial) for proportions and ``r/d``
(Poisson) for crude rates (:func:`rate_variances`), and limits ``attributable ± z·√var``.

Units: events (people, bed days, placements: whatever the numerator counts) in the
period of the counts. Pure numpy; no I/O.

Quintiles of 100 people with coverage 50% to 90%, quintile 5 the reference, higher better:
100 × (0.4 + 0.3 + 0.2 + 0.1) = 100 people not reached; variance 100 × (0.25 + 0.24 + 0.21
+ 0.16) + 400² × 0.0009 = 230, so the 95% limits are 100 ± 1.96 × √230 = 70.3 to 129.7.

>>> rates = np.array([0.5, 0.6, 0.7, 0.8, 0.9])
>>> denominators = np.full(5, 100.0)
>>> found = attributable_events(rates, denominators, rate_variances(rates, denominators, "proportion"),
...     reference=4, sign=-1.0, z=1.959963984540054)
>>> round(found.excess, 6), round(found.lower, 1), round(found.upper, 1)
(100.0, 70.3, 129.7)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Attributable", "attributable_events", "best_group", "rate_variances"]


@dataclass(frozen=True)
class Attributable:
    """Attributable events against one reference group (units: events in the period).

    ``signed`` is the sum before clipping; ``excess``, ``lower`` and ``upper`` are the
    estimate and its limits clipped at 0 (a negative total means the reference does worse
    than the other groups together: nothing would be gained).
    """

    reference: int
    signed: float
    excess: float
    lower: float
    upper: float


def rate_variances(rates: np.ndarray, denominators: np.ndarray, measure: str) -> np.ndarray:
    """Sampling variance of each unscaled rate: binomial ``r(1 − r)/d`` for a ``proportion``,
    Poisson ``r/d`` for anything else (a crude rate). Units: the rate's, squared.

    >>> rate_variances(np.array([0.5, 0.2]), np.array([100.0, 50.0]), "proportion").round(6).tolist()
    [0.0025, 0.0032]
    >>> rate_variances(np.array([0.5]), np.array([100.0]), "crude_rate").tolist()
    [0.005]
    """
    if measure == "proportion":
        result: np.ndarray = rates * (1 - rates) / denominators
    else:
        result = rates / denominators
    return result


def attributable_events(
    rates: np.ndarray,
    denominators: np.ndarray,
    variances: np.ndarray,
    reference: int,
    sign: float,
    z: float,
) -> Attributable:
    """Events attributable to the gap against group ``reference`` (a position in ``rates``),
    with delta-method limits at normal quantile ``z`` (1.96 for 95%); see the module docstring.

    ``rates`` are unscaled (events per unit of denominator), ``variances`` their sampling
    variances (:func:`rate_variances`); ``sign`` is ``+1`` when lower is better, ``-1``
    when higher is better.

    Worked by hand: rates 0.1 and 0.2 over 100 people each, reference group 0, lower
    better: 100 × (0.2 − 0.1) = 10 events; variance 100² × 0.0016 + 100² × 0.0009 = 25,
    so with z = 2 the limits are 10 ± 10.

    >>> found = attributable_events(np.array([0.1, 0.2]), np.array([100.0, 100.0]),
    ...     np.array([0.0009, 0.0016]), reference=0, sign=1.0, z=2.0)
    >>> round(found.excess, 9), round(found.lower, 9), round(found.upper, 9)
    (10.0, 0.0, 20.0)
    """
    others = np.arange(len(rates)) != reference
    signed = float(sign * np.sum(denominators[others] * (rates[others] - rates[reference])))
    variance = float(
        np.sum(denominators[others] ** 2 * variances[others])
        + np.sum(denominators[others]) ** 2 * variances[reference]
    )
    half = z * math.sqrt(max(variance, 0.0))
    return Attributable(
        reference=reference,
        signed=signed,
        excess=max(signed, 0.0),
        lower=max(signed - half, 0.0),
        upper=max(signed + half, 0.0),
    )


def best_group(rates: np.ndarray, polarity: str) -> int:
    """Position of the best rate by ``polarity`` (``lower_is_better`` or else higher is
    better); ties go to the *last* position (the less deprived quintile when groups run
    from most to least deprived).

    Choosing the best *observed* group as the reference biases the attributable events
    upwards and makes their limits optimistic, as the choice is treated as fixed.

    >>> best_group(np.array([0.5, 0.9, 0.7, 0.9]), "higher_is_better")
    3
    >>> best_group(np.array([0.5, 0.9, 0.7, 0.9]), "lower_is_better")
    0
    """
    order = range(len(rates) - 1, -1, -1)
    if polarity == "lower_is_better":
        return min(order, key=lambda q: rates[q])
    return max(order, key=lambda q: rates[q])
