"""Place and person codes: the small integers the engine groups by, and their labels.

Inside the engine every grouping field is a small integer code that is never missing
(0 = ``unknown``). A record's *place* is the distinct combination of region, ICB, sub-ICB,
local authority and IMD decile of its LSOA of residence (about 2,900 in England): areas,
deciles, quintiles and Core20 all follow from it. Person codes are ethnic category (and
group), ten-year age band, five-year age band (for standardised rates), sex and three
flags; sex and the flags, three values each, can be packed into one ``flags`` code.

>>> code_labels()["sex"].tolist()
['unknown', 'male', 'female']
>>> CODED["place"]
'_gapwatch_place'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from gapwatch import refdata
from gapwatch.codes import ENGLAND as ENGLAND
from gapwatch.model.breakdowns import UNKNOWN
from gapwatch.refdata.ages import band_labels, band_starts
from gapwatch.refdata.ethnicity import DEFAULT_GROUPING

AGE_BANDS: tuple[tuple[int, str], ...] = tuple(
    (start, label) for start, label in zip(band_starts("10y"), band_labels("10y"), strict=True)
)

#: The column of the prepared table that holds each area type's code.
AREA_COLUMNS: dict[str, str | None] = {
    "england": None,
    "region": "region_code",
    "icb": "icb_code",
    "sub_icb": "sicbl_code",
    "local_authority": "ltla_code",
    "provider": "organisation_code",
}
ORGANISATION_COLUMNS = ("provider_code", "gp_practice_code")

#: Columns that belong to the LSOA of residence, so everyone in one place shares them.
PLACE_COLUMNS = ("region_code", "icb_code", "sicbl_code", "ltla_code", "imd_decile", "imd_quintile", "core20")
#: Person-level grouping columns; inside the engine each is a small integer code, 0 = unknown.
FLAGS = ("learning_disability", "autism", "serious_mental_illness")
CODED_COLUMNS = ("ethnic_category", "age_band", "sex", *FLAGS)
#: Prepared-table names of the place and person codes (kept apart from the input's own columns,
#: which indicator expressions read unchanged).
CODED = {
    name: f"_gapwatch_{name}"
    for name in (
        "place",
        "lsoa_valid",
        "organisation_code",
        "standard_age",
        "flags",
        "ethnic_group",
        *CODED_COLUMNS,
    )
}
#: Person codes of three values each (0 unknown, 1, 2) packed into one ``flags`` code, the
#: first the most significant: one grouping set by place and flags replaces one per field.
PACKED = ("sex", *FLAGS)


@dataclass(frozen=True)
class Places:
    """Every distinct place (region, ICB, sub-ICB, LTLA, decile) with its grouping labels.

    Place 0 is the unknown place of records whose LSOA does not link. ``codes[column]``
    gives each place's code of a place column, an index into ``labels[column]``.
    """

    lookup: pd.DataFrame
    codes: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]


@cache
def places(vintage: int) -> Places:
    """The places of an LSOA vintage (2011 or 2021), numbered from 1 in sorted order."""
    lookup = refdata.lsoa(vintage)[list(PLACE_COLUMNS)].drop_duplicates()
    lookup = lookup.sort_values(list(PLACE_COLUMNS), ignore_index=True)
    lookup.insert(0, "place", np.arange(1, len(lookup) + 1, dtype=np.int32))
    text = {
        column: lookup[column].astype(str).to_numpy(dtype=object)
        for column in PLACE_COLUMNS
        if column != "core20"
    }
    text["core20"] = np.where(lookup["core20"].to_numpy(dtype=bool), "core20", "rest").astype(object)
    codes, labels = {}, {}
    for column, values in text.items():
        uniques, inverse = np.unique(values.astype(str), return_inverse=True)
        labels[column] = np.array([UNKNOWN, *uniques], dtype=object)
        codes[column] = np.concatenate([[0], inverse + 1]).astype(np.int64)
    return Places(lookup, codes, labels)


@cache
def code_labels() -> dict[str, np.ndarray]:
    """Labels of the person-level codes, indexed by code (0 is ``unknown``)."""
    categories = refdata.ethnic_categories()
    valid = categories[categories["valid"]]
    labels = {
        "ethnic_category": [UNKNOWN, *valid["code"]],
        "ethnic_group": [UNKNOWN, *sorted(set(valid["group"]))],
        "age_band": [UNKNOWN, *(label for _, label in AGE_BANDS)],
        "standard_age": [UNKNOWN, *band_labels("5y")],
        "sex": [UNKNOWN, "male", "female"],
        **{flag: [UNKNOWN, "yes", "no"] for flag in FLAGS},
    }
    return {name: np.array(values, dtype=object) for name, values in labels.items()}


@cache
def ethnic_group_of_category(grouping: str = DEFAULT_GROUPING) -> np.ndarray:
    """The ethnic_group code of each ethnic_category code, under the run's ``ethnic_grouping``.

    Every grouping has the same five groups (they differ only in where code R goes), so
    the group labels of :func:`code_labels` serve them all.
    """
    categories = refdata.ethnic_categories(grouping)
    valid = categories[categories["valid"]]
    groups = list(code_labels()["ethnic_group"])
    return np.array([0, *(groups.index(group) for group in valid["group"])], dtype=np.int64)
