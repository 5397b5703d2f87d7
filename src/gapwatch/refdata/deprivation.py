"""LSOAs with their deprivation and geography: the spine every breakdown joins to."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from gapwatch.refdata._files import check_vintage, read_parquet

LSOA_COLUMNS = [
    "lsoa_code",
    "lsoa_name",
    "imd_year",
    "imd_rank",
    "imd_decile",
    "imd_quintile",
    "core20",
    "sicbl_code",
    "sicbl_name",
    "sicbl_code_nhs",
    "icb_code",
    "icb_name",
    "icb_code_nhs",
    "ltla_code",
    "ltla_name",
    "region_code",
    "region_name",
]


def _with_deprivation(frame: pd.DataFrame, imd_year: int) -> pd.DataFrame:
    frame["imd_year"] = imd_year
    frame["imd_decile"] = frame["imd_decile"].astype("int64")
    frame["imd_rank"] = frame["imd_rank"].astype("int64")
    # Quintile 1 holds deciles 1 and 2: the most deprived fifth of LSOAs nationally.
    frame["imd_quintile"] = np.ceil(frame["imd_decile"] / 2).astype("int64")
    frame["core20"] = frame["imd_decile"] <= 2
    return frame


def _regions() -> pd.DataFrame:
    return read_parquet("lookup_ltla24_region24").rename(
        columns={
            "ltla24_code": "ltla_code",
            "region24_code": "region_code",
            "region24_name": "region_name",
        }
    )[["ltla_code", "region_code", "region_name"]]


@cache
def _lsoa2021() -> pd.DataFrame:
    imd = read_parquet("imd2025_lsoa21").rename(
        columns={"lsoa21_code": "lsoa_code", "IMD_decile": "imd_decile", "IMD_rank": "imd_rank"}
    )[["lsoa_code", "imd_rank", "imd_decile"]]
    nhs = read_parquet("lookup_lsoa21_sicbl24_icb24").rename(
        columns={
            "lsoa21_code": "lsoa_code",
            "lsoa21_name": "lsoa_name",
            "sicbl24_code": "sicbl_code",
            "sicbl24_name": "sicbl_name",
            "sicbl24_code_nhs": "sicbl_code_nhs",
            "icb24_code": "icb_code",
            "icb24_name": "icb_name",
            "icb24_code_nhs": "icb_code_nhs",
        }
    )
    # The ward lookup repeats an LSOA once per ward it touches; every LSOA lies in one LTLA.
    ltla = read_parquet("lookup_lsoa21_ltla24").rename(
        columns={"lsoa21_code": "lsoa_code", "ltla24_code": "ltla_code", "ltla24_name": "ltla_name"}
    )
    frame = imd.merge(nhs, on="lsoa_code", how="left", validate="one_to_one")
    frame = frame.merge(ltla, on="lsoa_code", how="left", validate="one_to_one")
    frame = frame.merge(_regions(), on="ltla_code", how="left", validate="many_to_one")
    frame = _with_deprivation(frame, 2025)
    return frame[LSOA_COLUMNS].sort_values("lsoa_code", ignore_index=True)


def _regions_of_2022_authorities() -> pd.DataFrame:
    # Authorities abolished in the 2023 reorganisations (Cumbria, North Yorkshire, Somerset)
    # have no 2024 code, so their region is found through the 2021 LSOAs they contain;
    # regions did not change, so every 2022 authority lies in exactly one.
    bridge = read_parquet("lookup_lsoa11_lsoa21_ltla22")[["ltla22_code", "lsoa21_code"]]
    regions = _lsoa2021()[["lsoa_code", "region_code", "region_name"]]
    joined = bridge.merge(regions, left_on="lsoa21_code", right_on="lsoa_code", how="inner")
    joined = joined.rename(columns={"ltla22_code": "ltla_code"})
    return joined[["ltla_code", "region_code", "region_name"]].drop_duplicates("ltla_code")


@cache
def _lsoa2011() -> pd.DataFrame:
    imd = read_parquet("imd2019_lsoa11").rename(
        columns={"lsoa11_code": "lsoa_code", "IMD_decile": "imd_decile", "IMD_rank": "imd_rank"}
    )[["lsoa_code", "imd_rank", "imd_decile"]]
    nhs = read_parquet("lookup_lsoa11_sicbl22_icb22_ltla22").rename(
        columns={
            "lsoa11_code": "lsoa_code",
            "lsoa11_name": "lsoa_name",
            "sicbl22_code": "sicbl_code",
            "sicbl22_name": "sicbl_name",
            "sicbl22_code_h": "sicbl_code_nhs",
            "icb22_code": "icb_code",
            "icb22_name": "icb_name",
            "icb22_code_h": "icb_code_nhs",
            "ltla22_code": "ltla_code",
            "ltla22_name": "ltla_name",
        }
    )
    frame = imd.merge(nhs, on="lsoa_code", how="left", validate="one_to_one")
    frame = frame.merge(_regions_of_2022_authorities(), on="ltla_code", how="left", validate="many_to_one")
    frame = _with_deprivation(frame, 2019)
    return frame[LSOA_COLUMNS].sort_values("lsoa_code", ignore_index=True)


def lsoa(vintage: int = 2021) -> pd.DataFrame:
    """One row per English LSOA with its deprivation and NHS and local-government geography.

    ``vintage=2021``: English Indices of Deprivation 2025 (MHCLG) on 2021 LSOAs (33,755),
    sub-ICB locations and ICBs of 2024 and local authorities and regions of 2024 (ONS Open
    Geography lookups). ``vintage=2011``: IMD 2019 on 2011 LSOAs (32,844) with the 2022
    sub-ICB, ICB and local authority; the region of a 2022 authority is the one its
    LSOAs lie in on the 2021 lookup (regions did not change; several 2022 authorities
    were merged in 2023 and have no 2024 code).

    ``imd_decile`` 1 is the most deprived tenth of LSOAs in England; ``imd_quintile`` is
    ``ceil(decile / 2)`` (1 = most deprived); ``core20`` marks deciles 1-2, the most
    deprived 20% nationally in NHS England's Core20PLUS5.

    >>> frame = lsoa(2021)
    >>> len(frame), int(frame.imd_quintile.min())
    (33755, 1)
    """
    chosen = check_vintage(vintage)
    return (_lsoa2021() if chosen == 2021 else _lsoa2011()).copy()


def icb_summary() -> pd.DataFrame:
    """IMD 2025 summary measures per ICB (2024 boundaries), as published by MHCLG.

    Columns: ``icb_code, icb_name, imd_average_rank, imd_average_score,
    share_lsoas_most_deprived_10pc`` (a share from 0 to 1).

    >>> len(icb_summary())
    42
    """
    return read_parquet("imd2025_icb24").rename(
        columns={
            "icb24_code": "icb_code",
            "icb24_name": "icb_name",
            "imd_proportion_of_lso_as_in_most_deprived_10_percent_nationally": (
                "share_lsoas_most_deprived_10pc"
            ),
        }
    )
