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
    codes = comparison_codes(low, high, centre, polarity)
    result = np.asarray(LABELS, dtype=object)[codes.reshape(-1)].reshape(codes.shape)
    if isinstance(value, pd.Series):
        return pd.Series(result, index=value.index, name="comparison")
    return result


#: The categories of :func:`compare`; :func:`comparison_codes` gives positions in this tuple.
LABELS = ("not compared", "similar", "higher", "lower", "better", "worse")
_CODES = {"higher_is_better": (4, 5), "lower_is_better": (5, 4), "no_judgement": (2, 3)}


def comparison_codes(
    lower: np.ndarray, upper: np.ndarray, comparator: np.ndarray, polarity: Polarity | str
) -> np.ndarray:
    """:func:`compare` as positions in ``LABELS`` (int8), from float arrays.

    Millions of cells are compared at once: small integers cost far less than strings.
    """
    above = lower > comparator
    below = upper < comparator
    missing = np.isnan(lower) | np.isnan(upper) | np.isnan(comparator)
    higher, lower_code = _CODES[str(polarity)]
    codes = np.where(above, np.int8(higher), np.where(below, np.int8(lower_code), np.int8(1)))
    codes = np.where(missing, np.int8(0), codes)
    return np.asarray(codes, dtype=np.int8)
