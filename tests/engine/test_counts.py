"""The engine's grouping-sets counts against an independent pandas computation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gapwatch import refdata
from gapwatch.engine.backends import engine_for
from gapwatch.engine.counts import count
from gapwatch.model.catalogue import load_catalogue
from gapwatch.model.config import RunConfig

CATALOGUE = """\
indicators:
  - id: screened
    title: Screened people
    description: test indicator
    domain: access
    reference: a national definition of screening
    source: screening
    date_column: snapshot_date
    period: quarter
    measure: proportion
    denominator: {where: "age >= 25"}
    numerator: {where: "screened"}
    polarity: higher_is_better
    breakdowns: [overall, imd_quintile, sex, ethnic_group, imd_quintile:sex]
"""


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(5)
    lsoa = refdata.lsoa(2021)
    codes = lsoa.loc[lsoa.icb_code.isin(["E54000057", "E54000036"]), "lsoa_code"].to_numpy()
    size = 3_000
    lsoa_codes = rng.choice(codes, size).astype(object)
    lsoa_codes[:40] = "E01999999"  # well formed but unknown: counted in the group 'unknown'
    lsoa_codes[40:50] = None
    frame = pd.DataFrame(
        {
            "person_id": np.arange(size),
            "snapshot_date": pd.to_datetime("2024-04-01")
            + pd.to_timedelta(rng.integers(0, 365, size), unit="D"),
            "provider_code": rng.choice(["RW6", "REF"], size),
            "lsoa_code": lsoa_codes,
            "sex": rng.choice(["1", "2", "9"], size, p=[0.48, 0.48, 0.04]),
            "age": rng.integers(0, 90, size).astype("int16"),
            "ethnic_category": rng.choice(["A", "H", "M", "Z", "99", None], size),
            "learning_disability": rng.random(size) < 0.02,
            "autism": rng.random(size) < 0.01,
            "serious_mental_illness": rng.random(size) < 0.01,
            "screened": rng.random(size) < 0.7,
        }
    )
    frame["snapshot_date"] = frame["snapshot_date"].dt.date
    folder = tmp_path_factory.mktemp("counts")
    frame.to_parquet(folder / "screening.parquet", index=False)
    (folder / "catalogue.yaml").write_text(CATALOGUE)
    return folder, frame


def _expected(frame: pd.DataFrame) -> pd.DataFrame:
    """The same counts by plain pandas: a join to the LSOA table and one groupby per cell type."""
    lsoa = refdata.lsoa(2021)[["lsoa_code", "imd_quintile", "icb_code"]]
    data = frame.merge(lsoa, on="lsoa_code", how="left")
    data["imd_quintile"] = data["imd_quintile"].map(lambda q: "unknown" if pd.isna(q) else str(int(q)))
    data["icb_code"] = data["icb_code"].fillna("unknown")
    data["sex"] = data["sex"].map({"1": "male", "2": "female"}).fillna("unknown")
    groups = {"A": "White", "H": "Asian", "M": "Black"}
    data["ethnic_group"] = data["ethnic_category"].map(groups).fillna("unknown")
    dates = pd.to_datetime(data["snapshot_date"])
    data["period_start"] = dates.dt.to_period("Q").dt.start_time.dt.date
    data["denominator"] = (data["age"] >= 25).astype(float)
    data["numerator"] = ((data["age"] >= 25) & data["screened"]).astype(float)
    rows = []
    for area_type, area in (("england", None), ("icb", "icb_code")):
        for breakdown in ("overall", "imd_quintile", "sex", "ethnic_group", "imd_quintile:sex"):
            columns = [] if breakdown == "overall" else breakdown.split(":")
            keys = ["period_start"] + ([area] if area else []) + columns
            summed = data.groupby(keys, as_index=False)[["numerator", "denominator"]].sum()
            summed["area_type"] = area_type
            summed["area_code"] = summed[area] if area else "E92000001"
            summed["breakdown"] = breakdown
            summed["group"] = summed[columns].astype(str).agg(":".join, axis=1) if columns else "all"
            rows.append(summed)
    expected = pd.concat(rows, ignore_index=True)
    expected = expected.loc[(expected["denominator"] > 0) | (expected["numerator"] > 0)]
    return expected[
        ["period_start", "area_type", "area_code", "breakdown", "group", "numerator", "denominator"]
    ]


def test_grouping_sets_counts_equal_an_independent_pandas_count(records: tuple[Path, pd.DataFrame]) -> None:
    folder, frame = records
    config = RunConfig.model_validate(
        {"data": str(folder), "periods": {"start": "2024-04", "end": "2025-03"}, "areas": ["england", "icb"]}
    )
    catalogue = load_catalogue([folder / "catalogue.yaml"])
    with engine_for("duckdb") as engine:
        engine.register_file("screening", folder / "screening.parquet")
        counts = count(engine, list(catalogue), config)
    got = counts.cells.drop(columns=["indicator_id", "period_end"])
    keys = ["period_start", "area_type", "area_code", "breakdown", "group"]
    merged = got.merge(_expected(frame), on=keys, how="outer", suffixes=("", "_expected"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", keys].head()
    assert np.array_equal(merged["numerator"], merged["numerator_expected"])
    assert np.array_equal(merged["denominator"], merged["denominator_expected"])
    # Every record is counted once in each breakdown: nothing dropped for a bad LSOA or ethnicity.
    england = counts.cells.query("area_type == 'england' and breakdown == 'ethnic_group'")
    assert england["denominator"].sum() == (frame["age"] >= 25).sum()
    assert set(england["group"]) == {"White", "Asian", "Black", "unknown"}
    statuses = counts.linkage.set_index("lsoa_status")["rows"]
    assert statuses["unknown"] == 40
    assert statuses["missing"] == 10


def test_periods_outside_the_window_are_not_counted(records: tuple[Path, pd.DataFrame]) -> None:
    folder, frame = records
    config = RunConfig.model_validate(
        {"data": str(folder), "periods": {"start": "2024-07", "end": "2024-09"}, "areas": ["england"]}
    )
    catalogue = load_catalogue([folder / "catalogue.yaml"])
    with engine_for("duckdb") as engine:
        engine.register_file("screening", folder / "screening.parquet")
        cells = count(engine, list(catalogue), config).cells
    overall = cells.query("breakdown == 'overall'")
    inside = frame.loc[(pd.to_datetime(frame["snapshot_date"]) >= "2024-07-01")
                       & (pd.to_datetime(frame["snapshot_date"]) <= "2024-09-30") & (frame["age"] >= 25)]  # fmt: skip
    assert list(overall["period_start"].astype(str)) == ["2024-07-01"]
    assert overall["denominator"].iloc[0] == len(inside)


def test_month_financial_year_and_rolling_periods_add_up(
    records: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, frame = records
    eligible = frame.loc[frame["age"] >= 25]
    dates = pd.to_datetime(eligible["snapshot_date"])
    results = {}
    for period in ("month", "quarter", "financial_year", "rolling_12_months"):
        text = CATALOGUE.replace("period: quarter", f"period: {period}")
        (tmp_path / f"{period}.yaml").write_text(text)
        config = RunConfig.model_validate(
            {"data": str(folder), "periods": {"start": "2024-04", "end": "2025-03"}, "areas": ["england"]}
        )
        with engine_for("duckdb") as engine:
            engine.register_file("screening", folder / "screening.parquet")
            cells = count(engine, list(load_catalogue([tmp_path / f"{period}.yaml"])), config).cells
        results[period] = cells.query("breakdown == 'overall'").set_index("period_start")
    months = results["month"]
    assert len(months) == 12
    assert months["denominator"].to_dict() == {
        start.date(): float(n) for start, n in dates.dt.to_period("M").dt.start_time.value_counts().items()
    }
    assert str(months["period_end"].iloc[1]) == "2024-05-31"
    (year,) = results["financial_year"].itertuples()
    assert (str(year.Index), str(year.period_end), year.denominator) == (
        "2024-04-01",
        "2025-03-31",
        len(eligible),
    )
    # Four quarters in the window make exactly one rolling 12-month period: their sum.
    (rolling,) = results["rolling_12_months"].itertuples()
    assert (str(rolling.Index), str(rolling.period_end)) == ("2024-04-01", "2025-03-31")
    assert rolling.denominator == results["quarter"]["denominator"].sum() == len(eligible)
    assert rolling.numerator == results["quarter"]["numerator"].sum()


def test_completeness_counted_in_the_indicator_scan_equals_a_scan_of_its_own(
    records: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """Where an indicator counts every record of its source, the completeness counts ride
    in the same scan (one scan per source); they must equal those of a scan of their own."""
    from gapwatch.engine.completeness import completeness_all

    _, frame = records
    planted = frame.iloc[:30].copy()  # the same person on the same date: 30 duplicates
    data = pd.concat([frame, planted], ignore_index=True)
    data.to_parquet(tmp_path / "screening.parquet", index=False)
    (tmp_path / "catalogue.yaml").write_text(
        CATALOGUE.replace('denominator: {where: "age >= 25"}', "denominator: {}")
    )
    config = RunConfig.model_validate(
        {"data": str(tmp_path), "periods": {"start": "2024-04", "end": "2025-03"},
         "areas": ["england", "icb", "provider"]}
    )  # fmt: skip
    catalogue = load_catalogue([tmp_path / "catalogue.yaml"])
    with engine_for("duckdb") as engine:
        engine.register_file("screening", tmp_path / "screening.parquet")
        folded = count(engine, list(catalogue), config).completeness
        scans = [sql for sql in engine.executed if "GROUPING SETS" in sql]
    # The indicator's counts with the completeness counts, and the duplicates' narrow window.
    assert len(scans) == 2, scans
    with engine_for("duckdb") as engine:
        engine.register_file("screening", tmp_path / "screening.parquet")
        alone = completeness_all(engine, [("screening", "snapshot_date")], config)
    pd.testing.assert_frame_equal(folded, alone, check_dtype=False)
    england = folded.loc[folded["area_type"] == "england"]
    assert england["records"].sum() == len(data)
    assert england["duplicates"].sum() == 30
    assert england["sex_valid"].sum() == data["sex"].isin(["1", "2"]).sum()


def test_duplicates_are_repeats_of_a_person_and_date_including_records_without_a_person(
    records: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """The first of a person's records on a date counts once, the rest are duplicates;
    records without a person id on the same date count as repeats of one another."""
    from gapwatch.engine.completeness import completeness_all

    _, frame = records
    base = frame.iloc[100:106].copy()  # rows with a known LSOA
    base["lsoa_code"] = base["lsoa_code"].iloc[0]
    base["person_id"] = pd.array([1, 1, 1, 2, None, None], dtype="Int64")
    day, next_day, later = dt.date(2024, 5, 1), dt.date(2024, 5, 2), dt.date(2024, 8, 1)
    # Person 1 twice on one day (1 duplicate) and once the next day (none); person 2 once.
    base["snapshot_date"] = [day, day, next_day, day, later, later]
    extra = base.iloc[[4]].copy()  # a third record without a person on the later day
    data = pd.concat([base, extra], ignore_index=True)
    data.to_parquet(tmp_path / "screening.parquet", index=False)
    (tmp_path / "catalogue.yaml").write_text(
        CATALOGUE.replace('denominator: {where: "age >= 25"}', "denominator: {}")
    )
    config = RunConfig.model_validate(
        {"data": str(tmp_path), "periods": {"start": "2024-04", "end": "2025-03"}, "areas": ["england"]}
    )
    with engine_for("duckdb") as engine:
        engine.register_file("screening", tmp_path / "screening.parquet")
        folded = count(engine, list(load_catalogue([tmp_path / "catalogue.yaml"])), config).completeness
        alone = completeness_all(engine, [("screening", "snapshot_date")], config)
    for found in (folded, alone):
        england = found.loc[found["area_type"] == "england"]
        by_quarter = dict(zip(england["period_start"], england["duplicates"], strict=True))
        assert by_quarter == {dt.date(2024, 4, 1): 1.0, dt.date(2024, 7, 1): 2.0}
        assert england["records"].sum() == len(data)


def test_a_second_count_on_one_engine_reuses_what_its_session_keeps(
    records: tuple[Path, pd.DataFrame],
) -> None:
    """Each source's linked LSOA codes and prepared expression are worked out once and kept
    in the engine's typed session: a second count lists no LSOA codes again, defines no
    second prepared expression, and counts the same cells."""
    folder, _ = records
    config = RunConfig.model_validate(
        {"data": str(folder), "periods": {"start": "2024-04", "end": "2025-03"}, "areas": ["england", "icb"]}
    )
    catalogue = load_catalogue([folder / "catalogue.yaml"])

    def listings(statements: list[str]) -> int:
        # The statement that lists a table's distinct LSOA codes to link them.
        return sum("_lsoa_raw" in sql and "GROUPING SETS" not in sql for sql in statements)

    with engine_for("duckdb") as engine:
        engine.register_file("screening", folder / "screening.parquet")
        first = count(engine, list(catalogue), config)
        linked = engine.session.lsoa_codes[("screening", 2021)]
        prepared = engine.session.prepared[("screening", 2021, "census2021")]
        before, definitions = len(engine.executed), dict(engine.definitions)
        again = count(engine, list(catalogue), config)
        assert listings(engine.executed[:before]) == 1
        assert listings(engine.executed[before:]) == 0
        assert engine.definitions == definitions
        assert engine.session.lsoa_codes[("screening", 2021)] is linked
        assert engine.session.prepared[("screening", 2021, "census2021")] is prepared
        assert list(engine.session.lsoa_codes) == [("screening", 2021)]
    assert linked.summary.set_index("lsoa_status")["rows"].sum() == len(records[1])
    pd.testing.assert_frame_equal(first.cells, again.cells)
    pd.testing.assert_frame_equal(first.linkage, again.linkage)
