"""The report context: one area of one published run, with each view queried once.

:class:`ReportContext` is what every section module (:mod:`gapwatch.report.sections`)
reads: the run, the area, the indicators in report order, the financial year of an
annual statement (every view is cut to it), the executive summary's sentences as the
sections add them, and unique workbook sheet names. :func:`check_area` and
:func:`financial_window` turn the caller's arguments into one, or a one-line error.

>>> sheet_name("Cervical screening coverage, women aged 25 to 49")
'Cervical screening coverage'
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gapwatch.disclosure.wording import describe
from gapwatch.errors import InputError
from gapwatch.formats import area_heading, percent
from gapwatch.report import fmt
from gapwatch.views import Results

#: The guardrail rule an executive summary leads with.
HEADLINE_RULE = "average_improving_gap_widening"
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass
class ReportContext:
    """What every section builder reads, with each view queried once."""

    results: Results
    area_type: str
    area_code: str
    area_name: str
    template: str
    window: tuple[dt.date, dt.date] | None
    year: str | None
    summary: list[str] = field(default_factory=list)
    _cache: dict[tuple[Any, ...], pd.DataFrame] = field(default_factory=dict)
    _sheet_names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        run = self.results.run
        self.confidence = float(run.get("confidence") or 0.95)
        try:
            config = json.loads(run.get("config") or "{}")
        except (TypeError, ValueError):
            config = {}
        self.completeness_warning = float(config.get("completeness_warning") or 0.9)
        indicators = self.results.indicators.sort_values(["domain", "title"], kind="stable")
        self.indicators: list[dict[str, Any]] = [
            {str(key): value for key, value in row.items()} for row in indicators.to_dict("records")
        ]
        self.titles = {row["indicator_id"]: str(row["title"]) for row in self.indicators}
        self.order = {row["indicator_id"]: position for position, row in enumerate(self.indicators)}
        england = self.results.areas.loc[self.results.areas["area_type"] == "england", "area_code"]
        self.england_code = None if england.empty or self.area_type == "england" else str(england.iloc[0])

    def in_window(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` cut to the report's financial year (when it has one)."""
        if self.window is None or frame.empty or "period_start" not in frame:
            return frame
        start, end = self.window
        ends = frame["period_end"] if "period_end" in frame else frame["period_start"]
        keep = (pd.to_datetime(frame["period_start"]) >= pd.Timestamp(start)) & (
            pd.to_datetime(ends) <= pd.Timestamp(end)
        )
        return frame.loc[keep].reset_index(drop=True)

    def _cached(self, key: tuple[Any, ...], load: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        if key not in self._cache:
            self._cache[key] = self.in_window(load())
        return self._cache[key]

    def values(self, indicator_id: str, breakdown: str) -> pd.DataFrame:
        return self._cached(
            ("values", indicator_id, breakdown),
            lambda: self.results.values(indicator_id, self.area_type, self.area_code, breakdown),
        )

    def england(self, indicator_id: str) -> pd.DataFrame:
        if self.england_code is None:
            return pd.DataFrame()
        code = self.england_code
        return self._cached(
            ("england", indicator_id), lambda: self.results.values(indicator_id, "england", code, "overall")
        )

    def measures(self, indicator_id: str) -> pd.DataFrame:
        return self._cached(
            ("measures", indicator_id),
            lambda: self.results.measures(indicator_id, self.area_type, self.area_code),
        )

    def spc(self, indicator_id: str) -> pd.DataFrame:
        return self._cached(
            ("spc", indicator_id), lambda: self.results.charts(indicator_id, self.area_type, self.area_code)
        )

    def trends(self, indicator_id: str) -> pd.DataFrame:
        # Trends span the whole run: they are not cut to the year (their note says so).
        key = ("trends", indicator_id)
        if key not in self._cache:
            self._cache[key] = self.results.trends(indicator_id, self.area_type, self.area_code)
        return self._cache[key]

    def latest(self, indicator_id: str) -> Any:
        """The indicator's latest period start in the report's window."""
        periods = self.in_window(
            self.results.periods.loc[self.results.periods["indicator_id"] == indicator_id]
        )
        return None if periods.empty else periods["period_start"].max()

    def coverage(self) -> tuple[Any, Any]:
        periods = self.in_window(self.results.periods)
        if periods.empty:
            return None, None
        return periods["period_start"].min(), periods["period_end"].max()

    def alerts(self) -> pd.DataFrame:
        """The area's alerts: the headline rule first, then by severity, then in report order."""
        key = ("alerts",)
        if key not in self._cache:
            frame = self.in_window(self.results.alerts(self.area_type, self.area_code))
            if not frame.empty:
                frame = frame.assign(
                    _headline=(frame["rule"] != HEADLINE_RULE).astype(int),
                    _severity=frame["severity"].map(SEVERITY_ORDER).fillna(len(SEVERITY_ORDER)),
                    _order=frame["indicator_id"].map(self.order).fillna(len(self.order)),
                ).sort_values(["_headline", "_severity", "_order", "breakdown"], kind="stable")
                frame = frame.drop(columns=["_headline", "_severity", "_order"]).reset_index(drop=True)
            self._cache[key] = frame
        return self._cache[key]

    def sheet_name(self, text: str) -> str:
        """A unique workbook sheet name: at most 31 characters, none of []:*?/\\."""
        name = sheet_name(text, self._sheet_names)
        self._sheet_names.add(name.lower())
        return name

    def metadata(self, when: str) -> list[tuple[str, str]]:
        """The facts about the run on the cover and the workbook's Contents sheet."""
        run = self.results.run
        return [
            ("Area", area_heading(self.area_name, self.area_type, self.area_code)),
            ("Periods", when),
            ("Template", self.template + (f" {self.year}" if self.year else "")),
            (
                "Results run",
                f"{self.results.run_id} ({run.get('name')}, finished {fmt.day(run.get('finished_at'))})",
            ),
            ("gapwatch version", str(run.get("gapwatch_version") or "")),
            ("Catalogue digest", str(run.get("catalogue_digest") or "")),
            ("Disclosure control", disclosure_text(run)),
            ("Confidence level", percent(self.confidence)),
        ]


def sheet_name(text: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A valid sheet name for ``text``, not among ``taken`` (compared without case, as Excel does).

    Long names are cut at a word, so that a sheet tab reads as words.

    >>> sheet_name("Cervical screening coverage, women aged 25 to 49")
    'Cervical screening coverage'
    >>> sheet_name("Waits [a/b]: 13?", {"waits ab 13"})
    'Waits ab 13 (2)'
    """
    base = " ".join(SHEET_FORBIDDEN.sub("", text).split()).strip("'") or "Sheet"
    lowered = {name.lower() for name in taken}
    candidate, number = _cut(base, 31), 1
    while candidate.lower() in lowered or candidate.lower() == "history":
        number += 1
        suffix = f" ({number})"
        candidate = _cut(base, 31 - len(suffix)) + suffix
    return candidate


def _cut(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    cut = text[: width + 1].rsplit(" ", 1)[0].rstrip(" ,;-")
    # A single long word (or a very short first word) is cut where it must be.
    return cut if len(cut) >= width // 2 else text[:width].rstrip()


def disclosure_text(run: dict[str, Any]) -> str:
    """The run's disclosure-control policy in words (what is and is not controlled)."""
    return describe(run)


def check_area(results: Results, area_type: str, area_code: str) -> str:
    """The area's name, or an :class:`InputError` naming the valid types or codes."""
    areas = results.areas
    types = sorted(set(areas["area_type"]))
    if area_type not in types:
        raise InputError(
            f"area type {area_type!r} is not in run {results.run_id}; choose one of {', '.join(types)}"
        )
    name = results.area_name(area_type, area_code)
    if name is None:
        codes = areas.loc[(areas["area_type"] == area_type) & (areas["area_code"] != "unknown"), "area_code"]
        shown = ", ".join(sorted(codes)[:12]) + (" ..." if len(codes) > 12 else "")
        raise InputError(
            f"area {area_type} {area_code!r} is not in run {results.run_id}; valid {area_type} codes: {shown}"
        )
    return name


def financial_window(
    results: Results, template: str, year: str | None
) -> tuple[tuple[dt.date, dt.date] | None, str | None]:
    """The first and last day of an annual statement's financial year, and the year's name.

    Other templates have no window (and take no ``year``); an annual statement without a
    ``year`` reports the financial year of the run's latest period.
    """
    if template != "annual-health-inequalities":
        if year is not None:
            raise InputError(f"year {year!r} applies to the annual-health-inequalities template only")
        return None, None
    periods = results.periods
    if periods.empty:
        raise InputError(f"run {results.run_id} has no indicator values to report")
    chosen = year if year is not None else fmt.financial_year_of(periods["period_start"].max())
    start, end = fmt.financial_year(chosen)
    inside = (periods["period_start"] >= start) & (periods["period_end"] <= end)
    if not inside.any():
        years = sorted({fmt.financial_year_of(value) for value in periods["period_start"]})
        raise InputError(
            f"year {chosen}: no period of run {results.run_id} falls in {fmt.months(start, end)}; the run "
            f"covers {fmt.months(periods['period_start'].min(), periods['period_end'].max())} (financial "
            f"years {', '.join(years)})"
        )
    return (start, end), f"{start.year}/{end.year % 100:02d}"
