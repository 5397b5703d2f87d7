"""The dashboard under load and abuse: query strings, the page cache, slow clients,
headers on every response, error bodies, spreadsheet formulas and HEAD (issue 18, item 3)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gapwatch.web.app import create_app

ICB = "icb:E54000057"
INDICATOR = "cervical_screening_25_49"
HEADERS = [
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "cache-control",
]


@pytest.fixture(scope="module")
def app(store_path: str) -> FastAPI:
    made = create_app(store_path)

    @made.get("/boom", include_in_schema=False)
    def boom() -> None:  # an unexpected failure inside a page, for the 500 below
        raise RuntimeError(f"secret detail {Path(store_path).resolve()} (PID {os.getpid()})")

    return made


@pytest.fixture(scope="module")
def client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def _cache(app: FastAPI) -> Any:
    # The PageCache handed to the cache middleware when the app was made.
    for middleware in app.user_middleware:
        if "cache" in middleware.kwargs:
            return middleware.kwargs["cache"]
    raise AssertionError("no page cache middleware")


# --- 1. query strings cannot bypass the page cache ----------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"/overview?area={ICB}&utm=1", "does not take the parameter 'utm'"),
        (f"/overview?area={ICB}&area={ICB}", "'area' is given more than once"),
        (f"/indicator/{INDICATOR}?perod=2024-04-01", "does not take the parameter 'perod'"),
        ("/methods?x=1", "does not take the parameter 'x'; it takes none"),
        ("/api/areas?nonce=123", "does not take the parameter 'nonce'"),
        (f"/api/values?indicator={INDICATOR}&indicator=mmr1_age_2", "'indicator' is given more than once"),
    ],
)
def test_an_unknown_or_repeated_query_parameter_is_refused_in_one_line(
    client: TestClient, url: str, words: str
) -> None:
    response = client.get(url)
    assert response.status_code == 400
    text = response.text.replace("&#39;", "'")
    assert words in text
    if url.startswith("/api"):
        assert response.json() == {"detail": response.json()["detail"]}
        assert "\n" not in response.json()["detail"]


def test_refused_and_reordered_queries_add_no_page_to_the_cache(store_path: str) -> None:
    app = create_app(store_path)
    client = TestClient(app)
    cache = _cache(app)
    first = client.get(f"/indicator/{INDICATOR}?area={ICB}&breakdown=sex")
    assert first.status_code == 200
    kept = len(cache)
    # Same page, parameters in another order or percent-encoded: served from the cache.
    for url in (
        f"/indicator/{INDICATOR}?breakdown=sex&area={ICB}",
        f"/indicator/{INDICATOR}?breakdown=sex&area=icb%3AE54000057",
    ):
        again = client.get(url)
        assert again.status_code == 200
        assert again.content == first.content
    for nonce in range(5):
        assert client.get(f"/indicator/{INDICATOR}?area={ICB}&breakdown=sex&n={nonce}").status_code == 400
        # An address outside the pages (the API's description) is not kept per parameter either.
        assert client.get(f"/api/openapi.json?n={nonce}").status_code == 200
    assert len(cache) == kept


# --- 2. the page cache is bounded in bytes ---------------------------------------------------


def test_the_page_cache_keeps_at_most_its_byte_limit(store_path: str) -> None:
    limit = 150_000
    app = create_app(store_path, page_cache_bytes=limit)
    client = TestClient(app)
    cache = _cache(app)
    urls = [f"/overview?area={ICB}", "/overview", "/methods", "/alerts", f"/quality?area={ICB}", "/targets"]
    sizes = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        sizes.append(len(response.content))
        assert cache.size <= limit
    assert sum(sizes) > limit, sizes  # the pages together exceed the limit, so some were let go
    assert len(cache) < len(urls)
    assert cache.size == sum(len(page.body) for page in cache._pages.values())
    # The most recent page is the one kept; a page still renders after it was let go.
    assert client.get(urls[0]).status_code == 200


def test_a_page_larger_than_the_whole_cache_is_served_but_not_kept() -> None:
    from gapwatch.web.cache import Page, PageCache, page_key

    cache = PageCache(max_bytes=100, max_entries=10)
    cache.put(page_key("r", "/a", b""), Page(200, [], b"x" * 60))
    cache.put(page_key("r", "/b", b""), Page(200, [], b"x" * 101))
    assert len(cache) == 1
    assert cache.size == 60
    cache.put(page_key("r", "/c", b""), Page(200, [], b"x" * 50))  # 110 > 100: /a goes
    assert cache.get(page_key("r", "/a", b"")) is None
    assert cache.size == 50
    assert page_key("r", "/x", b"b=2&a=1") == page_key("r", "/x", "a=1&b=2")


# --- 3. idle, slow and half-open connections time out ---------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(store_path: str) -> Iterator[tuple[str, int]]:
    port = _free_port()
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gapwatch.cli.main", "serve", "--store", store_path, "--port", str(port),
         "--request-timeout", "1", "--keep-alive", "1"],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the server did not start: {process.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start within 60 s")
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _closed_within(connection: socket.socket, seconds: float, drip: bytes = b"") -> float:
    """Seconds until the server closes ``connection`` (sending ``drip`` a byte at a time)."""
    started = time.monotonic()
    connection.settimeout(0.25)
    position = 0
    while time.monotonic() - started < seconds:
        if position < len(drip):
            try:
                connection.sendall(drip[position : position + 1])
            except OSError:
                return time.monotonic() - started
            position += 1
        try:
            if connection.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - started
    raise AssertionError(f"the connection was still open after {seconds} s")


def test_a_silent_connection_is_closed(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as connection:
        assert _closed_within(connection, 6) < 4


def test_a_request_sent_a_byte_at_a_time_is_closed(server: tuple[str, int]) -> None:
    # Slowloris: a byte every quarter second keeps any idle timer from firing; the
    # request's deadline (1 s here) does not move.
    with socket.create_connection(server, timeout=5) as connection:
        connection.sendall(b"GET /methods HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert _closed_within(connection, 8, drip=b"X-Slow: " + b"a" * 200) < 4


def test_an_idle_kept_alive_connection_is_closed(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as connection:
        connection.sendall(b"GET /static/gapwatch.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        connection.settimeout(5)
        assert connection.recv(65536).startswith(b"HTTP/1.1 200")
        # Half a request after the response: the deadline covers it too.
        connection.sendall(b"GET /methods HT")
        assert _closed_within(connection, 6) < 4


def test_the_real_server_answers_head_with_headers_and_no_body(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=10) as connection:
        connection.sendall(b"HEAD /methods HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"content-security-policy" in head.lower()
    assert body == b""


# --- 4. every response carries the security headers ----------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/boom", 500),
        ("GET", "/overview?area=nowhere", 422),
        ("GET", "/no/such/page", 404),
        ("POST", "/overview", 405),
        ("GET", "/overview?x=1", 400),
        ("GET", "/static/gapwatch.css", 200),
        ("HEAD", "/overview", 200),
        ("GET", "/api/areas", 200),
        # An impossible date: whatever its status, it carries the headers.
        ("GET", f"/indicator/{INDICATOR}?period=2024-02-30", None),
    ],
)
def test_every_response_carries_the_security_headers(
    client: TestClient, method: str, url: str, status: int | None
) -> None:
    response = client.request(method, url)
    if status is not None:
        assert response.status_code == status
    missing = [name for name in HEADERS if name not in response.headers]
    assert not missing, (response.status_code, missing)
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


# --- 5. error bodies show no paths, interpreter paths or process ids ------------------------


def _no_internals(text: str, store: str) -> None:
    for secret in (store, str(Path(store).parent), sys.executable, os.path.dirname(sys.executable)):
        assert secret not in text
    assert "PID" not in text
    assert "Traceback" not in text


def test_an_unexpected_error_shows_no_internals(client: TestClient, store_path: str) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    _no_internals(response.text, store_path)
    assert "secret detail" not in response.text


def test_a_locked_store_gives_a_503_without_paths_or_process_ids(store_path: str, tmp_path: Path) -> None:
    copy = tmp_path / "locked.duckdb"
    shutil.copy(store_path, copy)
    client = TestClient(create_app(str(copy)), raise_server_exceptions=False)
    # Another process holds the store open for writing, as a run being published does.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
         str(copy)],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"ready"
        for url in ("/overview", "/api/areas"):
            response = client.get(url)
            assert response.status_code == 503
            _no_internals(response.text, str(copy))
            assert str(holder.pid) not in response.text
            assert "cannot be read just now" in response.text
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_scrub_takes_out_paths_addresses_and_process_ids() -> None:
    from gapwatch.web.security import scrub

    message = (
        'IO Error: Could not set lock on file "/srv/data/results.duckdb": Conflicting lock is held in '
        "/usr/local/bin/python3.12 (PID 31337) by user nhs; also C:\\data\\r.duckdb and "
        "postgresql://reader:secret@db.internal/gap"
    )
    clean = scrub(message)
    for secret in ("/srv/data", "/usr/local/bin", "31337", "C:\\data", "secret", "db.internal"):
        assert secret not in clean
    assert scrub("area icb:E54000057 is not in this run") == "area icb:E54000057 is not in this run"


# --- 6. spreadsheet and CSV exports never hold a live formula -------------------------------


def test_the_csv_download_escapes_cells_that_would_run_as_formulas(store_path: str, tmp_path: Path) -> None:
    copy = tmp_path / "formula.duckdb"
    shutil.copy(store_path, copy)
    connection = duckdb.connect(str(copy))
    try:
        groups = connection.execute(
            "SELECT DISTINCT \"group\" FROM indicator_values WHERE breakdown = 'sex' ORDER BY 1"
        ).fetchall()
        first = groups[0][0]
        connection.execute(
            'UPDATE indicator_values SET "group" = \'=HYPERLINK("http://x","y")\' '
            "WHERE breakdown = 'sex' AND \"group\" = ?",
            [first],
        )
    finally:
        connection.close()
    client = TestClient(create_app(str(copy)))
    response = client.get(f"/indicator/{INDICATOR}/data.csv?breakdown=sex")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    groups_shown = {row["group"] for row in rows}
    assert '\'=HYPERLINK("http://x","y")' in groups_shown
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row.values())
    # Numbers stay numbers: a value column still parses as a number in every row.
    assert all(row["value"] == "" or float(row["value"]) == float(row["value"]) for row in rows)


def test_the_workbook_keeps_formula_like_text_as_text_and_numbers_as_numbers(tmp_path: Path) -> None:
    import datetime as dt

    import pandas as pd
    from openpyxl import load_workbook

    from gapwatch.report.model import Column, Report, Section, Sheet, Table
    from gapwatch.report.workbook import write_xlsx

    frame = pd.DataFrame(
        {
            "code": ["=1+2", "+44", "-A", "@SUM(A1)", "\tx", "RX1", "R-1"],
            "value": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0],
            "suppressed": [False] * 7,
        }
    )
    table = Table("Providers", frame, [Column("code", "Provider code"), Column("value", "Value", "value")])
    section = Section("s", "Providers", [table], [Sheet("Providers", "codes", table)])
    report = Report(
        "board", "=cmd|' /C calc'!A0", "S", "provider", "=X", "Area", "run", dt.datetime(2025, 1, 1), None, [],
        [section], [("Area name", "-2+3")], "L",
    )  # fmt: skip
    path = tmp_path / "r.xlsx"
    write_xlsx(report, path)
    book = load_workbook(path)
    sheet = book["Providers"]
    codes = [sheet.cell(row, 1) for row in range(2, 9)]
    assert [cell.value for cell in codes] == ["'=1+2", "'+44", "'-A", "'@SUM(A1)", "'\tx", "RX1", "R-1"]
    assert all(cell.data_type == "s" for cell in codes)
    values = [sheet.cell(row, 2).value for row in range(2, 9)]
    assert values == [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0]
    contents = [cell.value for row in book["Contents"].iter_rows() for cell in row if cell.value is not None]
    assert not any(isinstance(value, str) and value.startswith(("=", "+", "-", "@")) for value in contents)
    assert not any(cell.data_type == "f" for row in book["Contents"].iter_rows() for cell in row)


# --- 7. HEAD answers where GET does -----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/overview", f"/indicator/{INDICATOR}?area={ICB}", "/api/areas", "/static/gapwatch.css", "/methods"],
)
def test_head_answers_where_get_does(client: TestClient, url: str) -> None:
    got = client.get(url)
    head = client.head(url)
    assert got.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))


def test_head_of_a_missing_page_is_404(client: TestClient) -> None:
    assert client.head("/no/such/page").status_code == 404
