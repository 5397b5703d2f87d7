"""LSOA populations by age, on 2011 or 2021 LSOAs."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from gapwatch.refdata._files import check_vintage, read_parquet
from gapwatch.refdata.ages import band_labels, band_starts

SINGLE_YEAR_COLUMNS = [str(age) for age in range(90)] + ["90+"]


@cache
def _single_year_2011() -> pd.DataFrame:
    wide = read_parquet("population2020_lsoa11_single_year_of_age")
    wide = wide[wide["lsoa11_code"].str.startswith("E01")]
    long = wide.melt(
        id_vars="lsoa11_code",
        value_vars=SINGLE_YEAR_COLUMNS,
        var_name="age_band",
        value_name="population",
    )
    long["age_start"] = long["age_band"].str.rstrip("+").astype("int64")
    return long.rename(columns={"lsoa11_code": "lsoa_code"})


def lsoa_weights_2011_to_2021() -> pd.DataFrame:
    """Best-fit weights that share each 2011 LSOA among the 2021 LSOAs it became.

    From the ONS best-fit lookup of 2011 to 2021 LSOAs: an unchanged (U) or merged (M)
    2011 LSOA passes all of itself on (weight 1); a split (S) or irregular (X) one is
    shared in proportion to the Census 2021 usual residents of its 2021 successors, the
    best available measure of where its people live. Weights of each 2011 LSOA sum to 1,
    so totals are preserved. Columns ``lsoa_code_2011, lsoa_code_2021, weight``.

    >>> weights = lsoa_weights_2011_to_2021()
    >>> bool(abs(weights.groupby("lsoa_code_2011").weight.sum() - 1).max() < 1e-12)
    True
    """
    lookup = read_parquet("lookup_lsoa11_lsoa21_ltla22")
    lookup = lookup[lookup["lsoa11_code"].str.startswith("E01")]
    residents = read_parquet("ethnicity2021_lsoa21").groupby("lsoa21_code", as_index=False)["n"].sum()
    pairs = lookup[["lsoa11_code", "lsoa21_code"]].drop_duplicates()
    pairs = pairs.merge(residents, on="lsoa21_code", how="left")
    pairs["n"] = pairs["n"].fillna(0.0)
    totals = pairs.groupby("lsoa11_code")["n"].transform("sum")
    count = pairs.groupby("lsoa11_code")["n"].transform("size")
    # An LSOA with no recorded residents in any successor is shared equally.
    pairs["weight"] = np.where(totals > 0, pairs["n"] / totals.where(totals > 0, 1.0), 1.0 / count)
    return pairs.rename(columns={"lsoa11_code": "lsoa_code_2011", "lsoa21_code": "lsoa_code_2021"})[
        ["lsoa_code_2011", "lsoa_code_2021", "weight"]
    ].reset_index(drop=True)


@cache
def _single_year(vintage: int) -> pd.DataFrame:
    base = _single_year_2011()
    if vintage == 2011:
        return base
    weights = lsoa_weights_2011_to_2021()
    shared = base.merge(weights, left_on="lsoa_code", right_on="lsoa_code_2011", how="inner")
    shared["population"] = shared["population"] * shared["weight"]
    keys = ["lsoa_code_2021", "age_band", "age_start"]
    summed = shared.groupby(keys, as_index=False, sort=False).agg(population=("population", "sum"))
    return summed.rename(columns={"lsoa_code_2021": "lsoa_code"})


def population(vintage: int = 2021, age_bands: str = "5y") -> pd.DataFrame:
    """Resident population of each English LSOA by age band, mid-2020 (ONS estimates).

    Source: ONS mid-2020 small-area population estimates by single year of age (0 to 89
    and 90+) on 2011 LSOAs. For ``vintage=2021`` each 2011 LSOA is shared among its 2021
    successors by :func:`lsoa_weights_2011_to_2021` (merges add up, splits are divided by
    Census 2021 residents), so England's total is unchanged and 2021 figures are
    fractional. ``age_bands``: ``single``, ``5y`` (the 19 ESP 2013 bands) or ``10y``.
    Columns ``lsoa_code, age_band, age_start, population`` (persons).

    >>> frame = population(2011, "5y")
    >>> sorted(frame.age_band.unique())[:2]
    ['0-4', '10-14']
    """
    chosen = check_vintage(vintage)
    single = _single_year(chosen)
    labels = band_labels(age_bands)
    starts = np.array(band_starts(age_bands))
    index = np.searchsorted(starts, single["age_start"].to_numpy(), side="right") - 1
    banded = single.assign(age_band=np.array(labels, dtype=object)[index], age_start=starts[index])
    keys = ["lsoa_code", "age_band", "age_start"]
    result = banded.groupby(keys, as_index=False, sort=False).agg(population=("population", "sum"))
    return result.sort_values(["lsoa_code", "age_start"], ignore_index=True)
