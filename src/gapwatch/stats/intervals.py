"""Confidence limits for counts and proportions: Wilson, Byars and exact Poisson.

The building blocks of every other method in :mod:`gapwatch.stats`; they return plain
``(lower, upper)`` arrays and broadcast their arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

from gapwatch.stats._validate import (
    FloatArray,
    as_float_array,
    check_confidence,
    check_counts,
    check_non_negative,
)


def z_value(confidence: float | Any) -> FloatArray:
    """The two-sided standard normal quantile for a confidence level (1.959964 for 0.95).

    >>> round(float(z_value(0.95)), 6)
    1.959964
    """
    levels = check_confidence(confidence)
    result: FloatArray = special.ndtri(1 - (1 - levels) / 2)
    return result


def wilson(x: Any, n: Any, confidence: float | Any = 0.95) -> tuple[FloatArray, FloatArray]:
    """Wilson score limits for a proportion ``x / n``, as proportions from 0 to 1.

    Wilson EB (1927) *Probable inference, the law of succession, and statistical
    inference*, J Am Stat Assoc 22:209-212, in the form of Newcombe RG (1998) *Two-sided
    confidence intervals for the single proportion*, Stat Med 17:857-872 (method 3), as
    used by OHID Fingertips.

    >>> lower, upper = wilson(65, 100)
    >>> round(float(lower), 6), round(float(upper), 6)
    (0.552544, 0.736358)
    """
    # Messages name the numerator and denominator, the words of the people who give them.
    numerator = as_float_array(x, "numerator")
    denominator = as_float_array(n, "denominator")
    check_counts(numerator, denominator, "proportion")
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = numerator / denominator
        centre = 2 * numerator + z**2
        spread = z * np.sqrt(z**2 + 4 * numerator * (1 - p))
        scale = 2 * (denominator + z**2)
        lower = (centre - spread) / scale
        upper = (centre + spread) / scale
    # At x = 0 and x = n the limits are exactly 0 and 1; rounding must not move them.
    lower = np.where(numerator == 0, 0.0, np.clip(lower, 0.0, 1.0))
    upper = np.where(numerator == denominator, 1.0, np.clip(upper, 0.0, 1.0))
    return lower, upper


def byars(x: Any, confidence: float | Any = 0.95) -> tuple[FloatArray, FloatArray]:
    """Byars' approximation to exact Poisson limits for a count, in events.

    Breslow NE, Day NE (1987) *Statistical methods in cancer research, vol II*, IARC,
    p.69; recommended by APHO (2008) *Technical briefing 3: commonly used public health
    statistics and their confidence intervals* for counts of 10 or more.

    >>> lower, upper = byars(65)
    >>> round(float(lower), 6), round(float(upper), 6)
    (50.163188, 82.849139)
    """
    count = as_float_array(x, "count")
    check_non_negative(count, "count")
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = count * (1 - 1 / (9 * count) - z / (3 * np.sqrt(count))) ** 3
        following = count + 1
        upper = following * (1 - 1 / (9 * following) + z / (3 * np.sqrt(following))) ** 3
    # The approximation breaks down for tiny counts at high confidence (its cube base turns
    # negative); the reference method reports no lower limit then, as here.
    lower = np.where(count == 0, 0.0, np.where(lower < 0, np.nan, lower))
    return lower, upper


def exact_poisson(x: Any, confidence: float | Any = 0.95) -> tuple[FloatArray, FloatArray]:
    """Exact Poisson limits for a count from the chi-squared distribution, in events.

    Garwood F (1936) *Fiducial limits for the Poisson distribution*, Biometrika 28:437-442:
    lower = chi2(alpha/2, 2x)/2, upper = chi2(1 - alpha/2, 2x + 2)/2; lower is 0 when x is 0.

    >>> lower, upper = exact_poisson(1)
    >>> round(float(lower), 6), round(float(upper), 6)
    (0.025318, 5.571643)
    """
    count = as_float_array(x, "count")
    check_non_negative(count, "count")
    alpha = 1 - check_confidence(confidence)
    with np.errstate(invalid="ignore"):
        lower = np.where(count > 0, stats.chi2.ppf(alpha / 2, 2 * count) / 2, 0.0)
        upper = stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return np.asarray(lower, dtype="float64"), np.asarray(upper, dtype="float64")


def poisson_limits(x: Any, confidence: float | Any = 0.95) -> tuple[FloatArray, FloatArray]:
    """Exact Poisson limits below 10 events and Byars' approximation from 10 on, in events.

    The rule of OHID Fingertips and PHEindicatormethods for crude rates and ISRs.

    >>> lower, _ = poisson_limits([5, 20])
    >>> [round(float(value), 4) for value in lower]
    [1.6235, 12.2114]
    """
    count = as_float_array(x, "count")
    lower, upper = byars(count, confidence)
    small = count < 10
    if small.any():
        # Exact limits need the chi-squared quantile, which is slow: only for small counts.
        levels = np.broadcast_to(check_confidence(confidence), count.shape)
        lower, upper = np.array(lower, copy=True), np.array(upper, copy=True)
        exact_lower, exact_upper = exact_poisson(count[small], levels[small])
        lower[small] = exact_lower
        upper[small] = exact_upper
    return lower, upper
