"""What a run finds in its inputs is published (``input_notes``) and shown, never dropped silently.

Rows dated after the day of the run, received dates in 2099, dates coded as not known (HES
1800-01-01 and 1801-01-01), an indicator with no record in the reporting window: each is a
record of the run, a row on the data-quality page, a note on the indicator's page and in the
board report, with counts controlled as completeness counts are. CSV times written with an
offset are read on the clock they were written in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from gapwatch import refdata
from gapwatch.cli.main import main
from gapwatch.store import open_store
from gapwatch.web.app import create_app
from tests import test_bad_inputs
from tests.test_bad_inputs import _config, _copy, _indicator, _national_exact, _rewrite_data, _sentinels

#: The bad-input tests' good run (a store holding one published run), shared with them.
good = test_bad_inputs.good


def _notes(folder: Path) -> pd.DataFrame:
    store = open_store(str(folder / "results.duckdb"))
    try:
        return store.read("input_notes", store.latest_run(include_private=True)).drop(columns=["run_id"])
    finally:
        store.close()


def _dated_2030(rows: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        # Rows chosen at random (not every 20th), from every area and quarter of the extract.
        chosen = np.random.default_rng(3).choice(len(frame), rows, replace=False)
        dates = pd.to_datetime(frame["snapshot_date"])
        dates.iloc[chosen] = pd.Timestamp("2030-02-14")
        return frame.assign(snapshot_date=dates.dt.date)

    return change


def _page(folder: Path, url: str) -> str:
    with TestClient(create_app(str(folder / "results.duckdb"))) as client:
        response = client.get(url)
    assert response.status_code == 200, (url, response.text[:300])
    return response.text


def test_rows_dated_2030_are_counted_in_input_notes_and_on_the_pages(good: Path, tmp_path: Path) -> None:
    folder = _copy(good, tmp_path)
    _rewrite_data(_dated_2030(20))(folder)  # 5% of 400
    assert main(["run", str(folder / "gapwatch.yaml"), "--no-monitor"]) == 0
    notes = _notes(folder)
    future = notes.loc[notes["kind"] == "future_dated"]
    assert len(future) == 1, notes
    note = future.iloc[0]
    assert (note["source"], note["file"], note["column_name"]) == (
        "screening",
        "screening.parquet",
        "snapshot_date",
    )
    assert (note["rows"], note["share"], bool(note["suppressed"])) == (20.0, 0.05, False)
    assert pd.isna(note["indicator_id"])
    assert str(tmp_path) not in notes.to_csv()  # a file name, never a machine path
    quality = _page(folder, "/quality")
    assert "What the run found in the inputs" in quality
    assert "Dated after the day of the run" in quality
    assert "20 records (5.0%) of screening.parquet are dated after the day of the run" in quality
    assert "future_dated" not in quality
    assert str(tmp_path) not in quality
    for indicator in ("screened", "bed_days"):  # both indicators read the table
        page = _page(folder, f"/indicator/{indicator}")
        assert "20 records (5.0%) of this indicator&#39;s table are dated after the day of the run" in page
        assert "and are not counted: the reporting window ends before them" in page
    with TestClient(create_app(str(folder / "results.duckdb"))) as client:
        listed = client.get("/api/input-notes").json()
        assert client.get("/api/input-notes?indicator=screened").status_code == 200
        assert client.get("/api/input-notes?area=icb:E54000036").status_code == 400
    assert [(row["kind"], row["rows"]) for row in listed] == [("future_dated", 20.0)]


def test_a_count_of_rows_is_rounded_and_its_share_does_not_give_it_back(good: Path, tmp_path: Path) -> None:
    folder = _copy(good, tmp_path)
    _rewrite_data(_dated_2030(23))(folder)
    assert main(["run", str(folder / "gapwatch.yaml"), "--no-monitor"]) == 0
    note = _notes(folder).query("kind == 'future_dated'").iloc[0]
    # nhs-digital: 23 is published as 25; the share is 25 of 400, not 23 of 400 (5.75%).
    assert (note["rows"], note["share"]) == (25.0, 0.062)
    assert "23" not in str(note["text"])
    assert "25 records (6.2%) of screening.parquet" in _page(folder, "/quality")


def test_dates_coded_as_not_known_are_counted_in_input_notes(good: Path, tmp_path: Path) -> None:
    folder = _copy(good, tmp_path)
    _rewrite_data(_sentinels)(folder)  # 8 rows 1800-01-01, 8 rows 1801-01-01
    _national_exact(folder)
    assert main(["run", str(folder / "gapwatch.yaml"), "--no-monitor"]) == 0
    note = _notes(folder).query("kind == 'missing_date_codes'").iloc[0]
    assert (note["column_name"], note["rows"], note["share"]) == ("snapshot_date", 16.0, 0.04)
    quality = _page(folder, "/quality")
    assert "Dates coded as not known" in quality
    assert (
        "16 records (4.0%) of screening.parquet have the date in column &#39;snapshot_date&#39; written as a "
        "code for &#39;not known&#39; (1800-01-01, 1801-01-01), read as missing" in quality
    )


def test_an_indicator_with_no_rows_in_the_window_says_so_on_its_page(good: Path, tmp_path: Path) -> None:
    folder = _copy(good, tmp_path)

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        received = pd.to_datetime(frame["snapshot_date"]) + pd.Timedelta(days=5)
        received[frame.index % 40 == 1] = pd.Timestamp("2099-01-01")
        frame["received_date"] = received.dt.date
        frame["episode_date"] = pd.Timestamp("2019-06-01").date()  # before the window, every row
        return frame

    _rewrite_data(change)(folder)
    _indicator(date_column="episode_date")(folder)
    assert main(["run", str(folder / "gapwatch.yaml"), "--no-monitor"]) == 0
    notes = _notes(folder)
    empty = notes.query("kind == 'no_rows_in_window'")
    assert empty[["indicator_id", "column_name", "rows"]].to_numpy().tolist() == [
        ["screened", "episode_date", 0.0]
    ]
    received = notes.query("kind == 'received_future'").iloc[0]
    assert (received["column_name"], received["rows"], received["share"]) == ("received_date", 10.0, 0.025)
    page = _page(folder, "/indicator/screened")
    assert (
        "No record of this indicator has its episode_date in the reporting window "
        "Q1 2024/25 to Q4 2024/25; it has no values this run" in page
    )
    assert (
        "10 records (2.5%) of this indicator&#39;s table have a received date after the day of the run"
        in page
    )
    # The other indicator of the table has values, and only the table's note.
    other = _page(folder, "/indicator/bed_days")
    assert "have a received date after the day of the run" in other
    assert "No record of this indicator" not in other
    quality = _page(folder, "/quality")
    assert "No record in the reporting window" in quality
    assert "No record of indicator screened has its episode_date in the reporting window" in quality


def test_the_board_report_lists_what_the_run_found(good: Path, tmp_path: Path) -> None:
    folder = _copy(good, tmp_path)
    _rewrite_data(_dated_2030(20))(folder)
    assert main(["run", str(folder / "gapwatch.yaml"), "--no-monitor"]) == 0
    from gapwatch.report.build import build_report

    store = open_store(str(folder / "results.duckdb"), read_only=True)
    try:
        report = build_report(store, "england", "E92000001")
    finally:
        store.close()
    quality = next(
        section for top in report.sections for section in top.walk() if section.key == "data-quality"
    )
    texts = [getattr(block, "text", "") for block in quality.blocks]
    items = [item for block in quality.blocks for item in getattr(block, "items", [])]
    assert any("What the run found in the inputs" in text for text in texts)
    assert "20 records (5.0%) of screening.parquet are dated after the day of the run" in " ".join(items)
    sheets = {sheet.name: sheet for sheet in quality.sheets}
    found = next(sheet for name, sheet in sheets.items() if name.startswith("Found in the inputs"))
    assert found.table.frame[["kind", "rows", "share"]].to_numpy().tolist() == [["future_dated", 20.0, 0.05]]


def test_csv_london_midnights_land_in_their_quarter(good: Path, tmp_path: Path) -> None:
    folder = _copy(good, tmp_path)
    frame = pd.read_parquet(folder / "data" / "screening.parquet")
    rng = np.random.default_rng(11)
    lsoa = refdata.lsoa(2021)
    icbs = ["E54000036", "E54000037", "E54000027"]
    codes = lsoa.loc[lsoa.icb_code.isin(icbs), ["lsoa_code", "icb_code"]]
    frame["lsoa_code"] = rng.choice(codes["lsoa_code"].to_numpy(), len(frame))
    # Every record on the first day of a quarter at or just after midnight in London,
    # written with London's offset that day (BST +01:00 from April to October).
    days = pd.to_datetime(rng.choice(["2024-04-01", "2024-07-01", "2024-10-01", "2025-01-01"], len(frame)))
    minutes = pd.to_timedelta(rng.integers(0, 45, len(frame)), "min")
    offsets = np.where(days.month.isin([4, 7, 10]), "+01:00", "+00:00")
    frame["snapshot_date"] = [
        f"{(day + m).isoformat()}{o}" for day, m, o in zip(days, minutes, offsets, strict=True)
    ]
    frame.to_csv(folder / "data" / "screening.csv", index=False)
    (folder / "data" / "screening.parquet").unlink()
    _config(disclosure={"policy": "none"})(folder)
    assert main(["run", str(folder / "gapwatch.yaml"), "--no-monitor"]) == 0
    store = open_store(str(folder / "results.duckdb"))
    try:
        values = store.read("indicator_values", store.latest_run(include_private=True))
    finally:
        store.close()
    overall = values.query("indicator_id == 'screened' and breakdown == 'overall'")
    frame["quarter"] = [day.isoformat()[:10] for day in days]
    frame["icb_code"] = frame["lsoa_code"].map(codes.set_index("lsoa_code")["icb_code"])
    frame["england"] = "E92000001"
    for area_type, column in (("england", "england"), ("icb", "icb_code")):
        part = overall.loc[(overall["area_type"] == area_type) & (overall["denominator"] > 0)]
        found = {
            (str(code), str(start)[:10]): int(number)
            for code, start, number in zip(
                part["area_code"], part["period_start"], part["denominator"], strict=True
            )
        }
        expected = {
            (str(code), quarter): int(number)
            for (code, quarter), number in frame.groupby([column, "quarter"]).size().items()
        }
        assert found == expected, area_type


def test_input_notes_are_published_to_a_postgresql_store(good: Path, tmp_path: Path) -> None:
    import uuid

    from tests.conftest import require_postgres

    location = f"{require_postgres()}#t_{uuid.uuid4().hex[:8]}"
    folder = _copy(good, tmp_path)
    _rewrite_data(_dated_2030(20))(folder)
    _rewrite_data(_sentinels)(folder)
    try:
        assert main(["run", str(folder / "gapwatch.yaml"), "--no-monitor", "--store", location]) == 0
        store = open_store(location)
        try:
            notes = store.read("input_notes", store.latest_run(include_private=True)).sort_values("kind")
        finally:
            store.close()
        # 20 of 400 rows dated 2030, then 16 of those left dated 1800 or 1801 (rounded to 15).
        assert notes[["kind", "column_name"]].to_numpy().tolist() == [
            ["future_dated", "snapshot_date"],
            ["missing_date_codes", "snapshot_date"],
        ]
        assert notes["file"].tolist() == ["screening.parquet"] * 2
    finally:
        store = open_store(location)
        try:
            store._execute(f'DROP SCHEMA "{location.split("#")[1]}" CASCADE')
        finally:
            store.close()
