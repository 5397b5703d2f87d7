"""The command line: version, help, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gapwatch.cli.main import main
from gapwatch.errors import InputError, rows


def test_version_prints_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("gapwatch ")


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_errors_are_one_line() -> None:
    error = InputError("column 'age'\n has 3 rows below 0")
    assert error.message == "column 'age' has 3 rows below 0"
    assert rows(1) == "1 row"
    assert rows(1234) == "1,234 rows"


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--store"],
        ["report", "--area", "E92000001", "--out", "r.html", "--store"],
        ["monitor", "--store"],
    ],
    ids=["serve", "report", "monitor"],
)
def test_readers_of_a_missing_store_say_so_in_one_line_and_create_nothing(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.duckdb"
    assert main([*command, str(missing)]) == 1
    error = " ".join(capsys.readouterr().err.split())
    assert error.startswith("error: ")
    assert "none.duckdb: no results store there (run gapwatch run or gapwatch demo first)" in error
    assert not missing.exists()


def test_an_uncaught_ctrl_c_is_status_130_with_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # typer turns a KeyboardInterrupt into a returned 130, which used to be dropped (status 0).
    from gapwatch import refdata

    def interrupt(vintage: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(refdata, "lsoa", interrupt)
    assert main(["refdata", "summary"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("moment", "published"),
    [("count", False), ("publish:written", False), ("monitor:written", False), ("published", True)],
)
def test_ctrl_c_exits_130_and_says_what_was_published(
    moment: str, published: bool, synthetic_data: Path, tmp_path: Path
) -> None:
    from gapwatch.store import open_store
    from tests.store.processes import INTERRUPT, run_until, small_config

    location = tmp_path / "results.duckdb"
    config = small_config(tmp_path, synthetic_data, str(location))
    status, error, reached = run_until(["run", str(config)], moment, INTERRUPT)
    assert reached, error
    assert status == 130, error
    last = " ".join(error.strip().splitlines()[-1].split())
    runs = [] if not location.exists() else list(open_store(str(location), read_only=True).runs()["run_id"])
    if published:
        assert len(runs) == 1
        assert last == f"interrupted after run {runs[0]} was published, with its monitor tables"
    else:
        assert runs == []
        assert last.startswith("interrupted at stage '")
        assert last.endswith("': nothing was published; the store is as it was before this run")
