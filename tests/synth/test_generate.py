"""Synthetic data: reproducible, realistic, faults at the planted rates, truth that checks out."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import special

from gapwatch import refdata
from gapwatch.cli.main import main
from gapwatch.synth import OUTCOMES, generate
from gapwatch.synth.calendar import Window
from gapwatch.synth.generate import generate_with_workers
from gapwatch.synth.model import cells, log_odds_table, probability
from gapwatch.synth.people import CELLS_PER_ICB
from gapwatch.synth.services import _rare_events

# The package exports the function ``generate``, which hides the module of that name.
generate_module = sys.modules["gapwatch.synth.generate"]

ICB = "QOP"  # NHS Greater Manchester ICB


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(30_000, 11, out, icb_codes=[ICB])
    return out


def test_same_seed_gives_identical_files(synthetic: Path, tmp_path: Path) -> None:
    generate(30_000, 11, tmp_path, icb_codes=[ICB])
    for path in sorted(synthetic.iterdir()):
        assert path.read_bytes() == (tmp_path / path.name).read_bytes(), path.name


def test_people_live_in_the_chosen_icb_with_real_codes(synthetic: Path) -> None:
    persons = pd.read_parquet(synthetic / "persons.parquet")
    assert len(persons) == 30_000
    assert persons.person_id.is_unique
    spine = refdata.lsoa(2021).set_index("lsoa_code")
    valid = persons.lsoa_code[persons.lsoa_code.isin(spine.index)]
    assert (spine.loc[valid, "icb_code_nhs"] == ICB).all()
    # About 0.7% of recorded LSOAs carry planted faults.
    assert 0.003 < 1 - len(valid) / len(persons) < 0.012
    trusts = set(refdata.nhs_trusts().trust_code)
    assert set(persons.provider_code) <= trusts


def test_ethnicity_is_unrecorded_at_the_planted_rate_by_practice(synthetic: Path) -> None:
    persons = pd.read_parquet(synthetic / "persons.parquet")
    planted = pd.read_parquet(synthetic / "truth_organisations.parquet")
    planted = planted[planted.kind == "gp"].set_index("organisation_code").ethnicity_unrecorded_rate
    unrecorded = persons.ethnic_category.isna() | persons.ethnic_category.isin(["Z", "99"])
    observed = unrecorded.groupby(persons.gp_practice_code).agg(["mean", "size"])
    expected = planted.loc[observed.index]
    se = np.sqrt(expected * (1 - expected) / observed["size"])
    assert (np.abs(observed["mean"] - expected) < 4 * se + 1e-9).mean() > 0.97
    assert {0.04, 0.25} == set(planted.round(2))


def test_coverage_estimates_agree_with_the_truth(synthetic: Path) -> None:
    screening = pd.read_parquet(synthetic / "cervical_screening.parquet")
    truth = pd.read_parquet(synthetic / "truth.parquet")
    overall = truth[(truth.indicator_id == "cervical_screening_25_49") & (truth.breakdown == "overall")]
    young = screening[screening.age_group == "25-49"]
    by_quarter = young.groupby("snapshot_date").screened_within_standard.agg(["mean", "size"])
    expected = overall.set_index("period_end").expected_value
    expected.index = pd.to_datetime(expected.index)
    by_quarter.index = pd.to_datetime(by_quarter.index)
    se = np.sqrt(expected * (1 - expected) / by_quarter["size"])
    assert (np.abs(by_quarter["mean"] - expected) < 4 * se).all()
    assert overall.rows.sum() == len(young)


def test_truth_has_a_deprivation_gradient_and_stories(synthetic: Path) -> None:
    truth = pd.read_parquet(synthetic / "truth.parquet")
    quintiles = truth[(truth.indicator_id == "mmr1_age_2") & (truth.breakdown == "imd_quintile")]
    mean_by_quintile = quintiles.groupby("group").expected_value.mean()
    assert mean_by_quintile["1"] < mean_by_quintile["5"]
    about = json.loads((synthetic / "truth.json").read_text())
    stories = pd.DataFrame(about["stories"])
    assert set(stories.indicator_id) == {key for key, outcome in OUTCOMES.items() if outcome.story}
    assert set(stories.story) <= {"average_up_gap_wider", "gap_closing", "none"}
    assert about["tables"]["persons"] == 30_000


def test_every_documented_table_is_written(synthetic: Path) -> None:
    documented = (Path(__file__).parents[2] / "docs" / "synthetic-data.md").read_text()
    written = {path.stem for path in synthetic.glob("*.parquet")} - {"truth", "truth_organisations"}
    for table in written:
        assert f"| `{table}` |" in documented, table
        columns = pd.read_parquet(synthetic / f"{table}.parquet").columns
        for column in columns:
            assert f"`{column}`" in documented, (table, column)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--persons", "0"], "--persons 0: give at least 1 person"),
        (["--icb", "E54999999"], "unknown ICB code(s) E54999999"),
        (["--start", "2024-13"], "give a month as YYYY-MM"),
    ],
)
def test_bad_arguments_are_one_line(arguments: list[str], message: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert main(["synth", "--out", str(tmp_path / "out"), *arguments]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_refuses_a_non_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["synth", "--out", str(tmp_path), "--persons", "10"]) == 1
    assert "pass --overwrite" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").exists()


def test_files_do_not_depend_on_the_number_of_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks, so each producer reads several and row groups span chunks.
    monkeypatch.setattr(generate_module, "CHUNK", 7_000)
    alone, shared = tmp_path / "alone", tmp_path / "shared"
    generate_with_workers(20_000, 5, alone, [ICB], "2024-01", 6, False, None, 1)
    generate_with_workers(20_000, 5, shared, [ICB], "2024-01", 6, False, None, 2)
    names = sorted(path.name for path in alone.iterdir())
    assert names == sorted(path.name for path in shared.iterdir())
    for name in names:
        assert (alone / name).read_bytes() == (shared / name).read_bytes(), name


def test_tables_have_the_documented_types(synthetic: Path) -> None:
    expected = {"person_id": pa.int64(), "age": pa.int16(), "lsoa_code": pa.string(), "sex": pa.string(),
                "ethnic_category": pa.string(), "learning_disability": pa.bool_(), "received_date": pa.date32(),
                "snapshot_date": pa.date32(), "gp_practice_code": pa.string()}  # fmt: skip
    schema = pq.read_schema(synthetic / "cervical_screening.parquet")
    for column, kind in expected.items():
        assert schema.field(column).type == kind, column
    # Codes are written as Parquet dictionaries but read back as plain strings.
    referrals = pd.read_parquet(synthetic / "autism_referrals.parquet")
    assert not isinstance(referrals.provider_code.dtype, pd.CategoricalDtype)
    assert referrals.assessment_date.isna().any()
    assert referrals.assessment_date.notna().any()


def test_faults_are_planted_at_their_rates(synthetic: Path) -> None:
    waiting = pd.read_parquet(synthetic / "elective_waiting_list.parquet")
    late = (pd.to_datetime(waiting.received_date) - pd.to_datetime(waiting.snapshot_date)).dt.days > 5
    assert abs(late.mean() - 0.02) < 4 * np.sqrt(0.02 * 0.98 / len(waiting))
    ethnicity = waiting.ethnic_category
    assert set(ethnicity.dropna()) <= {*"ABCDEFGHJKLMNPRS", "Z", "99"}
    spells = pd.read_parquet(synthetic / "autism_waiting_list.parquet")
    assert (spells.weeks_waited >= 0).all()


def test_probability_tables_match_the_model() -> None:
    icbs = ["E54000008", "E54000057", "E54000036"]
    window = Window("2023-04", 36)
    rng = np.random.default_rng(3)
    cell = rng.integers(0, len(icbs) * CELLS_PER_ICB, 500)
    month = rng.integers(0, window.months, 500)
    codes, quintile, group = cells(icbs)
    for outcome in OUTCOMES.values():
        table = special.expit(log_odds_table(outcome, icbs, window.progress(np.arange(window.months)), 11))
        expected = probability(outcome, quintile[cell], group[cell], codes[cell], window.progress(month), 11)
        np.testing.assert_allclose(table[month, cell], expected, rtol=1e-12)


def test_rare_events_have_their_chance_each_month() -> None:
    rng = np.random.default_rng(8)
    chance = np.where(np.arange(200_000) % 3 == 0, 0.004, 0.0002)
    growth = 1 + np.linspace(0, 0.5, 24)
    rows, month = _rare_events(rng, chance, 24, growth)
    assert (np.diff(month) >= 0).all()
    expected = chance.sum() * growth
    observed = np.bincount(month, minlength=24)
    assert (np.abs(observed - expected) < 4 * np.sqrt(expected)).all()
    frequent = rows % 3 == 0
    assert abs(frequent.mean() - 0.004 / (0.004 + 2 * 0.0002)) < 0.02
