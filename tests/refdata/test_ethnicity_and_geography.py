"""Ethnic groups, NHS ethnic categories, trusts and boundaries."""

from __future__ import annotations

import pytest

from gapwatch import refdata
from gapwatch.errors import InputError


def test_ethnic_categories_follow_the_nhs_data_dictionary() -> None:
    categories = refdata.ethnic_categories()
    assert categories.code.tolist() == [*list("ABCDEFGHJKLMNPRSZ"), "99"]
    assert set(categories.group) == {
        "White",
        "Mixed",
        "Asian",
        "Black",
        "Other",
        "Not stated/Not known",
    }
    assert categories.set_index("code").loc[["Z", "99"], "valid"].tolist() == [False, False]
    assert categories.valid.sum() == 16


def test_ethnic_groups_shares_sum_to_one_per_lsoa() -> None:
    groups = refdata.ethnic_groups()
    shares = groups.groupby("lsoa_code").share.sum()
    assert shares.between(0.999999, 1.000001).all()
    assert set(refdata.lsoa(2021).lsoa_code) <= set(groups.lsoa_code)
    with pytest.raises(InputError, match="2021 LSOAs only"):
        refdata.ethnic_groups(2011)


def test_trusts_and_boundaries_load() -> None:
    trusts = refdata.nhs_trusts()
    assert len(trusts) == 218
    assert trusts.latitude.between(49, 56).all()
    icbs = refdata.icb_boundaries()
    codes = {feature["properties"]["icb22_code"] for feature in icbs["features"]}
    # The boundaries are of July 2022; Surrey Heartlands and Sussex were recoded in 2024
    # (E54000052/53 became E54000063/64) when their boundaries changed, so 40 of 42 match.
    assert len(codes) == 42
    assert len(codes & set(refdata.lsoa(2021).icb_code)) == 40
    assert len(refdata.ltla_boundaries()["features"]) == 361
    assert len(refdata.sub_icb_locations()) == 106
