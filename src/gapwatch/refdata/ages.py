"""Age bands and the 2013 European Standard Population."""

from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from gapwatch.errors import InputError, rows
from gapwatch.refdata._files import read_csv

AgeScheme = Literal["single", "5y", "10y"]
SCHEMES: tuple[str, ...] = ("single", "5y", "10y")
OLDEST = 120


def _starts(scheme: str) -> npt.NDArray[np.int64]:
    if scheme == "single":
        return np.arange(0, 91)
    if scheme == "5y":
        return np.arange(0, 91, 5)
    if scheme == "10y":
        return np.arange(0, 91, 10)
    raise InputError(f"age band scheme {scheme!r} is not known; choose one of {', '.join(SCHEMES)}")


def band_labels(scheme: str = "5y") -> list[str]:
    """The labels of a scheme's bands, youngest first; the last band is open (``90+``).

    >>> band_labels("10y")[:2], band_labels("10y")[-1]
    (['0-9', '10-19'], '90+')
    """
    starts = _starts(scheme)
    labels = []
    for start, following in itertools.pairwise(starts):
        end = following - 1
        labels.append(str(start) if end == start else f"{start}-{end}")
    labels.append(f"{starts[-1]}+")
    return labels


def band_starts(scheme: str = "5y") -> list[int]:
    """The first age of each band of a scheme, in years."""
    return [int(start) for start in _starts(scheme)]


def age_band(
    age: float | npt.ArrayLike | pd.Series, scheme: str = "5y"
) -> str | npt.NDArray[np.object_] | pd.Series:
    """Band ages in whole years into ``single`` years, ``5y`` (the 19 ESP 2013 bands) or ``10y``.

    Accepts a number, an array or a pandas Series and returns the same shape; ages are
    truncated to whole years. Ages below 0, above 120 or missing are an error, because a
    record with such an age cannot be placed in any band.

    >>> age_band(47)
    '45-49'
    >>> list(age_band([0, 4, 95], "5y"))
    ['0-4', '0-4', '90+']
    """
    starts = _starts(scheme)
    labels = np.array(band_labels(scheme), dtype=object)
    values = np.asarray(age, dtype="float64")
    bad = ~np.isfinite(values) | (values < 0) | (values > OLDEST)
    if bad.any():
        raise InputError(
            f"age: {rows(int(bad.sum()))} missing, below 0 or above {OLDEST}; "
            "every age must be a whole number of years from 0 to 120"
        )
    index = np.searchsorted(starts, np.floor(values), side="right") - 1
    banded = labels[index]
    if isinstance(age, pd.Series):
        return pd.Series(banded, index=age.index, name=age.name)
    if np.ndim(age) == 0:
        return str(banded)
    return banded


def esp2013() -> pd.DataFrame:
    """The 2013 European Standard Population in 19 five-year bands (0-4 to 90+), totalling 100,000.

    Source: Eurostat, *Revision of the European Standard Population* (2013), as used by
    ONS and OHID for directly standardised rates. Columns ``age_band, age_start,
    population``.

    >>> int(esp2013().population.sum())
    100000
    """
    frame = read_csv("esp2013.csv").rename(columns={"esp2013": "population"})
    frame["age_start"] = band_starts("5y")
    return frame[["age_band", "age_start", "population"]]
