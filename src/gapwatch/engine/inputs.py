"""Where a run's input tables come from: the configuration's ``tables:``, its ``data:``
folder or its database, registered with the engine before anything is counted."""

from __future__ import annotations

from gapwatch.engine.backends import Engine, find_input
from gapwatch.errors import InputError
from gapwatch.model.catalogue import Catalogue
from gapwatch.model.config import RunConfig


def register_inputs(engine: Engine, config: RunConfig, catalogue: Catalogue) -> None:
    """Register every table the catalogue reads (each indicator's source and population
    table) with the engine: named under ``tables:`` (a file, or a database table on
    PostgreSQL), found in the ``data:`` folder as ``<table>.parquet`` or ``<table>.csv``,
    or read from the database. A table found nowhere is a one-line error naming the
    indicators that need it."""
    needed = {indicator.source for indicator in catalogue}
    needed |= {
        str(indicator.denominator.population) for indicator in catalogue if indicator.denominator.population
    }
    for table in sorted(needed):
        if table in config.tables:
            named = config.tables[table]
            if engine.kind == "postgres" and not named.endswith((".parquet", ".csv", ".gz")):
                engine.register_database_table(table, named)
            else:
                engine.register_file(table, config.resolve(named), config.column_types.get(table))
        elif engine.kind == "postgres" and config.database:
            engine.register_database_table(table, table)
        elif config.data is not None:
            folder = config.resolve(config.data)
            if not folder.is_dir():
                raise InputError(f"{folder}: data folder not found (data: in the config)")
            found = find_input(folder, table)
            if found is None:
                users = sorted(i.id for i in catalogue if table in (i.source, i.denominator.population))
                raise InputError(
                    f"{folder}: no input for table {table!r} ({table}.parquet or {table}.csv), "
                    f"needed by {', '.join(users[:3])}{' …' if len(users) > 3 else ''}"
                )
            engine.register_file(table, found, config.column_types.get(table))
        else:
            raise InputError(f"input table {table!r}: name it under tables:, or give data: or database:")
