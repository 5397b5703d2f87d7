"""Months, quarters and ages over the synthetic window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gapwatch.errors import InputError


@dataclass(frozen=True)
class Window:
    """A run of whole months: ``start`` is the first month (``YYYY-MM``)."""

    start: str
    months: int

    def __post_init__(self) -> None:
        try:
            pd.Period(self.start, freq="M")
        except ValueError:
            raise InputError(f"--start {self.start!r}: give a month as YYYY-MM") from None
        if self.months < 3:
            raise InputError(f"--months {self.months}: the window needs at least 3 months")

    @property
    def first(self) -> pd.Period:
        return pd.Period(self.start, freq="M")

    def month_end(self, index: np.ndarray | int) -> np.ndarray:
        """The last day of month ``index`` (0 = first month) as numpy datetime64[D]."""
        first = np.datetime64(str(self.first), "M")
        return ((first + np.asarray(index) + 1).astype("datetime64[D]") - 1).astype("datetime64[D]")

    def month_start(self, index: np.ndarray | int) -> np.ndarray:
        first = np.datetime64(str(self.first), "M")
        return (first + np.asarray(index)).astype("datetime64[D]")

    def quarter_ends(self) -> np.ndarray:
        """Indices of the months that close each whole quarter of the window."""
        return np.arange(2, self.months, 3)

    def progress(self, index: np.ndarray | int) -> np.ndarray:
        """Time through the window, 0 at the first month and 1 at the last."""
        return np.asarray(index, dtype="float64") / max(self.months - 1, 1)


def birth_months(age_at_start: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Months before the window's first month at which each person was born."""
    return age_at_start * 12 + rng.integers(0, 12, age_at_start.size)


def age_at(birth_offset: np.ndarray, month_index: int | np.ndarray) -> np.ndarray:
    """Whole years of age at the end of month ``month_index`` of the window."""
    return (birth_offset + np.asarray(month_index)) // 12
