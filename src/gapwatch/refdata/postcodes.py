"""Postcode to LSOA lookups from a user-supplied ONS Postcode Directory or NSPL.

No postcode data ship with gapwatch (the ONS Postcode Directory has about 2.7 million
rows and its own licence terms); users import their copy once into a local DuckDB file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd

from gapwatch.errors import InputError, rows

#: Accepted names for each needed field, in the order they are tried. ONSPD and NSPL both
#: name the 2021 LSOA ``lsoa21`` and the 2011 one ``lsoa11``; older files use ``pcd``,
#: newer ``pcd7``/``pcd8``/``pcds`` for the postcode.
POSTCODE_COLUMNS = ("pcds", "pcd", "pcd7", "pcd8")
LSOA_COLUMNS = {2021: ("lsoa21", "lsoa21cd"), 2011: ("lsoa11", "lsoa11cd")}
TABLE = "postcodes"


def default_store() -> Path:
    """Where imported postcodes live by default: ``$GAPWATCH_HOME`` or ``~/.gapwatch``."""
    home = Path(os.environ.get("GAPWATCH_HOME", Path.home() / ".gapwatch"))
    return home / "postcodes.duckdb"


def normalise_postcode(postcodes: pd.Series) -> pd.Series:
    """Postcodes upper-cased with all spaces removed (``"sw1a 1aa"`` -> ``"SW1A1AA"``)."""
    text = postcodes.astype("object").where(postcodes.isna(), postcodes.astype(str))
    return text.str.upper().str.replace(r"\s+", "", regex=True)


def _header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            first = handle.readline()
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not a UTF-8 text file ({error.reason})") from None
    if not first.strip():
        raise InputError(f"{path}: the file is empty")
    return [name.strip().strip('"').lower() for name in first.rstrip("\r\n").split(",")]


def load_postcodes(file: str | Path, store: str | Path | None = None) -> int:
    """Import an ONS Postcode Directory or NSPL CSV into a local DuckDB lookup.

    Keeps the postcode (normalised: upper case, no spaces), its 2021 and 2011 LSOA codes
    (whichever the file has; at least one is required) and the termination date
    ``doterm`` when present. Returns the number of postcodes imported; an earlier import
    in the same store is replaced in one transaction.

    >>> # load_postcodes("ONSPD_FEB_2026_UK.csv")  # about 2.7 million rows
    """
    path = Path(file)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    header = _header(path)
    postcode = next((name for name in POSTCODE_COLUMNS if name in header), None)
    lsoa = {vintage: next((n for n in names if n in header), None) for vintage, names in LSOA_COLUMNS.items()}
    missing = []
    if postcode is None:
        missing.append("a postcode column (pcds, pcd, pcd7 or pcd8)")
    if lsoa[2021] is None and lsoa[2011] is None:
        missing.append("an LSOA column (lsoa21 or lsoa11)")
    if missing:
        raise InputError(f"{path}: missing {' and '.join(missing)}; is this an ONSPD or NSPL CSV?")
    target = Path(store) if store else default_store()
    target.parent.mkdir(parents=True, exist_ok=True)
    lsoa21 = f'"{lsoa[2021]}"' if lsoa[2021] else "NULL"
    lsoa11 = f'"{lsoa[2011]}"' if lsoa[2011] else "NULL"
    doterm = '"doterm"' if "doterm" in header else "NULL"
    with duckdb.connect(str(target)) as connection:
        connection.execute("BEGIN")
        connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
        connection.execute(
            f"""
            CREATE TABLE {TABLE} AS
            SELECT upper(replace(CAST("{postcode}" AS VARCHAR), ' ', '')) AS postcode,
                   nullif(trim(CAST({lsoa21} AS VARCHAR)), '') AS lsoa21_code,
                   nullif(trim(CAST({lsoa11} AS VARCHAR)), '') AS lsoa11_code,
                   nullif(trim(CAST({doterm} AS VARCHAR)), '') AS terminated
            FROM read_csv(?, header = true, all_varchar = true)
            """,
            [str(path)],
        )
        count = connection.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        if not count or count[0] == 0:
            connection.execute("ROLLBACK")
            raise InputError(f"{path}: no postcodes in the file")
        connection.execute("COMMIT")
    return int(count[0])


def postcode_to_lsoa(
    postcodes: Iterable[str] | pd.Series, vintage: int = 2021, store: str | Path | None = None
) -> pd.DataFrame:
    """Look up the LSOA of each postcode in an imported directory.

    Case and spacing are ignored. Columns ``postcode`` (as given), ``lsoa_code`` (missing
    for a postcode not in the directory).

    >>> # postcode_to_lsoa(["sw1a 1aa"])
    """
    if vintage not in LSOA_COLUMNS:
        raise InputError(f"vintage={vintage!r} is not a known LSOA vintage; choose 2011 or 2021")
    target = Path(store) if store else default_store()
    if not target.is_file():
        raise InputError(
            f"{target}: no postcode directory imported; run `gapwatch refdata load-postcodes FILE`"
        )
    given = pd.Series(list(postcodes), dtype="object")
    frame = pd.DataFrame({"postcode": given, "key": normalise_postcode(given)})
    with duckdb.connect(str(target), read_only=True) as connection:
        connection.register("wanted", frame)
        found = connection.execute(
            f"SELECT w.postcode, p.lsoa{str(vintage)[2:]}_code AS lsoa_code FROM wanted w "
            f"LEFT JOIN {TABLE} p ON p.postcode = w.key"
        ).df()
    unknown = int(found["lsoa_code"].isna().sum())
    found.attrs["unknown"] = f"{rows(unknown)} with a postcode not in the directory"
    return found
