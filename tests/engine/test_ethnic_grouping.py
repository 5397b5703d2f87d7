"""The run's ethnic grouping: where Chinese (code R) is counted in the ethnic_group breakdown.

NHS Data Dictionary *Ethnic Category* files Chinese (R) under "Other Ethnic Groups" (the
2001 Census based list, grouping ``nhs2001``); ONS Census 2021 puts Chinese under Asian
(grouping ``census2021``, the default). See ``gapwatch.refdata.ethnic_categories``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

from gapwatch import refdata
from gapwatch.engine.backends import engine_for
from gapwatch.engine.counts import count
from gapwatch.errors import ConfigError
from gapwatch.model.catalogue import load_catalogue
from gapwatch.model.config import RunConfig, load_config
from gapwatch.pipeline import run
from gapwatch.store import open_store
from gapwatch.views import Results
from gapwatch.web.app import create_app

CATALOGUE = """\
indicators:
  - id: seen_by_group
    title: People seen
    description: test indicator counted by ethnic group alone
    domain: access
    reference: a national definition
    source: contacts
    date_column: contact_date
    period: quarter
    measure: proportion
    numerator: {where: "seen"}
    polarity: higher_is_better
    breakdowns: [overall, ethnic_group]
  - id: seen_by_category
    title: People seen (by category too)
    description: test indicator whose ethnic groups are summed from categories
    domain: access
    reference: a national definition
    source: contacts
    date_column: contact_date
    period: quarter
    measure: proportion
    numerator: {where: "seen"}
    polarity: higher_is_better
    breakdowns: [overall, ethnic_category, ethnic_group]
"""
#: The groups of the codes used below under each grouping (NHS Data Dictionary codes).
GROUPS = {
    "census2021": {"A": "White", "H": "Asian", "M": "Black", "R": "Asian", "S": "Other"},
    "nhs2001": {"A": "White", "H": "Asian", "M": "Black", "R": "Other", "S": "Other"},
}


@pytest.fixture(scope="module")
def contacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(17)
    lsoa = refdata.lsoa(2021)
    codes = lsoa.loc[lsoa.icb_code.isin(["E54000057", "E54000036"]), "lsoa_code"].to_numpy()
    size = 1_200
    frame = pd.DataFrame(
        {
            "person_id": np.arange(size),
            "contact_date": pd.to_datetime("2024-04-01")
            + pd.to_timedelta(rng.integers(0, 365, size), unit="D"),
            "lsoa_code": rng.choice(codes, size),
            "sex": rng.choice(["1", "2"], size),
            "age": rng.integers(0, 90, size).astype("int16"),
            # Chinese (R) is common here, so that where it is counted shows in every cell.
            "ethnic_category": rng.choice(
                ["A", "H", "M", "R", "S", "Z"], size, p=[0.3, 0.15, 0.1, 0.3, 0.1, 0.05]
            ),
            "learning_disability": False,
            "autism": False,
            "serious_mental_illness": False,
            "seen": rng.random(size) < 0.6,
        }
    )
    frame["contact_date"] = frame["contact_date"].dt.date
    # Rows in scrambled order: nothing may depend on the input being sorted.
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    folder = tmp_path_factory.mktemp("grouping")
    (folder / "data").mkdir()
    frame.to_parquet(folder / "data" / "contacts.parquet", index=False)
    (folder / "catalogue.yaml").write_text(CATALOGUE)
    return folder, frame


def _expected(frame: pd.DataFrame, grouping: str) -> pd.DataFrame:
    """Numerator and denominator by ICB, quarter and ethnic group, by plain pandas."""
    icb = refdata.lsoa(2021).set_index("lsoa_code")["icb_code"]
    data = frame.assign(
        area_code=frame["lsoa_code"].map(icb),
        group=frame["ethnic_category"].map(GROUPS[grouping]).fillna("unknown"),
        period_start=pd.to_datetime(frame["contact_date"]).dt.to_period("Q").dt.start_time.dt.date,
        numerator=frame["seen"].astype(float),
        denominator=1.0,
    )
    return data.groupby(["period_start", "area_code", "group"], as_index=False)[
        ["numerator", "denominator"]
    ].sum()


@pytest.mark.parametrize("grouping", ["census2021", "nhs2001"])
def test_chinese_events_are_counted_in_the_group_the_run_is_set_to(
    contacts: tuple[Path, pd.DataFrame], grouping: str
) -> None:
    folder, frame = contacts
    settings = {"data": str(folder / "data"), "periods": {"start": "2024-04", "end": "2025-03"},
                "areas": ["england", "icb"], "ethnic_grouping": grouping}  # fmt: skip
    config = RunConfig.model_validate(settings)
    catalogue = load_catalogue([folder / "catalogue.yaml"])
    with engine_for("duckdb") as engine:
        engine.register_file("contacts", folder / "data" / "contacts.parquet")
        cells = count(engine, list(catalogue), config).cells
    expected = _expected(frame, grouping)
    keys = ["period_start", "area_code", "group"]
    # Both ways the engine counts ethnic groups: by the group's own code (an indicator
    # without the category breakdown) and summed from categories (one with it).
    for indicator_id in ("seen_by_group", "seen_by_category"):
        got = cells.loc[
            (cells["indicator_id"] == indicator_id)
            & (cells["area_type"] == "icb")
            & (cells["breakdown"] == "ethnic_group")
        ]
        merged = got.merge(expected, on=keys, how="outer", suffixes=("", "_expected"), indicator=True)
        assert (merged["_merge"] == "both").all(), (
            indicator_id,
            merged.loc[merged["_merge"] != "both", keys],
        )
        assert np.array_equal(merged["numerator"], merged["numerator_expected"]), indicator_id
        assert np.array_equal(merged["denominator"], merged["denominator_expected"]), indicator_id
        england = cells.loc[
            (cells["indicator_id"] == indicator_id)
            & (cells["area_type"] == "england")
            & (cells["breakdown"] == "ethnic_group")
        ]
        totals = england.groupby("group")["denominator"].sum()
        chinese = int((frame["ethnic_category"] == "R").sum())
        asian = int(frame["ethnic_category"].isin(["H"]).sum())
        other = int((frame["ethnic_category"] == "S").sum())
        if grouping == "census2021":
            assert (totals["Asian"], totals["Other"]) == (asian + chinese, other)
        else:
            assert (totals["Asian"], totals["Other"]) == (asian, other + chinese)


def test_an_unknown_grouping_is_a_one_line_config_error(tmp_path: Path) -> None:
    path = tmp_path / "gapwatch.yaml"
    path.write_text(yaml.safe_dump({"data": "data", "periods": {"start": "2024-04", "end": "2025-03"},
                                    "ethnic_grouping": "ons2011"}))  # fmt: skip
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = error.value.message
    assert "\n" not in message
    assert "ethnic_grouping" in message
    assert "census2021" in message
    assert "nhs2001" in message


def test_the_run_records_its_grouping_and_the_methods_page_says_it(
    contacts: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, _ = contacts
    path = tmp_path / "gapwatch.yaml"
    path.write_text(yaml.safe_dump({
        "name": "grouping", "data": str(folder / "data"), "catalogue": [str(folder / "catalogue.yaml")],
        "periods": {"start": "2024-04", "end": "2025-03"}, "areas": ["england", "icb"],
        # Controlled, so the run is public and the dashboard serves it without a login.
        "ethnic_grouping": "nhs2001", "disclosure": {"policy": "nhs-digital"},
        "store": str(tmp_path / "results.duckdb"),
    }))  # fmt: skip
    summary = run(load_config(path))
    store = open_store(summary.store, read_only=True)
    try:
        found = Results.latest(store)
        assert json.loads(found.run["config"])["ethnic_grouping"] == "nhs2001"
        assert found.ethnic_grouping == "nhs2001"
    finally:
        store.close()
    page = TestClient(create_app(summary.store)).get("/methods")
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "This run groups ethnic categories as the NHS Data Dictionary" in text
    assert "with Chinese (code R) under Other" in text
