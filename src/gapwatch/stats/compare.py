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


#: The categories of :func:`comparisons`: :data:`LABELS` and then ``best``.
BEST_LABELS = (*LABELS, "best")
#: Polarity codes :func:`comparisons` reads (-1: none, compared with nothing).
POLARITY_CODES = {"higher_is_better": 0, "lower_is_better": 1, "no_judgement": 2}


def comparisons(
    value: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    polarity: np.ndarray,
    *,
    area: np.ndarray,
    series: np.ndarray,
    cell: np.ndarray,
    is_overall: np.ndarray,
    is_england: np.ndarray,
    known: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The two comparisons of every cell of a run, as positions in :data:`BEST_LABELS` (int8).

    ``comparison``: each group against its area's overall value and each area's overall
    value against England's overall value of the same series (England's own is not
    compared), by :func:`comparison_codes` (OHID Fingertips: does the interval hold the
    benchmark?). ``comparison_best``: each known group (``known``) of an indicator with a
    polarity against the best group of its cell (the same area and breakdown), the largest
    value by polarity and the most precise of equal ones (:func:`best_rows`), by the MOVER
    interval of their difference (:func:`difference_codes`: the best group is an estimate
    too); every group equal to the best value is ``best``; overall values are
    ``not compared``. Used by ``stats.indicators`` on the unrounded values and by
    ``disclosure.published.recompare`` on the published ones.

    Arrays are one entry per row: ``value``, ``lower``, ``upper`` floats (NaN when
    missing); ``polarity`` codes of :data:`POLARITY_CODES` (-1: none); ``area``, ``series``
    (indicator and period) and ``cell`` (area and breakdown) small non-negative integer ids;
    ``is_overall`` (breakdown ``overall``), ``is_england`` and ``known`` booleans.

    >>> ids = np.array([0, 0, 0])
    >>> codes, best = comparisons(np.array([50.0, 60.0, 40.0]), np.array([45.0, 58.0, 38.0]),
    ...     np.array([55.0, 62.0, 42.0]), np.zeros(3, dtype=np.int8), area=ids, series=ids,
    ...     cell=np.array([0, 1, 1]), is_overall=np.array([True, False, False]),
    ...     is_england=np.zeros(3, dtype=bool), known=np.ones(3, dtype=bool))
    >>> [BEST_LABELS[c] for c in codes], [BEST_LABELS[b] for b in best]
    (['not compared', 'better', 'worse'], ['not compared', 'best', 'worse'])
    """
    # Groups against their area's overall value; areas' overall values against England's.
    comparator = _lookup(area, area[is_overall], value[is_overall])
    england = is_overall & is_england
    comparator = np.where(is_overall, _lookup(series, series[england], value[england]), comparator)
    comparator = np.where(england, np.nan, comparator)
    comparison = np.zeros(len(value), dtype=np.int8)
    for kind, code in POLARITY_CODES.items():
        rows = polarity == code
        if rows.any():
            comparison[rows] = comparison_codes(lower[rows], upper[rows], comparator[rows], kind)
    judged = (polarity != POLARITY_CODES["no_judgement"]) & (polarity >= 0) & ~is_overall & known
    judged &= ~np.isnan(value)
    chosen = np.flatnonzero(judged)
    signed = np.where(polarity[chosen] == POLARITY_CODES["higher_is_better"], 1.0, -1.0) * value[chosen]
    best_row = chosen[best_rows(pd.factorize(cell[chosen])[0], signed, upper[chosen] - lower[chosen])]
    best_value, best_lower, best_upper = (np.full(len(value), np.nan) for _ in range(3))
    best_value[chosen] = value[best_row]
    best_lower[chosen] = lower[best_row]
    best_upper[chosen] = upper[best_row]
    best = np.zeros(len(value), dtype=np.int8)
    for kind in ("higher_is_better", "lower_is_better"):
        rows = judged & (polarity == POLARITY_CODES[kind])
        if rows.any():
            best[rows] = difference_codes(
                value[rows], lower[rows], upper[rows],
                best_value[rows], best_lower[rows], best_upper[rows], kind,
            )  # fmt: skip
    # Every group equal to the best value is "best": ties must not depend on row order.
    best[chosen[value[chosen] == best_value[chosen]]] = len(LABELS)
    best[is_overall] = 0
    return comparison, best


def _lookup(keys: np.ndarray, known: np.ndarray, found: np.ndarray) -> np.ndarray:
    """``found`` at the position of each of ``keys`` in ``known`` (unique integer ids), or NaN."""
    table = np.full(int(keys.max()) + 1 if len(keys) else 0, np.nan)
    table[known] = np.asarray(found, dtype="float64")
    result: np.ndarray = table[keys]
    return result
