"""Medians and their distribution-free confidence limits, from counts of each value.

Counts of each distinct value (a histogram) are additive across records, so the engine
can hand over histograms instead of records and the median still comes out exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gapwatch.stats._frames import group_keys, require_columns, sorted_group_ids, to_pandas
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
    It is :func:`percentile_from_counts` at the 50th percentile.

    Returns ``by…, denominator (n), value, lower, upper``.

    >>> frame = pd.DataFrame({"weeks": [1.0, 2.0, 3.0, 10.0], "rows": [10, 10, 10, 5]})
    >>> median_from_counts(frame, "weeks", "rows")[["denominator", "value", "lower", "upper"]]
       denominator  value  lower  upper
    0         35.0    2.0    2.0    3.0
    """
    return percentile_from_counts(data, value, count, by, 50.0, confidence)


def percentile_from_counts(
    data: Any,
    value: str,
    count: str,
    by: str | list[str] | None = None,
    percentile: float = 50.0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """A percentile of each group (e.g. the 92nd percentile wait), with order-statistic limits.

    The q-th quantile (q = percentile / 100) of n ordered values x(1) ≤ … ≤ x(n) is read
    at rank h = q (n + 1), interpolating linearly between x(⌊h⌋) and x(⌈h⌉) and held
    within ranks 1 to n: Hyndman RJ, Fan Y (1996) *Sample quantiles in statistical
    packages*, Am Stat 50:361-365, definition 6 (at q = 0.5 it is the usual median).
    Its limits are the values at ranks r = nq - z sqrt(nq(1 - q)) and
    s = 1 + nq + z sqrt(nq(1 - q)), rounded to the nearest integer (Campbell & Gardner
    1988, as in Altman et al. *Statistics with Confidence*, 2nd ed. 2000, ch. 5); they
    are missing when r < 1 or s > n. Units: those of ``value``.

    Returns ``by…, denominator (n), value, lower, upper``.

    >>> frame = pd.DataFrame({"weeks": [1.0, 2.0, 3.0, 10.0], "rows": [10, 10, 10, 5]})
    >>> percentile_from_counts(frame, "weeks", "rows", percentile=92)[["denominator", "value"]]
       denominator  value
    0         35.0   10.0
    """
    frame = to_pandas(data)
    keys = group_keys(by)
    require_columns(frame, [value, count, *keys])
    check_confidence(confidence)
    if not 0 < percentile < 100:
        raise ValueError(f"percentile must be above 0 and below 100, not {percentile}")
    share = percentile / 100
    frame = frame.loc[frame[count] > 0]
    group = sorted_group_ids(frame, keys) if keys else np.zeros(len(frame), dtype=np.int64)
    # One integer sort key (group, then the value's rank) sorts millions of histogram rows
    # far faster than sorting by the key columns themselves.
    found = frame[value].to_numpy(dtype="float64")
    if np.isnan(found).any() or (np.signbit(found) & (found == 0)).any():
        distinct, rank = np.unique(found, return_inverse=True)
    else:
        # Without missing values or negative zeros, hashing gives np.unique's answer faster.
        rank, distinct = pd.factorize(found, sort=True)
        rank = rank.astype(np.int64, copy=False)
    order = np.argsort(group * max(len(distinct), 1) + rank, kind="stable")
    group = group[order]
    if keys:
        first = np.flatnonzero(np.concatenate([[True], group[1:] != group[:-1]])) if len(group) else order
        groups = frame[keys].iloc[order[first]].reset_index(drop=True)
        for key in keys:
            # Categorical keys (histograms of millions of rows) come back as plain values.
            if isinstance(groups[key].dtype, pd.CategoricalDtype):
                groups[key] = groups[key].astype(groups[key].cat.categories.dtype)
    else:
        groups = pd.DataFrame(index=[0] if len(frame) else [])
    counts = frame[count].to_numpy(dtype="float64")[order]
    values = distinct[rank[order]] if len(distinct) else np.zeros(0)
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

    rank = np.clip(share * (totals + 1), 1, np.maximum(totals, 1))
    below, above = at_rank(np.floor(rank)), at_rank(np.ceil(rank))
    fraction = rank - np.floor(rank)
    spread = z * np.sqrt(totals * share * (1 - share))
    result = groups.copy()
    result["denominator"] = totals
    result["value"] = below + fraction * (above - below)
    result["lower"] = at_rank(np.round(totals * share - spread))
    result["upper"] = at_rank(np.round(1 + totals * share + spread))
    return result
