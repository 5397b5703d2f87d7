"""``gapwatch refdata ...``: reference data summaries and postcode import."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

refdata_app = typer.Typer(
    help="England reference data: deprivation, geography, postcodes.", no_args_is_help=True
)


@refdata_app.command("summary")
def summary(
    vintage: int = typer.Option(2021, help="LSOA vintage: 2021 (IMD 2025) or 2011 (IMD 2019)."),
) -> None:
    """Print what the shipped reference data hold."""
    from gapwatch import refdata

    frame = refdata.lsoa(vintage)
    table = Table(title=f"England reference data, {vintage} LSOAs (IMD {int(frame.imd_year.iloc[0])})")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("LSOAs", f"{len(frame):,}")
    table.add_row("ICBs", f"{frame.icb_code.nunique():,}")
    table.add_row("sub-ICB locations", f"{frame.sicbl_code.nunique():,}")
    table.add_row("local authorities", f"{frame.ltla_code.nunique():,}")
    table.add_row("regions", f"{frame.region_code.nunique():,}")
    for quintile, count in frame.imd_quintile.value_counts().sort_index().items():
        table.add_row(f"LSOAs in IMD quintile {quintile}", f"{count:,}")
    table.add_row("Core20 LSOAs", f"{int(frame.core20.sum()):,}")
    Console().print(table)


@refdata_app.command("load-postcodes")
def load_postcodes(
    file: Path = typer.Argument(..., help="ONS Postcode Directory or NSPL CSV file."),
    store: Path | None = typer.Option(
        None, help="DuckDB file to import into (default ~/.gapwatch/postcodes.duckdb)."
    ),
) -> None:
    """Import a postcode directory so that records with postcodes can be linked to LSOAs."""
    from gapwatch.refdata.postcodes import default_store
    from gapwatch.refdata.postcodes import load_postcodes as load

    count = load(file, store)
    typer.echo(f"imported {count:,} postcodes into {store or default_store()}")


def register(app: typer.Typer) -> None:
    app.add_typer(refdata_app, name="refdata")
