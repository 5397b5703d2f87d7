"""Crude rates with exact Poisson or Byars limits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gapwatch.stats._frames import is_polars, like, result_frame
from gapwatch.stats._validate import as_float_array, check_counts
from gapwatch.stats.intervals import poisson_limits


def rate(numerator: Any, denominator: Any, confidence: float = 0.95, multiplier: float = 100_000) -> Any:
    """Crude rates per ``multiplier`` population with Poisson limits.

    Exact (chi-squared) limits when the numerator is below 10 and Byars' approximation
    otherwise: APHO (2008) *Technical briefing 3*, the method of OHID Fingertips and
    PHEindicatormethods ``phe_rate``. Units: events per ``multiplier`` of the
    denominator (person-years or persons). A zero denominator with no events gives a
    missing rate; with events it is an error. Returns ``value, lower, upper, confidence,
    method``.

    >>> rate(65, 100, multiplier=100).round(4)[["value", "lower", "upper", "method"]]
       value    lower    upper method
    0   65.0  50.1632  82.8491  Byars
    """
    x = as_float_array(numerator, "numerator")
    n = as_float_array(denominator, "denominator")
    check_counts(x, n, "rate")
    lower, upper = poisson_limits(x, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = n > 0
        safe = np.where(positive, n, 1.0)
        value = np.where(positive, x / safe, np.nan)
        lower = np.where(positive, lower / safe, np.nan)
        upper = np.where(positive, upper / safe, np.nan)
    frame = result_frame(
        {
            "value": value * multiplier,
            "lower": lower * multiplier,
            "upper": upper * multiplier,
            "confidence": confidence,
            "method": pd.Categorical.from_codes(
                np.atleast_1d(np.where(np.isnan(x), -1, (x >= 10).astype(np.int8))).astype(np.int8),
                categories=pd.Index(["Exact", "Byars"]),
            ),
        }
    )
    return like(numerator, frame) if is_polars(numerator) else frame
