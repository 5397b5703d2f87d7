"""Linkage to deprivation on the real backends keeps every row and says why."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from gapwatch import refdata
from gapwatch.errors import InputError
from tests.conftest import require_postgres

RECORDS = pd.DataFrame(
    {
        "record": range(8),
        "lsoa_code": [
            "E01000001",  # valid
            " e01011949 ",  # valid once normalised
            "W01000001",  # Welsh
            None,  # missing
            "",  # missing
            "E0100001X",  # malformed
            "E01000010",  # a 2011 code that no longer exists in 2021
            "E01099999",  # well formed, in neither list
        ],
    }
)
EXPECTED = [
    "valid",
    "valid",
    "welsh",
    "missing",
    "missing",
    "malformed",
    "other_vintage",
    "unknown",
]


def _check(linked: ibis.Table) -> None:
    frame = linked.to_pandas().sort_values("record", ignore_index=True)
    assert frame.lsoa_status.tolist() == EXPECTED
    assert frame.imd_decile.notna().tolist() == [status == "valid" for status in EXPECTED]
    assert frame.loc[0, "icb_code"] == refdata.lsoa(2021).set_index("lsoa_code").loc["E01000001", "icb_code"]
    summary = refdata.link_summary(linked).set_index("lsoa_status").rows
    assert summary.to_dict() == {
        "valid": 2,
        "missing": 2,
        "malformed": 1,
        "welsh": 1,
        "other_vintage": 1,
        "unknown": 1,
    }


def test_link_on_duckdb_keeps_every_row_with_a_reason() -> None:
    connection = ibis.duckdb.connect()
    table = connection.create_table("records", RECORDS)
    _check(refdata.link(table, "lsoa_code", 2021))


def test_classify_gives_what_link_gives_code_for_code() -> None:
    # The engine links each table's distinct codes with classify_lsoa; both routes must agree.
    classified = refdata.classify_lsoa(RECORDS["lsoa_code"], 2021)
    assert classified["lsoa_status"].tolist() == EXPECTED
    linked = refdata.link(ibis.memtable(RECORDS), "lsoa_code", 2021).to_pandas()
    linked = linked.sort_values("record", ignore_index=True)
    for column in refdata.linked_columns(2021):
        mine, theirs = classified[column], linked[column]
        assert mine.isna().tolist() == theirs.isna().tolist(), column
        assert mine.dropna().tolist() == theirs.dropna().tolist(), column


def test_link_on_postgres_keeps_every_row_with_a_reason() -> None:
    url = require_postgres()
    connection = ibis.connect(url)
    name = "gapwatch_test_link_records"
    table = connection.create_table(name, RECORDS, temp=True, overwrite=True)
    try:
        _check(refdata.link(table, "lsoa_code", 2021))
    finally:
        connection.disconnect()


def test_link_2011_vintage_uses_imd_2019() -> None:
    linked = refdata.link(ibis.memtable(RECORDS), vintage=2011).to_pandas().sort_values("record")
    assert linked.lsoa_status.iloc[6] == "valid"
    assert (linked.imd_year.dropna() == 2019).all()


def test_link_errors_name_the_problem() -> None:
    table = ibis.memtable(RECORDS)
    with pytest.raises(InputError, match="no column 'lsoa'"):
        refdata.link(table, "lsoa")
    with pytest.raises(InputError, match="already has column"):
        refdata.link(ibis.memtable(RECORDS.assign(icb_code="x")))
    with pytest.raises(InputError, match="not a known LSOA vintage"):
        refdata.link(table, vintage=2001)
