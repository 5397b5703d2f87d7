"""Access to the reference data files shipped inside the package.

Files live in ``gapwatch/data/refdata`` and are read once per process; callers get copies
so that one caller's edits never leak into another's answers.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from gapwatch.errors import InputError

VINTAGES = (2011, 2021)


def data_dir() -> Path:
    """The folder of shipped reference data files."""
    return Path(str(resources.files("gapwatch") / "data" / "refdata"))


@cache
def _read_parquet(name: str) -> pd.DataFrame:
    frame = pd.read_parquet(data_dir() / f"{name}.parquet")
    # Arrow-backed strings are fast, but plain object columns behave the same on every
    # pandas version the package supports.
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.ArrowDtype) or frame[column].dtype == "string":
            frame[column] = frame[column].astype(object)
    return frame


def read_parquet(name: str) -> pd.DataFrame:
    """A copy of one shipped Parquet table."""
    return _read_parquet(name).copy()


@cache
def _read_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(data_dir() / name)


def read_csv(name: str) -> pd.DataFrame:
    """A copy of one shipped CSV table."""
    return _read_csv(name).copy()


@cache
def _read_json(name: str) -> str:
    return (data_dir() / name).read_text(encoding="utf-8")


def read_geojson(name: str) -> dict[str, Any]:
    """A fresh GeoJSON dictionary of one shipped boundary file."""
    result: dict[str, Any] = json.loads(_read_json(name))
    return result


def check_vintage(vintage: object, argument: str = "vintage") -> int:
    """Return ``vintage`` as an int, or raise a one-line error naming the choices."""
    if isinstance(vintage, bool) or vintage not in VINTAGES:
        raise InputError(
            f"{argument}={vintage!r} is not a known LSOA vintage; choose 2011 (IMD 2019) or 2021 (IMD 2025)"
        )
    return int(str(vintage))
