"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright.

Every page is opened, every filter changed; charts must render as SVG, no console error
may appear, the tables must show the store's numbers, and the page must work from the
keyboard. Screenshots are kept in ``test-artifacts/screenshots/``. Without Chromium the
tests skip (and fail under CI=true, where the Makefile installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gapwatch.store import open_store
from tests.conftest import IN_CI

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
ICB = "icb:E54000057"


def _chromium() -> str:
    found = (
        os.environ.get("GAPWATCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if found:
        return found
    if IN_CI:
        pytest.fail("CI=true but Chromium is missing (the Makefile's test-tools target installs it)")
    pytest.skip("Chromium is not installed (apt-get install chromium); browser tests run in CI")


@pytest.fixture(scope="module")
def server(store_path: str) -> Iterator[str]:
    import uvicorn

    from gapwatch.web.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(store_path), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert instance.started, "the dashboard did not start"
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.problems = problems
    yield opened
    context.close()


def _shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("name", "path", "charts"),
    [
        ("overview-england", "/overview", 1),
        ("overview-icb", f"/overview?area={ICB}", 1),
        ("indicator", f"/indicator/cervical_screening_25_49?area={ICB}", 3),
        ("compare", "/compare/cervical_screening_25_49", 2),
        ("alerts", "/alerts", 0),
        ("quality", f"/quality?area={ICB}", 0),
        ("targets", "/targets", 0),
        ("business-case", f"/business-case?area={ICB}", 0),
        ("methods", "/methods", 0),
    ],
)
def test_every_page_opens_with_charts_and_no_console_errors(
    server: str, page: Any, name: str, path: str, charts: int
) -> None:
    response = page.goto(server + path)
    assert response.status == 200
    assert page.locator("h1").count() == 1
    assert page.locator("svg[role=img]").count() >= charts
    for label in page.locator("svg[role=img]").all()[:5]:
        assert label.get_attribute("aria-label")
    _shoot(page, name)
    assert page.problems == [], page.problems


def test_changing_each_filter_updates_the_url_and_the_table(server: str, page: Any, store_path: str) -> None:
    page.goto(f"{server}/indicator/cervical_screening_25_49?area={ICB}")
    page.select_option("#breakdown", "age_band")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "breakdown=age_band" in page.url
    caption = page.locator("table caption").first.inner_text()
    assert "Age band" in caption
    # Options read as NHS readers write periods (Q1 2024/25); their values, and so the URL,
    # keep ISO dates.
    periods = [option.get_attribute("value") for option in page.locator("#period option").all()]
    names = page.locator("#period option").all_inner_texts()
    assert names[0].startswith("Q")
    assert "/" in names[0]
    page.select_option("#period", periods[0])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert f"period={periods[0]}" in page.url
    page.select_option("#area", "england:E92000001")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "area=england%3AE92000001" in page.url or "area=england:E92000001" in page.url
    store = open_store(store_path, read_only=True)
    try:
        values = store.read("indicator_values")
    finally:
        store.close()
    expected = values.loc[(values["indicator_id"] == "cervical_screening_25_49") & (values["area_type"] == "england")
                          & (values["breakdown"] == "age_band")
                          & (pd.to_datetime(values["period_start"]).dt.date.astype(str) == periods[0])]  # fmt: skip
    body = page.locator("table").first.inner_text()
    for row in expected.itertuples():
        assert f"{row.denominator:,.0f}" in body, row.group
    _shoot(page, "indicator-after-filters")
    page.goto(f"{server}/overview")
    page.select_option("#area", ICB)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "Greater Manchester" in page.locator("h1").inner_text()
    assert page.problems == [], page.problems


def test_the_pages_work_from_the_keyboard(server: str, page: Any) -> None:
    page.goto(f"{server}/overview")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Skip to main content" in focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # Every form control has a label.
    for control in page.locator("select").all():
        identifier = control.get_attribute("id")
        assert page.locator(f"label[for={identifier}]").count() == 1


def test_the_security_policy_blocks_inline_script(server: str, page: Any) -> None:
    response = page.goto(f"{server}/overview")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    ran = page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__x = 1';
        document.body.appendChild(s); return window.__x === 1; }""")
    assert ran is False
