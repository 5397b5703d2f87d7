"""Populations by age, and conversion between LSOA vintages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gapwatch import refdata
from gapwatch.errors import InputError
from gapwatch.refdata._files import read_parquet


def test_totals_are_preserved_from_2011_to_2021() -> None:
    source = read_parquet("population2020_lsoa11_single_year_of_age")
    england = source[source.lsoa11_code.str.startswith("E01")].total_population.sum()
    old = refdata.population(2011, "5y")
    new = refdata.population(2021, "5y")
    assert old.population.sum() == pytest.approx(england, rel=1e-12)
    assert new.population.sum() == pytest.approx(england, rel=1e-12)
    assert new.lsoa_code.nunique() == 33_755
    by_band_old = old.groupby("age_band").population.sum()
    by_band_new = new.groupby("age_band").population.sum()
    pd.testing.assert_series_equal(by_band_old, by_band_new, rtol=1e-12)


def test_split_lsoa_is_shared_among_its_successors() -> None:
    weights = refdata.lsoa_weights_2011_to_2021()
    lookup = read_parquet("lookup_lsoa11_lsoa21_ltla22")
    split = lookup[lookup.change_code == "S"].lsoa11_code.iloc[0]
    parts = weights[weights.lsoa_code_2011 == split]
    assert len(parts) >= 2
    assert parts.weight.sum() == pytest.approx(1.0)
    old = refdata.population(2011, "single")
    new = refdata.population(2021, "single")
    children = new[new.lsoa_code.isin(parts.lsoa_code_2021)]
    # Only this parent feeds these children, so their sum is the parent's population.
    if weights[weights.lsoa_code_2021.isin(parts.lsoa_code_2021)].lsoa_code_2011.nunique() == 1:
        assert children.population.sum() == pytest.approx(old[old.lsoa_code == split].population.sum())


@pytest.mark.parametrize(("scheme", "bands"), [("single", 91), ("5y", 19), ("10y", 10)])
def test_age_schemes_have_their_bands(scheme: str, bands: int) -> None:
    frame = refdata.population(2011, scheme)
    assert frame.age_band.nunique() == bands
    assert frame.groupby("lsoa_code").size().eq(bands).all()


def test_esp2013_has_19_bands_summing_to_100000() -> None:
    esp = refdata.esp2013()
    assert len(esp) == 19
    assert esp.population.sum() == 100_000
    assert esp.age_band.tolist() == refdata.band_labels("5y")


def test_age_band_is_vectorised_and_rejects_impossible_ages() -> None:
    assert refdata.age_band(0) == "0-4"
    assert refdata.age_band(89.9) == "85-89"
    assert list(refdata.age_band(np.array([5, 120]), "10y")) == ["0-9", "90+"]
    series = refdata.age_band(pd.Series([17, 44], index=[3, 4]), "single")
    assert isinstance(series, pd.Series)
    assert series.to_dict() == {3: "17", 4: "44"}
    with pytest.raises(InputError, match="age: 2 rows missing, below 0 or above 120"):
        refdata.age_band([-1, 5, 121])
    with pytest.raises(InputError, match="age band scheme 'decades' is not known"):
        refdata.age_band(5, "decades")


def test_convert_lsoa_follows_the_best_fit_lookup() -> None:
    lookup = read_parquet("lookup_lsoa11_lsoa21_ltla22")
    unchanged = lookup[lookup.change_code == "U"].lsoa11_code.iloc[5]
    merged = lookup[lookup.change_code == "M"]
    converted = refdata.convert_lsoa([unchanged, merged.lsoa11_code.iloc[0], "e01999999 "])
    assert converted.lsoa_code_to.iloc[0] == unchanged
    assert converted.lsoa_code_to.iloc[1] == merged.lsoa21_code.iloc[0]
    assert converted.weight.iloc[1] == 1.0
    assert pd.isna(converted.lsoa_code_to.iloc[2])
    back = refdata.convert_lsoa([merged.lsoa21_code.iloc[0]], from_vintage=2021, to_vintage=2011)
    assert back.weight.sum() == pytest.approx(1.0)


def test_convert_lsoa_rejects_malformed_codes() -> None:
    with pytest.raises(InputError, match=r"2 rows with a malformed LSOA code \(e.g. 'E0100'\)"):
        refdata.convert_lsoa(["E0100", "E01000001", None])
