"""A run published without its monitor (``gapwatch run --no-monitor``) is never read as "0 alerts".

Its monitor tables are empty because nobody looked: the dashboard's overview, alerts,
targets and business case pages and the board report must say that the equity guardrails
were not run, and a run that was monitored must not say so.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

from gapwatch import refdata
from gapwatch.model.config import load_config
from gapwatch.monitor import monitor
from gapwatch.pipeline import run
from gapwatch.report import build_report, render_html
from gapwatch.store import MONITOR_COMPLETE, MONITOR_NOT_RUN, open_store
from gapwatch.views import GUARDRAILS_NOT_RUN, Results
from gapwatch.web.app import create_app

ICB = "E54000057"
CATALOGUE = """\
indicators:
  - id: screened
    title: People screened
    description: test indicator
    domain: access
    reference: a national definition of screening
    source: screening
    date_column: snapshot_date
    period: quarter
    measure: proportion
    numerator: {where: "screened"}
    polarity: higher_is_better
    breakdowns: [overall, imd_quintile, ethnic_group]
"""
PAGES = ["/overview", f"/overview?area=icb:{ICB}", "/alerts", f"/alerts?area=icb:{ICB}", "/targets",
         f"/business-case?area=icb:{ICB}"]  # fmt: skip


def _words(html: str) -> str:
    return " ".join(html.replace("&#39;", "'").split())


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """Two stores of one run: published with ``--no-monitor``, and the same run monitored."""
    folder = tmp_path_factory.mktemp("no-monitor")
    rng = np.random.default_rng(18)
    lsoa = refdata.lsoa(2021)
    codes = lsoa.loc[lsoa.icb_code.isin([ICB, "E54000036"]), "lsoa_code"].to_numpy()
    size = 4_000
    frame = pd.DataFrame({
        "person_id": np.arange(size),
        "snapshot_date": (pd.to_datetime("2024-04-01") + pd.to_timedelta(rng.integers(0, 365, size), unit="D")).date,
        "lsoa_code": rng.choice(codes, size),
        "sex": rng.choice(["1", "2"], size),
        "age": rng.integers(25, 65, size).astype("int16"),
        "ethnic_category": rng.choice(["A", "H", "M", "S"], size),
        "learning_disability": False, "autism": False, "serious_mental_illness": False,
        "screened": rng.random(size) < 0.7,
    }).sample(frac=1.0, random_state=1)  # fmt: skip
    (folder / "data").mkdir()
    frame.to_parquet(folder / "data" / "screening.parquet", index=False)
    (folder / "catalogue.yaml").write_text(CATALOGUE)
    path = folder / "gapwatch.yaml"
    path.write_text(yaml.safe_dump({
        "name": "no-monitor", "data": str(folder / "data"), "catalogue": [str(folder / "catalogue.yaml")],
        "periods": {"start": "2024-04", "end": "2025-03"}, "areas": ["england", "icb"],
        "store": str(folder / "unmonitored.duckdb"),
    }))  # fmt: skip
    # pipeline.run without a ``then`` is ``gapwatch run --no-monitor``: the run is published alone.
    summary = run(load_config(path))
    monitored = str(folder / "monitored.duckdb")
    shutil.copyfile(summary.store, monitored)
    store = open_store(monitored)
    try:
        monitor(store, summary.run_id)
    finally:
        store.close()
    return summary.store, monitored


def _guardrails_run(location: str) -> tuple[str, bool]:
    store = open_store(location, read_only=True)
    try:
        found = Results.latest(store)
        return str(found.run["monitor"]), found.guardrails_run
    finally:
        store.close()


def test_the_runs_say_whether_their_guardrails_ran(stores: tuple[str, str]) -> None:
    unmonitored, monitored = stores
    assert _guardrails_run(unmonitored) == (MONITOR_NOT_RUN, False)
    assert _guardrails_run(monitored) == (MONITOR_COMPLETE, True)


@pytest.mark.parametrize("url", PAGES)
def test_pages_of_an_unmonitored_run_say_the_guardrails_were_not_run(
    stores: tuple[str, str], url: str
) -> None:
    unmonitored, monitored = stores
    page = TestClient(create_app(unmonitored)).get(url)
    assert page.status_code == 200
    text = _words(page.text)
    assert GUARDRAILS_NOT_RUN in text
    assert "0 alerts" not in text
    assert "No alerts for this area" not in text
    assert "Nothing to show" not in text
    page = TestClient(create_app(monitored)).get(url)
    assert page.status_code == 200
    assert GUARDRAILS_NOT_RUN not in _words(page.text)


def test_the_overview_gives_no_count_of_alerts_for_an_unmonitored_run(stores: tuple[str, str]) -> None:
    unmonitored, monitored = stores
    scorecard = TestClient(create_app(unmonitored)).get("/api/overview", params={"area": f"icb:{ICB}"}).json()
    assert [row["alerts"] for row in scorecard] == [None]
    scorecard = TestClient(create_app(monitored)).get("/api/overview", params={"area": f"icb:{ICB}"}).json()
    assert isinstance(scorecard[0]["alerts"], int)


def test_the_board_report_of_an_unmonitored_run_says_the_guardrails_were_not_run(
    stores: tuple[str, str],
) -> None:
    unmonitored, monitored = stores
    for location, expected in ((unmonitored, True), (monitored, False)):
        store = open_store(location, read_only=True)
        try:
            report = build_report(store, "icb", ICB)
        finally:
            store.close()
        text = _words(render_html(report))
        assert (GUARDRAILS_NOT_RUN in text) is expected, location
        if expected:
            assert "No alerts were raised for this area" not in text
            assert "No alerts for this indicator" not in text
            assert "No gap-reduction targets are declared" not in text
            assert "No business case is published" not in text
