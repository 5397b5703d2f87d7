"""Rates whose denominator is a population: runs of them alone, groups without events, and
the completeness of their events (issue 17, items 4, 5 and 6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gapwatch import refdata
from gapwatch.engine.backends import engine_for
from gapwatch.engine.counts import Counts, count
from gapwatch.model.catalogue import Catalogue, load_catalogue
from gapwatch.model.config import RunConfig
from gapwatch.stats.indicators import indicator_values, inequality_measures

CATALOGUE = """\
indicators:
  - id: admissions_per_100k
    title: Admissions per 100,000 people
    description: test indicator
    domain: outcome
    reference: a national definition of admissions
    source: admissions
    date_column: admission_date
    period: quarter
    measure: crude_rate
    denominator: {population: persons}
    numerator: {}
    multiplier: 100000
    polarity: lower_is_better
    breakdowns: [overall, imd_quintile, ethnic_group]
"""
ICBS = ["E54000057", "E54000036"]  # Greater Manchester; Cornwall and the Isles of Scilly
QUARTERS = ["2024-04-01", "2024-07-01"]
#: The ICB, quarter and quintile whose people have no admission at all.
EMPTY = ("E54000036", "2024-07-01", 3)


def _lsoas() -> dict[tuple[str, int], str]:
    """One LSOA of each ICB and IMD quintile (both ICBs have all five)."""
    lsoa = refdata.lsoa(2021)
    chosen = lsoa.loc[lsoa["icb_code"].isin(ICBS)].sort_values("lsoa_code")
    first = chosen.groupby(["icb_code", "imd_quintile"], as_index=False).first()
    return {(row.icb_code, int(row.imd_quintile)): row.lsoa_code for row in first.itertuples()}


def _write(folder: Path, ethnicity_recorded: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """200 people in each ICB and quintile, and admissions of them in two quarters: every
    ICB, quarter and quintile has admissions except ``EMPTY``. A share
    ``ethnicity_recorded`` of admissions carry an ethnic category (every person does).
    Rows are in scrambled order."""
    rng = np.random.default_rng(seed)
    lsoas = _lsoas()
    people = []
    for (icb, quintile), code in lsoas.items():
        people.append(pd.DataFrame({"icb": icb, "quintile": quintile, "lsoa_code": [code] * 200}))
    persons = pd.concat(people, ignore_index=True)
    persons["person_id"] = np.arange(len(persons))
    persons["sex"] = rng.choice(["1", "2"], len(persons))
    persons["date_of_birth"] = pd.Timestamp("1960-05-01").date()
    persons["ethnic_category"] = rng.choice(["A", "H", "M"], len(persons))
    for flag in ("learning_disability", "autism", "serious_mental_illness"):
        persons[flag] = False
    events = []
    for quarter in QUARTERS:
        for (icb, quintile), _ in lsoas.items():
            if (icb, quarter, quintile) == EMPTY:
                continue
            who = persons.loc[(persons["icb"] == icb) & (persons["quintile"] == quintile)]
            picked = who.sample(4 + 3 * quintile, random_state=int(rng.integers(1 << 30)))
            days = rng.integers(0, 90, len(picked))
            events.append(
                picked.assign(admission_date=(pd.Timestamp(quarter) + pd.to_timedelta(days, "D")).date)
            )
    admissions = pd.concat(events, ignore_index=True).drop(columns=["date_of_birth"])
    admissions["age"] = np.int16(64)
    recorded = rng.random(len(admissions)) < ethnicity_recorded
    admissions["ethnic_category"] = admissions["ethnic_category"].where(recorded, None)
    admissions = admissions.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    persons = persons.sample(frac=1.0, random_state=seed + 1).reset_index(drop=True)
    folder.mkdir(parents=True, exist_ok=True)
    admissions.drop(columns=["icb", "quintile"]).to_parquet(folder / "admissions.parquet", index=False)
    persons.drop(columns=["icb", "quintile"]).to_parquet(folder / "persons.parquet", index=False)
    (folder / "catalogue.yaml").write_text(CATALOGUE)
    return admissions, persons


def _config(folder: Path) -> RunConfig:
    return RunConfig.model_validate(
        {"data": str(folder), "periods": {"start": "2024-04", "end": "2024-09"}, "areas": ["england", "icb"]}
    )


def _count(folder: Path) -> tuple[Counts, Catalogue]:
    catalogue = load_catalogue([folder / "catalogue.yaml"])
    with engine_for("duckdb") as engine:
        engine.register_file("admissions", folder / "admissions.parquet")
        engine.register_file("persons", folder / "persons.parquet")
        return count(engine, list(catalogue), _config(folder)), catalogue


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("population") / "data"
    _write(folder, ethnicity_recorded=1.0, seed=3)
    return folder


def test_a_run_of_population_rates_alone_has_values(recorded: Path) -> None:
    counts, catalogue = _count(recorded)
    assert "denominator" in counts.cells.columns
    values = indicator_values(counts.cells, counts.histograms, catalogue.indicators)
    england = values.query("area_type == 'england' and breakdown == 'overall'")
    # 200 people in each of 2 ICBs x 5 quintiles = 2,000 people in every quarter.
    assert list(england["denominator"]) == [2000.0, 2000.0]
    assert england["value"].notna().all()


def test_a_group_with_people_but_no_events_is_a_zero_with_limits(recorded: Path) -> None:
    counts, catalogue = _count(recorded)
    icb, quarter, quintile = EMPTY
    cells = counts.cells
    empty = cells.loc[(cells["area_code"] == icb) & (cells["period_start"].astype(str) == quarter)
                      & (cells["breakdown"] == "imd_quintile") & (cells["group"] == str(quintile))]  # fmt: skip
    assert len(empty) == 1
    assert empty["numerator"].iloc[0] == 0
    assert empty["denominator"].iloc[0] == 200
    # Every ICB, quarter and quintile has a cell; nothing else was added.
    quintiles = cells.loc[(cells["area_type"] == "icb") & (cells["breakdown"] == "imd_quintile")]
    assert len(quintiles) == len(ICBS) * len(QUARTERS) * 5
    assert (quintiles["denominator"] == 200).all()
    values = indicator_values(cells, counts.histograms, catalogue.indicators)
    zero = values.merge(empty[["area_code", "period_start", "breakdown", "group"]])
    # Exact Poisson limits of 0 events in 200 people, per 100,000: lower 0, upper
    # chi2(0.975, 2) / 2 / 200 x 100,000 = 3.6889 / 200 x 100,000 = 1,844.4.
    assert zero["value"].iloc[0] == 0
    assert zero["lower"].iloc[0] == 0
    assert zero["upper"].iloc[0] == pytest.approx(1844.4, abs=0.1)
    measures = inequality_measures(values, catalogue.indicators)
    sii = measures.loc[(measures["measure"] == "sii") & (measures["area_code"] == icb)
                       & (measures["breakdown"] == "imd_quintile")
                       & (measures["period_start"].astype(str) == quarter)]  # fmt: skip
    assert len(sii) == 1
    assert np.isfinite(sii["value"].iloc[0]), sii["note"].iloc[0]
    # By hand: equal populations, so the Low & Low fit is an ordinary least-squares line
    # through the quintiles' rates at ranks 0.1, 0.3, ..., 0.9; SII = slope (rank 0 to 1).
    # Admissions 4 + 3q per quintile q, none in quintile 3: 7, 10, 0, 16, 19 per 200 people.
    rates = np.array([7, 10, 0, 16, 19]) / 200 * 100_000
    assert sii["value"].iloc[0] == pytest.approx(np.polyfit([0.1, 0.3, 0.5, 0.7, 0.9], rates, 1)[0])
    assert sii["lower"].iloc[0] <= sii["value"].iloc[0] <= sii["upper"].iloc[0]


def test_completeness_of_a_rate_per_population_is_that_of_its_events(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from gapwatch.monitor.guardrails import cant_see_gap
    from gapwatch.monitor.settings import load_rules

    folder = tmp_path_factory.mktemp("unrecorded") / "data"
    admissions, persons = _write(folder, ethnicity_recorded=0.3, seed=8)
    counts, catalogue = _count(folder)
    values = indicator_values(counts.cells, counts.histograms, catalogue.indicators)
    ethnic = values.loc[values["breakdown"] == "ethnic_group"]
    # Every person has an ethnic category; about 30% of admissions do.
    assert persons["ethnic_category"].notna().all()
    for (area_code, period_start), cell in ethnic.groupby(["area_code", "period_start"]):
        inside = admissions.loc[pd.to_datetime(admissions["admission_date"]).dt.to_period("Q").dt.start_time.dt.date
                                == period_start]  # fmt: skip
        if area_code != "E92000001":
            icb = refdata.lsoa(2021).set_index("lsoa_code")["icb_code"]
            inside = inside.loc[inside["lsoa_code"].map(icb) == area_code]
        expected = inside["ethnic_category"].notna().mean()
        assert cell["completeness"].to_numpy() == pytest.approx(expected), (area_code, period_start)
        assert expected < 0.5
    # The events of unknown ethnicity are a count, not a rate.
    unknown = ethnic.loc[ethnic["group"] == "unknown"]
    assert len(unknown) == ethnic[["area_code", "period_start"]].drop_duplicates().shape[0]
    assert unknown["value"].isna().all()
    assert unknown["upper"].isna().all()
    assert (unknown["numerator"] > 0).all()
    assert unknown["note"].str.startswith("not a rate").all()
    # Known groups keep their rates, with the warning that the gap may mislead.
    known = ethnic.loc[ethnic["group"] != "unknown"]
    assert known["value"].notna().all()
    assert known["note"].str.contains("of records have a recorded ethnicity").all()
    # The guardrail "can't see the gap" fires for the ethnic breakdown of every area.
    latest = values.loc[values["period_start"] == values["period_start"].max()]
    alerts = cant_see_gap(latest, {}, load_rules())
    fired = alerts.loc[alerts["breakdown"] == "ethnic_group", "area_code"]
    assert set(fired) == {"E92000001", *ICBS}


def test_a_run_of_population_rates_alone_is_published(recorded: Path, tmp_path: Path) -> None:
    from gapwatch.model.config import load_config
    from gapwatch.pipeline import run
    from gapwatch.store import open_store
    from tests.conftest import write_config

    config = write_config(tmp_path, recorded, catalogue=[str(recorded / "catalogue.yaml")],
                          areas=["england", "icb"], periods={"start": "2024-04", "end": "2025-03"})  # fmt: skip
    summary = run(load_config(config))
    store = open_store(summary.store)
    try:
        values = store.read("indicator_values", summary.run_id)
    finally:
        store.close()
    england = values.loc[(values["area_type"] == "england") & (values["breakdown"] == "overall")]
    # Only the two quarters with admissions have cells: a quarter the extract does not cover
    # is missing data, not a quarter without admissions.
    assert sorted(england["period_start"].astype(str)) == QUARTERS
    assert england["value"].notna().all()


def test_completion_keeps_every_event_cell_and_orders_scrambled_input() -> None:
    from gapwatch.engine.populations import with_population

    periods = {"2024-07-01": "2024-09-30", "2024-04-01": "2024-06-30"}
    # Scrambled: later period first, areas and groups out of order; one group with events
    # has a population of 0, one (area "B", group "x") is not in the population at all.
    cells = pd.DataFrame({
        "indicator_id": "r", "period_start": ["2024-07-01", "2024-04-01", "2024-04-01", "2024-07-01"],
        "area_type": "icb", "area_code": ["B", "A", "B", "A"], "breakdown": "sex",
        "group": ["x", "male", "female", "female"], "numerator": [2.0, 5.0, 1.0, 3.0],
    })  # fmt: skip
    cells["period_end"] = cells["period_start"].map(periods)
    people = pd.DataFrame({
        "area_type": "icb", "area_code": ["B", "A", "A", "B", "C"], "breakdown": "sex",
        "group": ["female", "female", "male", "male", "male"], "population": [0.0, 50.0, 40.0, 30.0, 20.0],
    })  # fmt: skip
    got = with_population(cells, people, ["sex"])
    got = got[["period_start", "area_code", "group", "numerator", "denominator"]]
    expected = pd.DataFrame(
        [
            ["2024-04-01", "A", "female", 0.0, 50.0],
            ["2024-04-01", "A", "male", 5.0, 40.0],
            ["2024-04-01", "B", "female", 1.0, 0.0],  # events, but no people: denominator 0
            ["2024-04-01", "B", "male", 0.0, 30.0],
            ["2024-04-01", "C", "male", 0.0, 20.0],
            ["2024-07-01", "A", "female", 3.0, 50.0],
            ["2024-07-01", "A", "male", 0.0, 40.0],
            ["2024-07-01", "B", "male", 0.0, 30.0],
            ["2024-07-01", "B", "x", 2.0, np.nan],  # not in the population: kept, denominator missing
            ["2024-07-01", "C", "male", 0.0, 20.0],
        ],
        columns=["period_start", "area_code", "group", "numerator", "denominator"],
    )
    pd.testing.assert_frame_equal(got.astype({"period_start": str, "area_code": str, "group": str}),
                                  expected, check_dtype=False)  # fmt: skip
