"""Target status in plain English on the targets page and in the board report.

A copy of the dashboard tests' store gets a targets table with one row of each status
(and an interval that does, does not, or cannot include the trajectory), so that every
wording is shown whatever the synthetic run happened to produce.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from gapwatch.report import build_report, render_html
from gapwatch.store import open_store
from gapwatch.views import TARGET_STATUS_NAMES
from gapwatch.web.app import create_app

AREA = ("icb", "E54000057")
CODE_NAMES = ["on_track", "off_track", "not_clearly_off_track", "within_interval"]
# description -> (status, within_interval, latest_lower, latest_upper)
ROWS = {
    "Target met here": ("met", False, -4.5, -2.5),
    "Target on track here": ("on_track", True, -8.5, -6.5),
    "Target not clearly off here": ("not_clearly_off_track", True, -9.25, -7.25),
    "Target off track here": ("off_track", False, -11.25, -9.25),
    "Target without limits here": ("off_track", None, None, None),
}


@pytest.fixture(scope="module")
def crafted(store_path: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    copy = str(tmp_path_factory.mktemp("targets") / Path(store_path).name)
    shutil.copy(store_path, copy)
    store = open_store(copy)
    try:
        targets = store.read("targets")
        mine = targets.loc[targets["area_code"] == AREA[1]]
        assert not mine.empty
        rows = []
        for description, (status, within, lower, upper) in ROWS.items():
            row = mine.iloc[0].to_dict()
            row.update(description=description, status=status, within_interval=within, latest_lower=lower,
                       latest_upper=upper)  # fmt: skip
            rows.append(row)
        store.replace_monitor(
            str(mine.iloc[0]["run_id"]), {"targets": pd.DataFrame(rows).drop(columns="run_id")}
        )
    finally:
        store.close()
    return copy


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_the_targets_page_says_each_status_and_interval_in_words(crafted: str) -> None:
    client = TestClient(create_app(crafted), raise_server_exceptions=False)
    page = client.get(f"/targets?area={AREA[0]}:{AREA[1]}").text
    body = {
        _text(heading): [_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", rest, re.S)]
        for heading, rest in re.findall(r'<tr>\s*<th scope="row">(.*?)</th>(.*?)</tr>', page, re.S)
    }
    assert set(body) == set(ROWS)
    for description, (status, within, lower, _) in ROWS.items():
        cells = body[description]
        assert cells[-1] == TARGET_STATUS_NAMES[status]
        assert cells[4] == {True: "Yes", False: "No", None: "–"}[within]
        if lower is not None:
            assert f"({lower:.1f} to " in cells[2]
    assert "Not clearly off track (within the margin of error)" in page
    visible = _text(page)
    for code in CODE_NAMES:
        assert code not in visible


def test_the_board_report_says_each_status_in_words(crafted: str) -> None:
    store = open_store(crafted, read_only=True)
    try:
        page = render_html(build_report(store, *AREA))
    finally:
        store.close()
    start = page.index('<section id="targets"')
    section = _text(page[start : page.index("</section>", start)])
    for status in ("met", "on_track", "not_clearly_off_track", "off_track"):
        assert TARGET_STATUS_NAMES[status] in section
    assert "5 targets: " in section
    for count in (
        "2 off track",
        "1 met",
        "1 on track",
        "1 not clearly off track (within the margin of error)",
    ):
        assert count in section
    for code in CODE_NAMES:
        assert code not in section
