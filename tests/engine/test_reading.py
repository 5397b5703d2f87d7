"""Reading CSV inputs: codes keep their leading zeros; the configuration pins a column's type."""

from __future__ import annotations

from pathlib import Path

import pytest

from gapwatch.engine.backends import engine_for
from gapwatch.errors import InputError
from gapwatch.model.config import RunConfig


def _csv(path: Path) -> Path:
    # Rows in no particular order; every code column looks like a number.
    path.write_text(
        "provider_code,sex,ethnic_category,gp_practice_code,EPIORDER,note\n"
        "012,2,01,00123,1,7\n"
        "7,1,02,41,2,x\n"
        "003,01,10,0,1,\n"
    )
    return path


def test_csv_code_columns_are_text_with_their_leading_zeros(tmp_path: Path) -> None:
    # Codes that look like numbers in every row the engine samples (20,480), then one with
    # leading zeros: inferred as a number, it would be read as 123.
    lines = ["provider_code,sex,gp_practice_code", *(["41,1,41"] * 25_000), "00123,01,00123"]
    (tmp_path / "episodes.csv").write_text("\n".join(lines) + "\n")
    with engine_for("duckdb") as engine:
        engine.register_file("episodes", tmp_path / "episodes.csv")
        table = engine.table("episodes")
        for column in ("provider_code", "sex", "gp_practice_code"):
            assert table.schema()[column].is_string(), column
        found = table.execute()
    assert found.iloc[-1].tolist() == ["00123", "01", "00123"]
    assert found.iloc[0].tolist() == ["41", "1", "41"]


def test_the_configuration_pins_a_csv_column_type(tmp_path: Path) -> None:
    config = RunConfig.model_validate(
        {"data": ".", "periods": {"start": "2024-04", "end": "2024-06"},
         "column_types": {"episodes": {"EPIORDER": "text"}}}
    )  # fmt: skip
    with engine_for("duckdb") as engine:
        engine.register_file("episodes", _csv(tmp_path / "episodes.csv"), config.column_types["episodes"])
        assert engine.table("episodes").schema()["EPIORDER"].is_string()
        with pytest.raises(InputError, match=r"episodes\.csv: column_types names column 'EPIEND'"):
            engine.register_file("other", tmp_path / "episodes.csv", {"EPIEND": "date"})


def test_time_zone_aware_timestamps_give_dates_in_their_own_zone(tmp_path: Path) -> None:
    import pandas as pd

    # Midnights in London (BST, UTC+1, in summer) and in Kolkata (UTC+5:30), in scrambled order:
    # in UTC each is the day before, moving 1 July and 1 April into the previous quarter.
    london = pd.Series(pd.to_datetime(["2024-07-01", "2024-04-01", "2024-01-01"])).dt.tz_localize(
        "Europe/London"
    )
    kolkata = pd.Series(pd.to_datetime(["2024-10-01", "2024-04-01", "2024-07-01"])).dt.tz_localize(
        "Asia/Kolkata"
    )
    pd.DataFrame({"admitted": london, "seen": kolkata, "n": [1, 2, 3]}).to_parquet(
        tmp_path / "spells.parquet"
    )
    with engine_for("duckdb") as engine:
        engine.register_file("spells", tmp_path / "spells.parquet")
        table = engine.table("spells")
        found = table.select(
            admitted=table["admitted"].cast("date"), seen=table["seen"].cast("date")
        ).execute()
    assert [str(day)[:10] for day in found["admitted"]] == ["2024-07-01", "2024-04-01", "2024-01-01"]
    assert [str(day)[:10] for day in found["seen"]] == ["2024-10-01", "2024-04-01", "2024-07-01"]
