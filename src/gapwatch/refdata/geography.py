"""NHS organisations, boundaries and conversion of LSOA codes between vintages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from gapwatch.codes import ENGLAND
from gapwatch.errors import InputError, rows
from gapwatch.refdata import deprivation
from gapwatch.refdata._files import check_vintage, read_csv, read_geojson, read_parquet
from gapwatch.refdata.population import lsoa_weights_2011_to_2021

LSOA_PATTERN = r"^[EW]01\d{6}$"


def nhs_trusts() -> pd.DataFrame:
    """NHS trusts (2022) with the longitude and latitude of their main site (WGS84).

    Source: NHS Digital organisation data service trust list, as located by ONS.
    Columns ``trust_code, trust_name, status, longitude, latitude``.

    >>> "R0A" in set(nhs_trusts().trust_code)
    True
    """
    frame = read_csv("nhs_trusts2022_points.csv").rename(
        columns={
            "nhs_trust22_code": "trust_code",
            "nhs_trust22_name": "trust_name",
            "lon": "longitude",
            "lat": "latitude",
        }
    )
    return frame[["trust_code", "trust_name", "status", "longitude", "latitude"]]


def icb_boundaries() -> dict[str, Any]:
    """Generalised boundaries of the 42 ICBs (July 2022) as a GeoJSON FeatureCollection (WGS84).

    Source: ONS Open Geography Portal. Each feature's properties hold ``icb22_code``.

    >>> len(icb_boundaries()["features"])
    42
    """
    return read_geojson("boundaries_icb22.geojson")


def ltla_boundaries() -> dict[str, Any]:
    """Generalised boundaries of UK local authorities (2024) as GeoJSON (WGS84).

    Source: ONS Open Geography Portal; properties hold ``ltla24_code``.
    """
    return read_geojson("boundaries_ltla24.geojson")


def normalise_lsoa(codes: pd.Series) -> pd.Series:
    """Upper-case LSOA codes with surrounding spaces removed; missing stays missing."""
    return codes.astype("object").where(codes.isna(), codes.astype(str).str.strip().str.upper())


def convert_lsoa(
    codes: Iterable[str] | pd.Series, from_vintage: int = 2011, to_vintage: int = 2021
) -> pd.DataFrame:
    """Convert LSOA codes between 2011 and 2021 with the ONS best-fit lookup.

    An unchanged or merged LSOA maps to one successor with weight 1; a split or
    irregular one maps to every successor, each with the share of Census 2021 residents
    it took (weights of one input code sum to 1), so counts can be shared out without
    loss. Columns ``lsoa_code_from, lsoa_code_to, weight``; a code in neither list gives
    one row with a missing ``lsoa_code_to``. Malformed codes (not ``E01``/``W01`` and six
    digits) are an error naming how many there are.

    >>> convert_lsoa(["E01011949"]).lsoa_code_to.tolist()
    ['E01011949']
    """
    source = check_vintage(from_vintage, "from_vintage")
    target = check_vintage(to_vintage, "to_vintage")
    series = normalise_lsoa(pd.Series(list(codes), dtype="object"))
    malformed = series.isna() | ~series.fillna("").str.match(LSOA_PATTERN)
    if malformed.any():
        example = series[malformed].iloc[0]
        raise InputError(
            f"convert_lsoa: {rows(int(malformed.sum()))} with a malformed LSOA code "
            f"(e.g. {example!r}); codes look like E01011949"
        )
    frame = pd.DataFrame({"lsoa_code_from": series})
    if source == target:
        frame["lsoa_code_to"] = frame["lsoa_code_from"]
        frame["weight"] = 1.0
        return frame
    weights = lsoa_weights_2011_to_2021()
    if source == 2021:
        # Going back, a 2021 LSOA is credited wholly to each 2011 predecessor's share of it.
        weights = weights.rename(columns={"lsoa_code_2011": "to", "lsoa_code_2021": "from"})
        weights["weight"] = weights["weight"] / weights.groupby("from")["weight"].transform("sum")
    else:
        weights = weights.rename(columns={"lsoa_code_2011": "from", "lsoa_code_2021": "to"})
    result = frame.merge(weights, left_on="lsoa_code_from", right_on="from", how="left")
    result = result.rename(columns={"to": "lsoa_code_to"})
    result["weight"] = result["weight"].where(result["lsoa_code_to"].notna(), np.nan)
    return result[["lsoa_code_from", "lsoa_code_to", "weight"]].reset_index(drop=True)


def sub_icb_locations() -> pd.DataFrame:
    """The 106 sub-ICB locations of 2024 with their ICB: ONS and NHS codes and names."""
    lookup = read_parquet("lookup_lsoa21_sicbl24_icb24")
    columns = [
        "sicbl24_code",
        "sicbl24_code_nhs",
        "sicbl24_name",
        "icb24_code",
        "icb24_code_nhs",
        "icb24_name",
    ]
    frame = lookup[columns].drop_duplicates().sort_values("sicbl24_code", ignore_index=True)
    return frame.rename(columns=lambda name: name.replace("24", ""))


def area_names(values: pd.DataFrame) -> pd.DataFrame:
    """Name and parent of every (``area_type``, ``area_code``) pair that ``values`` uses.

    Names come from the ONS LSOA 2021 lookup (regions, ICBs, sub-ICB locations, local
    authorities) and the NHS trust list (providers); a code none of them knows keeps its
    code as its name, and the ``unknown`` area (records that could not be placed) is named
    in words. Columns ``area_type, area_code, area_name, parent_type, parent_code``.

    >>> used = pd.DataFrame({"area_type": ["england", "icb"], "area_code": ["E92000001", "unknown"]})
    >>> area_names(used)["area_name"].tolist()
    ['England', 'Unknown (record could not be placed)']
    """
    lsoa = deprivation.lsoa(2021)
    frames = [pd.DataFrame({"area_type": ["england"], "area_code": [ENGLAND], "area_name": ["England"],
                            "parent_type": [None], "parent_code": [None]})]  # fmt: skip
    for area_type, code, name, parent_type, parent in (
        ("region", "region_code", "region_name", "england", None),
        ("icb", "icb_code", "icb_name", "region", "region_code"),
        ("sub_icb", "sicbl_code", "sicbl_name", "icb", "icb_code"),
        ("local_authority", "ltla_code", "ltla_name", "region", "region_code"),
    ):
        columns = [code, name] + ([parent] if parent else [])
        part = lsoa[columns].drop_duplicates(code)
        frames.append(pd.DataFrame({
            "area_type": area_type, "area_code": part[code], "area_name": part[name],
            "parent_type": parent_type, "parent_code": part[parent] if parent else ENGLAND,
        }))  # fmt: skip
    trusts = nhs_trusts()
    frames.append(
        pd.DataFrame(
            {"area_type": "provider", "area_code": trusts["trust_code"], "area_name": trusts["trust_name"],
             "parent_type": None, "parent_code": None}
        )
    )  # fmt: skip
    known = pd.concat(frames, ignore_index=True)
    used = values[["area_type", "area_code"]].drop_duplicates()
    areas = used.merge(known, on=["area_type", "area_code"], how="left")
    areas["area_name"] = areas["area_name"].fillna(
        areas["area_code"].where(areas["area_code"] != "unknown", "Unknown (record could not be placed)")
    )
    return areas
