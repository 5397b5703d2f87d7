"""The whole job on synthetic data with known truth: estimates agree with what was planted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gapwatch import refdata, stats
from gapwatch.cli.main import main
from gapwatch.model.config import load_config
from gapwatch.pipeline import run
from gapwatch.stats import sii
from gapwatch.store import open_store
from tests.conftest import write_config


@pytest.fixture(scope="module")
def published(synthetic_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("pipeline")
    config = write_config(folder, synthetic_data, areas=["england", "region", "icb", "sub_icb", "provider"],
                          disclosure={"policy": "none"})  # fmt: skip
    summary = run(load_config(config))
    return config, summary.run_id


def _read(config: Path, table: str, run_id: str | None = None) -> pd.DataFrame:
    store = open_store(str(config.parent / "results.duckdb"))
    try:
        return store.read(table, run_id)
    finally:
        store.close()


def _truth(synthetic_data: Path) -> pd.DataFrame:
    truth = pd.read_parquet(synthetic_data / "truth.parquet")
    truth["period_start"] = pd.to_datetime(truth["period_start"]).dt.date
    return truth


def test_quintile_intervals_contain_the_planted_values_at_about_the_nominal_rate(
    published: tuple[Path, str], synthetic_data: Path
) -> None:
    config, run_id = published
    values = _read(config, "indicator_values", run_id)
    values["period_start"] = pd.to_datetime(values["period_start"]).dt.date
    indicators = _read(config, "indicators", run_id).set_index("indicator_id")
    truth = _truth(synthetic_data)
    cells = values.loc[
        (values["area_type"] == "icb") & values["breakdown"].isin(["imd_quintile", "ethnic_group"])
    ]
    merged = cells.merge(
        truth, left_on=["indicator_id", "period_start", "area_code", "breakdown", "group"],
        right_on=["indicator_id", "period_start", "icb_code", "breakdown", "group"],
    )  # fmt: skip
    merged = merged.loc[merged["denominator"] >= 30]
    assert merged["indicator_id"].nunique() >= 12, "the planted proportion indicators with enough records"
    assert len(merged) > 500
    scale = merged["indicator_id"].map(indicators["multiplier"])
    inside = (merged["lower"] <= merged["expected_value"] * scale) & (
        merged["expected_value"] * scale <= merged["upper"]
    )
    coverage = inside.mean()
    # 95% Wilson intervals; faults planted in the data (unlinkable LSOAs, duplicates) cost a little.
    assert 0.91 <= coverage <= 0.99, coverage


def test_sii_intervals_contain_the_true_sii(published: tuple[Path, str], synthetic_data: Path) -> None:
    config, run_id = published
    values = _read(config, "indicator_values", run_id)
    values["period_start"] = pd.to_datetime(values["period_start"]).dt.date
    measures = _read(config, "inequality_measures", run_id)
    measures["period_start"] = pd.to_datetime(measures["period_start"]).dt.date
    indicators = _read(config, "indicators", run_id).set_index("indicator_id")
    truth = _truth(synthetic_data)
    quintiles = values.loc[(values["area_type"] == "icb") & (values["breakdown"] == "imd_quintile")
                           & (values["group"] != "unknown")]  # fmt: skip
    planted = quintiles.merge(
        truth, left_on=["indicator_id", "period_start", "area_code", "breakdown", "group"],
        right_on=["indicator_id", "period_start", "icb_code", "breakdown", "group"],
    )  # fmt: skip
    planted["quintile"] = planted["group"].astype(int)
    planted["true_value"] = planted["expected_value"] * planted["indicator_id"].map(indicators["multiplier"])
    planted["se"] = 1e-9
    keys = ["indicator_id", "period_start", "area_code"]
    complete = planted.groupby(keys)["quintile"].transform("size") == 5
    true_sii = sii(
        planted.loc[complete], "quintile", "denominator", "true_value", se="se", by=keys, rii=False
    )
    estimated = measures.loc[(measures["area_type"] == "icb") & (measures["breakdown"] == "imd_quintile")
                             & (measures["measure"] == "sii")]  # fmt: skip
    compared = estimated.merge(true_sii[[*keys, "sii"]], on=keys).dropna(subset=["lower", "upper"])
    assert len(compared) >= 60
    inside = (compared["lower"] <= compared["sii"]) & (compared["sii"] <= compared["upper"])
    assert inside.mean() >= 0.88, inside.mean()
    # The planted gradient is real: screening is lower in the most deprived quintile.
    screening = compared.loc[compared["indicator_id"] == "cervical_screening_25_49"]
    assert (screening["value"] > 0).mean() > 0.8


def test_rerunning_the_written_config_reproduces_the_results(published: tuple[Path, str], tmp_path: Path,
                                                             synthetic_data: Path) -> None:  # fmt: skip
    config, run_id = published
    assert main(["run", str(config), "--store", str(tmp_path / "again.duckdb")]) == 0
    again = open_store(str(tmp_path / "again.duckdb"))
    try:
        # The config's policy is none: a private run, read only when named.
        second = again.read("indicator_values", again.latest_run(include_private=True))
    finally:
        again.close()
    first = _read(config, "indicator_values", run_id)
    keys = ["indicator_id", "period_start", "area_type", "area_code", "breakdown", "group"]
    first = first.drop(columns=["run_id"]).sort_values(keys, ignore_index=True)
    second = second.drop(columns=["run_id"]).sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(first, second)


def test_every_published_table_belongs_to_a_published_run(published: tuple[Path, str]) -> None:
    config, run_id = published
    areas = _read(config, "areas", run_id)
    values = _read(config, "indicator_values", run_id)
    assert set(zip(values["area_type"], values["area_code"], strict=True)) <= set(
        zip(areas["area_type"], areas["area_code"], strict=True)
    )
    names = areas.set_index(["area_type", "area_code"])["area_name"]
    assert names[("icb", "E54000057")] == "NHS Greater Manchester Integrated Care Board"
    linkage = _read(config, "linkage", run_id)
    share = linkage.loc[linkage["lsoa_status"] == "malformed", "share"].mean()
    assert 0.0005 < share < 0.005, "the planted 0.2% malformed LSOA codes are counted, not dropped"
    # Patient-level rows never reach the store: every row is an aggregate cell.
    assert values["denominator"].dropna().min() >= 1
    assert "person_id" not in values.columns


def test_medians_match_a_direct_computation(published: tuple[Path, str], synthetic_data: Path) -> None:
    config, run_id = published
    values = _read(config, "indicator_values", run_id)
    england = values.loc[(values["indicator_id"] == "autism_median_wait_weeks") & (values["area_type"] == "england")
                         & (values["breakdown"] == "overall")]  # fmt: skip
    referrals = pd.read_parquet(synthetic_data / "autism_referrals.parquet")
    referrals = referrals.dropna(subset=["assessment_date"])
    assessed = pd.to_datetime(referrals["assessment_date"])
    referrals = referrals.loc[(assessed >= "2024-04-01") & (assessed <= "2025-03-31")]
    quarter = pd.to_datetime(referrals["assessment_date"]).dt.to_period("Q").dt.start_time.dt.date
    weeks = (
        pd.to_datetime(referrals["assessment_date"]) - pd.to_datetime(referrals["referral_date"])
    ).dt.days / 7
    expected = weeks.groupby(quarter).median()
    got = england.assign(period_start=pd.to_datetime(england["period_start"]).dt.date).set_index(
        "period_start"
    )
    assert np.allclose(got.loc[expected.index, "value"].to_numpy(), expected.to_numpy())
    limited = got.dropna(subset=["lower", "upper"])
    assert len(limited) >= 3
    assert (limited["lower"] <= limited["value"]).all()
    assert (limited["value"] <= limited["upper"]).all()


def test_92nd_percentile_waits_match_a_direct_computation(
    published: tuple[Path, str], synthetic_data: Path
) -> None:
    config, run_id = published
    values = _read(config, "indicator_values", run_id)
    icb = values.loc[(values["indicator_id"] == "elective_wait_92nd_percentile_weeks")
                     & (values["area_type"] == "icb") & (values["breakdown"] == "imd_quintile")]  # fmt: skip
    assert len(icb) > 0
    waiting = pd.read_parquet(synthetic_data / "elective_waiting_list.parquet")
    snapshot = pd.to_datetime(waiting["snapshot_date"])
    waiting = waiting.loc[snapshot.dt.month.isin([3, 6, 9, 12]) & (snapshot >= "2024-01-01")]
    waiting = waiting.dropna(subset=["weeks_waited"])
    lookup = refdata.lsoa(2021).set_index("lsoa_code")
    waiting = waiting.loc[waiting["lsoa_code"].isin(lookup.index)]
    waiting = waiting.assign(
        period_start=pd.to_datetime(waiting["snapshot_date"]).dt.to_period("Q").dt.start_time.dt.date,
        area_code=lookup.loc[waiting["lsoa_code"], "icb_code"].to_numpy(),
        group=lookup.loc[waiting["lsoa_code"], "imd_quintile"].astype(str).to_numpy(),
    )
    # numpy's "weibull" method is Hyndman & Fan's definition 6, computed from the records.
    expected = waiting.groupby(["period_start", "area_code", "group"])["weeks_waited"].apply(
        lambda weeks: np.percentile(weeks.to_numpy(dtype=float), 92, method="weibull")
    )
    got = icb.assign(period_start=pd.to_datetime(icb["period_start"]).dt.date).set_index(
        ["period_start", "area_code", "group"]
    )["value"]
    compared = got.to_frame("got").join(expected.rename("expected"), how="inner")
    assert len(compared) >= 20
    assert np.allclose(compared["got"], compared["expected"])
    cells = icb.dropna(subset=["lower", "upper"])
    assert ((cells["lower"] <= cells["value"]) & (cells["value"] <= cells["upper"])).all()


def test_age_standardised_rates_match_a_direct_computation(
    published: tuple[Path, str], synthetic_data: Path
) -> None:
    config, run_id = published
    values = _read(config, "indicator_values", run_id)
    england = values.loc[(values["indicator_id"] == "mh_admissions_dsr_per_100k")
                         & (values["area_type"] == "england") & (values["breakdown"] == "overall")]  # fmt: skip
    england = england.assign(period_start=pd.to_datetime(england["period_start"]).dt.date)
    assert len(england) == 4
    # By hand: ESP 2013 weights, five-year bands, ages of the population at the end of the
    # reporting window (the run's reference date), events by the age on the record.
    bands = np.array([*range(0, 91, 5)])
    weights = np.array(list(stats.ESP2013.values()), dtype=float)
    persons = pd.read_parquet(synthetic_data / "persons.parquet")
    reference = pd.Timestamp("2025-03-31")
    birth = pd.to_datetime(persons["date_of_birth"])
    before_birthday = (birth.dt.month > reference.month) | (
        (birth.dt.month == reference.month) & (birth.dt.day > reference.day)
    )
    age = reference.year - birth.dt.year - before_birthday.astype(int)
    population = np.bincount(np.searchsorted(bands, age, side="right") - 1, minlength=19)
    spells = pd.read_parquet(synthetic_data / "mh_inpatient_spells.parquet")
    admitted = pd.to_datetime(spells["admission_date"])
    spells = spells.loc[(admitted >= "2024-04-01") & (admitted <= "2025-03-31")]
    quarter = pd.to_datetime(spells["admission_date"]).dt.to_period("Q").dt.start_time.dt.date
    for period_start, part in spells.groupby(quarter):
        events = np.bincount(np.searchsorted(bands, part["age"], side="right") - 1, minlength=19)
        expected = (weights * events / population).sum() / weights.sum() * 100_000
        got = england.set_index("period_start").loc[period_start]
        assert got["value"] == pytest.approx(expected)
        assert got["numerator"] == len(part)
        assert got["lower"] < got["value"] < got["upper"]


def test_completeness_recovers_the_planted_rates_by_provider(
    published: tuple[Path, str], synthetic_data: Path
) -> None:
    config, run_id = published
    quality = _read(config, "completeness", run_id)
    planted = pd.read_parquet(synthetic_data / "truth_organisations.parquet")
    providers = quality.loc[quality["area_type"] == "provider"].assign(
        unrecorded=lambda frame: (1 - frame["ethnicity_valid"]) * frame["records"]
    )
    providers = providers.groupby(["source", "area_code"], as_index=False)[["records", "unrecorded"]].sum()
    providers["unrecorded"] = providers["unrecorded"] / providers["records"]
    compared = providers.merge(planted, left_on="area_code", right_on="organisation_code")
    compared = compared.loc[compared["records"] >= 150]
    assert compared["ethnicity_unrecorded_rate"].nunique() == 2, "both good and poor recorders are compared"
    assert len(compared) >= 20
    # A person's ethnicity is recorded once and appears in every quarter's snapshot, so the
    # independent units are about a quarter of the records over the four quarters.
    people = compared["records"] / 4
    rate = compared["ethnicity_unrecorded_rate"]
    standard_error = np.sqrt(rate * (1 - rate) / people)
    within = (
        compared["unrecorded"] - compared["ethnicity_unrecorded_rate"]
    ).abs() <= 4 * standard_error + 0.002
    assert within.mean() >= 0.95, compared.loc[~within].head()
    england = quality.loc[quality["area_type"] == "england"]
    # 0.5% of autism referrals and mental-health spells are planted twice, nothing else.
    # A quarter can hold only a few dozen records, so each quarter's share is held to the
    # planted rate within four binomial standard errors rather than to a fixed 1%.
    planted = england["source"].isin(["autism_referrals", "mh_inpatient_spells"])
    assert (england.loc[~planted, "duplicates"] == 0).all()
    rate = 0.005
    bound = rate + 4 * np.sqrt(rate * (1 - rate) / england.loc[planted, "records"])
    assert (england.loc[planted, "duplicates"] <= bound).all(), england.loc[planted]
    assert (england.loc[planted, "duplicates"] > 0).any(), "the planted duplicates are found"
    late = england.groupby("source")["late"].mean()
    assert late.between(0.01, 0.03).mean() > 0.8, late  # 2% of records are planted late


def test_breakdowns_carry_their_completeness_and_warn_when_it_is_low(published: tuple[Path, str]) -> None:
    config, run_id = published
    values = _read(config, "indicator_values", run_id)
    ethnic = values.loc[(values["breakdown"] == "ethnic_group") & (values["area_type"] == "england")]
    # About 8% of records have no recorded ethnicity (4%, or 25% at a fifth of organisations).
    assert 0.88 <= ethnic["completeness"].median() <= 0.94, ethnic["completeness"].describe()
    low = ethnic.loc[ethnic["completeness"] < 0.9]
    assert (
        low["note"].str.contains("warning: only .*% of records have a recorded ethnicity", regex=True).all()
    )
    assert values.loc[values["breakdown"] == "overall", "completeness"].isna().all()


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["nhs-digital", "secondary-suppression"])
def test_no_published_sub_national_count_is_from_1_to_7(
    policy: str, synthetic_data: Path, tmp_path: Path
) -> None:
    from gapwatch.disclosure.secondary import _audit, _sets

    config = write_config(tmp_path, synthetic_data, areas=["england", "region", "icb", "sub_icb", "provider"],
                          disclosure={"policy": policy})  # fmt: skip
    run_id = run(load_config(config)).run_id
    values = _read(config, "indicator_values", run_id)
    local = values.loc[values["area_type"] != "england"]
    counts = local[["numerator", "denominator"]].to_numpy().ravel()
    counts = counts[~np.isnan(counts)]
    assert counts.size > 1000
    assert local["suppressed"].any()
    assert not ((counts >= 1) & (counts <= 7)).any()
    quality = _read(config, "completeness", run_id)
    records = quality.loc[quality["area_type"] != "england", "records"].dropna().to_numpy()
    assert not ((records >= 1) & (records <= 7)).any()
    if policy == "nhs-digital":
        assert (counts % 5 == 0).all()
    else:
        # Nothing suppressed can be worked out from what is published beside it.
        values = values.reset_index(drop=True)
        set_id, row, is_total = _sets(values)
        assert _audit(values["suppressed"].to_numpy(), set_id, row, is_total).size == 0
        proportion = values["numerator"].notna() & values["denominator"].notna()
        complement = (values["denominator"] - values["numerator"])[
            proportion & (values["area_type"] != "england")
        ]
        assert not ((complement >= 1) & (complement <= 7)).any()


def test_run_monitors_by_default_and_monitor_reruns_with_other_targets(
    synthetic_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, synthetic_data, areas=["england", "icb"])
    capsys.readouterr()
    assert main(["run", str(config)]) == 0
    assert "monitor: " in capsys.readouterr().err
    store_path = str(tmp_path / "results.duckdb")
    store = open_store(store_path)
    try:
        trends = store.read("trends")
        charts = store.read("spc")
        business = store.read("business_case")
        first_targets = store.read("targets")
    finally:
        store.close()
    # Four quarters of one financial year: a series with a published value in each has a
    # trend; one with fewer than three (yearly indicators, suppressed quarters) has none.
    values = trends.loc[(trends["series"] == "value") & (trends["area_type"] == "icb")]
    assert (values["periods"] == 4).sum() > 20
    assert values.loc[values["periods"] >= 3, "slope_per_year"].notna().all()
    assert values.loc[values["periods"] < 3, "slope_per_year"].isna().all()
    assert set(charts["series"]) >= {"value", "gap_absolute"}
    assert (business["reference"] == "least_deprived").any()
    summaries = business.loc[business["summary"] != "", "summary"]
    assert summaries.str.contains("Greater Manchester").any()
    assert set(first_targets["indicator_id"]) <= {"cervical_screening_25_49", "mmr2_age_5",
                                                  "hypertension_treated_to_target"}  # fmt: skip
    targets = tmp_path / "targets.yaml"
    targets.write_text(
        'targets:\n  - indicator_id: mmr1_age_2\n    reduce_by: 0.3\n    by: "2026-03"\n    areas: [icb]\n'
    )
    assert main(["monitor", "--store", store_path, "--targets", str(targets)]) == 0
    assert "monitored run" in capsys.readouterr().err
    store = open_store(store_path)
    try:
        again = store.read("targets")
        assert len(store.read("trends")) == len(trends)
    finally:
        store.close()
    assert set(again["indicator_id"]) == {"mmr1_age_2"}
    assert set(again["area_type"]) == {"icb"}
    assert set(again["status"]) <= {"met", "on_track", "not_clearly_off_track", "off_track"}


def test_monitor_without_a_store_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "--store", str(tmp_path / "none.duckdb")]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ")
    assert "none.duckdb: no results store there" in " ".join(error.split())


def test_a_run_and_its_monitor_tables_are_published_together_or_not_at_all(
    synthetic_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gapwatch.errors import StoreError
    from gapwatch.monitor import monitor
    from gapwatch.store import READABLE_TABLES, Store
    from tests.store.processes import small_config

    location = tmp_path / "results.duckdb"
    config = small_config(tmp_path, synthetic_data, str(location))

    def monitor_then_fail(store: Store, run_id: str) -> None:
        monitor(store, run_id)  # the monitor tables are written into the publication...
        raise StoreError("disk full")  # ...which then fails: neither the run nor they appear

    with pytest.raises(StoreError, match=r"^run \S+ was not published: disk full$"):
        run(load_config(config), then=monitor_then_fail)
    store = open_store(str(location), read_only=True)
    try:
        assert store.runs().empty
        for table in READABLE_TABLES:
            assert store.query(f"SELECT count(*) AS n FROM {table}")["n"].iloc[0] == 0, table
    finally:
        store.close()
    capsys.readouterr()
    assert main(["run", str(config), "--no-monitor"]) == 0
    assert "monitor: not run" in " ".join(capsys.readouterr().err.split())
    assert main(["run", str(config)]) == 0
    store = open_store(str(location), read_only=True)
    try:
        runs = store.runs()
        # Newest first: the monitored run says so; the other says its monitor was not run,
        # so that no reader takes its empty alerts for good news.
        assert list(runs["monitor"]) == ["complete", "not run"]
        assert not store.read("trends", runs["run_id"].iloc[0]).empty
        assert store.read("trends", runs["run_id"].iloc[1]).empty
    finally:
        store.close()
