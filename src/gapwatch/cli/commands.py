"""Registration of every subcommand, one module each."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach every subcommand module's commands to ``app``."""
    from gapwatch.cli import refdata_commands, report_commands, run_commands, serve_commands, synth_commands

    refdata_commands.register(app)
    synth_commands.register(app)
    run_commands.register(app)
    serve_commands.register(app)
    report_commands.register(app)
