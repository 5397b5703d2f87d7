"""The tables the business case reads, checked: columns, indicator definitions and cells.

Each problem is one :class:`~gapwatch.errors.InputError` naming the table, the column and
how many rows have it (:mod:`gapwatch.monitor.business_case` computes nothing from a table
that fails here).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from gapwatch.errors import InputError, rows

__all__ = [
    "INDICATOR_COLUMNS",
    "KEY",
    "VALUE_COLUMNS",
    "CaseIndicator",
    "check_cells",
    "read_definitions",
    "require_columns",
]

VALUE_COLUMNS = (
    "indicator_id",
    "period_start",
    "period_end",
    "area_type",
    "area_code",
    "breakdown",
    "group",
    "numerator",
    "denominator",
    "suppressed",
)
INDICATOR_COLUMNS = ("indicator_id", "title", "measure", "multiplier", "polarity")
#: One business case: an indicator in an area.
KEY = ["indicator_id", "area_type", "area_code"]


@dataclass(frozen=True)
class CaseIndicator:
    """What the business case needs of one indicator (a row of the ``indicators`` table)."""

    indicator_id: str
    title: str
    measure: str
    unit: str
    multiplier: float
    polarity: str
    period: str


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    """Refuse a table without every one of ``columns``, naming them."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(f"{name}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")


def read_definitions(indicators: pd.DataFrame, needed: set[str]) -> dict[str, CaseIndicator]:
    """The indicators ``needed``, by id; refuses duplicate ids, missing ones and bad multipliers."""
    duplicated = indicators["indicator_id"].duplicated(keep=False)
    if duplicated.any():
        ids = sorted(set(indicators.loc[duplicated, "indicator_id"].astype(str)))
        raise InputError(f"indicators: indicator_id: duplicate ids {', '.join(ids)}")
    unknown = sorted(str(i) for i in needed - set(indicators["indicator_id"]))
    if unknown:
        raise InputError(f"values: indicator_id: no definition in indicators for {', '.join(unknown[:5])}")
    out = {}
    for record in indicators.loc[indicators["indicator_id"].isin(needed)].to_dict("records"):
        multiplier = float(record["multiplier"])
        if not math.isfinite(multiplier) or multiplier <= 0:
            raise InputError(
                f"indicators: multiplier: must be a positive number for {record['indicator_id']}, "
                f"got {record['multiplier']!r}"
            )
        out[str(record["indicator_id"])] = CaseIndicator(
            indicator_id=str(record["indicator_id"]),
            title=str(record["title"]),
            measure=str(record["measure"]),
            unit=_text(record.get("unit")),
            multiplier=multiplier,
            polarity=str(record["polarity"]),
            period=_text(record.get("period")),
        )
    return out


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def check_cells(cells: pd.DataFrame, definitions: Mapping[str, CaseIndicator]) -> None:
    """Refuse repeated quintile cells, negative counts and proportions above 1."""
    duplicated = cells.duplicated([*KEY, "period_start", "group"], keep=False)
    if duplicated.any():
        raise InputError(
            f"values: {rows(int(duplicated.sum()))} repeat an indicator, area, period and "
            "imd_quintile group (pass the values of one run)"
        )
    numerator = pd.to_numeric(cells["numerator"], errors="coerce")
    denominator = pd.to_numeric(cells["denominator"], errors="coerce")
    negative = (numerator < 0) | (denominator < 0)
    if negative.any():
        raise InputError(f"values: numerator, denominator: {rows(int(negative.sum()))} are negative")
    proportion = cells["indicator_id"].isin([i for i, d in definitions.items() if d.measure == "proportion"])
    over = proportion & (numerator > denominator)
    if over.any():
        raise InputError(
            f"values: numerator: {rows(int(over.sum()))} of a proportion have numerator above denominator"
        )
