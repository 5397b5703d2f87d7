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
    [["serve", "--store"], ["report", "--area", "E92000001", "--out", "r.html", "--store"],
     ["monitor", "--store"]],
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
