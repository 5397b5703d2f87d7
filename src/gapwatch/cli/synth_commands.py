"""``gapwatch synth``: write synthetic patient-level data with known truth."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


def synth(
    out: Path = typer.Option(..., "--out", help="Folder to write the tables and truth file into."),
    persons: int = typer.Option(200_000, "--persons", help="How many people to generate."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives identical files."),
    icb: list[str] = typer.Option(
        [], "--icb", help="Restrict to these ICBs (E54… or NHS codes); repeatable."
    ),
    start: str = typer.Option("2023-04", "--start", help="First month, YYYY-MM."),
    months: int = typer.Option(36, "--months", help="Length of the window in months."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the contents of a non-empty folder."),
) -> None:
    """Generate synthetic people and service records for England, with a truth file."""
    from gapwatch.synth import generate
    from gapwatch.synth.calendar import Window
    from gapwatch.synth.generate import check_arguments

    # Bad arguments are reported before the progress bar starts.
    check_arguments(persons, out, icb or None, overwrite)
    Window(start, months)
    console = Console(stderr=True)
    with Progress(
        TextColumn("synthetic people"), BarColumn(), TextColumn("{task.completed}/{task.total} chunks"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("synth", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = generate(persons, seed, out, icb or None, start, months, overwrite, advance)
    console.print(
        f"wrote {len(summary.rows)} tables ({sum(summary.rows.values()):,} rows) and truth files to {out}"
    )


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
