"""The board and annual reports, on a store made by the real pipeline and monitor.

One small synthetic run (two ICBs, two financial years) is generated once for the module;
every check compares what a report shows with what the store holds, read through
``gapwatch.views``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import markupsafe
import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from gapwatch.errors import GapwatchError
from gapwatch.report import (
    Chart,
    Column,
    Paragraph,
    Report,
    Section,
    Table,
    build_report,
    render_html,
    write_report,
)
from gapwatch.store import Store
from gapwatch.views import Results

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
AREA = ("icb", "E54000057")
NAMESPACES = {
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/XML/1998/namespace",
}
QUINTILE_LABELS = {"1": "1 (most deprived)", "5": "5 (least deprived)", "unknown": "Not known"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from gapwatch.model.config import load_config
    from gapwatch.monitor import monitor
    from gapwatch.pipeline import run
    from gapwatch.store import open_store
    from gapwatch.synth import generate

    folder = tmp_path_factory.mktemp("report")
    generate(20_000, 3, folder / "data", ["E54000057", "E54000036"], "2023-04", 24)
    config = {
        "name": "t", "data": str(folder / "data"), "periods": {"start": "2023-04", "end": "2025-03"},
        "areas": ["england", "region", "icb"], "store": str(folder / "results.duckdb"),
    }  # fmt: skip
    config_path = folder / "gapwatch.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    summary = run(load_config(config_path))
    opened = open_store(summary.store)
    monitor(opened, summary.run_id)
    return opened


@pytest.fixture(scope="module")
def results(store: Store) -> Results:
    return Results.latest(store)


@pytest.fixture(scope="module")
def board(store: Store) -> Report:
    return build_report(store, *AREA)


@pytest.fixture(scope="module")
def html(board: Report, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("html")
    path = write_report(board, folder / "board.html", "html")
    # One file, nothing written beside it.
    assert sorted(folder.iterdir()) == [path]
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def annual(store: Store) -> Report:
    return build_report(store, *AREA, template="annual-health-inequalities", year="2024/25")


def _section(page: str, key: str) -> str:
    """The HTML of one indicator's section (up to the next indicator's)."""
    start = page.index(f'<section id="{key}"')
    following = page.find('<section id="indicator-', start + 1)
    return page[start : following if following > 0 else len(page)]


def _row_cells(section: str, label: str) -> list[str]:
    """The cells after the row heading ``label`` in the first table row it heads."""
    found = re.search(
        rf'<tr><th scope="row">{re.escape(str(markupsafe.escape(label)))}</th>(.*?)</tr>', section
    )
    assert found, f"no table row headed {label!r}"
    return re.findall(r"<td[^>]*>(.*?)</td>", found.group(1))


def _latest_quintiles(results: Results, indicator_id: str) -> pd.DataFrame:
    values = results.values(indicator_id, *AREA, "imd_quintile")
    latest = results.latest_period(indicator_id)
    return values.loc[values["period_start"] == latest]


# --- errors --------------------------------------------------------------------------------


def test_an_unknown_area_is_a_one_line_error_naming_it_and_the_valid_codes(store: Store) -> None:
    with pytest.raises(GapwatchError) as raised:
        build_report(store, "icb", "E54000999")
    message = raised.value.message
    assert "E54000999" in message
    assert "E54000057" in message
    assert "E54000036" in message
    assert "\n" not in message


def test_an_unknown_area_type_names_the_valid_types(store: Store) -> None:
    with pytest.raises(GapwatchError, match=r"'trust'.*england, icb, region"):
        build_report(store, "trust", "RXX")


def test_a_year_outside_the_run_is_a_one_line_error(store: Store) -> None:
    with pytest.raises(GapwatchError) as raised:
        build_report(store, *AREA, template="annual-health-inequalities", year="2021/22")
    assert "2021/22" in raised.value.message
    assert "2023/24, 2024/25" in raised.value.message
    assert "\n" not in raised.value.message
    with pytest.raises(GapwatchError, match="YYYY/YY"):
        build_report(store, *AREA, template="annual-health-inequalities", year="2024")


def test_an_unknown_template_or_format_is_an_error(store: Store, board: Report, tmp_path: Path) -> None:
    with pytest.raises(GapwatchError, match="board, annual-health-inequalities"):
        build_report(store, *AREA, template="quarterly")  # type: ignore[arg-type]
    with pytest.raises(GapwatchError, match="html, pdf, xlsx"):
        write_report(board, tmp_path / "board.docx", "docx")  # type: ignore[arg-type]


# --- HTML ----------------------------------------------------------------------------------


def test_the_html_is_self_contained(html: str) -> None:
    assert "<script" not in html.lower()
    assert 'src="http' not in html
    assert 'href="http' not in html
    assert "<link" not in html
    assert "@import" not in html
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= NAMESPACES, urls - NAMESPACES
    # The charts are inline SVG, not pictures fetched from somewhere.
    assert html.count("<svg") >= 10


def test_the_html_is_semantic_and_every_table_has_a_caption_and_headers(html: str) -> None:
    assert html.count("<h1") == 1
    assert "<h2" in html
    assert "<h3" in html
    assert html.count("<table") == html.count("<caption>") > 0
    assert html.count('<th scope="col"') > 0
    assert html.count('<th scope="row"') > 0
    assert "#005EB8" in html
    assert "@page" in html
    assert "counter(page)" in html


def test_the_html_shows_every_indicator_in_domain_then_title_order(html: str, results: Results) -> None:
    expected = results.indicators.sort_values(["domain", "title"])
    headings = re.findall(r'<h3 id="indicator-[^"]+-heading">(.*?)</h3>', html)
    assert headings == [str(markupsafe.escape(title)) for title in expected["title"]]


def test_suppressed_quintile_cells_read_suppressed(html: str, results: Results) -> None:
    checked = 0
    for indicator_id in results.indicators["indicator_id"]:
        quintiles = _latest_quintiles(results, indicator_id)
        section = _section(html, f"indicator-{indicator_id}")
        for row in quintiles.to_dict("records"):
            cells = _row_cells(section, QUINTILE_LABELS.get(row["group"], row["group"]))
            value_cell = cells[2]  # numerator, denominator, value, ...
            if row["suppressed"]:
                assert value_cell == "suppressed", (indicator_id, row["group"])
                checked += 1
            else:
                assert value_cell != "suppressed", (indicator_id, row["group"])
    assert checked > 0, "the synthetic run should have suppressed quintile cells"


def test_a_table_shows_the_stored_numbers(html: str, results: Results) -> None:
    quintiles = _latest_quintiles(results, "cervical_screening_25_49")
    row = quintiles.loc[(quintiles["group"] == "1") & ~quintiles["suppressed"]].iloc[0]
    cells = _row_cells(_section(html, "indicator-cervical_screening_25_49"), "1 (most deprived)")
    assert cells[:5] == [
        f"{row['numerator']:,.0f}", f"{row['denominator']:,.0f}",
        f"{row['value']:,.1f}", f"{row['lower']:,.1f}", f"{row['upper']:,.1f}",
    ]  # fmt: skip


def test_the_summary_leads_with_the_largest_percentage_gap(board: Report, results: Results) -> None:
    card = results.scorecard(*AREA)
    card = card.loc[(card["unit"] == "%") & card["gap_absolute"].notna()]
    largest = card.loc[card["gap_absolute"].abs().idxmax()]
    sentence = next(line for line in board.summary if line.startswith("The largest gap is in "))
    assert sentence.startswith(f"The largest gap is in {largest['title']}: quintile 1 (most deprived) is ")
    assert f"{abs(largest['gap_absolute']):,.1f} percentage points" in sentence
    assert f"95% CI {largest['gap_absolute_lower']:,.1f} to {largest['gap_absolute_upper']:,.1f}" in sentence


def test_the_headline_alert_comes_first_then_by_severity(store: Store, results: Results) -> None:
    headline = results.alerts(rule="average_improving_gap_widening")
    headline = headline.loc[headline["area_type"] == "icb"]
    # The fixture's synthetic run is fixed by its seed and does raise the headline alert.
    assert not headline.empty, "the synthetic run raised no average_improving_gap_widening alert for an ICB"
    area_code = str(headline["area_code"].iloc[0])
    report = build_report(store, "icb", area_code)
    alerts = results.alerts("icb", area_code)
    assert report.summary[0] in set(headline.loc[headline["area_code"] == area_code, "message"])
    ranks = {"high": 0, "medium": 1, "low": 2}
    shown = [line for line in report.summary if line in set(alerts["message"])]
    assert len(shown) == len(alerts)
    severity = dict(zip(alerts["message"], alerts["severity"].map(ranks), strict=False))
    rest = [severity[line] for line in shown if line not in set(headline["message"])]
    assert rest == sorted(rest)


def test_xmr_captions_of_short_charts_give_the_reason_not_an_icon(board: Report, results: Results) -> None:
    # Eight quarters: Making Data Count gives icons from 13 points, so every XmR caption
    # says its limits are trial limits and why, and names no variation category.
    charts = results.charts("cervical_screening_25_49", *AREA)
    assert 0 < charts.loc[charts["series"] == "value", "value"].count() < 13
    captions = [
        block.caption
        for section in board.walk()
        for block in section.blocks
        if isinstance(block, Chart) and block.title.endswith("statistical process control")
    ]
    assert captions
    for caption in captions:
        assert caption.startswith("Making Data Count XmR chart with trial limits. Only ")
        assert "no variation or assurance icon until there are 13" in caption
        assert "latest point shows" not in caption


def test_text_is_escaped_and_only_charts_are_markup() -> None:
    import datetime as dt

    frame = pd.DataFrame({"name": ["<b>x</b>"], "value": [float("nan")], "suppressed": [True]})
    section = Section("s", "Title <i>", [
        Paragraph("<script>alert(1)</script>"),
        Table("Caption & more", frame, [Column("name", "Name"), Column("value", "Value", "value")]),
    ])  # fmt: skip
    report = Report(
        "board", "T", "S", "icb", "X", "Area", "run", dt.datetime(2025, 1, 1), None, [], [section], [], "L"
    )
    page = render_html(report)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Title &lt;i&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert "Caption &amp; more" in page
    assert '<td class="num suppressed">suppressed</td>' in page


# --- PDF -----------------------------------------------------------------------------------


def test_the_pdf_has_the_area_an_indicator_and_page_numbers(board: Report, tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        if IN_CI:
            pytest.fail("CI=true but pdftotext (Debian poppler-utils) is not installed")
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    path = write_report(board, tmp_path / "board.pdf", "pdf")
    assert path.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = " ".join(text.split())
    pages = int(re.search(r"Page 1 of (\d+)", words).group(1))  # type: ignore[union-attr]
    assert pages > 5
    assert f"Page {pages} of {pages}" in words
    assert board.area_name in words
    assert "Cervical screening coverage, women aged 25 to 49" in words


# --- XLSX ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(board: Report, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = write_report(board, tmp_path_factory.mktemp("xlsx") / "board.xlsx", "xlsx")
    return load_workbook(path)


def _sheet_for(workbook: Any, title: str) -> Any:
    """The indicator's sheet, found through the Contents sheet's list."""
    for name, description in workbook["Contents"].iter_rows(min_col=1, max_col=2, values_only=True):
        if isinstance(description, str) and description.startswith(f"{title} ("):
            return workbook[name]
    raise AssertionError(f"Contents lists no sheet for {title!r}")


def _records(sheet: Any) -> list[dict[str, Any]]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_workbook_sheets_are_valid_and_complete(workbook: Any, results: Results) -> None:
    names = workbook.sheetnames
    assert names[0] == "Contents"
    assert {"Alerts", "Targets", "Business case", "Data quality"} <= set(names)
    assert all(len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name) for name in names)
    assert len({name.lower() for name in names}) == len(names)
    for title in results.indicators["title"]:
        _sheet_for(workbook, title)
    contents = [cell for row in workbook["Contents"].iter_rows(values_only=True) for cell in row if cell]
    text = " ".join(str(cell) for cell in contents)
    assert results.run_id in text
    assert "nhs-digital" in text
    assert "Open Government Licence" in text
    for name in names:
        sheet = workbook[name]
        assert sheet.freeze_panes == "A2", name
        assert sheet["A1"].font.bold, name


def test_a_workbook_value_equals_the_store_value(workbook: Any, results: Results) -> None:
    quintiles = _latest_quintiles(results, "cervical_screening_25_49")
    expected = quintiles.loc[quintiles["group"] == "1"].iloc[0]
    sheet = _sheet_for(workbook, "Cervical screening coverage, women aged 25 to 49")
    found = [
        row for row in _records(sheet)
        if row["Breakdown"] == "imd_quintile" and row["Group"] == "1"
        and row["Period start"].date() == expected["period_start"]
    ]  # fmt: skip
    assert len(found) == 1
    assert isinstance(found[0]["Value"], float)
    assert found[0]["Value"] == expected["value"]
    assert (found[0]["Lower limit"], found[0]["Upper limit"]) == (expected["lower"], expected["upper"])


def test_suppressed_rows_have_empty_value_cells(workbook: Any, results: Results) -> None:
    checked = 0
    for identifier, title in zip(
        results.indicators["indicator_id"], results.indicators["title"], strict=True
    ):
        rows = _records(_sheet_for(workbook, title))
        withheld = [row for row in rows if row["suppressed"] is True]
        assert all(row["suppressed"] is False for row in rows if row["suppressed"] is not True), identifier
        quintiles = results.values(identifier, *AREA, "imd_quintile")
        stored = int(quintiles["suppressed"].sum())
        assert sum(row["Breakdown"] == "imd_quintile" for row in withheld) == stored, identifier
        for row in withheld:
            assert row["Value"] is None
            assert row["Numerator"] is None
            assert row["Lower limit"] is None
        checked += len(withheld)
    assert checked > 0


# --- annual statement ----------------------------------------------------------------------


def test_the_annual_statement_has_the_statutory_wording_and_the_four_dimensions(annual: Report) -> None:
    page = render_html(annual)
    assert "Statement on Information on Health Inequalities" in page
    assert "section 13SA" in page
    assert "National Health Service Act 2006" in page
    assert "2024/25" in page
    for dimension in ("Deprivation", "Ethnicity", "Age", "Sex"):
        assert f'<th scope="row">{dimension}</th>' in page, dimension
    assert "Core20PLUS5" in page
    assert "Hypertension treated to target" in _section(page, "core20plus5")


def test_the_annual_tables_keep_to_the_financial_year(annual: Report) -> None:
    start, end = pd.Timestamp("2024-04-01"), pd.Timestamp("2025-03-31")
    dated = 0
    for table in annual.tables():
        for column in ("period_start", "period_end"):
            if column in table.frame and not table.frame.empty:
                moments = pd.to_datetime(table.frame[column].dropna())
                assert ((moments >= start) & (moments <= end)).all(), table.caption
                dated += len(moments)
    for sheet in annual.sheets():
        if "period_start" in sheet.table.frame and not sheet.table.frame.empty:
            moments = pd.to_datetime(sheet.table.frame["period_start"].dropna())
            assert ((moments >= start) & (moments <= end)).all(), sheet.name
    assert dated > 0
    page = render_html(annual)
    tables = " ".join(re.findall(r"<table>.*?</table>", page, flags=re.S))
    assert not re.search(r"\b2023\b", tables)


# --- words for people (issue 17 item 7) ------------------------------------------------------

CODE_NAMES = re.compile(
    r"\b(off_track|on_track|special_cause_\w+|common_cause|no_significant_change|too_few_periods|"
    r"cant_see_gap|gap_absolute|consistently_\w+|hit_and_miss|imd_quintile|best_group|least_deprived)\b"
)


def test_the_report_names_periods_as_nhs_readers_do_and_shows_no_code_names(html: str) -> None:
    text = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)  # charts' own axis labels aside
    text = re.sub(r"<[^>]+>", " ", text)
    assert not CODE_NAMES.findall(text), CODE_NAMES.findall(text)[:5]
    assert not re.findall(r"\b\d{4}-\d{2}-\d{2}\b", text)
    # The run covers April 2023 to March 2025 in quarters: the last is Q4 2024/25.
    assert "Q4 2024/25 (January to March 2025)" in text
    assert re.search(r"<td class=\"date\">Q[1-4] 20\d\d/\d\d</td>", html)


def test_the_sii_sentence_says_which_end_fares_worse(board: Report, results: Results) -> None:
    # The SII (least minus most deprived) is printed with the phrase read from the most
    # deprived end, like the quintile 1-5 gap beside it.
    paragraphs = [block.text for section in board.sections for part in section.walk()
                  for block in part.blocks if isinstance(block, Paragraph)]  # fmt: skip
    sii = [text for text in paragraphs if "deprived ends of the population) is" in text]
    assert sii
    assert all(
        "the most deprived fare" in text
        or "no significant difference between the most and least deprived" in text
        for text in sii
    )


def test_a_trend_word_stands_beside_a_trend_whose_interval_agrees(board: Report) -> None:
    # Issue 17: "getting worse" once stood beside a change of -21.2 (95% CI -46.5 to 8.6).
    # The word rests on the weighted trend, so the trend and its interval are printed.
    paragraphs = [block.text for section in board.sections for part in section.walk()
                  for block in part.blocks if isinstance(block, Paragraph)]  # fmt: skip
    number = r"(-?[\d,]+(?:\.\d+)?)"
    pattern = re.compile(
        r"(is improving|is getting worse|is increasing|is decreasing|is widening|is narrowing|"
        r"shows no significant change) \(trend "
        + number
        + r" [^,]* a year, 95% CI "
        + number
        + " to "
        + number
    )
    found = [match for text in paragraphs for match in pattern.finditer(text)]
    assert found
    for match in found:
        low, high = (float(match.group(index).replace(",", "")) for index in (3, 4))
        assert (low <= 0 <= high) == (match.group(1) == "shows no significant change"), match.group(0)
