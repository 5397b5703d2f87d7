"""Pages of private runs: the sign-in link, the "not for publication" banner, the area map.

The store is the dashboard tests' run with a newer private run beside it
(``tests/web/oidc.py``); readers sign in through the OpenID Connect provider there,
over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from gapwatch.cli.serve_commands import LoginConfigError, login_settings
from gapwatch.store import open_store
from gapwatch.views import Results
from gapwatch.web.app import create_app
from gapwatch.web.auth import LoginSettings
from gapwatch.web.orgs import AreaMapError, load_area_map
from tests.web.oidc import MARK, PRIVATE_RUN, publish_copy, sign_in, sites

UNCONTROLLED = "Not for publication: this run is private and not disclosure-controlled"
MANAGEMENT = "Not for publication: this run is private (management information)"
PAGES = [
    "/overview",
    "/alerts",
    "/quality",
    "/methods",
    "/targets",
    "/business-case",
    "/indicator/{indicator}",
]


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def two_runs(store_path: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The test store with a newer run published without disclosure control."""
    return publish_copy(store_path, tmp_path_factory.mktemp("pages"), {"disclosure_policy": "none"})


def _indicator(client: Any, base: str = "") -> str:
    return str(client.get(base + "/api/indicators").json()[0]["indicator_id"])


def test_anonymous_readers_get_a_sign_in_link_and_no_address_reaches_the_private_run(
    two_runs: tuple[str, str],
) -> None:
    copy, public = two_runs
    without = TestClient(create_app(copy), raise_server_exceptions=False)
    assert "/login" not in without.get("/overview").text
    login = LoginSettings("https://login.example", "dashboard", "secret")
    client = TestClient(create_app(copy, login=login), raise_server_exceptions=False)
    indicator = _indicator(client)
    page = client.get(f"/indicator/{indicator}?area=icb:E54000057")
    assert page.status_code == 200
    assert 'href="/login?next=/indicator/' in page.text
    assert "area%3Dicb%3AE54000057" in page.text
    assert "Sign in" in _text(page.text)
    assert "Signed in as" not in page.text
    # No page, API answer, download or parameter gives the private run to an anonymous reader.
    addresses = [
        *[path.format(indicator=indicator) for path in PAGES],
        "/api/runs",
        "/api/indicators",
        "/api/areas",
        f"/api/values?indicator={indicator}",
        "/api/overview",
        "/api/alerts",
        "/api/targets",
        "/api/business-case",
        "/api/completeness",
        f"/indicator/{indicator}/data.csv",
    ]
    for address in addresses:
        for asked in (address, address + ("&" if "?" in address else "?") + f"run={PRIVATE_RUN}"):
            answer = client.get(asked)
            assert answer.status_code in (200, 400, 404, 422), asked
            # A refused address is echoed only in the "Sign in" link's way back.
            assert PRIVATE_RUN not in answer.text.replace(f"run%3D{PRIVATE_RUN}", ""), asked
            assert MARK not in answer.text, asked
            assert "not-for-publication" not in answer.text, asked
    assert [run["run_id"] for run in client.get("/api/runs").json()] == [public]


def test_a_signed_in_reader_sees_the_banner_on_every_page_of_a_private_run(
    two_runs: tuple[str, str], serve: Any, tmp_path: Path
) -> None:
    copy, public = two_runs
    dashboard, _, _ = sites(serve, copy, tmp_path)
    with httpx.Client(timeout=30) as anonymous:
        indicator = _indicator(anonymous, dashboard)
        first = anonymous.get(dashboard + "/overview")
        assert "Sign in" in _text(first.text)
        assert UNCONTROLLED not in _text(first.text)
    with httpx.Client(timeout=30) as client:
        assert sign_in(client, dashboard, "bob", "bob-pw").status_code == 303
        for path in PAGES:
            page = client.get(dashboard + path.format(indicator=indicator))
            assert page.status_code == 200, path
            words = _text(page.text)
            # The banner comes first, before the header, on every page of the private run.
            assert page.text.index('class="not-for-publication"') < page.text.index("<header"), path
            assert UNCONTROLLED in words, path
            assert "Signed in as bob@nhs.example · Sign out" in words, path
            assert 'href="/logout"' in page.text, path
    # The signed-in reader's pages are not served from the cache to anyone else.
    with httpx.Client(timeout=30) as anonymous:
        for path in PAGES:
            page = anonymous.get(dashboard + path.format(indicator=indicator))
            assert "Signed in as" not in page.text, path
            assert "not-for-publication" not in page.text, path
            assert PRIVATE_RUN not in page.text, path
        assert public in anonymous.get(dashboard + "/methods").text


def test_a_private_run_with_disclosure_control_says_it_is_management_information(
    store_path: str, serve: Any, tmp_path: Path
) -> None:
    private = {"disclosure_policy": "nhs-digital", "config": json.dumps({"private": True})}
    copy, _ = publish_copy(store_path, tmp_path, private)
    dashboard, _, _ = sites(serve, copy, tmp_path)
    with httpx.Client(timeout=30) as client:
        assert MANAGEMENT not in _text(client.get(dashboard + "/overview").text)
        assert sign_in(client, dashboard, "bob", "bob-pw").status_code == 303
        words = _text(client.get(dashboard + "/overview").text)
        assert MANAGEMENT in words
        assert UNCONTROLLED not in words
        # The footer reads the run's settings: controlled, national figures included.
        assert "disclosure control: nhs-digital" in words


AREA_MAP = """\
claim: org_code
organisations:
  QOP: [icb:E54000057]   # NHS Greater Manchester ICB
  X26: all
"""


def test_an_organisation_in_the_area_map_sees_its_areas_and_any_other_only_public_runs(
    two_runs: tuple[str, str], serve: Any, tmp_path: Path
) -> None:
    copy, public = two_runs
    path = tmp_path / "areas.yaml"
    path.write_text(AREA_MAP)
    dashboard, _, audit = sites(serve, copy, tmp_path, area_map=load_area_map(path))
    with httpx.Client(timeout=30) as carol:
        assert sign_in(carol, dashboard, "carol", "carol-pw").status_code == 303
        assert PRIVATE_RUN in carol.get(dashboard + "/methods").text
        mine = carol.get(dashboard + "/overview?area=icb:E54000057")
        assert mine.status_code == 200
        assert UNCONTROLLED in _text(mine.text)
        assert carol.get(dashboard + "/overview?area=icb:E54000036").status_code == 403
        assert carol.get(dashboard + "/alerts").status_code == 403
    with httpx.Client(timeout=30) as dave:
        # dave's organisation (R0A) is not in the map: signed in, but public runs only.
        assert sign_in(dave, dashboard, "dave", "dave-pw").status_code == 303
        methods = dave.get(dashboard + "/methods")
        assert PRIVATE_RUN not in methods.text
        assert public in methods.text
        assert "Signed in as dave@nhs.example (public results only)" in _text(methods.text)
        assert [run["run_id"] for run in dave.get(dashboard + "/api/runs").json()] == [public]
        indicator = _indicator(dave, dashboard)
        for address in ("/alerts", "/overview?area=icb:E54000036", f"/indicator/{indicator}/data.csv"):
            answer = dave.get(dashboard + address)
            assert answer.status_code == 200, address
            assert MARK not in answer.text, address
            assert "not-for-publication" not in answer.text, address
    subjects = {json.loads(line)["subject"] for line in audit.read_text().splitlines()}
    assert subjects == {"user-carol", "user-dave"}


def test_a_wrong_area_map_stops_serve_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gapwatch.cli.main import main

    wrong = tmp_path / "areas.yaml"
    wrong.write_text("organisations:\n  QOP: [E54000057]\n")
    with pytest.raises(AreaMapError, match=r"areas.yaml: organisation QOP: E54000057 is not an area key"):
        load_area_map(wrong)
    (tmp_path / "bad.yaml").write_text("organisations: [QOP]\n")
    with pytest.raises(AreaMapError, match="needs an 'organisations' mapping"):
        load_area_map(tmp_path / "bad.yaml")
    secret = tmp_path / "secret"
    secret.write_text("s")
    with pytest.raises(LoginConfigError, match="not both"):
        login_settings("https://login.example", "id", secret, "areas", None, wrong)
    command = ["serve", "--store", str(tmp_path / "none.duckdb"), "--oidc-issuer", "https://login.example",
               "--oidc-client-id", "id", "--oidc-client-secret-file", str(secret), "--oidc-area-map", str(wrong)]  # fmt: skip
    assert main(command) == 1
    error = " ".join(capsys.readouterr().err.split())
    assert error.startswith("error: ")
    assert "is not an area key" in error


def test_results_say_the_policy_privacy_and_national_control_of_a_run(
    two_runs: tuple[str, str], tmp_path: Path
) -> None:
    copy, public = two_runs
    store = open_store(copy, read_only=True)
    try:
        latest = Results.latest(store)
        assert latest.run_id == public
        assert (latest.policy, latest.private, latest.control_national, latest.warning) == (
            "nhs-digital", False, True, None,
        )  # fmt: skip
        hidden = Results.latest(store, include_private=True)
        assert (hidden.run_id, hidden.policy, hidden.private) == (PRIVATE_RUN, "none", True)
        assert str(hidden.warning).startswith(UNCONTROLLED)
    finally:
        store.close()
    # The footer reads the typed setting, however the run's config JSON is spaced.
    compact = str(tmp_path / "compact.duckdb")
    shutil.copy(copy, compact)
    connection = duckdb.connect(compact)
    try:
        for run_id, text in connection.execute("SELECT run_id, config FROM runs").fetchall():
            if text:
                connection.execute(
                    "UPDATE runs SET config = ? WHERE run_id = ?",
                    [json.dumps(json.loads(text), separators=(",", ":")), run_id],
                )
    finally:
        connection.close()
    words = _text(TestClient(create_app(compact)).get("/overview").text)
    assert "National (England) figures are controlled in the same way" in words
