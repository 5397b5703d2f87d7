"""The dashboard over a real store: every page, the API, validation, headers and confidentiality."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape as markupsafe_escape

from gapwatch.store import open_store
from gapwatch.web.app import create_app

ICB = "icb:E54000057"
PAGES = [
    "/overview",
    f"/overview?area={ICB}",
    f"/indicator/cervical_screening_25_49?area={ICB}",
    f"/indicator/mmr1_age_2?area={ICB}&breakdown=ethnic_group",
    f"/indicator/cervical_screening_25_49?area={ICB}&breakdown=sex",
    "/compare/cervical_screening_25_49",
    "/compare/cervical_screening_25_49?area_type=local_authority",
    "/alerts",
    f"/alerts?area={ICB}",
    "/targets",
    f"/business-case?area={ICB}",
    f"/quality?area={ICB}",
    "/methods",
]


@pytest.fixture(scope="module")
def client(store_path: str) -> TestClient:
    return TestClient(create_app(store_path), raise_server_exceptions=False)


def _read(store_path: str, table: str) -> pd.DataFrame:
    store = open_store(store_path, read_only=True)
    try:
        return store.read(table)
    finally:
        store.close()


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_charts_or_tables_without_any_script(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    page = response.text
    assert "<script" not in page.lower()
    assert re.search(r"<main id=\"main\"", page)
    assert "<table" in page or "<dl" in page
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_the_indicator_page_shows_the_store_values_and_charts(client: TestClient, store_path: str) -> None:
    values = _read(store_path, "indicator_values")
    quintiles = values.loc[
        (values["indicator_id"] == "cervical_screening_25_49")
        & (values["area_code"] == "E54000057")
        & (values["breakdown"] == "imd_quintile")
    ]
    latest = quintiles.loc[quintiles["period_start"] == quintiles["period_start"].max()]
    page = client.get(f"/indicator/cervical_screening_25_49?area={ICB}").text
    assert page.count("<svg") >= 3
    assert 'role="img"' in page
    # Four quarters: the XmR chart's limits are marked as trial limits.
    assert "XmR chart of the overall value (trial limits: fewer than 13 points)" in page
    for row in latest.itertuples():
        if row.suppressed:
            continue
        assert f"{row.value:,.1f}" in page, row.group
        assert f"{row.denominator:,.0f}" in page


def test_suppressed_cells_are_never_shown_in_pages_api_or_csv(client: TestClient, store_path: str) -> None:
    values = _read(store_path, "indicator_values")
    hidden = values.loc[
        values["suppressed"] & (values["area_code"] == "E54000057") & (values["breakdown"] == "ethnic_group")
    ]
    assert not hidden.empty, "the synthetic run has suppressed ethnic-group cells in the ICB"
    row = hidden.iloc[0]
    query = f"area={ICB}&breakdown=ethnic_group&period={pd.Timestamp(row.period_start).date()}"
    api = client.get(f"/api/values?indicator={row.indicator_id}&{query}").json()
    shown = next(item for item in api if item["group"] == row.group)
    assert shown["suppressed"] is True
    assert shown["numerator"] is None
    assert shown["value"] is None
    page = client.get(f"/indicator/{row.indicator_id}?{query}").text
    assert "suppressed" in page
    download = client.get(f"/indicator/{row.indicator_id}/data.csv?{query}")
    assert download.headers["content-type"].startswith("text/csv")
    rows = {item["group"]: item for item in csv.DictReader(io.StringIO(download.text))}
    assert rows[row.group]["numerator"] == ""
    assert rows[row.group]["suppressed"] == "True"


def test_the_api_serves_the_same_numbers_as_the_store(client: TestClient, store_path: str) -> None:
    values = _read(store_path, "indicator_values")
    england = values.loc[
        (values["indicator_id"] == "mmr1_age_2")
        & (values["area_type"] == "england")
        & (values["breakdown"] == "imd_quintile")
    ]
    period = england["period_start"].max()
    api = client.get(
        f"/api/values?indicator=mmr1_age_2&area=england:E92000001&period={pd.Timestamp(period).date()}"
    ).json()
    expected = england.loc[england["period_start"] == period].set_index("group")["value"]
    served = {item["group"]: item["value"] for item in api}
    assert set(served) == set(expected.index)
    # A withheld value (NaN in the store) is null in the API.
    assert {group for group, value in served.items() if value is None} == set(expected.index[expected.isna()])
    shown = expected.dropna()
    assert {group: served[group] for group in shown.index} == pytest.approx(shown.to_dict())
    alerts = client.get(f"/api/alerts?area={ICB}").json()
    stored = _read(store_path, "alerts")
    assert len(alerts) == int((stored["area_code"] == "E54000057").sum())
    document = client.get("/api/openapi.json").json()
    assert {
        "/api/values",
        "/api/overview",
        "/api/alerts",
        "/api/targets",
        "/api/business-case",
        "/api/completeness",
    } <= set(document["paths"])


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/indicator/no_such_indicator", 404, "indicator no_such_indicator is not in this run"),
        ("/overview?area=icb:E54999999", 404, "area icb:E54999999 is not in this run"),
        ("/overview?area=%3Cscript%3Ealert(1)%3C/script%3E", 422, "not a valid value for: area"),
        ("/indicator/mmr1_age_2?period=2031-01-01", 404, "is not one of mmr1_age_2's periods"),
        ("/indicator/mmr1_age_2?breakdown=postcode", 404, "breakdown postcode is not shown"),
        ("/no/such/page", 404, "page not found"),
        ("/api/values?indicator=mmr1_age_2&period=yesterday", 422, "not a valid value for: period"),
        # The right shape but no such day: once a 500 (issue 17, item 6).
        ("/indicator/mmr1_age_2?period=2026-13-45", 422, "2026-13-45 is not a date"),
        ("/indicator/mmr1_age_2/data.csv?period=2026-02-30", 422, "2026-02-30 is not a date"),
        ("/compare/mmr1_age_2?period=2026-13-45", 422, "2026-13-45 is not a date"),
        ("/api/values?indicator=mmr1_age_2&period=2026-13-45", 422, "2026-13-45 is not a date"),
    ],
)
def test_bad_parameters_get_a_friendly_page_without_internals(
    client: TestClient, url: str, status: int, words: str
) -> None:
    response = client.get(url)
    assert response.status_code == status
    text = response.text
    assert words in text.replace("&#39;", "'")
    assert "Traceback" not in text
    assert "<script>" not in text
    assert "SELECT" not in text


def test_the_server_never_writes_to_the_store(client: TestClient, store_path: str) -> None:
    before = _read(store_path, "indicator_values").shape
    for url in PAGES[:4]:
        client.get(url)
    response = client.post("/overview")
    assert response.status_code in (404, 405)
    assert _read(store_path, "indicator_values").shape == before


def test_a_newly_published_run_replaces_the_kept_pages(store_path: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import time

    from gapwatch.store import RESULT_TABLES

    copy = str(tmp_path / "copy.duckdb")
    shutil.copy(store_path, copy)
    client = TestClient(create_app(copy))
    first = client.get("/methods").text
    store = open_store(copy)
    try:
        old = store.latest_run()
        tables = {table: store.read(table, old).drop(columns=["run_id"]) for table in RESULT_TABLES}
        store.publish({"run_id": "zz-newer-run", "name": "again", "finished_at": pd.Timestamp.now()}, tables)
    finally:
        store.close()
    assert old in first
    time.sleep(2.2)
    second = client.get("/methods").text
    assert "zz-newer-run" in second
    assert old not in second


def test_targets_for_an_area_draw_their_trajectories(client: TestClient, store_path: str) -> None:
    targets = _read(store_path, "targets")
    mine = targets.loc[targets["area_code"] == "E54000057"]
    assert not mine.empty
    page = client.get(f"/targets?area={ICB}").text
    assert page.count("straight-line trajectory") == len(mine)
    assert str(mine.iloc[0]["status"]).replace("_", " ") in page


NO_ICON = "Making Data Count gives no variation or assurance icon until there are 13"
ICON_LABELS = {"common_cause": "Common cause variation", "special_cause_improving": "Special cause variation: improving",
               "special_cause_concerning": "Special cause variation: concerning"}  # fmt: skip


def _icons(page: str) -> list[str]:
    return re.findall(r'<svg class="icon" role="img" aria-label="([^"]+)"', page)


def test_the_scorecard_gives_short_charts_a_reason_not_an_icon(client: TestClient, store_path: str) -> None:
    # The fixture's run has four quarters: every chart has trial limits (Making Data Count
    # gives icons from 13 points), so the scorecard says why instead of showing an icon.
    charts = _read(store_path, "spc")
    mine = charts.loc[(charts["area_code"] == "E54000057") & (charts["series"] == "value")]
    counts = mine.groupby("indicator_id")["value"].count()
    assert 0 < counts.max() < 13
    page = client.get(f"/overview?area={ICB}").text
    assert not [label for label in _icons(page) if "variation" in label or "Target" in label]
    assert page.count(NO_ICON) == len(counts)


def test_the_scorecard_shows_making_data_count_icons_from_13_points(store_path: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from gapwatch.monitor.charts import charts as draw_charts
    from gapwatch.store import MONITOR_TABLES

    copy = str(tmp_path / "copy.duckdb")
    shutil.copy(store_path, copy)
    store = open_store(copy)
    try:
        run = store.latest_run()
        assert run is not None
        tables = {table: store.read(table, run).drop(columns=["run_id"]) for table in MONITOR_TABLES}
        spc = tables["spc"]
        chosen = (spc["indicator_id"] == "cervical_screening_25_49") & (spc["area_code"] == "E54000057")
        chosen &= spc["series"] == "value"
        mine = spc.loc[chosen].sort_values("period_start")
        # Thirteen quarters ending with the run's own: its values repeated backwards.
        starts = pd.date_range(end=pd.Timestamp(mine["period_start"].iloc[-1]), periods=13, freq="QS-APR")
        repeated = list(mine["value"]) * 4
        points = pd.DataFrame({"indicator_id": "cervical_screening_25_49", "area_type": "icb",
                               "area_code": "E54000057", "breakdown": "overall", "series": "value",
                               "scale": "linear", "period_start": starts, "value": repeated[-13:]})  # fmt: skip
        indicators = pd.DataFrame({"indicator_id": ["cervical_screening_25_49"], "polarity": ["higher_is_better"],
                                   "target": [None]})  # fmt: skip
        longer = draw_charts(points, indicators, {})
        longer["period_start"] = pd.to_datetime(longer["period_start"])
        spc["period_start"] = pd.to_datetime(spc["period_start"])
        tables["spc"] = pd.concat([spc.loc[~chosen], longer], ignore_index=True)
        store.replace_monitor(run, tables)
    finally:
        store.close()
    page = TestClient(create_app(copy)).get(f"/overview?area={ICB}").text
    assert [label for label in _icons(page) if "variation" in label] == [
        ICON_LABELS[longer["variation"].iloc[-1]]
    ]
    others = (
        spc.loc[(spc["area_code"] == "E54000057") & (spc["series"] == "value"), "indicator_id"].nunique() - 1
    )
    assert page.count(NO_ICON) == others


CODE_NAMES = re.compile(
    r"\b(off_track|on_track|special_cause_\w+|common_cause|no_significant_change|too_few_periods|"
    r"cant_see_gap|gap_absolute|gap_ratio|consistently_\w+|hit_and_miss|imd_quintile|best_group|least_deprived)\b"
)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _visible(page: str) -> str:
    # What a person reads: text outside tags (attributes such as links keep ISO dates).
    return re.sub(r"<[^>]+>", " ", page)


@pytest.mark.parametrize("url", [url for url in PAGES if url != "/methods"])
def test_pages_show_no_code_names_and_no_iso_dates(client: TestClient, url: str) -> None:
    # Issue 17 item 7: people-facing text never shows code names, and periods read as NHS
    # readers write them (Q4 2025/26), not as ISO dates. Links keep ISO dates.
    text = _visible(client.get(url).text)
    assert not CODE_NAMES.findall(text), CODE_NAMES.findall(text)[:5]
    assert not ISO_DATE.findall(text), ISO_DATE.findall(text)[:5]


def test_periods_are_named_by_financial_quarter_and_links_keep_iso_dates(client: TestClient) -> None:
    page = client.get("/indicator/cervical_screening_25_49?area=icb:E54000057&period=2025-01-01").text
    assert "Q4 2024/25 (January to March 2025)" in page
    assert 'value="2025-01-01" selected>Q4 2024/25</option>' in page
    assert "period=2025-01-01" in page


def test_the_quintile_gap_and_the_sii_each_say_which_end_fares_worse(
    client: TestClient, store_path: str
) -> None:
    # The gap (most minus least deprived) and the SII (least minus most) have opposite
    # signs for the same disadvantage; the words beside them must agree.
    measures = _read(store_path, "inequality_measures")
    mine = measures.loc[
        (measures["indicator_id"] == "cervical_screening_25_49") & (measures["area_code"] == "E54000057")
        & (measures["breakdown"] == "imd_quintile") & (measures["period_start"] == measures["period_start"].max())
    ].set_index("measure")  # fmt: skip
    gap, sii = mine.loc["gap_absolute"], mine.loc["sii"]
    page = client.get(f"/indicator/cervical_screening_25_49?area={ICB}").text
    for row in (gap, sii):
        if row["lower"] <= 0 <= row["upper"]:
            assert "no significant difference between the most and least deprived" in page
        else:
            size = f"{abs(row['value']):,.1f}"
            side = "worse" if (row["value"] < 0) == (row.name == "gap_absolute") else "better"
            assert f"the most deprived fare {side} by {size} percentage points" in page
    overview = client.get(f"/overview?area={ICB}").text
    assert "the most deprived fare" in overview or "no significant difference" in overview


def test_the_business_case_quotes_the_rates_the_indicator_page_shows(
    client: TestClient, store_path: str
) -> None:
    # Issue 17: the same cell must read the same on the business case and the indicator page.
    case = _read(store_path, "business_case")
    values = _read(store_path, "indicator_values")
    mine = case.loc[(case["area_code"] == "E54000057") & (case["summary"].fillna("") != "")
                    & case["excess_events"].notna()]  # fmt: skip
    assert not mine.empty
    page = client.get(f"/business-case?area={ICB}").text
    checked = 0
    for row in mine.itertuples():
        cells = values.loc[(values["indicator_id"] == row.indicator_id) & (values["area_code"] == row.area_code)
                           & (values["breakdown"] == "imd_quintile") & (values["period_start"] == row.period_start)]  # fmt: skip
        shown = {group: f"{value:,.1f}" for group, value in zip(cells["group"], cells["value"], strict=True)}
        assert f"{shown['5']}" in row.summary, row.summary
        assert f"{shown['1']}" in row.summary, row.summary
        indicator_page = client.get(
            f"/indicator/{row.indicator_id}?area={ICB}&period={pd.Timestamp(row.period_start).date()}"
        ).text
        assert shown["1"] in indicator_page
        assert shown["5"] in indicator_page
        assert markupsafe_escape(row.summary) in page
        checked += 1
    assert checked


def test_the_compare_page_draws_the_funnel_published_with_the_run(
    client: TestClient, store_path: str
) -> None:
    from gapwatch import stats

    # The limits are published with the run (the views layer only reads them), drawn
    # around England's published value across the published areas of the type.
    funnels = _read(store_path, "funnels")
    values = _read(store_path, "indicator_values")
    mine = values.loc[
        (values["indicator_id"] == "cervical_screening_25_49") & (values["breakdown"] == "overall")
    ]
    latest = mine["period_start"].max()
    mine = mine.loc[mine["period_start"] == latest]
    england = float(mine.loc[mine["area_type"] == "england", "value"].iloc[0])
    icbs = mine.loc[(mine["area_type"] == "icb") & ~mine["suppressed"].astype(bool) & mine["value"].notna()]
    expected = stats.funnel_plot(icbs["denominator"], england, "proportion", multiplier=100)
    assert expected is not None
    published = funnels.loc[
        (funnels["indicator_id"] == "cervical_screening_25_49")
        & (funnels["area_type"] == "icb")
        & (funnels["period_start"] == latest)
    ].sort_values("denominator")
    pd.testing.assert_frame_equal(
        published[list(expected.columns)].reset_index(drop=True), expected, check_exact=True
    )
    # A median has none.
    assert funnels.loc[funnels["indicator_id"] == "autism_median_wait_weeks"].empty
    page = client.get("/compare/cervical_screening_25_49").text
    assert f"around England's value {england:.3g}" in page
    assert "Funnel plot of the value" in page


def test_a_store_from_before_funnels_were_published_serves_the_compare_page_without_one(
    store_path: str,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    import shutil

    import duckdb

    copy = str(tmp_path / "older.duckdb")
    shutil.copy(store_path, copy)
    connection = duckdb.connect(copy)
    try:
        connection.execute("DROP TABLE IF EXISTS funnels")
    finally:
        connection.close()
    response = TestClient(create_app(copy)).get("/compare/cervical_screening_25_49")
    assert response.status_code == 200
    assert "Quintile 1-5 gap by area" in response.text
    # Nothing is computed in its place: no published limits, no funnel.
    assert "Funnel plot of the value" not in response.text
