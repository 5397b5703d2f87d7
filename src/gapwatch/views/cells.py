"""Cells that a spreadsheet opens as text, never as a formula ("CSV injection").

A spreadsheet runs a cell as a formula when its text begins with ``=``, ``+``, ``-`` or
``@`` (and some also after a leading tab or carriage return), so a provider code or area
name that begins that way would become a live formula in a downloaded CSV or workbook.
OWASP's "CSV Injection" guidance (https://owasp.org/www-community/attacks/CSV_Injection)
is to prefix such a cell with a single quote, which spreadsheets show as text. Only text
cells are changed: numbers (negative ones included) stay numbers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> Any:
    """``value`` with a leading single quote if it is text a spreadsheet would run.

    >>> safe_text("=HYPERLINK(1)"), safe_text("-1"), safe_text(-1.5), safe_text("RX1")
    ("'=HYPERLINK(1)", "'-1", -1.5, 'RX1')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as formulas (see :func:`safe_text`).

    Numeric, date and boolean columns are returned unchanged.

    >>> spreadsheet_safe(pd.DataFrame({"code": ["=1+1", "RX1"], "value": [-2.0, 3.0]}))["code"].tolist()
    ["'=1+1", 'RX1']
    """
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column].dtype):
            safe[column] = safe[column].map(safe_text)
    return safe
