"""``gapwatch refdata ...``: reference data summaries and postcode import."""

from __future__ import annotations

import typer

refdata_app = typer.Typer(help="England reference data: deprivation, geography, postcodes.")


def register(app: typer.Typer) -> None:
    app.add_typer(refdata_app, name="refdata")
