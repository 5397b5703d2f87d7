"""Numbers, percentages and area names as people read them: one module for every page.

At the bottom of the layers (like :mod:`gapwatch.errors` and :mod:`gapwatch.words`, which
names periods and codes), so the dashboard's Jinja filters, the reports
(:mod:`gapwatch.report.fmt`) and the business case's sentences
(:mod:`gapwatch.monitor.business_case_words`) format numbers here. Presentation only.

Today's conventions differ between places, and each place keeps its own by parameters:

* an indicator value: one decimal with thousands separators (reports:
  :data:`REPORT`); the dashboard and the business case give values below 1 to three
  significant figures (:data:`DASHBOARD`, :data:`RATES`), and the dashboard writes 0 as
  ``0``; a missing value reads "not available" in reports and "–" on the dashboard;
* a count after disclosure control: a whole number (:meth:`Numbers.count`); an estimate
  (the business case's excess events): three significant figures (:func:`estimate`);
* pounds: to the pound in report tables (:func:`money`), to the nearest £1,000 from
  £10,000 in the business case's sentences (:func:`pounds`), and a unit cost with its
  pence when it has any (:func:`price`).

>>> REPORT.number(1234.567), DASHBOARD.number(0.01234), RATES.number(0.0)
('1,234.6', '0.0123', '0.0')
>>> share(0.825397), percent(0.95), estimate(1238.0), pounds(123_456.0)
('82.5%', '95%', '1,240', '£123,000')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

#: Area types for people, as headings and labels name them (re-exported by :mod:`gapwatch.views`).
AREA_TYPE_NAMES = {
    "england": "England",
    "region": "Region",
    "icb": "Integrated care board",
    "sub_icb": "Sub-ICB location",
    "local_authority": "Local authority",
    "provider": "Provider",
}
#: Area types inside a sentence ("ICB E54000057").
AREA_TYPE_WORDS = {
    "region": "region",
    "icb": "ICB",
    "sub_icb": "sub-ICB location",
    "local_authority": "local authority",
    "provider": "provider",
}


def missing(value: Any) -> bool:
    """True for None, NaN and pandas' missing markers.

    >>> missing(None), missing(float("nan")), missing(0.0), missing(pd.NA)
    (True, True, False, True)
    """
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Numbers:
    """One convention for values, counts and limits.

    ``absent`` is what a missing number reads; ``small`` the significant figures of a
    value between -1 and 1 (None: the decimals as for any value); ``zero`` how 0 reads
    (None: as any value).
    """

    absent: str = "not available"
    small: int | None = None
    zero: str | None = None

    def number(self, value: Any, digits: int = 1) -> str:
        """A value: thousands separated, ``digits`` decimals (small values by significant figures).

        >>> REPORT.number(-7.16), DASHBOARD.number(0), DASHBOARD.number(None)
        ('-7.2', '0', '–')
        """
        if missing(value):
            return self.absent
        number = float(value)
        if number == 0 and self.zero is not None:
            return self.zero
        if self.small is not None and number != 0 and abs(number) < 1:
            return f"{number:.{self.small}g}"
        return f"{number:,.{digits}f}"

    def count(self, value: Any) -> str:
        """A count (after disclosure control): a whole number.

        >>> REPORT.count(1130.0), DASHBOARD.count(None)
        ('1,130', '–')
        """
        return self.absent if missing(value) else f"{float(value):,.0f}"

    def limits(self, lower: Any, upper: Any) -> str:
        """Confidence limits, ``lower to upper``; empty when either is missing.

        >>> DASHBOARD.limits(0.5, 12.25), DASHBOARD.limits(None, 1.0)
        ('0.5 to 12.2', '')
        """
        if missing(lower) or missing(upper):
            return ""
        return f"{self.number(lower)} to {self.number(upper)}"


#: Reports: one decimal, "not available".
REPORT = Numbers()
#: The dashboard: small values to 3 significant figures, 0 as "0", a dash when missing.
DASHBOARD = Numbers(absent="–", small=3, zero="0")
#: The business case's rates: as the dashboard, but 0 reads "0.0".
RATES = Numbers(small=3)


def share(value: Any, absent: str = "not available") -> str:
    """A share from 0 to 1 as a percentage with one decimal.

    >>> share(0.825397), share(None)
    ('82.5%', 'not available')
    """
    return absent if missing(value) else f"{float(value) * 100:.1f}%"


def percent(fraction: float) -> str:
    """A set level (a confidence level, a threshold) as a percentage with the digits it has.

    >>> percent(0.95), percent(0.998), percent(0.9)
    ('95%', '99.8%', '90%')
    """
    return f"{fraction * 100:g}%"


def money(value: Any, absent: str = "not available") -> str:
    """Pounds, to the pound, the sign before the £.

    >>> money(12345.6), money(-5.0)
    ('£12,346', '-£5')
    """
    if missing(value):
        return absent
    amount = float(value)
    return f"-£{-amount:,.0f}" if amount < 0 else f"£{amount:,.0f}"


def significant(x: float, figures: int = 3) -> float:
    """``x`` rounded to ``figures`` significant figures.

    >>> significant(1238.0), significant(0.045678)
    (1240.0, 0.0457)
    """
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, figures - 1 - math.floor(math.log10(abs(x))))


def estimate(x: float) -> str:
    """An estimated count to 3 significant figures, with thousands separators.

    >>> estimate(1238.0), estimate(12.34), estimate(0.4561), estimate(0.0)
    ('1,240', '12.3', '0.456', '0')
    """
    rounded = significant(x)
    if rounded == 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:,.{decimals}f}"


def pounds(x: float) -> str:
    """An estimate in £: to the nearest £1,000 from £10,000, else to 3 significant figures.

    >>> pounds(123_456.0), pounds(1_234.0)
    ('£123,000', '£1,230')
    """
    if abs(x) >= 10_000:
        return f"£{round(x, -3):,.0f}"
    return f"£{significant(x):,.0f}"


def price(x: float) -> str:
    """A unit cost: whole pounds, or pounds and pence when it has pence.

    >>> price(150.0), price(12.5)
    ('£150', '£12.50')
    """
    return f"£{x:,.0f}" if float(x).is_integer() else f"£{x:,.2f}"


def area_label(area_type: str, area_code: str) -> str:
    """An area without a name, inside a sentence: ``ICB E54000057``; England is ``England``.

    >>> area_label("icb", "E54000057"), area_label("england", "E92000001")
    ('ICB E54000057', 'England')
    """
    if area_type == "england":
        return "England"
    return f"{AREA_TYPE_WORDS.get(area_type, area_type)} {area_code}"


def area_heading(area_name: str, area_type: str, area_code: str) -> str:
    """An area's name with its type and code, as a report's cover gives it.

    >>> area_heading("NHS Cheshire and Merseyside ICB", "icb", "E54000008")
    'NHS Cheshire and Merseyside ICB (Integrated care board E54000008)'
    """
    return f"{area_name} ({AREA_TYPE_NAMES.get(area_type, area_type)} {area_code})"
