"""Reports and the monitor never take a private run by default; a private run's report says so.

The store is the dashboard tests' run with a newer private run (policy ``none``) beside
it (``tests/web/oidc.py``), so "the latest run" and "the latest public run" differ.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from gapwatch.cli.main import main
from gapwatch.monitor import monitor
from gapwatch.report import build_report, write_report
from gapwatch.store import open_store
from tests.web.oidc import PRIVATE_RUN, publish_copy

BANNER = "Not for publication: this run is private and not disclosure-controlled"
AREA = "icb:E54000057"


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def two_runs(store_path: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    run = {"disclosure_policy": "none", "confidence": 0.95}
    return publish_copy(store_path, tmp_path_factory.mktemp("reports"), run)


def test_gapwatch_report_takes_the_latest_public_run_unless_a_private_one_is_asked_for(
    two_runs: tuple[str, str], tmp_path: Path
) -> None:
    copy, public = two_runs
    default = tmp_path / "default.html"
    assert main(["report", "--store", copy, "--area", AREA, "--out", str(default)]) == 0
    page = default.read_text()
    assert f"Results run {public}" in _text(page)
    assert PRIVATE_RUN not in page
    assert "not-for-publication" not in page
    asked = tmp_path / "private.html"
    assert main(["report", "--store", copy, "--area", AREA, "--out", str(asked), "--private"]) == 0
    page = asked.read_text()
    assert f"Results run {PRIVATE_RUN}" in _text(page)
    # The banner is the first thing in the body, before the header and the title.
    body = page[page.index("<body>") :]
    assert body.index('class="not-for-publication"') < body.index("<header")
    assert BANNER in _text(body[: body.index("<header")])


def test_a_private_runs_pdf_and_workbook_carry_the_banner_on_their_first_page(
    two_runs: tuple[str, str], tmp_path: Path
) -> None:
    copy, _ = two_runs
    store = open_store(copy, read_only=True)
    try:
        report = build_report(store, "icb", "E54000057", run_id=PRIVATE_RUN)
    finally:
        store.close()
    assert report.warning is not None
    assert report.warning.startswith(BANNER)
    book = load_workbook(write_report(report, tmp_path / "r.xlsx", "xlsx"))
    contents = book["Contents"]
    assert book.sheetnames[0] == "Contents"
    assert str(contents["A1"].value).startswith(BANNER)
    assert contents["A1"].fill.fgColor.rgb.endswith("D4351C")
    assert contents["A1"].font.bold
    assert contents["A2"].value == "Item"
    assert contents.freeze_panes == "A3"
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but pdftotext (Debian poppler-utils) is not installed")
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    pdf = write_report(report, tmp_path / "r.pdf", "pdf")
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert BANNER in " ".join(first.split())


def test_the_monitor_takes_the_latest_public_run_but_processes_a_private_run_it_is_given(
    two_runs: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = str(tmp_path / "monitor.duckdb")
    shutil.copy(two_runs[0], copy)
    public = two_runs[1]
    capsys.readouterr()
    assert main(["monitor", "--store", copy]) == 0
    assert f"monitored run {public}" in capsys.readouterr().err
    store = open_store(copy)
    try:
        with store.writing():
            summary = monitor(store, PRIVATE_RUN)
        assert summary.run_id == PRIVATE_RUN
        states = dict(zip(store.runs()["run_id"], store.runs()["monitor"], strict=True))
        assert states[PRIVATE_RUN] == "complete"
    finally:
        store.close()


def test_a_store_of_private_runs_only_says_how_to_ask_for_one(
    two_runs: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = str(tmp_path / "private-only.duckdb")
    shutil.copy(two_runs[0], copy)
    connection = duckdb.connect(copy)
    try:
        connection.execute("DELETE FROM runs WHERE run_id <> ?", [PRIVATE_RUN])
    finally:
        connection.close()
    capsys.readouterr()
    out = tmp_path / "r.html"
    assert main(["report", "--store", copy, "--area", AREA, "--out", str(out)]) == 1
    error = " ".join(capsys.readouterr().err.split())
    assert error.startswith("error: ")
    assert "only private runs" in error
    assert "--private" in error
    assert not out.exists()
