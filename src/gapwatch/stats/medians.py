"""Medians and their distribution-free confidence limits, from counts of each value.

Counts of each distinct value (a histogram) are additive across records, so the engine
can hand over histograms instead of records and the median still comes out exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gapwatch.stats._frames import group_keys, require_columns, to_pandas
from gapwatch.stats._validate import check_confidence
from gapwatch.stats.intervals import z_value


def median_from_counts(
    data: Any, value: str, count: str, by: str | list[str] | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """Median of each group, with limits from the order statistics.

    The median of n ordered values is the ((n + 1) / 2)th (the mean of the two middle
    values when n is even). Its limits are the values at ranks
    r = n/2 - z sqrt(n)/2 and s = 1 + n/2 + z sqrt(n)/2, rounded to the nearest integer:
    Campbell MJ, Gardner MJ (1988) *Calculating confidence intervals for some
    non-parametric analyses*, BMJ 296:1454-1456 (the large-sample binomial method).
    Limits are missing when r < 1 or s > n (too few values). Units: those of ``value``.

    Returns ``by…, denominator (n), value, lower, upper``.

    >>> frame = pd.DataFrame({"weeks": [1.0, 2.0, 3.0, 10.0], "rows": [10, 10, 10, 5]})
    >>> median_from_counts(frame, "weeks", "rows")[["denominator", "value", "lower", "upper"]]
       denominator  value  lower  upper
    0         35.0    2.0    2.0    3.0
    """
    frame = to_pandas(data)
    keys = group_keys(by)
    require_columns(frame, [value, count, *keys])
    check_confidence(confidence)
    frame = frame.loc[frame[count] > 0]
    if keys:
        ordered = frame.sort_values([*keys, value], kind="stable", ignore_index=True)
        group = ordered.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
        groups = ordered.drop_duplicates(keys)[keys].reset_index(drop=True)
    else:
        ordered = frame.sort_values(value, kind="stable", ignore_index=True)
        group = np.zeros(len(ordered), dtype=np.int64)
        groups = pd.DataFrame(index=[0] if len(ordered) else [])
    counts = ordered[count].to_numpy(dtype="float64")
    values = ordered[value].to_numpy(dtype="float64")
    totals = np.bincount(group, weights=counts) if len(group) else np.zeros(0)
    # Cumulative counts within each group, offset so that they increase across groups.
    cumulative = np.cumsum(counts)
    starts = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    z = float(z_value(confidence))

    def at_rank(rank: np.ndarray) -> np.ndarray:
        valid = (rank >= 1) & (rank <= totals)
        target = starts + np.clip(rank, 1, np.maximum(totals, 1))
        position = np.searchsorted(cumulative, target - 0.5, side="left")
        position = np.clip(position, 0, len(values) - 1)
        return np.where(valid, values[position], np.nan)

    middle_low = at_rank(np.floor((totals + 1) / 2))
    middle_high = at_rank(np.ceil((totals + 1) / 2))
    lower_rank = np.round(totals / 2 - z * np.sqrt(totals) / 2)
    upper_rank = np.round(1 + totals / 2 + z * np.sqrt(totals) / 2)
    result = groups.copy()
    result["denominator"] = totals
    result["value"] = (middle_low + middle_high) / 2
    result["lower"] = at_rank(lower_rank)
    result["upper"] = at_rank(upper_rank)
    return result
