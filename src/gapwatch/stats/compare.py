"""Fingertips-style comparison of a value's confidence interval with a comparator."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from gapwatch.stats._validate import as_float_array

Polarity = Literal["higher_is_better", "lower_is_better", "no_judgement"]
POLARITIES = ("higher_is_better", "lower_is_better", "no_judgement")


def compare(
    value: Any, lower: Any, upper: Any, comparator: Any, polarity: Polarity | str = "no_judgement"
) -> Any:
    """Significance category of each value against a comparator, as OHID Fingertips shows it.

    A value whose confidence interval lies wholly above the comparator is ``higher``
    (``better`` when higher is better, ``worse`` when lower is better), wholly below is
    ``lower`` (``worse``/``better``), and one whose interval contains it is ``similar``;
    missing inputs give ``not compared``. OHID, *Fingertips technical guidance:
    comparisons with a benchmark using confidence intervals*.

    >>> list(compare([70, 50], [65, 45], [75, 55], 60, polarity="higher_is_better"))
    ['better', 'worse']
    """
    if polarity not in POLARITIES:
        from gapwatch.errors import InputError

        raise InputError(f"polarity={polarity!r}: choose one of {', '.join(POLARITIES)}")
    low = as_float_array(lower, "lower")
    high = as_float_array(upper, "upper")
    centre = as_float_array(comparator, "comparator")
    as_float_array(value, "value")
    above = low > centre
    below = high < centre
    missing = np.isnan(low) | np.isnan(high) | np.isnan(centre)
    names = {
        "higher_is_better": ("better", "worse"),
        "lower_is_better": ("worse", "better"),
        "no_judgement": ("higher", "lower"),
    }[str(polarity)]
    result = np.where(above, names[0], np.where(below, names[1], "similar"))
    result = np.where(missing, "not compared", result).astype(object)
    if isinstance(value, pd.Series):
        return pd.Series(result, index=value.index, name="comparison")
    return result
