"""Means with Student's t limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from gapwatch.errors import InputError, rows
from gapwatch.stats._frames import group_keys, like, require_columns, to_pandas
from gapwatch.stats._validate import as_float_array, check_confidence


def mean(
    data: Any,
    value: str,
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
    missing: Literal["error", "drop"] = "error",
) -> Any:
    """Mean of ``value`` in each group with limits from Student's t distribution.

    value ± t(1 - alpha/2, n - 1) × s / sqrt(n), as in PHEindicatormethods ``phe_mean``
    and APHO (2008) *Technical briefing 3*. Units: those of ``value``. Returns
    ``by…, value_sum, value_count, stdev, value, lower, upper, confidence, method`` in
    the kind of DataFrame given.

    Missing values are an error by default: a mean of the values that happen to be
    recorded can differ from the mean of all, and the caller should know. With
    ``missing="drop"`` they are left out and a ``value_missing`` column says how many
    were left out of each group.

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
    if missing not in ("error", "drop"):
        raise InputError(f"missing={missing!r}: choose 'error' or 'drop'")
    absent = np.isnan(values)
    if missing == "error" and absent.any():
        raise InputError(
            f"{value}: {rows(int(absent.sum()))} missing; fill them in, or pass missing='drop' to "
            "leave them out (the result then says how many in value_missing)"
        )
    work = pd.DataFrame({key: frame[key] for key in keys} | {"_value": values, "_missing": absent})
    if keys:
        grouped = work.groupby(keys, sort=True, dropna=False)["_value"]
        summary = grouped.agg(value_sum="sum", value_count="count", stdev="std").reset_index()
        dropped = work.groupby(keys, sort=True, dropna=False)["_missing"].sum().to_numpy()
    else:
        present = values[~absent]
        summary = pd.DataFrame(
            {
                "value_sum": [present.sum()],
                "value_count": [present.size],
                # One value or none has no standard deviation (as the grouped path gives).
                "stdev": [float(np.std(present, ddof=1)) if present.size > 1 else np.nan],
            }
        )
        dropped = np.array([absent.sum()])
    count = summary["value_count"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        # A group whose values were all missing (and dropped) has no mean: NaN, not a warning.
        centre = summary["value_sum"].to_numpy() / count
        half = stats.t.ppf(1 - (1 - level) / 2, count - 1) * summary["stdev"].to_numpy() / np.sqrt(count)
    summary["value"] = centre
    summary["lower"] = centre - half
    summary["upper"] = centre + half
    summary["confidence"] = level
    summary["method"] = "Student's t-distribution"
    if missing == "drop":
        summary["value_missing"] = dropped.astype("int64")
    return like(data, summary)
