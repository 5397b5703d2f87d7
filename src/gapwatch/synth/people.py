"""Synthetic people: where they live, their age, sex, ethnicity, flags and registrations.

Everything is drawn from the shipped reference data (``gapwatch.refdata``) with numpy
generators, one chunk of people at a time, so the same seed gives the same people. A
person is a row of integer arrays: places, organisations and ethnic categories are
positions in the vocabularies of :class:`Geography`, turned into strings only when a
table is written.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

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
#: Every NHS ethnic category drawn, group by group.
CATEGORIES = [category for shares in CATEGORY_SHARES.values() for category in shares]
QUINTILES = 5
#: Cells of truth and probability tables per ICB: IMD quintile × ethnic group.
CELLS_PER_ICB = QUINTILES * len(GROUPS)
ICB_BOUNDARY_RECODES = {"E54000063": "E54000052", "E54000064": "E54000053"}


@dataclass(frozen=True)
class Geography:
    """The LSOAs people are drawn from, with the arrays the generators index into.

    LSOAs, practices and trusts are numbered by their position in ``lsoa_codes``,
    ``practice_codes`` and ``trust_codes``; ICBs by their position in ``icb_codes``
    (sorted).
    """

    lsoa_codes: npt.NDArray[np.str_]
    lsoa_cdf: npt.NDArray[np.float64]  # cumulative share of the population in scope
    lsoa_icb: npt.NDArray[np.int32]
    lsoa_quintile: npt.NDArray[np.int8]
    age_cdf: npt.NDArray[np.float64]  # LSOA x 91 cumulative age distribution, row r offset by r
    group_cdf: npt.NDArray[np.float64]  # LSOA x 5 cumulative ethnic-group distribution, offset likewise
    icb_codes: list[str]
    practice_codes: npt.NDArray[np.str_]
    lsoa_first_practice: npt.NDArray[np.int32]  # the first practice of the LSOA's sub-ICB location
    lsoa_practice_count: npt.NDArray[np.int32]  # how many practices that location has
    trust_codes: npt.NDArray[np.str_]
    icb_trusts: npt.NDArray[np.int32]  # trust positions, grouped by ICB
    icb_first_trust: npt.NDArray[np.int32]
    icb_trust_count: npt.NDArray[np.int32]


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


def _offset_rows(cdf: np.ndarray) -> np.ndarray:
    """Row r of a table of CDFs shifted up by r and flattened, for one search over all rows."""
    return (cdf + np.arange(cdf.shape[0])[:, None]).ravel()


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
    icbs = sorted(lsoa.icb_code.unique())
    # Practices of about 9,000 registered people, clustered within each sub-ICB location;
    # a person is registered with any practice of their location with equal chance.
    sicbl_population = lsoa.assign(population=totals).groupby("sicbl_code", sort=True).population.sum()
    practice_codes: list[str] = []
    first_practice, practice_count = {}, {}
    for index, (location, population) in enumerate(sicbl_population.items()):
        count = max(1, round(population / 9_000))
        first_practice[location], practice_count[location] = len(practice_codes), count
        practice_codes += [f"Y{index:03d}{number:02d}" for number in range(count)]
    sicbl = lsoa.sicbl_code.to_numpy()
    # A person's trust is any trust of their ICB with equal chance.
    pairs = _trusts_by_icb(icbs)
    trust_codes = np.array(sorted(pairs.trust_code.unique()))
    icb_position = {code: position for position, code in enumerate(icbs)}
    pair_icb = pairs.icb_code.map(icb_position).to_numpy()
    order = np.argsort(pair_icb, kind="stable")
    weights = totals / totals.sum()
    lsoa_cdf = np.cumsum(weights)
    return Geography(
        lsoa_codes=lsoa.lsoa_code.to_numpy().astype(str),
        lsoa_cdf=lsoa_cdf / lsoa_cdf[-1],
        lsoa_icb=lsoa.icb_code.map(icb_position).to_numpy().astype(np.int32),
        lsoa_quintile=lsoa.imd_quintile.to_numpy().astype(np.int8),
        age_cdf=_offset_rows(age_cdf),
        group_cdf=_offset_rows(group_cdf),
        icb_codes=icbs,
        practice_codes=np.array(practice_codes),
        lsoa_first_practice=np.array([first_practice[code] for code in sicbl], dtype=np.int32),
        lsoa_practice_count=np.array([practice_count[code] for code in sicbl], dtype=np.int32),
        trust_codes=trust_codes,
        icb_trusts=np.searchsorted(trust_codes, pairs.trust_code.to_numpy()[order]).astype(np.int32),
        icb_first_trust=np.searchsorted(pair_icb[order], np.arange(len(icbs))).astype(np.int32),
        icb_trust_count=np.bincount(pair_icb, minlength=len(icbs)).astype(np.int32),
    )


def _search(cdf: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.searchsorted(cdf, keys, side="right")``, several times faster on a big ``cdf``.

    Searching keys in order walks the table once instead of jumping about it at random.
    """
    order = np.argsort(keys)
    position = np.empty(keys.size, dtype=np.int64)
    position[order] = np.searchsorted(cdf, keys[order], side="right")
    return position


def _row_search(flat_cdf: np.ndarray, width: int, rows: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """For each person, the first column where their row's CDF passes their uniform draw."""
    position = _search(flat_cdf, rows + np.minimum(uniform, 1 - 1e-12))
    return np.minimum(position - rows * width, width - 1)


def female_share(age: np.ndarray) -> np.ndarray:
    """Share of women by age in England (ONS mid-year estimates, rounded): 0.49 in
    childhood, 0.50 in working ages, rising to about 0.63 at 85 and over."""
    return np.interp(age, [0, 15, 30, 60, 75, 85, 95], [0.487, 0.488, 0.50, 0.51, 0.54, 0.60, 0.68])


def _categories(group: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """An NHS ethnic category (position in CATEGORIES) within each person's group."""
    width = max(len(shares) for shares in CATEGORY_SHARES.values())
    cdf = np.full((len(GROUPS), width), np.inf)
    first = np.zeros(len(GROUPS), dtype=np.int8)
    count = np.zeros(len(GROUPS), dtype=np.int8)
    for index, shares in enumerate(CATEGORY_SHARES.values()):
        cumulative = np.cumsum(list(shares.values()))
        cdf[index, : len(shares)] = cumulative / cumulative[-1]
        first[index] = sum(len(other) for other in list(CATEGORY_SHARES.values())[:index])
        count[index] = len(shares)
    within = (uniform[:, None] >= cdf[group]).sum(axis=1)
    return (first[group] + np.minimum(within, count[group] - 1)).astype(np.int8)


@dataclass
class People:
    """One chunk of people, one array each; positions refer to the Geography and faults vocabularies.

    ``true_*`` arrays hold what the records may misrecord; ``cell`` numbers each person's
    true ICB × IMD quintile × ethnic group, the cells of the probability and truth tables.
    """

    first_id: int
    true_lsoa: np.ndarray  # int32 position in Geography.lsoa_codes
    icb: np.ndarray  # int16 position in Geography.icb_codes
    quintile: np.ndarray  # int8, 1 most deprived to 5 least
    group: np.ndarray  # int8 position in GROUPS (true ONS ethnic group)
    true_category: np.ndarray  # int8 position in CATEGORIES
    cell: np.ndarray  # int32
    age: np.ndarray  # int16, whole years at the start of the window
    birth: np.ndarray  # int32, months before the window's first month when born
    female: np.ndarray  # bool
    learning_disability: np.ndarray
    autism: np.ndarray
    serious_mental_illness: np.ndarray
    homeless: np.ndarray
    practice: np.ndarray  # int32 position in Geography.practice_codes
    trust: np.ndarray  # int32 position in Geography.trust_codes
    # Long-term conditions held on GP registers, drawn once per person.
    hypertension: np.ndarray
    copd: np.ndarray
    smoker: np.ndarray
    asthma: np.ndarray
    diabetes: np.ndarray
    epilepsy: np.ndarray
    # As recorded (faults.record): positions in the faults vocabularies, MISSING for none.
    lsoa: np.ndarray  # int32
    gp_category: np.ndarray  # int8
    trust_category: np.ndarray  # int8

    def __len__(self) -> int:
        return int(self.age.size)

    def person_id(self, rows: np.ndarray) -> np.ndarray:
        return rows.astype(np.int64) + self.first_id

    def save(self, folder: Path) -> None:
        """Keep each array in its own ``.npy`` file under ``folder``, to be mapped back cheaply."""
        folder.mkdir(parents=True, exist_ok=True)
        for item in fields(self):
            if item.name != "first_id":
                np.save(folder / f"{item.name}.npy", getattr(self, item.name))
        (folder / "first_id").write_text(str(self.first_id))

    @classmethod
    def load(cls, folder: Path) -> People:
        # Memory-mapped: each producer reads the same chunk, which stays in the page cache.
        values = {
            item.name: np.load(folder / f"{item.name}.npy", mmap_mode="r").view(np.ndarray)
            for item in fields(cls)
            if item.name != "first_id"
        }
        return cls(first_id=int((folder / "first_id").read_text()), **values)


def _registers(age: np.ndarray, deprivation: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    size = age.size
    return {
        # QOF 2023-24 prevalence: hypertension 14.8% of all ages, mostly over 50.
        "hypertension": rng.random(size) < special.expit((age - 62) / 9 + 0.15 * deprivation) * 0.6,
        # COPD 1.9% of all ages, from 35, strongly graded by deprivation.
        "copd": (age >= 35) & (rng.random(size) < special.expit((age - 70) / 10 + 0.5 * deprivation) * 0.12),
        # Adult smoking 11.9% (ONS 2023), 20% in the most deprived tenth.
        "smoker": (age >= 15) & (rng.random(size) < special.expit(-2.0 + 0.45 * deprivation)),
        # About 9% of children and young people have asthma; diabetes 0.25%; epilepsy 0.5%.
        "asthma": (age >= 5) & (age <= 17) & (rng.random(size) < 0.09 * np.exp(0.15 * deprivation)),
        "diabetes": (age <= 17) & (rng.random(size) < 0.0025),
        "epilepsy": (age <= 17) & (rng.random(size) < 0.005 * np.exp(0.1 * deprivation)),
    }


def make_people(geo: Geography, count: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``count`` people's true attributes, flags, registers and registrations."""
    lsoa = np.minimum(_search(geo.lsoa_cdf, rng.random(count)), geo.lsoa_codes.size - 1)
    age = _row_search(geo.age_cdf, 91, lsoa, rng.random(count))
    # The 90+ band is spread over 90 to 99.
    oldest = age == 90
    age[oldest] = 90 + rng.integers(0, 10, int(oldest.sum()))
    female = rng.random(count) < female_share(age)
    group = _row_search(geo.group_cdf, len(GROUPS), lsoa, rng.random(count)).astype(np.int8)
    category = _categories(group, rng.random(count))
    icb = geo.lsoa_icb[lsoa]
    quintile = geo.lsoa_quintile[lsoa]
    deprivation = (3 - quintile) / 2  # +1 most deprived, -1 least deprived
    # Prevalences: learning disability 0.5% (GP registers, QOF 2023/24), autism about 1.2%,
    # higher in the young; serious mental illness 0.95% (QOF) with a steep deprivation
    # gradient; homelessness about 0.3%, concentrated in deprived areas.
    young = np.clip((30 - age) / 30, 0, 1)
    learning_disability = rng.random(count) < 0.005 * np.exp(0.25 * deprivation)
    autism = rng.random(count) < (0.006 + 0.02 * young) * np.exp(0.1 * deprivation)
    serious_mental_illness = rng.random(count) < 0.0095 * np.exp(0.45 * deprivation) * (age >= 16)
    homeless = rng.random(count) < 0.003 * np.exp(0.9 * deprivation)
    practice = geo.lsoa_first_practice[lsoa] + (rng.random(count) * geo.lsoa_practice_count[lsoa]).astype(
        np.int32
    )
    trust_pair = geo.icb_first_trust[icb] + (rng.random(count) * geo.icb_trust_count[icb]).astype(np.int32)
    return {
        "true_lsoa": lsoa.astype(np.int32),
        "icb": icb.astype(np.int16),
        "quintile": quintile,
        "group": group,
        "true_category": category,
        "cell": (icb.astype(np.int32) * QUINTILES + quintile - 1) * len(GROUPS) + group,
        "age": age.astype(np.int16),
        "female": female,
        "learning_disability": learning_disability,
        "autism": autism,
        "serious_mental_illness": serious_mental_illness,
        "homeless": homeless,
        "practice": practice.astype(np.int32),
        "trust": geo.icb_trusts[trust_pair],
        **_registers(age, deprivation, rng),
    }
