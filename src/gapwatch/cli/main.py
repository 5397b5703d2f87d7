"""The ``gapwatch`` command.

Each subcommand lives in its own module and registers itself here. Errors that gapwatch
reports to a person (:class:`gapwatch.errors.GapwatchError`) print as one line on
standard error with a non-zero exit status, never as a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from gapwatch import __version__
from gapwatch.errors import GapwatchError

app = typer.Typer(
    name="gapwatch",
    help="NHS health-inequalities reporting: are the gaps closing?",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_stderr = Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gapwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """gapwatch: not whether the averages improve, but whether the gaps close."""


def _register() -> None:
    # Imported here so that a subcommand's heavy imports cost nothing to the others.
    from gapwatch.cli import commands

    commands.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0 success, 1 bad input, 2 usage, 130 Ctrl-C)."""
    from gapwatch.cli.interrupted import Interrupted

    _register()
    try:
        status = app(args=argv, standalone_mode=False)
    except GapwatchError as error:
        _stderr.print(f"[bold red]error:[/] {error.message}", soft_wrap=True)
        return 1
    except Interrupted as interrupted:
        # A command that publishes says what it left published (gapwatch.cli.interrupted).
        _stderr.print(interrupted.message, soft_wrap=True)
        return 130
    except KeyboardInterrupt:
        _stderr.print("interrupted")
        return 130
    except SystemExit as exit_:
        return int(exit_.code or 0)
    except Exception as error:
        # Usage errors come from the click that typer carries (vendored in recent typer),
        # so they are recognised by what they can do rather than by their import path.
        show = getattr(error, "show", None)
        exit_code = getattr(error, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            return exit_code
        if type(error).__name__ == "Abort":
            return 1
        raise
    # Without standalone mode, typer returns the status of an Exit instead of exiting; it
    # turns a Ctrl-C that no command handled into Exit(130).
    if isinstance(status, int) and not isinstance(status, bool):
        if status == 130:
            _stderr.print("interrupted")
        return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
