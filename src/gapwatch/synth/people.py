"""Synthetic people: where they live, their age, sex, ethnicity, flags and registrations.

Everything is drawn from the shipped reference data (``gapwatch.refdata``) with numpy
generators, one chunk of people at a time, so the same seed gives the same people.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from gapwatch import refdata

#: NHS ethnic categories within each ONS high-level group, with their approximate shares
#: in England (Census 2021, TS021 detailed groups mapped to NHS Data Dictionary codes).
CATEGORY_SHARES = {
    "White": {"A": 0.87, "B": 0.01, "C": 0.12},
    "Mixed": {"D": 0.30, "E": 0.13, "F": 0.30, "G": 0.27},
    "Asian": {"H": 0.34, "J": 0.28, "K": 0.12, "L": 0.18, "R": 0.08},
    "Black": {"M": 0.25, "N": 0.61, "P": 0.14},
    "Other": {"S": 1.0},
}
GROUPS = list(CATEGORY_SHARES)
ICB_BOUNDARY_RECODES = {"E54000063": "E54000052", "E54000064": "E54000053"}


@dataclass(frozen=True)
class Geography:
    """The LSOAs people are drawn from, with the arrays the generators index into."""

    lsoa: pd.DataFrame  # one row per LSOA in scope, with deprivation and geography
    age_cdf: npt.NDArray[np.float64]  # LSOA x 91 cumulative age distribution
    lsoa_weight: npt.NDArray[np.float64]  # share of the population in scope
    group_cdf: npt.NDArray[np.float64]  # LSOA x 5 cumulative ethnic-group distribution
    practices: pd.DataFrame  # practice_code, sicbl_code, weight
    trusts: pd.DataFrame  # trust_code, icb_code


@cache
def _all_geography() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    lsoa = refdata.lsoa(2021)
    single = refdata.population(2021, "single")
    wide = single.pivot(index="lsoa_code", columns="age_start", values="population").reindex(lsoa.lsoa_code)
    ages = wide.to_numpy(dtype="float64")
    mix = refdata.ethnic_groups(2021).pivot(index="lsoa_code", columns="ethnic_group", values="population")
    groups = mix.reindex(index=lsoa.lsoa_code, columns=GROUPS).fillna(0).to_numpy(dtype="float64")
    return lsoa, ages, groups


def _icb_centroids() -> pd.DataFrame:
    rows = []
    for feature in refdata.icb_boundaries()["features"]:
        coordinates = np.concatenate(
            [np.asarray(polygon[0]) for polygon in feature["geometry"]["coordinates"]]
        )
        longitude, latitude = coordinates.mean(axis=0)
        rows.append((feature["properties"]["icb22_code"], longitude, latitude))
    return pd.DataFrame(rows, columns=["boundary_code", "longitude", "latitude"])


def _trusts_by_icb(icb_codes: list[str]) -> pd.DataFrame:
    trusts = refdata.nhs_trusts()
    trusts = trusts[trusts.status == "open"].reset_index(drop=True)
    centroids = _icb_centroids()
    distance = (trusts.longitude.to_numpy()[:, None] - centroids.longitude.to_numpy()) ** 2 + (
        trusts.latitude.to_numpy()[:, None] - centroids.latitude.to_numpy()
    ) ** 2
    trusts["boundary_code"] = centroids.boundary_code.to_numpy()[distance.argmin(axis=1)]
    pairs = []
    for icb in icb_codes:
        boundary = ICB_BOUNDARY_RECODES.get(icb, icb)
        local = trusts[trusts.boundary_code == boundary]
        if local.empty:
            # An ICB whose centroid is nearest to no trust uses the trust nearest to it.
            row = centroids[centroids.boundary_code == boundary].iloc[0]
            nearest = (
                (trusts.longitude - row.longitude) ** 2 + (trusts.latitude - row.latitude) ** 2
            ).idxmin()
            local = trusts.loc[[nearest]]
        pairs += [(code, icb) for code in sorted(local.trust_code)]
    return pd.DataFrame(pairs, columns=["trust_code", "icb_code"])


def geography(icb_codes: list[str] | None = None) -> Geography:
    """The LSOAs of the chosen ICBs (all of England by default) and their distributions."""
    lsoa, ages, groups = _all_geography()
    keep = np.ones(len(lsoa), dtype=bool) if not icb_codes else lsoa.icb_code.isin(icb_codes).to_numpy()
    lsoa = lsoa[keep].reset_index(drop=True)
    ages = ages[keep]
    groups = groups[keep]
    totals = ages.sum(axis=1)
    age_cdf = np.cumsum(ages, axis=1) / totals[:, None]
    group_totals = groups.sum(axis=1, keepdims=True)
    group_cdf = np.cumsum(groups, axis=1) / np.where(group_totals > 0, group_totals, 1)
    group_cdf[group_totals[:, 0] == 0] = np.linspace(0.2, 1, 5)
    # Practices of about 9,000 registered people, clustered within each sub-ICB location.
    sicbl_population = lsoa.assign(population=totals).groupby("sicbl_code", sort=True).population.sum()
    practice_rows = []
    for index, (sicbl, population) in enumerate(sicbl_population.items()):
        count = max(1, round(population / 9_000))
        practice_rows += [(f"Y{index:03d}{number:02d}", sicbl, 1.0 / count) for number in range(count)]
    practices = pd.DataFrame(practice_rows, columns=["practice_code", "sicbl_code", "weight"])
    trusts = _trusts_by_icb(sorted(lsoa.icb_code.unique()))
    return Geography(lsoa, age_cdf, totals / totals.sum(), group_cdf, practices, trusts)


def _row_search(cdf: np.ndarray, rows: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """For each person, the first column where their row's CDF passes their uniform draw."""
    width = cdf.shape[1]
    flat = (cdf + np.arange(cdf.shape[0])[:, None]).ravel()
    position = np.searchsorted(flat, rows + np.minimum(uniform, 1 - 1e-12), side="right")
    return np.minimum(position - rows * width, width - 1)


def female_share(age: np.ndarray) -> np.ndarray:
    """Share of women by age in England (ONS mid-year estimates, rounded): 0.49 in
    childhood, 0.50 in working ages, rising to about 0.63 at 85 and over."""
    return np.interp(age, [0, 15, 30, 60, 75, 85, 95], [0.487, 0.488, 0.50, 0.51, 0.54, 0.60, 0.68])


def make_people(geo: Geography, count: int, first_id: int, rng: np.random.Generator) -> pd.DataFrame:
    """``count`` people with true attributes (``true_*`` columns hold what the data may misrecord)."""
    lsoa_index = rng.choice(len(geo.lsoa), size=count, p=geo.lsoa_weight)
    age = _row_search(geo.age_cdf, lsoa_index, rng.random(count))
    # The 90+ band is spread over 90 to 99.
    age = np.where(age == 90, 90 + rng.integers(0, 10, count), age)
    female = rng.random(count) < female_share(age)
    group = np.asarray(GROUPS)[_row_search(geo.group_cdf, lsoa_index, rng.random(count))]
    category = np.empty(count, dtype=object)
    for name, shares in CATEGORY_SHARES.items():
        chosen = group == name
        category[chosen] = rng.choice(list(shares), size=int(chosen.sum()), p=list(shares.values()))
    lsoa = geo.lsoa.iloc[lsoa_index]
    quintile = lsoa.imd_quintile.to_numpy()
    deprivation = (3 - quintile) / 2  # +1 most deprived, -1 least deprived
    people = pd.DataFrame(
        {
            "person_id": np.arange(first_id, first_id + count, dtype=np.int64),
            "true_lsoa_code": lsoa.lsoa_code.to_numpy(),
            "icb_code": lsoa.icb_code.to_numpy(),
            "sicbl_code": lsoa.sicbl_code.to_numpy(),
            "imd_quintile": quintile,
            "age": age.astype(np.int64),
            "sex": np.where(female, "2", "1"),
            "true_ethnic_group": group,
            "true_ethnic_category": category,
        }
    )
    # Prevalences: learning disability 0.5% (GP registers, QOF 2023/24), autism about 1.2%,
    # higher in the young; serious mental illness 0.95% (QOF) with a steep deprivation
    # gradient; homelessness about 0.3%, concentrated in deprived areas.
    young = np.clip((30 - age) / 30, 0, 1)
    people["learning_disability"] = rng.random(count) < 0.005 * np.exp(0.25 * deprivation)
    people["autism"] = rng.random(count) < (0.006 + 0.02 * young) * np.exp(0.1 * deprivation)
    people["serious_mental_illness"] = rng.random(count) < 0.0095 * np.exp(0.45 * deprivation) * (age >= 16)
    people["homeless"] = rng.random(count) < 0.003 * np.exp(0.9 * deprivation)
    return _registrations(geo, people, rng)


def _registrations(geo: Geography, people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    count = len(people)
    practices = geo.practices
    by_sicbl: dict[object, pd.DataFrame] = dict(iter(practices.groupby("sicbl_code")))
    practice = np.empty(count, dtype=object)
    for code, index in people.groupby("sicbl_code").indices.items():
        local = by_sicbl[code]
        practice[index] = rng.choice(
            local.practice_code.to_numpy(), size=len(index), p=local.weight.to_numpy()
        )
    trusts: dict[object, np.ndarray] = {
        code: frame.trust_code.to_numpy() for code, frame in geo.trusts.groupby("icb_code")
    }
    provider = np.empty(count, dtype=object)
    for code, index in people.groupby("icb_code").indices.items():
        provider[index] = rng.choice(trusts[code], size=len(index))
    people["gp_practice_code"] = practice
    people["provider_code"] = provider
    return people
