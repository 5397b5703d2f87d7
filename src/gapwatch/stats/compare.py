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


def difference_limits(
    value: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    other: np.ndarray,
    other_lower: np.ndarray,
    other_upper: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The difference ``value - other`` with MOVER limits from each estimate's own limits.

    Method of variance estimates recovery: Newcombe RG (1998) *Interval estimation for
    the difference between independent proportions*, Stat Med 17:873-890 (method 10);
    Zou GY, Donner A (2008) Stat Med 27:1693-1702. With d = p1 - p2,
    lower = d - sqrt((p1 - l1)² + (u2 - p2)²), upper = d + sqrt((u1 - p1)² + (p2 - l2)²).
    Units: the estimates' own (percentage points for percentages).

    >>> d, low, high = difference_limits(np.array([69.0]), np.array([65.2]), np.array([72.5]),
    ...     np.array([76.2]), np.array([54.9]), np.array([89.4]))
    >>> round(float(d[0]), 1), round(float(low[0]), 1), round(float(high[0]), 1)
    (-7.2, -20.9, 14.4)
    """
    difference = value - other
    low = difference - np.sqrt((value - lower) ** 2 + (other_upper - other) ** 2)
    high = difference + np.sqrt((upper - value) ** 2 + (other - other_lower) ** 2)
    return difference, low, high


def difference_codes(
    value: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    other: np.ndarray,
    other_lower: np.ndarray,
    other_upper: np.ndarray,
    polarity: Polarity | str,
) -> np.ndarray:
    """Each value against another *estimate*, both uncertain, as positions in ``LABELS`` (int8).

    Unlike :func:`comparison_codes`, which asks whether one interval holds a fixed
    benchmark, this asks whether the MOVER interval of the difference (see
    :func:`difference_limits`) excludes zero. It is the right test against another group
    of the same breakdown, such as the best group, whose value is itself a small-sample
    estimate: a group of 20 with the highest point value is not a benchmark to be
    "worse than" on its point value alone.

    >>> int(difference_codes(np.array([69.0]), np.array([65.2]), np.array([72.5]), np.array([76.2]),
    ...     np.array([54.9]), np.array([89.4]), "higher_is_better")[0])  # similar
    1
    >>> int(difference_codes(np.array([60.0]), np.array([58.0]), np.array([62.0]), np.array([70.0]),
    ...     np.array([68.0]), np.array([72.0]), "higher_is_better")[0])  # worse
    5
    """
    _, low, high = difference_limits(value, lower, upper, other, other_lower, other_upper)
    missing = np.isnan(low) | np.isnan(high)
    higher, lower_code = _CODES[str(polarity)]
    codes = np.where(low > 0, np.int8(higher), np.where(high < 0, np.int8(lower_code), np.int8(1)))
    codes = np.where(missing, np.int8(0), codes)
    return np.asarray(codes, dtype=np.int8)


def best_rows(cell: np.ndarray, signed: np.ndarray, width: np.ndarray) -> np.ndarray:
    """For each row, the position of its cell's best row: largest ``signed`` value first,
    then the narrowest interval ``width`` (NaN widest), then the first row.

    ``cell`` holds small non-negative integer ids; ``signed`` is the value with the sign that
    makes larger better. Ties of value are common at 0% and 100%, where a group of 1 and a
    group of 500 share a value but not a precision: taking the most precise of them makes
    the comparison with the best group independent of the order rows arrive in.

    >>> cell, signed = np.array([0, 0, 0, 1]), np.array([1.0, 1.0, 0.5, 2.0])
    >>> best_rows(cell, signed, np.array([0.8, 0.1, 0.2, 0.3])).tolist()
    [1, 1, 1, 3]
    """
    widths = np.where(np.isnan(width), np.inf, width)
    order = np.lexsort((widths, -signed, cell))
    first = np.ones(order.size, dtype=bool)
    first[1:] = cell[order][1:] != cell[order][:-1]
    best = np.zeros(int(cell.max()) + 1 if cell.size else 0, dtype=np.int64)
    best[cell[order][first]] = order[first]
    found: np.ndarray = best[cell]
    return found
