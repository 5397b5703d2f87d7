"""``gapwatch report``: the board paper (or the annual statement section) for one area."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from gapwatch.codes import ENGLAND
from gapwatch.errors import ConfigError

_console = Console(stderr=True, highlight=False)
FORMATS = ("html", "pdf", "xlsx")
TEMPLATES = ("board", "annual-health-inequalities")


def report(
    store: str = typer.Option(..., "--store", help="Results store: a DuckDB file or a postgresql:// URL."),
    area: str = typer.Option(..., "--area", help="Area code (E54000057) or type:code (icb:E54000057)."),
    out: Path = typer.Option(..., "--out", help="File to write."),
    format: str = typer.Option(None, "--format", help="html, pdf or xlsx (default: from --out's suffix)."),
    template: str = typer.Option("board", "--template", help="board or annual-health-inequalities."),
    year: str = typer.Option(None, "--year", help="Financial year for the annual template, e.g. 2024/25."),
    run_id: str = typer.Option(None, "--run", help="Run to report (default: the latest public run)."),
    private: bool = typer.Option(
        False,
        "--private",
        help="Without --run: the latest run, private runs (policy none, private: true) included.",
    ),
) -> None:
    """Write a report for one area from a results store: HTML, PDF or Excel.

    A private run is reported only when named (``--run``) or asked for (``--private``),
    and its report says "Not for publication" on its first page.
    """
    from gapwatch.report import build_report, write_report
    from gapwatch.store import open_store

    chosen = (format or out.suffix.lstrip(".")).lower()
    if chosen not in FORMATS:
        raise ConfigError(f"--format {chosen or '(none)'}: choose one of {', '.join(FORMATS)}")
    if template not in TEMPLATES:
        raise ConfigError(f"--template {template}: choose one of {', '.join(TEMPLATES)}")
    if template == "annual-health-inequalities" and not year:
        raise ConfigError("--template annual-health-inequalities needs --year, e.g. --year 2024/25")
    results = open_store(store, read_only=True)
    try:
        run_id = run_id or _default_run(results, private)
        area_type, area_code = _resolve_area(results, area, run_id)
        built = build_report(results, area_type, area_code, run_id=run_id, template=template, year=year)  # type: ignore[arg-type]
    finally:
        results.close()
    written = write_report(built, out, chosen)  # type: ignore[arg-type]
    _console.print(f"wrote {written}")


def _default_run(store: object, private: bool) -> str:
    from gapwatch.views import Results

    return Results.latest(store, None, include_private=private).run_id  # type: ignore[arg-type]


def _resolve_area(store: object, area: str, run_id: str | None) -> tuple[str, str]:
    from gapwatch.views import Results

    found = Results.latest(store, run_id)  # type: ignore[arg-type]
    areas = found.areas
    if ":" in area:
        area_type, area_code = area.split(":", 1)
        matches = areas.loc[(areas["area_type"] == area_type) & (areas["area_code"] == area_code)]
    else:
        matches = areas.loc[areas["area_code"] == area]
    if matches.empty:
        raise ConfigError(f"--area {area}: not an area of run {found.run_id} (e.g. {ENGLAND} for England)")
    if len(matches) > 1:
        kinds = ", ".join(f"{row.area_type}:{row.area_code}" for row in matches.itertuples())
        raise ConfigError(f"--area {area}: names more than one area; say which: {kinds}")
    return str(matches.iloc[0]["area_type"]), str(matches.iloc[0]["area_code"])


def register(app: typer.Typer) -> None:
    app.command("report")(report)
