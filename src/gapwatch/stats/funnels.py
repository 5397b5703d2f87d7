"""Funnel plot control limits for proportions and rates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from gapwatch.errors import InputError
from gapwatch.stats._validate import as_float_array, check_confidence, check_non_negative


def funnel_limits(
    denominator: Any,
    target: float,
    measure: Literal["proportion", "rate"] = "proportion",
    confidence: Sequence[float] | float = (0.95, 0.998),
    multiplier: float = 1,
) -> pd.DataFrame:
    """Control limits around a target for each denominator, for a funnel plot.

    Exact binomial (proportions) or Poisson (rates, ``target`` in events per
    ``multiplier``) limits with the interpolation of Spiegelhalter DJ (2005) *Funnel plots
    for comparing institutional performance*, Stat Med 24:1185-1202 (appendix A.1.1),
    as in APHO (2008) *Technical briefing 2: statistical process control methods in
    public health intelligence*. Returns ``denominator`` and ``lower_<level>``,
    ``upper_<level>`` columns (level as ``95`` or ``99_8``), in the units of ``target``.

    Limits never fall below 0, nor above ``multiplier`` for a proportion. The
    interpolation places a limit between the count at the tail probability and the count
    below it; when that count is 0 (a small denominator or a low target), the count
    below would be -1, which no area can have, so the lower limit is 0: no area can then
    fall below it. A binomial count cannot exceed its denominator, so the upper limit of
    a proportion is at most ``multiplier``; it is clipped there as well, so that rounding
    cannot move it past.

    >>> limits = funnel_limits([100, 10_000], target=0.5)
    >>> [round(float(v), 3) for v in limits.lower_95]
    [0.397, 0.49]
    >>> float(funnel_limits([10], target=0.08).lower_95.iloc[0])
    0.0
    """
    n = as_float_array(denominator, "denominator")
    check_non_negative(n, "denominator")
    levels = np.atleast_1d(check_confidence(confidence))
    if measure == "proportion":
        theta = target / multiplier
        if not 0 < theta < 1:
            raise InputError(
                f"target={target!r}: a proportion target must lie strictly between 0 and {multiplier}"
            )
        distribution = stats.binom(np.maximum(n, 1).astype(np.int64), theta)
    elif measure == "rate":
        theta = target / multiplier
        if theta <= 0:
            raise InputError(f"target={target!r}: a rate target must be positive")
        distribution = stats.poisson(theta * n)
    else:
        raise InputError(f"measure={measure!r}: choose 'proportion' or 'rate'")
    result = pd.DataFrame({"denominator": n})
    for level in levels:
        label = f"{level * 100:g}".replace(".", "_")
        for side, probability in (("lower", (1 - level) / 2), ("upper", 1 - (1 - level) / 2)):
            count = distribution.ppf(probability)
            above = distribution.cdf(count)
            below = distribution.cdf(count - 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(above > below, (above - probability) / (above - below), 0.0)
                limit = np.where(n > 0, (count - share) / n, np.nan) * multiplier
            # Below count 0 the interpolation reaches counts no area can have (see above).
            ceiling = multiplier if measure == "proportion" else np.inf
            result[f"{side}_{label}"] = np.clip(limit, 0.0, ceiling)
    return result
