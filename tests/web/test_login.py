"""Private runs: never served to anonymous readers; OpenID Connect sign-in against a real provider.

The provider (``tests/web/oidc.py``) is a small OpenID Connect server run over HTTP on
127.0.0.1, as is the dashboard, so the dashboard's Authlib client fetches the discovery
document, the token and the keys over real connections and checks the ID token.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from gapwatch.cli.serve_commands import LoginConfigError, login_settings
from gapwatch.model.config import RunConfig
from gapwatch.store import RESULT_TABLES, open_store
from gapwatch.web.app import create_app
from gapwatch.web.security import SECURITY_HEADERS
from tests.web.oidc import MARK, PRIVATE_RUN, publish_copy, sign_in, sites


@pytest.fixture(scope="module")
def two_runs(store_path: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A copy of the test store with a newer run published without disclosure control."""
    return publish_copy(store_path, tmp_path_factory.mktemp("private"), {"disclosure_policy": "none"})


def test_the_runs_table_marks_uncontrolled_and_private_runs(
    two_runs: tuple[str, str], store_path: str, tmp_path: Path
) -> None:
    copy, public = two_runs
    store = open_store(copy, read_only=True)
    try:
        marks = dict(zip(store.runs()["run_id"], store.runs()["private"], strict=True))
    finally:
        store.close()
    assert marks[PRIVATE_RUN] is True or marks[PRIVATE_RUN] == 1
    assert not marks[public]
    # A controlled run whose config says private: true is private too.
    assert RunConfig.model_validate(
        {"data": "in", "periods": {"start": "2024-04", "end": "2025-03"}, "private": True}
    ).private
    configured, _ = publish_copy(
        store_path, tmp_path, {"disclosure_policy": "nhs-digital", "config": json.dumps({"private": True})}
    )
    store = open_store(configured, read_only=True)
    try:
        assert bool(store.runs().set_index("run_id").loc[PRIVATE_RUN, "private"])
    finally:
        store.close()


@pytest.mark.parametrize(
    "address",
    [
        "/methods",
        "/overview",
        "/api/indicators",
        "/api/runs",
        "/alerts",
        "/api/values?indicator={indicator}",
        "/indicator/{indicator}/data.csv",
        "/indicator/{indicator}",
    ],
)
def test_anonymous_readers_see_the_latest_public_run_never_the_newer_private_one(
    two_runs: tuple[str, str], address: str
) -> None:
    copy, public = two_runs
    client = TestClient(create_app(copy), raise_server_exceptions=False)
    indicator = client.get("/api/indicators").json()[0]["indicator_id"]
    answer = client.get(address.format(indicator=indicator))
    assert answer.status_code == 200
    assert PRIVATE_RUN not in answer.text
    for leak in (MARK, "987654", "987,654"):
        assert leak not in answer.text
    if address in ("/methods", "/api/runs"):
        assert public in answer.text


def test_a_store_holding_only_private_runs_shows_anonymous_readers_nothing(
    store_path: str, tmp_path: Path
) -> None:
    source = open_store(store_path, read_only=True)
    try:
        tables = {table: source.read(table).drop(columns=["run_id"]) for table in RESULT_TABLES}
    finally:
        source.close()
    copy = str(tmp_path / "private-only.duckdb")
    store = open_store(copy)
    try:
        store.publish(
            {"run_id": PRIVATE_RUN, "finished_at": pd.Timestamp.now(), "disclosure_policy": "none"}, tables
        )
    finally:
        store.close()
    client = TestClient(create_app(copy), raise_server_exceptions=False)
    for address in ("/methods", "/overview", "/api/values?indicator=x", "/api/areas"):
        answer = client.get(address)
        assert answer.status_code == 404, address
        assert PRIVATE_RUN not in answer.text
    assert client.get("/api/runs").json() == []
    # Without login configured there is no way to sign in at all.
    assert client.get("/login").status_code == 404


def test_signing_in_through_the_provider_shows_the_private_run_and_is_audited(
    two_runs: tuple[str, str], serve: Any, tmp_path: Path
) -> None:
    copy, public = two_runs
    dashboard, _, audit = sites(serve, copy, tmp_path)
    with httpx.Client(timeout=30) as client:
        before = client.get(dashboard + "/methods")
        assert public in before.text
        assert PRIVATE_RUN not in before.text
        back = sign_in(client, dashboard, "bob", "bob-pw", "/login?next=/methods")
        assert back.status_code == 303
        assert back.headers["location"] == "/methods"
        cookie = back.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" not in cookie
        for name in SECURITY_HEADERS:
            assert name in back.headers
        after = client.get(dashboard + "/methods")
        assert after.status_code == 200
        assert PRIVATE_RUN in after.text
        assert after.headers["cache-control"] == "private, no-store"
        assert PRIVATE_RUN in client.get(dashboard + "/api/runs").text
        assert MARK in client.get(dashboard + "/api/indicators").text
        client.get(dashboard + "/logout")
        again = client.get(dashboard + "/methods")
        assert PRIVATE_RUN not in again.text
        assert public in again.text
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert {"time", "subject", "email", "method", "path", "status"} <= set(lines[0])
    seen = [(line["subject"], line["email"], line["path"], line["status"]) for line in lines]
    assert ("user-bob", "bob@nhs.example", "/methods", 200) in seen
    assert ("user-bob", "bob@nhs.example", "/api/runs", 200) in seen
    # Nothing anonymous is logged: the reads before sign-in and after sign-out are absent.
    assert all(line["subject"] == "user-bob" for line in lines)
    assert seen.count(("user-bob", "bob@nhs.example", "/methods", 200)) == 1


def test_a_wrong_password_or_a_wrong_client_secret_signs_nobody_in(
    two_runs: tuple[str, str], serve: Any, tmp_path: Path
) -> None:
    copy, _ = two_runs
    dashboard, _, audit = sites(serve, copy, tmp_path, secret="not-the-secret")
    with httpx.Client(timeout=30) as client:
        refused = sign_in(client, dashboard, "bob", "bob-pw")
        assert refused.status_code == 400
        assert "sign-in could not be checked" in refused.text
        assert PRIVATE_RUN not in client.get(dashboard + "/methods").text
        assert sign_in(client, dashboard, "bob", "wrong").status_code == 401
        # A callback with a code but no matching state in the session is refused.
        forged = client.get(dashboard + "/auth/callback?code=abc&state=made-up")
        assert forged.status_code == 400
        assert PRIVATE_RUN not in client.get(dashboard + "/methods").text
    assert not audit.exists()


def test_a_reader_limited_by_organisation_sees_only_their_areas(
    two_runs: tuple[str, str], serve: Any, tmp_path: Path
) -> None:
    copy, _ = two_runs
    dashboard, _, _ = sites(serve, copy, tmp_path, claim="areas")
    with httpx.Client(timeout=30) as client:
        assert sign_in(client, dashboard, "alice", "alice-pw").status_code == 303
        assert client.get(dashboard + "/overview?area=icb:E54000057").status_code == 200
        assert PRIVATE_RUN in client.get(dashboard + "/methods").text
        assert client.get(dashboard + "/overview?area=icb:E54000050").status_code == 403
        assert client.get(dashboard + "/alerts").status_code == 403
        assert client.get(dashboard + "/compare/x").status_code == 403
    with httpx.Client(timeout=30) as client:
        # bob's token has no areas claim: his organisation is not given any area.
        assert sign_in(client, dashboard, "bob", "bob-pw").status_code == 403
        assert PRIVATE_RUN not in client.get(dashboard + "/methods").text


def test_the_client_secret_never_comes_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GAPWATCH_OIDC_CLIENT_SECRET", raising=False)
    assert login_settings(None, None, None) is None
    with pytest.raises(LoginConfigError, match="client secret"):
        login_settings("https://login.example", "id", None)
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    settings = login_settings("https://login.example", "id", secret)
    assert settings is not None
    assert settings.client_secret == "from-file"
    assert "from-file" not in repr(settings)
    monkeypatch.setenv("GAPWATCH_OIDC_CLIENT_SECRET", "from-env")
    settings = login_settings("https://login.example", "id", None)
    assert settings is not None
    assert settings.client_secret == "from-env"
    with pytest.raises(LoginConfigError, match="https"):
        login_settings("http://login.example", "id", None)
    with pytest.raises(LoginConfigError, match="cannot read"):
        login_settings("https://login.example", "id", tmp_path / "absent")


def _browser_executable() -> str:
    found = (
        os.environ.get("GAPWATCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but Chromium is missing (the Makefile's test-tools target installs it)")
    pytest.skip("Chromium is not installed (apt-get install chromium); browser tests run in CI")


def test_a_real_browser_signs_in_and_sees_the_private_run(
    two_runs: tuple[str, str], serve: Any, tmp_path: Path
) -> None:
    executable = _browser_executable()
    from playwright.sync_api import sync_playwright

    copy, public = two_runs
    dashboard, issuer, audit = sites(serve, copy, tmp_path)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=flags, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(dashboard + "/methods")
            assert public in page.content()
            assert PRIVATE_RUN not in page.content()
            page.goto(dashboard + "/login?next=/methods")
            assert page.url.startswith(issuer + "/authorize")
            page.fill("#username", "bob")
            page.fill("#password", "bob-pw")
            page.click("#sign-in")
            page.wait_for_url(dashboard + "/methods")
            assert PRIVATE_RUN in page.content()
            cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
            assert cookies["gapwatch_session"]["httpOnly"]
            assert cookies["gapwatch_session"]["sameSite"] == "Lax"
            page.goto(dashboard + "/logout")
            assert PRIVATE_RUN not in page.content()
        finally:
            browser.close()
    assert any(json.loads(line)["path"] == "/methods" for line in audit.read_text().splitlines())


def test_serve_with_incomplete_login_options_says_so_in_one_line(
    two_runs: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gapwatch.cli.main import main

    monkeypatch.delenv("GAPWATCH_OIDC_CLIENT_SECRET", raising=False)
    copy, _ = two_runs
    command = ["serve", "--store", copy, "--oidc-issuer", "https://login.example", "--oidc-client-id", "id"]
    assert main(command) == 1
    error = " ".join(capsys.readouterr().err.split())
    assert error.startswith("error: ")
    assert "client secret" in error
