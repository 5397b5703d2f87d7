"""Input checks shared by every statistical method, each failing with one line."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from gapwatch.errors import InputError, rows

FloatArray = npt.NDArray[np.float64]


def as_float_array(values: Any, argument: str) -> FloatArray:
    """``values`` as a float array, or an error naming the argument and how many rows are not numbers."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    array = np.asarray(values)
    if array.dtype.kind in "biuf":
        return array.astype("float64", copy=False)
    try:
        return array.astype("float64")
    except (TypeError, ValueError):
        flat = array.ravel()
        bad = 0
        for item in flat:
            try:
                float(item)
            except (TypeError, ValueError):
                bad += 1
        raise InputError(f"{argument}: {rows(bad)} not numeric") from None


def check_confidence(confidence: float | Any, argument: str = "confidence") -> FloatArray:
    """Confidence levels as an array; each must lie in [0.9, 1)."""
    levels = as_float_array(confidence, argument)
    bad = ~((levels >= 0.9) & (levels < 1))
    if bad.any():
        raise InputError(
            f"{argument}: {rows(int(bad.sum()))} outside [0.9, 1) (e.g. {levels[bad].ravel()[0]!r}); "
            "give a level such as 0.95 or 0.998"
        )
    return levels


def check_non_negative(values: FloatArray, argument: str) -> None:
    """Counts, populations and standard errors cannot be negative."""
    bad = values < 0
    if bad.any():
        raise InputError(f"{argument}: {rows(int(bad.sum()))} negative")


def check_positive(values: FloatArray, argument: str) -> None:
    """Denominators and populations must be above zero."""
    bad = values <= 0
    if bad.any():
        raise InputError(f"{argument}: {rows(int(bad.sum()))} zero or negative")


def check_counts(
    numerator: FloatArray,
    denominator: FloatArray,
    measure: str,
    names: tuple[str, str] = ("numerator", "denominator"),
) -> None:
    """Counts of events over a denominator: neither negative, no events over a zero
    denominator, and for a proportion no numerator above its denominator.

    A zero denominator with no events is allowed (the result is missing); with events it
    is a contradiction in the data, reported as such rather than as a numerator above
    its denominator or a silently missing value.
    """
    top, bottom = names
    check_non_negative(numerator, top)
    check_non_negative(denominator, bottom)
    events_over_nothing = (denominator == 0) & (numerator > 0)
    if events_over_nothing.any():
        raise InputError(
            f"{bottom}: {rows(int(events_over_nothing.sum()))} zero with events in the {top}; "
            f"a {measure} needs a {bottom} above zero"
        )
    if measure == "proportion":
        above = numerator > denominator
        if above.any():
            raise InputError(f"{top}: {rows(int(above.sum()))} above {bottom}")
