"""The command line: version, help, and one-line errors."""

from __future__ import annotations

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
