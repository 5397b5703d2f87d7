"""Means with Student's t limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from gapwatch.stats._frames import group_keys, like, require_columns, to_pandas
from gapwatch.stats._validate import as_float_array, check_confidence


def mean(data: Any, value: str, by: str | Sequence[str] | None = None, confidence: float = 0.95) -> Any:
    """Mean of ``value`` in each group with limits from Student's t distribution.

    value ± t(1 - alpha/2, n - 1) × s / sqrt(n), as in PHEindicatormethods ``phe_mean``
    and APHO (2008) *Technical briefing 3*. Units: those of ``value``. Returns
    ``by…, value_sum, value_count, stdev, value, lower, upper, confidence, method`` in
    the kind of DataFrame given.

    >>> frame = pd.DataFrame({"area": ["a", "a", "b", "b"], "wait": [2.0, 4.0, 3.0, 5.0]})
    >>> mean(frame, "wait", by="area")[["area", "value"]]
      area  value
    0    a    3.0
    1    b    4.0
    """
    frame = to_pandas(data)
    keys = group_keys(by)
    require_columns(frame, [value, *keys])
    level = float(check_confidence(confidence))
    values = as_float_array(frame[value], value)
    work = pd.DataFrame({key: frame[key] for key in keys} | {"_value": values})
    if keys:
        grouped = work.groupby(keys, sort=True, dropna=False)["_value"]
        summary = grouped.agg(value_sum="sum", value_count="count", stdev="std").reset_index()
    else:
        summary = pd.DataFrame(
            {
                "value_sum": [np.nansum(values)],
                "value_count": [int(np.isfinite(values).sum())],
                "stdev": [float(np.nanstd(values, ddof=1))],
            }
        )
    count = summary["value_count"].to_numpy(dtype="float64")
    centre = summary["value_sum"].to_numpy() / count
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(1 - (1 - level) / 2, count - 1) * summary["stdev"].to_numpy() / np.sqrt(count)
    summary["value"] = centre
    summary["lower"] = centre - half
    summary["upper"] = centre + half
    summary["confidence"] = level
    summary["method"] = "Student's t-distribution"
    return like(data, summary)
