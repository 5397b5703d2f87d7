"""Codes every layer shares, at the bottom of the layers like :mod:`gapwatch.errors`.

>>> ENGLAND
'E92000001'
"""

from __future__ import annotations

#: England's ONS area code (GSS code of the country), the one national area of every run.
ENGLAND = "E92000001"
