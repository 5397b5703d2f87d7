"""Every page says which disclosure control a run had; a run without any says "not for publication".

A copy of the dashboard tests' store (an ``nhs-digital`` run with the default settings)
is relabelled as made under ``none`` and as made with national figures uncontrolled: the
pages read the policy and the settings from the run record alone.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from gapwatch.report import build_report, render_html
from gapwatch.store import open_store
from gapwatch.web.app import create_app

PAGES = ["/overview", "/alerts", "/quality", "/methods", "/targets"]
BANNER = "Not disclosure-controlled: not for publication"


def _text(page: str) -> str:
    return (
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split()).replace(" :", ":").replace(" .", ".")
    )


def _relabel(store_path: str, folder: Path, policy: str, control_national: bool) -> str:
    copy = str(folder / Path(store_path).name)
    shutil.copy(store_path, copy)
    connection = duckdb.connect(copy)
    try:
        (table,) = next(
            row
            for row in connection.execute("SELECT table_name FROM information_schema.tables").fetchall()
            if row[0] == "runs"
        )
        for run_id, text in connection.execute(f"SELECT run_id, config FROM {table}").fetchall():
            config = json.loads(text)
            config.setdefault("disclosure", {})["control_national"] = control_national
            connection.execute(
                f"UPDATE {table} SET disclosure_policy = ?, config = ? WHERE run_id = ?",
                [policy, json.dumps(config, sort_keys=True), run_id],
            )
    finally:
        connection.close()
    return copy


@pytest.fixture(scope="module")
def stores(store_path: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {
        "default": store_path,
        "none": _relabel(store_path, tmp_path_factory.mktemp("none"), "none", False),
        "exact-national": _relabel(store_path, tmp_path_factory.mktemp("exact"), "nhs-digital", False),
    }


def test_a_run_without_disclosure_control_is_never_shown_to_the_public(stores: dict[str, str]) -> None:
    # A run under policy none is private (issue 18 item 4): without a login nobody is shown
    # it, so its banner can only reach signed-in readers (and reports, tested below).
    client = TestClient(create_app(stores["none"]), raise_server_exceptions=False)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 404, path
        assert BANNER not in _text(response.text), path
    default = TestClient(create_app(stores["default"]), raise_server_exceptions=False)
    for path in PAGES:
        assert 'class="not-for-publication"' not in default.get(path).text, path


def test_every_footer_says_the_policy_and_whether_national_figures_are_controlled(
    stores: dict[str, str],
) -> None:
    default = _text(TestClient(create_app(stores["default"])).get("/overview").text)
    assert "disclosure control: nhs-digital" in default
    assert "rounded to a multiple of 5" in default
    assert "National (England) figures are controlled in the same way" in default
    exact = _text(TestClient(create_app(stores["exact-national"])).get("/overview").text)
    assert "National (England) figures are not controlled: they are published exactly" in exact


def test_the_report_says_what_is_controlled_and_warns_on_an_uncontrolled_run(stores: dict[str, str]) -> None:
    found = {}
    for name in ("default", "none", "exact-national"):
        store = open_store(stores[name], read_only=True)
        try:
            # A run under policy none is private: reported only when named.
            run_id = store.latest_run(include_private=True)
            found[name] = _text(render_html(build_report(store, "icb", "E54000057", run_id=run_id)))
        finally:
            store.close()
    assert "at every level, England included" in found["default"]
    assert BANNER not in found["default"]
    assert "England figures are published exactly, not controlled" in found["exact-national"]
    assert found["none"].count(BANNER) >= 2
