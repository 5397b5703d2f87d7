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


def test_csv_times_written_with_an_offset_give_the_dates_written(tmp_path: Path) -> None:
    import pandas as pd

    # London midnights on quarter boundaries (BST, +01:00, and GMT, +00:00), a Kolkata morning
    # (+05:30), a UTC time (Z) and an empty field, in scrambled order. Read as instants in UTC,
    # 1 July and 1 October at 00:00+01:00 would be 30 June and 30 September.
    (tmp_path / "spells.csv").write_text(
        "n,admitted\n"
        "1,2024-10-01T00:00:00+01:00\n"
        "2,2024-07-01T00:30:00+01:00\n"
        "3,2025-01-01T00:00:00+00:00\n"
        "4,\n"
        "5,2024-04-01 03:00:00+05:30\n"
        "6,2024-06-30T23:59:00Z\n"
    )
    with engine_for("duckdb") as engine:
        engine.register_file("spells", tmp_path / "spells.csv")
        table = engine.table("spells")
        # The time and its date together, as a count reads them (DuckDB casts a CSV column
        # read for its date alone in the scan, from the text: that hides the problem).
        found = engine.query(
            engine.compile(table.select("n", "admitted", day=table["admitted"].cast("date")))
        )
    days = [None if pd.isna(day) else str(day)[:10] for day in found["day"]]
    assert days == ["2024-10-01", "2024-07-01", "2025-01-01", None, "2024-04-01", "2024-06-30"]
    times = [None if pd.isna(time) else str(time)[:19] for time in found["admitted"]]
    assert times == [
        "2024-10-01 00:00:00", "2024-07-01 00:30:00", "2025-01-01 00:00:00", None,
        "2024-04-01 03:00:00", "2024-06-30 23:59:00",
    ]  # fmt: skip
