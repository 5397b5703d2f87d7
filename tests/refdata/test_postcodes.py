"""Postcode import from a user's ONSPD file, and the refdata commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from gapwatch.cli.main import main
from gapwatch.refdata.postcodes import postcode_to_lsoa

FIXTURE = Path(__file__).parents[1] / "fixtures" / "onspd_sample.csv"


def test_import_and_lookup_normalise_case_and_spacing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "postcodes.duckdb"
    assert main(["refdata", "load-postcodes", str(FIXTURE), "--store", str(store)]) == 0
    assert "imported 4 postcodes" in capsys.readouterr().out
    found = postcode_to_lsoa(["zz1 1aa", "ZZ11AB", "zz9  9zz"], store=store)
    assert found.lsoa_code.tolist()[:2] == ["E01000001", "E01011949"]
    assert found.lsoa_code.isna().tolist() == [False, False, True]
    old = postcode_to_lsoa(["ZZ1 1AA"], vintage=2011, store=store)
    assert old.lsoa_code.tolist() == ["E01000001"]


def test_postcode_file_with_missing_columns_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("pcds,oa21\nZZ1 1AA,E00000001\n", encoding="utf-8")
    assert main(["refdata", "load-postcodes", str(bad), "--store", str(tmp_path / "p.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "missing an LSOA column (lsoa21 or lsoa11)" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_postcode_file_and_unimported_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "refdata",
                "load-postcodes",
                str(tmp_path / "nope.csv"),
                "--store",
                str(tmp_path / "p.duckdb"),
            ]
        )
        == 1
    )
    assert "no such file" in capsys.readouterr().err
    from gapwatch.errors import InputError

    with pytest.raises(InputError, match="no postcode directory imported"):
        postcode_to_lsoa(["ZZ1 1AA"], store=tmp_path / "absent.duckdb")


def test_summary_and_unknown_vintage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["refdata", "summary"]) == 0
    out = capsys.readouterr().out
    assert "33,755" in out
    assert "6,751" in out
    assert main(["refdata", "summary", "--vintage", "2019"]) == 1
    err = capsys.readouterr().err
    assert "vintage=2019 is not a known LSOA vintage" in err
    assert "Traceback" not in err
