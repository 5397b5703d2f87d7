"""LSOA spine: counts and values equal the published reference tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gapwatch import refdata
from gapwatch.errors import InputError
from gapwatch.refdata._files import data_dir

SHARED = Path(__file__).parents[2] / ".." / "shared" / "refdata"


def test_2021_lsoas_counts_match_the_sources() -> None:
    frame = refdata.lsoa(2021)
    assert len(frame) == 33_755
    assert frame.lsoa_code.is_unique
    assert frame.icb_code.nunique() == 42
    assert frame.sicbl_code.nunique() == 106
    assert frame.imd_quintile.value_counts().to_dict() == dict.fromkeys(range(1, 6), 6751)
    assert not frame.isna().any().any()
    assert (frame.imd_year == 2025).all()


def test_2011_lsoas_counts_match_the_sources() -> None:
    frame = refdata.lsoa(2011)
    assert len(frame) == 32_844
    assert frame.icb_code.nunique() == 42
    assert (frame.imd_year == 2019).all()
    assert not frame.region_code.isna().any()


@pytest.mark.parametrize("vintage", [2011, 2021])
def test_quintile_and_core20_follow_the_decile(vintage: int) -> None:
    frame = refdata.lsoa(vintage)
    assert (frame.imd_quintile == np.ceil(frame.imd_decile / 2)).all()
    assert (frame.core20 == (frame.imd_decile <= 2)).all()


def _source(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(folder / f"{name}.parquet")


@pytest.mark.parametrize("folder", [data_dir(), SHARED], ids=["shipped", "shared"])
def test_sample_of_deciles_and_icbs_equals_the_source_tables(folder: Path) -> None:
    if not folder.exists():
        pytest.skip("../shared is not beside this checkout")
    imd = _source(folder, "imd2025_lsoa21").set_index("lsoa21_code")
    icb = _source(folder, "lookup_lsoa21_sicbl24_icb24").set_index("lsoa21_code")
    sample = refdata.lsoa(2021).sample(500, random_state=7).set_index("lsoa_code")
    assert (sample.imd_decile == imd.loc[sample.index, "IMD_decile"].astype(int)).all()
    assert (sample.imd_rank == imd.loc[sample.index, "IMD_rank"].astype(int)).all()
    assert (sample.icb_code == icb.loc[sample.index, "icb24_code"]).all()
    assert (sample.sicbl_code_nhs == icb.loc[sample.index, "sicbl24_code_nhs"]).all()


def test_a_known_lsoa_has_its_published_decile() -> None:
    # City of London 001A (E01000001): IMD 2025 decile 8 in MHCLG's file 1 (shipped copy).
    row = refdata.lsoa(2021).set_index("lsoa_code").loc["E01000001"]
    assert row.imd_decile == 8
    assert row.ltla_name == "City of London"
    assert row.region_name == "London"


@pytest.mark.parametrize("vintage", [2019, "2021", None, True])
def test_unknown_vintage_is_a_one_line_error(vintage: object) -> None:
    with pytest.raises(InputError, match=r"is not a known LSOA vintage; choose 2011"):
        refdata.lsoa(vintage)  # type: ignore[arg-type]


def test_icb_summary_has_every_icb() -> None:
    summary = refdata.icb_summary()
    assert set(summary.icb_code) == set(refdata.lsoa(2021).icb_code)
