"""Proportions with Wilson score limits."""

from __future__ import annotations

from typing import Any

import numpy as np

from gapwatch.stats._frames import is_polars, like, result_frame
from gapwatch.stats._validate import as_float_array, check_counts
from gapwatch.stats.intervals import wilson


def proportion(numerator: Any, denominator: Any, confidence: float = 0.95, multiplier: float = 1) -> Any:
    """Proportions ``numerator / denominator`` with Wilson score limits.

    Wilson (1927) score interval as given by Newcombe (1998), the method of OHID
    Fingertips and PHEindicatormethods ``phe_proportion``. ``multiplier`` scales the
    result (1 for a proportion, 100 for a percentage). Arguments broadcast; a zero
    denominator with no events gives missing value and limits, and with events is an
    error. Returns a DataFrame ``value, lower, upper, confidence, method`` (Polars when
    given Polars Series, else pandas).

    >>> proportion(65, 100, multiplier=100).round(4)[["value", "lower", "upper"]]
       value    lower    upper
    0   65.0  55.2544  73.6358
    """
    x = as_float_array(numerator, "numerator")
    n = as_float_array(denominator, "denominator")
    check_counts(x, n, "proportion")
    lower, upper = wilson(x, n, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(n > 0, x / n, np.nan)
    lower = np.where(n > 0, lower, np.nan)
    upper = np.where(n > 0, upper, np.nan)
    frame = result_frame(
        {
            "value": value * multiplier,
            "lower": lower * multiplier,
            "upper": upper * multiplier,
            "confidence": confidence,
            "method": "Wilson",
        }
    )
    return like(numerator, frame) if is_polars(numerator) else frame
