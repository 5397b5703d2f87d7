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


def test_the_ethnic_grouping_is_a_choice_and_only_chinese_moves() -> None:
    # Issue 17: Census 2021 puts Chinese (R) under Asian (the default); the NHS Data
    # Dictionary's 2001-based list files it under Other. Nothing else differs.
    import pytest

    from gapwatch.errors import InputError
    from gapwatch.refdata.ethnicity import ethnic_categories

    census = ethnic_categories().set_index("code")["group"]
    nhs = ethnic_categories("nhs2001").set_index("code")["group"]
    assert census["R"] == "Asian"
    assert nhs["R"] == "Other"
    assert list(census.index[census != nhs]) == ["R"]
    with pytest.raises(InputError, match="choose one of census2021, nhs2001"):
        ethnic_categories("2011")
