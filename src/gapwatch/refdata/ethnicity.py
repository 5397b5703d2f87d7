"""Ethnic groups: the Census 2021 mix of each LSOA and the NHS ethnic category codes."""

from __future__ import annotations

import pandas as pd

from gapwatch.errors import InputError
from gapwatch.refdata._files import check_vintage, read_parquet

#: ONS high-level ethnic groups, with the short labels gapwatch reports them under.
CENSUS_GROUPS = {
    "Asian, Asian British or Asian Welsh": "Asian",
    "Black, Black British, Black Welsh, Caribbean or African": "Black",
    "Mixed or Multiple ethnic groups": "Mixed",
    "White": "White",
    "Other ethnic group": "Other",
}

NOT_KNOWN = "Not stated/Not known"

#: NHS Data Dictionary "Ethnic Category" (data element ETHNIC CATEGORY, 2001 Census based
#: codes used across NHS datasets). Chinese (R) is placed in the ONS 2021 "Asian" group,
#: as in Census 2021, so that rates by group share their denominators with the Census
#: (the default grouping, ``census2021``); :data:`GROUPINGS` holds the alternative.
_CATEGORIES: list[tuple[str, str, str]] = [
    ("A", "White - British", "White"),
    ("B", "White - Irish", "White"),
    ("C", "White - Any other White background", "White"),
    ("D", "Mixed - White and Black Caribbean", "Mixed"),
    ("E", "Mixed - White and Black African", "Mixed"),
    ("F", "Mixed - White and Asian", "Mixed"),
    ("G", "Mixed - Any other mixed background", "Mixed"),
    ("H", "Asian or Asian British - Indian", "Asian"),
    ("J", "Asian or Asian British - Pakistani", "Asian"),
    ("K", "Asian or Asian British - Bangladeshi", "Asian"),
    ("L", "Asian or Asian British - Any other Asian background", "Asian"),
    ("M", "Black or Black British - Caribbean", "Black"),
    ("N", "Black or Black British - African", "Black"),
    ("P", "Black or Black British - Any other Black background", "Black"),
    ("R", "Other Ethnic Groups - Chinese", "Asian"),
    ("S", "Other Ethnic Groups - Any other ethnic group", "Other"),
    ("Z", "Not stated", NOT_KNOWN),
    ("99", "Not known", NOT_KNOWN),
]


#: How the NHS codes are grouped into five high-level groups. The codes differ only in
#: where Chinese (R) goes: ``census2021`` puts it under Asian, as ONS Census 2021 does
#: (ONS, *Ethnic group classifications: Census 2021*), so that group rates can use Census
#: denominators; ``nhs2001`` keeps the 2001 Census based grouping of the NHS Data
#: Dictionary, whose code list files Chinese under "Other Ethnic Groups".
GROUPINGS: dict[str, dict[str, str]] = {
    "census2021": {},
    "nhs2001": {"R": "Other"},
}
DEFAULT_GROUPING = "census2021"


def ethnic_categories(grouping: str = DEFAULT_GROUPING) -> pd.DataFrame:
    """NHS Data Dictionary ethnic category codes with labels and their high-level group.

    Codes A-H, J-N, P, R, S, Z (not stated) and 99 (not known), from the NHS Data
    Dictionary element *Ethnic Category*. ``group`` is the high-level group (White, Mixed,
    Asian, Black, Other) or ``Not stated/Not known``; ``valid`` is False for Z and 99, which
    say nothing about a person's ethnicity. ``grouping`` is one of :data:`GROUPINGS`:
    ``census2021`` (the default: Chinese under Asian, as in Census 2021) or ``nhs2001``
    (Chinese under Other, as the NHS Data Dictionary's 2001-based list has it).

    >>> ethnic_categories().set_index("code").loc[["J", "R"], "group"].tolist()
    ['Asian', 'Asian']
    >>> ethnic_categories("nhs2001").set_index("code").loc["R", "group"]
    'Other'
    """
    if grouping not in GROUPINGS:
        raise InputError(f"ethnic grouping {grouping!r}: choose one of {', '.join(GROUPINGS)}")
    frame = pd.DataFrame(_CATEGORIES, columns=["code", "label", "group"])
    frame["group"] = frame["code"].map(GROUPINGS[grouping]).fillna(frame["group"])
    frame["valid"] = frame["group"] != NOT_KNOWN
    return frame


def ethnic_groups(lsoa_vintage: int = 2021) -> pd.DataFrame:
    """Usual residents of each English and Welsh 2021 LSOA by ONS high-level ethnic group.

    Source: ONS Census 2021, table TS021 (ethnic group), five high-level groups, labelled
    here ``Asian``, ``Black``, ``Mixed``, ``White``, ``Other``. Columns ``lsoa_code,
    ethnic_group, population`` (persons) and ``share`` of the LSOA's residents (0 to 1).
    Census 2021 is published on 2021 LSOAs only.

    >>> frame = ethnic_groups()
    >>> sorted(frame.ethnic_group.unique())
    ['Asian', 'Black', 'Mixed', 'Other', 'White']
    """
    if check_vintage(lsoa_vintage, "lsoa_vintage") != 2021:
        raise InputError("lsoa_vintage=2011: Census 2021 ethnic groups are published on 2021 LSOAs only")
    frame = read_parquet("ethnicity2021_lsoa21").rename(
        columns={"lsoa21_code": "lsoa_code", "n": "population"}
    )
    frame["ethnic_group"] = frame["ethnic_group"].map(CENSUS_GROUPS)
    totals = frame.groupby("lsoa_code")["population"].transform("sum")
    frame["share"] = (frame["population"] / totals.where(totals > 0, 1.0)).astype("float64")
    return frame[["lsoa_code", "ethnic_group", "population", "share"]].sort_values(
        ["lsoa_code", "ethnic_group"], ignore_index=True
    )
