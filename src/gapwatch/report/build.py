"""Build a :class:`~gapwatch.report.model.Report` for one area from a published run.

Everything is read through :mod:`gapwatch.views` (the same read models as the dashboard),
so the report computes no statistic of its own: it selects, orders and words what the
pipeline and the monitor published. Withheld values stay withheld: a suppressed cell is
shown as "suppressed" and is never filled in, estimated or summed.

The two templates are the same pipeline with a different selection of sections:

* ``board``: executive summary, one section per indicator, data quality, targets,
  business case, methods and sources;
* ``annual-health-inequalities``: the information NHS England's Statement on Information
  on Health Inequalities asks for, for one financial year: every indicator by the four
  mandatory dimensions, the deprivation gap and its direction, data completeness and
  Core20PLUS5 alignment.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from gapwatch import words
from gapwatch.disclosure.wording import describe
from gapwatch.errors import InputError
from gapwatch.model.breakdowns import DEFAULT_BREAKDOWNS
from gapwatch.report import fmt
from gapwatch.report.model import Block, Bullets, Chart, Column, Paragraph, Report, Section, Sheet, Table
from gapwatch.report.notes import input_note_blocks, input_note_sheet
from gapwatch.stats.spc import icon_note
from gapwatch.store import SCHEMA, Store
from gapwatch.views import (
    AREA_TYPE_NAMES,
    GUARDRAILS_NOT_RUN,
    RULE_NAMES,
    TARGET_STATUS_NAMES,
    WITHIN_INTERVAL_NAMES,
    Results,
    breakdown_name,
)
from gapwatch.views import charts as vc

TemplateName = Literal["board", "annual-health-inequalities"]

#: Breakdowns written to an indicator's workbook sheet (the board report: all of them).
SHEET_BREAKDOWNS = list(DEFAULT_BREAKDOWNS)
#: The four dimensions the Statement on Information on Health Inequalities asks for.
DIMENSIONS = {"imd_quintile": "Deprivation", "ethnic_group": "Ethnicity", "age_band": "Age", "sex": "Sex"}
DOMAIN_NAMES = {"access": "Access to services", "experience": "Experience of care", "outcome": "Outcomes"}
HEADLINE_RULE = "average_improving_gap_widening"
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
DIRECTION_WORDS = {
    "improving": "is improving",
    "worsening": "is getting worse",
    "increasing": "is increasing",
    "decreasing": "is decreasing",
    "widening": "is widening",
    "narrowing": "is narrowing",
    "reversed": "has reversed (the other end of the deprivation scale is now behind)",
    "no_significant_change": "shows no significant change",
    "too_few_periods": "has too few periods to judge a trend",
}
VARIATION_WORDS = {
    "common_cause": "common-cause variation (no signal)",
    "special_cause_improving": "special-cause improving variation",
    "special_cause_concerning": "special-cause concerning variation",
    "special_cause_high": "special-cause variation (high)",
    "special_cause_low": "special-cause variation (low)",
}
ASSURANCE_WORDS = {
    "consistently_met": "the target is consistently met",
    "hit_and_miss": "the target is hit and miss",
    "consistently_not_met": "the target is consistently not met",
}
LICENCE = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(nationalarchives.gov.uk/doc/open-government-licence/version/3/). Contains OS data © Crown copyright "
    "and database right. Source: Office for National Statistics; Ministry of Housing, Communities and Local "
    "Government."
)
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def build_report(
    store: Store,
    area_type: str,
    area_code: str,
    *,
    run_id: str | None = None,
    template: TemplateName = "board",
    year: str | None = None,
) -> Report:
    """Build the report for one area of a published run (the latest public one unless ``run_id``).

    A private run (policy ``none`` or ``private: true``) is reported only when named, and
    its report carries :attr:`Report.warning` ("Not for publication") on its first page.

    ``template="board"`` gives a board paper: an executive summary (the area's alerts,
    the headline rule first, and its largest deprivation gaps), one section per indicator
    (latest value against England, values by deprivation quintile with the slope index of
    inequality, trends of the value and of the quintile 1-5 gap, the XmR chart, alerts),
    data quality, targets and trajectories, the business case, and methods and sources.

    ``template="annual-health-inequalities"`` gives the annual statement for the financial
    ``year`` (``"2024/25"``; the run's latest by default): every indicator by deprivation,
    ethnicity, age and sex for the periods in that year, with the quintile 1-5 gap, the
    SII and their trends; data completeness; Core20PLUS5 alignment; methods and sources.

    Raises :class:`~gapwatch.errors.InputError` for an unknown template, area or year.
    """
    spec = TEMPLATES.get(template)
    if spec is None:
        raise InputError(f"template {template!r} is unknown; choose one of {', '.join(TEMPLATES)}")
    results = Results.latest(store, run_id)
    area_name = _check_area(results, area_type, area_code)
    window, year = _window(results, template, year)
    context = _Context(results, area_type, area_code, area_name, template, window, year)
    sections = [part for builder in spec.sections for part in builder(context)]
    first, last = context.coverage()
    when = f"financial year {year} ({fmt.months(*window)})" if window else f"{fmt.months(first, last)}"
    return Report(
        template=template,
        title=spec.title.format(area=area_name, year=year or ""),
        subtitle=f"{area_name}, {when}. Results run {results.run_id}.",
        area_type=area_type,
        area_code=area_code,
        area_name=area_name,
        run_id=results.run_id,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        year=year,
        summary=context.summary,
        sections=sections,
        metadata=context.metadata(when),
        licence=LICENCE,
        warning=results.warning,
    )


# --- context -------------------------------------------------------------------------------


@dataclass
class _Context:
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

    # Each view filtered to the report's financial year (when it has one).
    def _in_window(self, frame: pd.DataFrame) -> pd.DataFrame:
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
            self._cache[key] = self._in_window(load())
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
        periods = self._in_window(
            self.results.periods.loc[self.results.periods["indicator_id"] == indicator_id]
        )
        return None if periods.empty else periods["period_start"].max()

    def coverage(self) -> tuple[Any, Any]:
        periods = self._in_window(self.results.periods)
        if periods.empty:
            return None, None
        return periods["period_start"].min(), periods["period_end"].max()

    def alerts(self) -> pd.DataFrame:
        """The area's alerts: the headline rule first, then by severity, then in report order."""
        key = ("alerts",)
        if key not in self._cache:
            frame = self._in_window(self.results.alerts(self.area_type, self.area_code))
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
        run = self.results.run
        return [
            (
                "Area",
                f"{self.area_name} ({AREA_TYPE_NAMES.get(self.area_type, self.area_type)} {self.area_code})",
            ),
            ("Periods", when),
            ("Template", self.template + (f" {self.year}" if self.year else "")),
            (
                "Results run",
                f"{self.results.run_id} ({run.get('name')}, finished {fmt.day(run.get('finished_at'))})",
            ),
            ("gapwatch version", str(run.get("gapwatch_version") or "")),
            ("Catalogue digest", str(run.get("catalogue_digest") or "")),
            ("Disclosure control", disclosure_text(run)),
            ("Confidence level", f"{self.confidence * 100:g}%"),
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


# --- checks --------------------------------------------------------------------------------


def _check_area(results: Results, area_type: str, area_code: str) -> str:
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


def _window(
    results: Results, template: str, year: str | None
) -> tuple[tuple[dt.date, dt.date] | None, str | None]:
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


# --- helpers -------------------------------------------------------------------------------


def _row(frame: pd.DataFrame, **match: Any) -> dict[str, Any] | None:
    keep = pd.Series(True, index=frame.index)
    for column, value in match.items():
        if column not in frame:
            return None
        keep &= frame[column] == value
    found = frame.loc[keep]
    return None if found.empty else dict(found.iloc[-1])


def _finite(frame: pd.DataFrame, column: str = "value") -> bool:
    return not frame.empty and bool(pd.to_numeric(frame[column], errors="coerce").notna().any())


def _group_label(breakdown: str, group: Any) -> str:
    text = str(group)
    if breakdown == "imd_quintile":
        return {"1": "1 (most deprived)", "5": "5 (least deprived)"}.get(text, text)
    if breakdown == "imd_decile":
        return {"1": "1 (most deprived)", "10": "10 (least deprived)"}.get(text, text)
    return {
        "all": "All",
        "unknown": "Not known",
        "yes": "Yes",
        "no": "No",
        "core20": "Core20",
        "rest": "Rest",
        "female": "Female",
        "male": "Male",
    }.get(text, text)


def _with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["breakdown_name"] = [breakdown_name(str(breakdown)) for breakdown in frame["breakdown"]]
    frame["label"] = [_group_label(b, g) for b, g in zip(frame["breakdown"], frame["group"], strict=True)]
    return frame


def _withheld(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Blank every number of a suppressed row: a withheld cell is never shown, even by mistake."""
    frame = frame.copy()
    if "suppressed" in frame and not frame.empty:
        hidden = frame["suppressed"].fillna(False).astype(bool)
        for column in columns:
            if column in frame:
                frame[column] = frame[column].astype("float64").where(~hidden)
    return frame


VALUE_NUMBERS = ["numerator", "denominator", "value", "lower", "upper", "completeness"]


def _chart(spec: dict[str, Any], caption: str = "") -> Chart:
    return Chart(str(spec.get("title", "")), vc.svg(spec), caption)


def _direction(trends: pd.DataFrame, breakdown: str, series: str) -> dict[str, Any] | None:
    return _row(trends, breakdown=breakdown, series=series)


def _trend_sentence(subject: str, trend: dict[str, Any] | None, unit: str, confidence: float) -> str | None:
    if trend is None or fmt.missing(trend.get("direction")):
        return None
    phrase = DIRECTION_WORDS.get(str(trend["direction"]), words.code_words(trend["direction"]))
    sentence = (
        f"Over {int(trend['periods'])} periods from {words.period_short(trend['baseline_start'])}, "
        f"{subject} {phrase}"
    )
    # The words rest on the weighted trend (monitor.trends.direction), so the trend and
    # its limits are what is printed: a word and its number never disagree (issue 17).
    if fmt.is_finite(trend.get("slope_per_year")) and trend.get("scale") != "log":
        sentence += (
            f" (trend {fmt.number(trend['slope_per_year'])} {fmt.difference_unit(unit)} a year, "
            f"{fmt.interval(trend.get('slope_lower'), trend.get('slope_upper'), confidence)})"
        )
    return sentence + "."


# --- sections shared by both templates -----------------------------------------------------


ALERT_COLUMNS = [
    Column("title", "Indicator"),
    Column("breakdown_name", "Breakdown"),
    Column("rule_name", "Alert"),
    Column("severity", "Severity"),
    Column("period_start", "Period", "period"),
    Column("message", "Message"),
]
ALERT_SHEET_COLUMNS = [
    Column("indicator_id", "Indicator id"),
    Column("title", "Indicator"),
    Column("breakdown", "Breakdown"),
    Column("rule", "Rule"),
    Column("severity", "Severity"),
    Column("period_start", "Period start", "date"),
    Column("period_end", "Period end", "date"),
    Column("message", "Message"),
    Column("evidence", "Evidence (JSON)"),
]


def _alerts_frame(context: _Context, frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    if frame.empty:
        frame = pd.DataFrame(columns=[name for name, _ in SCHEMA["alerts"]])
    frame["title"] = frame["indicator_id"].map(context.titles).fillna(frame["indicator_id"])
    frame["breakdown_name"] = frame["breakdown"].map(lambda value: breakdown_name(str(value)))
    frame["rule_name"] = frame["rule"].map(lambda value: RULE_NAMES.get(str(value), str(value)))
    return frame


def _largest_gaps(context: _Context) -> pd.DataFrame:
    """Each indicator's quintile 1-5 gap in the latest period (of the year, for the annual template)."""
    if context.window is None:
        # The scorecard already holds each indicator's latest gap for the area.
        card = context.results.scorecard(context.area_type, context.area_code)
        frame = card[
            [
                "indicator_id",
                "title",
                "unit",
                "gap_absolute",
                "gap_absolute_lower",
                "gap_absolute_upper",
                "gap_absolute_period",
            ]
        ].rename(
            columns={
                "gap_absolute": "gap",
                "gap_absolute_lower": "lower",
                "gap_absolute_upper": "upper",
                "gap_absolute_period": "period_start",
            }
        )
    else:
        rows = []
        for indicator in context.indicators:
            latest = context.latest(indicator["indicator_id"])
            gap = _row(
                context.measures(indicator["indicator_id"]),
                breakdown="imd_quintile",
                measure="gap_absolute",
                period_start=latest,
            )
            if gap is not None:
                rows.append(
                    {
                        "indicator_id": indicator["indicator_id"],
                        "title": indicator["title"],
                        "unit": indicator["unit"],
                        "gap": gap["value"],
                        "lower": gap["lower"],
                        "upper": gap["upper"],
                        "period_start": gap["period_start"],
                    }
                )
        frame = pd.DataFrame(
            rows, columns=["indicator_id", "title", "unit", "gap", "lower", "upper", "period_start"]
        )
    frame = frame.loc[pd.to_numeric(frame["gap"], errors="coerce").notna()].copy()
    frame["size"] = frame["gap"].astype(float).abs()
    # A gap that rounds to zero is not a "largest gap", whatever else is missing.
    frame = frame.loc[frame["size"].round(1) > 0]
    return frame.sort_values("size", ascending=False, kind="stable")


def _gap_sentences(context: _Context) -> list[str]:
    """The largest gaps, per unit: a gap in percentage points cannot be ranked against a rate's."""
    gaps = _largest_gaps(context)
    if gaps.empty:
        return [
            "No quintile 1-5 gap is published for this area (the quintile values are missing or suppressed)."
        ]
    sentences = []
    percent = gaps.loc[gaps["unit"] == "%"].head(3)
    for position, row in enumerate(percent.to_dict("records")):
        lead = "The largest gap is in " if position == 0 else "The next largest gap is in "
        sentences.append(
            lead
            + fmt.gap_sentence(row["title"], row["gap"], row["lower"], row["upper"], "%", context.confidence)
        )
    for unit, part in gaps.loc[gaps["unit"] != "%"].groupby("unit", sort=True):
        row = dict(part.iloc[0])
        measured = str(unit) if str(unit).startswith("per ") else f"in {unit}"
        sentences.append(
            f"Among indicators measured {measured}, the largest gap is in "
            + fmt.gap_sentence(
                row["title"], row["gap"], row["lower"], row["upper"], str(unit), context.confidence
            )
        )
    return sentences


def _summary(context: _Context) -> list[Section]:
    alerts = _alerts_frame(context, context.alerts())
    count = len(context.indicators)
    scope = f"in {context.year}" if context.year else "in the latest period"
    intro = (
        f"This report covers {count} indicators for {context.area_name}. It lists the area's alerts {scope} "
        "(the most important first) and the indicators with the largest gaps between the most and least "
        "deprived fifths of the population (quintile 1 and quintile 5 of the Index of Multiple Deprivation)."
    )
    messages = [str(message) for message in alerts["message"]]
    gaps = _gap_sentences(context)
    blocks: list[Block] = [Paragraph(intro)]
    headline = int((alerts["rule"] == HEADLINE_RULE).sum())
    if messages:
        blocks.append(
            Paragraph(
                f"{len(messages)} alert{'s' if len(messages) != 1 else ''}"
                + (
                    f", {headline} of them the headline alert (average improving while the gap widens)"
                    if headline
                    else ""
                )
                + ":"
            )
        )
        blocks.append(Bullets(messages))
    else:
        # A run published without its monitor has no alerts table to read: "no alerts" would be untrue.
        blocks.append(Paragraph(_no_alerts(context, "No alerts were raised for this area.")))
    blocks.append(Paragraph("Largest gaps between the most and least deprived fifths:"))
    blocks.append(Bullets(gaps))
    context.summary.extend(messages or [_no_alerts(context, "No alerts were raised for this area.")])
    context.summary.extend(gaps)
    sheet = Sheet(
        context.sheet_name("Alerts"),
        "Every alert for the area, most important first",
        Table("Alerts", alerts, ALERT_SHEET_COLUMNS),
    )
    return [Section("summary", "Executive summary", blocks, [sheet])]


def _domains(
    indicator_section: Callable[[_Context, dict[str, Any]], Section],
) -> Callable[[_Context], list[Section]]:
    """One section per domain holding one sub-section per indicator, by domain then title."""

    def build(context: _Context) -> list[Section]:
        sections: dict[str, Section] = {}
        for indicator in context.indicators:
            domain = str(indicator["domain"])
            if domain not in sections:
                sections[domain] = Section(f"domain-{domain}", DOMAIN_NAMES.get(domain, domain.capitalize()))
            sections[domain].blocks.append(indicator_section(context, indicator))
        return list(sections.values())

    return build


SHEET_VALUE_COLUMNS = [
    Column("period_start", "Period start", "date"),
    Column("period_end", "Period end", "date"),
    Column("breakdown", "Breakdown"),
    Column("breakdown_name", "Breakdown name"),
    Column("group", "Group"),
    Column("numerator", "Numerator", "count"),
    Column("denominator", "Denominator", "count"),
    Column("value", "Value", "value"),
    Column("lower", "Lower limit", "value"),
    Column("upper", "Upper limit", "value"),
    Column("comparison", "Compared with area overall / England"),
    Column("comparison_best", "Compared with best group"),
    Column("completeness", "Completeness of breakdown", "share"),
    Column("suppressed", "suppressed", "flag"),
    Column("note", "Note"),
]
GROUP_COLUMNS = [
    Column("label", "Group"),
    Column("numerator", "Numerator", "count"),
    Column("denominator", "Denominator", "count"),
    Column("value", "Value", "value"),
    Column("lower", "Lower limit", "value"),
    Column("upper", "Upper limit", "value"),
    Column("comparison", "Compared with area overall"),
]


def _indicator_sheet(context: _Context, indicator: dict[str, Any], breakdowns: list[str]) -> Sheet:
    parts = [context.values(indicator["indicator_id"], breakdown) for breakdown in breakdowns]
    parts = [part for part in parts if not part.empty]
    empty = pd.DataFrame(
        columns=[column.key for column in SHEET_VALUE_COLUMNS if column.key != "breakdown_name"]
    )
    frame = pd.concat(parts, ignore_index=True) if parts else empty
    frame = _withheld(_with_labels(frame), VALUE_NUMBERS)
    frame = (
        frame.sort_values(["period_start", "breakdown", "group"], kind="stable") if not frame.empty else frame
    )
    caption = (
        f"{indicator['title']} ({indicator['unit']}): values by breakdown and period, {context.area_name}"
    )
    return Sheet(
        context.sheet_name(str(indicator["title"])),
        caption,
        Table(caption, frame.reset_index(drop=True), SHEET_VALUE_COLUMNS),
    )


def _headline(context: _Context, indicator: dict[str, Any], latest: Any) -> str:
    identifier, unit = indicator["indicator_id"], str(indicator["unit"])
    overall = context.values(identifier, "overall")
    row = _row(overall, period_start=latest)
    when = fmt.period(row["period_start"], row["period_end"]) if row else "the latest period"
    if row is None:
        return f"No overall value is published for {context.area_name}."
    if bool(row.get("suppressed")) or fmt.missing(row.get("value")):
        reason = f" ({row['note']})" if not fmt.missing(row.get("note")) and row.get("note") else ""
        word = "suppressed to protect confidentiality" if bool(row.get("suppressed")) else "not available"
        return f"In {when} the overall value for {context.area_name} is {word}{reason}."
    text = (
        f"In {when} the value for {context.area_name} was {fmt.with_unit(row['value'], unit)} "
        f"({fmt.interval(row['lower'], row['upper'], context.confidence)})"
    )
    england = _row(context.england(identifier), period_start=latest)
    if england is not None and fmt.is_finite(england.get("value")):
        text += f"; England {fmt.with_unit(england['value'], unit)}"
        comparison = str(row.get("comparison") or "not compared")
        text += (
            f". Compared with England it is {comparison}"
            if comparison not in ("not compared", "nan")
            else ". It is not compared with England"
        )
    if not fmt.missing(indicator.get("target")):
        text += f". The standard is {fmt.with_unit(indicator['target'], unit)}"
        if not fmt.missing(indicator.get("standard")) and indicator.get("standard"):
            text += f" ({indicator['standard']})"
    return text + "."


def _gap_paragraph(context: _Context, indicator: dict[str, Any], latest: Any) -> str:
    identifier, unit = indicator["indicator_id"], str(indicator["unit"])
    measures = context.measures(identifier)
    gap = _row(measures, breakdown="imd_quintile", measure="gap_absolute", period_start=latest)
    sii = _row(measures, breakdown="imd_quintile", measure="sii", period_start=latest)
    if gap is None or fmt.missing(gap.get("value")):
        note = f" ({gap['note']})" if gap is not None and gap.get("note") else ""
        text = f"The quintile 1-5 gap is not available for this period{note}."
    else:
        text = "In " + fmt.gap_sentence(
            "this period", gap["value"], gap["lower"], gap["upper"], unit, context.confidence
        )
    if sii is not None and fmt.is_finite(sii.get("value")):
        text += (
            " The slope index of inequality (the modelled difference between the least and the most "
            f"deprived ends of the population) is {fmt.number(sii['value'])} {fmt.difference_unit(unit)} "
            f"({fmt.interval(sii['lower'], sii['upper'], context.confidence)}): "
            + words.gap_phrase(
                "sii", sii["value"], sii["lower"], sii["upper"], indicator.get("polarity"), unit
            )
            + "."
        )
    trends = context.trends(identifier)
    for subject, breakdown, series in (
        ("the overall value", "overall", "value"),
        ("the quintile 1-5 gap", "imd_quintile", "gap_absolute"),
        ("the slope index of inequality", "imd_quintile", "sii"),
    ):
        sentence = _trend_sentence(subject, _direction(trends, breakdown, series), unit, context.confidence)
        if sentence:
            text += " " + sentence
    return text


def _groups(context: _Context, indicator: dict[str, Any], breakdown: str, latest: Any) -> list[Block]:
    """The groups of one breakdown in one period: a chart (with the SII line for deprivation) and a table."""
    identifier, unit, title = indicator["indicator_id"], str(indicator["unit"]), str(indicator["title"])
    values = context.values(identifier, breakdown)
    frame = values.loc[values["period_start"] == latest] if not values.empty else values
    if frame.empty:
        return [Paragraph(f"No values by {breakdown_name(breakdown).lower()} are published for this area.")]
    frame = _withheld(_with_labels(frame), VALUE_NUMBERS)
    when = fmt.period(frame["period_start"].iloc[0], frame["period_end"].iloc[0])
    name = breakdown_name(breakdown)
    blocks: list[Block] = []
    known = frame.loc[frame["group"] != "unknown"]
    if _finite(known):
        sii = overall = None
        if breakdown == "imd_quintile":
            found = _row(
                context.measures(identifier), breakdown="imd_quintile", measure="sii", period_start=latest
            )
            sii = float(found["value"]) if found and fmt.is_finite(found.get("value")) else None
            top = _row(context.values(identifier, "overall"), period_start=latest)
            overall = float(top["value"]) if top and fmt.is_finite(top.get("value")) else None
        spec = vc.groups_chart(known, unit, f"{title}: by {name.lower()}, {when}", sii=sii, overall=overall)
        caption = "Points are values with their confidence intervals"
        caption += "; the dashed line is the slope index of inequality." if sii is not None else "."
        blocks.append(_chart(spec, caption))
    hidden = int(frame["suppressed"].fillna(False).astype(bool).sum())
    if hidden:
        blocks.append(
            Paragraph(
                f"{hidden} of {len(frame)} groups are suppressed to protect confidentiality; they are shown "
                "as 'suppressed' and left out of the chart."
            )
        )
    blocks.append(
        Table(f"{title} ({unit}) by {name.lower()}, {context.area_name}, {when}", frame, GROUP_COLUMNS)
    )
    return blocks


def _no_alerts(context: _Context, sentence: str) -> str:
    """``sentence`` where the guardrails ran, else that they did not run (see ``GUARDRAILS_NOT_RUN``)."""
    return sentence if context.results.guardrails_run else GUARDRAILS_NOT_RUN


def _alert_bullets(context: _Context, identifier: str) -> list[Block]:
    alerts = context.alerts()
    mine = alerts.loc[alerts["indicator_id"] == identifier] if not alerts.empty else alerts
    if mine.empty:
        return [Paragraph(_no_alerts(context, "No alerts for this indicator."))]
    return [Paragraph("Alerts:"), Bullets([str(message) for message in mine["message"]])]


# --- board ---------------------------------------------------------------------------------


def _board_indicator(context: _Context, indicator: dict[str, Any]) -> Section:
    identifier, unit, title = indicator["indicator_id"], str(indicator["unit"]), str(indicator["title"])
    latest = context.latest(identifier)
    blocks: list[Block] = [
        Paragraph(str(indicator.get("description") or "")),
        Paragraph(_headline(context, indicator, latest)),
        Paragraph(_gap_paragraph(context, indicator, latest)),
    ]
    blocks += _groups(context, indicator, "imd_quintile", latest)
    overall = context.values(identifier, "overall")
    if _finite(overall) and len(overall) > 1:
        blocks.append(
            _chart(
                vc.trend_chart(overall, unit, f"{title}: overall value over time"),
                "The shaded band is the confidence interval.",
            )
        )
    measures = context.measures(identifier)
    gaps = (
        measures.loc[(measures["breakdown"] == "imd_quintile") & (measures["measure"] == "gap_absolute")]
        if not measures.empty
        else measures
    )
    if _finite(gaps) and len(gaps) > 1:
        blocks.append(
            _chart(
                vc.trend_chart(
                    gaps, fmt.difference_unit(unit), f"{title}: quintile 1 minus quintile 5 over time"
                ),
                "Below zero the most deprived fifth has the lower value; the shaded band is the confidence "
                "interval of the gap.",
            )
        )
    spc = context.spc(identifier)
    points = spc.loc[(spc["breakdown"] == "overall") & (spc["series"] == "value")] if not spc.empty else spc
    if _finite(points):
        last = points.iloc[-1]
        variation = VARIATION_WORDS.get(str(last["variation"]), VARIATION_WORDS["common_cause"])
        caption = f"Making Data Count XmR chart. The latest point shows {variation}"
        if not fmt.missing(last.get("assurance")):
            caption += f"; {ASSURANCE_WORDS.get(str(last['assurance']), str(last['assurance']))}"
        # Fewer than 13 points: trial limits, so the caption gives the reason, not an icon.
        note = icon_note(int(points["value"].notna().sum()))
        if note is not None:
            caption = f"Making Data Count XmR chart with trial limits. {note.removesuffix('.')}"
        blocks.append(
            _chart(
                vc.xmr_chart(points.reset_index(drop=True), f"{title}: statistical process control"),
                caption + ".",
            )
        )
    blocks += _alert_bullets(context, identifier)
    sheet = _indicator_sheet(context, indicator, SHEET_BREAKDOWNS)
    return Section(f"indicator-{identifier}", title, blocks, [sheet])


COMPLETENESS_COLUMNS = [
    Column("source", "Input table"),
    Column("period_start", "Quarter", "period"),
    Column("records", "Records", "count"),
    Column("ethnicity_valid", "Ethnicity recorded", "share"),
    Column("ethnicity_unknown", "Ethnicity not known or not stated", "share"),
    Column("lsoa_valid", "Area of residence (LSOA) linked", "share"),
    Column("sex_valid", "Sex recorded", "share"),
    Column("age_valid", "Age recorded", "share"),
    Column("late", "Received late", "share"),
    Column("duplicates", "Duplicates", "share"),
    Column("note", "Note"),
]
COMPLETENESS_SHEET_COLUMNS = [
    Column("area_type", "Area type"),
    Column("area_code", "Area code"),
    Column("source", "Input table"),
    Column("period_start", "Period start", "date"),
    Column("period_end", "Period end", "date"),
    *COMPLETENESS_COLUMNS[2:-1],
    Column("suppressed", "suppressed", "flag"),
    Column("note", "Note"),
]
DIMENSION_COMPLETENESS_COLUMNS = [
    Column("title", "Indicator"),
    Column("period_start", "Period", "period"),
    *[Column(key, f"{name}: known", "share") for key, name in DIMENSIONS.items()],
    Column("ethnic_group_unknown", "Ethnicity: not known or not stated", "share"),
]


def _data_quality(context: _Context) -> list[Section]:
    frame = context._in_window(context.results.completeness(context.area_type, context.area_code))
    blocks: list[Block] = [
        Paragraph(
            "A gap can only be measured for the records whose deprivation, ethnicity, age and sex are "
            "known. These tables show how complete those fields are in each input table, so that a reader "
            "can judge how far a gap could be hidden by missing data. Records with an unknown area of "
            "residence (LSOA) cannot be given a deprivation quintile; records without a valid ethnic "
            "category fall in the 'not known' group. Shares are withheld ('suppressed') below national "
            "level where fewer than 100 records stand behind them. Fields less than "
            f"{context.completeness_warning * 100:g}% complete are flagged in the indicator notes."
        )
    ]
    if frame.empty:
        england = context.results.areas.loc[context.results.areas["area_type"] == "england", "area_code"]
        frame = context._in_window(context.results.completeness("england")) if not england.empty else frame
        blocks.append(
            Paragraph(
                f"No completeness figures are published for {context.area_name} (they are kept for England, "
                "ICBs and providers), so England's figures are shown."
            )
        )
    if frame.empty:
        blocks.append(Paragraph("No completeness figures are published in this run."))
    else:
        frame = frame.copy()
        # The complement of a published share, shown because the annual statement asks for it in this form.
        frame["ethnicity_unknown"] = 1 - frame["ethnicity_valid"].astype("float64")
        latest = frame.loc[frame.groupby("source")["period_start"].transform("max") == frame["period_start"]]
        low = latest.loc[latest["ethnicity_valid"].astype("float64") < context.completeness_warning, "source"]
        if not low.empty:
            blocks.append(
                Paragraph(
                    "In the latest quarter, ethnicity is recorded for less than "
                    f"{context.completeness_warning * 100:g}% of records in: {', '.join(sorted(set(low)))}. "
                    "Gaps by ethnic group from these tables may be unreliable."
                )
            )
        blocks.append(
            Table(
                "Completeness of the fields gaps depend on, latest quarter, "
                f"{fmt.period(latest['period_start'].min(), latest['period_end'].max())}",
                latest.reset_index(drop=True),
                COMPLETENESS_COLUMNS,
            )
        )
    found_blocks, found_table = input_note_blocks(context.results)
    blocks.extend(found_blocks)
    dimensions = _dimension_completeness(context)
    blocks.append(
        Paragraph(
            "Per indicator, the share of each indicator's denominator whose group is known for each of the "
            "four dimensions, in its latest period; the rest is not known or not stated."
        )
    )
    blocks.append(
        Table(
            f"Share of records with a known group, by indicator, {context.area_name}",
            dimensions,
            DIMENSION_COMPLETENESS_COLUMNS,
        )
    )
    sheet_frame = (
        frame if not frame.empty else pd.DataFrame(columns=[c.key for c in COMPLETENESS_SHEET_COLUMNS])
    )
    if "ethnicity_unknown" not in sheet_frame:
        sheet_frame = sheet_frame.assign(ethnicity_unknown=pd.Series(dtype="float64"))
    sheets = [
        Sheet(
            context.sheet_name("Data quality"),
            "Completeness of the fields gaps depend on, every quarter",
            Table("Data quality", sheet_frame.reset_index(drop=True), COMPLETENESS_SHEET_COLUMNS),
        ),
        Sheet(
            context.sheet_name("Completeness by indicator"),
            "Share of each denominator with a known group",
            Table(
                "Completeness by indicator",
                dimensions,
                [Column("indicator_id", "Indicator id"), *DIMENSION_COMPLETENESS_COLUMNS],
            ),
        ),
        input_note_sheet(context.sheet_name("Found in the inputs"), found_table),
    ]
    title = "Data quality" if context.template == "board" else "Data completeness"
    return [Section("data-quality", title, blocks, sheets)]


def _dimension_completeness(context: _Context) -> pd.DataFrame:
    rows = []
    for indicator in context.indicators:
        identifier = indicator["indicator_id"]
        latest = context.latest(identifier)
        row: dict[str, Any] = {
            "indicator_id": identifier,
            "title": indicator["title"],
            "period_start": latest,
        }
        for breakdown in DIMENSIONS:
            values = context.values(identifier, breakdown)
            shares = pd.Series(dtype="float64")
            if not values.empty:
                shares = pd.to_numeric(
                    values.loc[values["period_start"] == latest, "completeness"], errors="coerce"
                ).dropna()
            # Every row of a breakdown carries the same share; a withheld one stays missing.
            row[breakdown] = float(shares.iloc[0]) if len(shares) else float("nan")
        row["ethnic_group_unknown"] = 1 - row["ethnic_group"]
        rows.append(row)
    return pd.DataFrame(
        rows, columns=["indicator_id", "title", "period_start", *DIMENSIONS, "ethnic_group_unknown"]
    )


TARGET_COLUMNS = [
    Column("title", "Indicator"),
    Column("description", "Target"),
    Column("baseline", "Baseline", "value"),
    Column("baseline_start", "Baseline period", "date"),
    Column("target_value", "Target value", "value"),
    Column("target_date", "Due", "date"),
    Column("latest", "Latest", "value"),
    Column("latest_lower", "Latest: lower limit", "value"),
    Column("latest_upper", "Latest: upper limit", "value"),
    Column("expected_now", "On the trajectory now", "value"),
    Column("within_text", "Trajectory within the latest gap's interval?"),
    Column("status_text", "Status"),
    Column("note", "Note"),
]
TARGET_SHEET_COLUMNS = [
    Column("indicator_id", "Indicator id"),
    Column("title", "Indicator"),
    Column("breakdown", "Breakdown"),
    Column("measure", "Measure"),
    Column("description", "Target"),
    Column("baseline_start", "Baseline start", "date"),
    Column("baseline", "Baseline", "value"),
    Column("target_date", "Target date", "date"),
    Column("target_value", "Target value", "value"),
    Column("latest_start", "Latest start", "date"),
    Column("latest", "Latest", "value"),
    Column("latest_lower", "Latest lower limit", "value"),
    Column("latest_upper", "Latest upper limit", "value"),
    Column("expected_now", "Expected now", "value"),
    Column("within_text", "Trajectory within the latest gap's interval"),
    Column("gap_to_close", "Gap to close", "value"),
    Column("status_text", "Status"),
    Column("note", "Note"),
]


def _targets(context: _Context) -> list[Section]:
    frame = context.results.targets(context.area_type, context.area_code).copy()
    frame["title"] = (
        frame["indicator_id"].map(context.titles).fillna(frame["indicator_id"]) if not frame.empty else []
    )
    frame["status_text"] = (
        frame["status"].map(lambda s: TARGET_STATUS_NAMES.get(str(s), str(s).replace("_", " ")))
        if not frame.empty
        else []
    )
    frame["within_text"] = (
        frame["within_interval"].map(lambda w: "" if pd.isna(w) else WITHIN_INTERVAL_NAMES[bool(w)])
        if not frame.empty
        else []
    )
    blocks: list[Block] = [
        Paragraph(
            "Gap-reduction targets declared for this area, with a straight-line trajectory from the "
            "baseline gap to the target: 'met' means the latest gap is no wider than the target, 'on track' "
            "that it is no wider than the trajectory's value now. 'Off track' means it is wider and so is "
            "the whole of its confidence interval (its margin of error); 'not clearly off track' that it is "
            "wider but its interval still reaches the trajectory, so the difference may be chance."
        )
    ]
    if frame.empty:
        blocks.append(Paragraph(_no_alerts(context, "No gap-reduction targets are declared for this area.")))
    else:
        frame = frame.assign(_order=frame["indicator_id"].map(context.order)).sort_values(
            "_order", kind="stable"
        )
        counts = frame["status_text"].value_counts()
        blocks.append(
            Paragraph(
                f"{len(frame)} target{'s' if len(frame) != 1 else ''}: "
                + ", ".join(f"{number} {str(status).lower()}" for status, number in counts.items())
                + "."
            )
        )
        blocks.append(Bullets([str(text) for text in frame["description"]]))
        blocks.append(
            Table(
                f"Targets and trajectories, {context.area_name}", frame.reset_index(drop=True), TARGET_COLUMNS
            )
        )
    sheet = Sheet(
        context.sheet_name("Targets"),
        "Gap-reduction targets and trajectories",
        Table("Targets", frame.reset_index(drop=True), TARGET_SHEET_COLUMNS),
    )
    return [Section("targets", "Targets and trajectories", blocks, [sheet])]


BUSINESS_COLUMNS = [
    Column("title", "Indicator"),
    Column("reference_text", "Compared with"),
    Column("excess_events", "Excess events", "value"),
    Column("lower", "Lower limit", "value"),
    Column("upper", "Upper limit", "value"),
    Column("event", "Event"),
    Column("pounds", "Value (£)", "money"),
    Column("pounds_lower", "Lower (£)", "money"),
    Column("pounds_upper", "Upper (£)", "money"),
]
BUSINESS_SHEET_COLUMNS = [
    Column("indicator_id", "Indicator id"),
    Column("title", "Indicator"),
    Column("period_start", "Period start", "date"),
    Column("period_end", "Period end", "date"),
    Column("reference", "Reference"),
    Column("reference_group", "Reference group"),
    Column("excess_events", "Excess events", "value"),
    Column("lower", "Lower limit", "value"),
    Column("upper", "Upper limit", "value"),
    Column("event", "Event"),
    Column("pounds_per_event", "£ per event", "money"),
    Column("pounds", "£", "money"),
    Column("pounds_lower", "£ lower", "money"),
    Column("pounds_upper", "£ upper", "money"),
    Column("pounds_per_unit_gap_closed", "£ per unit of gap closed", "money"),
    Column("cost_source", "Cost source"),
    Column("summary", "Summary"),
    Column("note", "Note"),
]


def _business_case(context: _Context) -> list[Section]:
    frame = context.results.business_case(context.area_type, context.area_code).copy()
    blocks: list[Block] = [
        Paragraph(
            "What the deprivation gap costs: the events that would be avoided (or the extra people reached) "
            "in the latest period if every deprivation quintile had the rate of the least deprived fifth "
            "(or of the best quintile), valued at a unit cost (after Mackenbach & Kunst 1997). Results "
            "built on suppressed counts are withheld, not estimated from partial data."
        )
    ]
    if frame.empty:
        blocks.append(Paragraph(_no_alerts(context, "No business case is published for this area.")))
    else:
        frame["title"] = frame["indicator_id"].map(context.titles).fillna(frame["indicator_id"])
        frame["reference_text"] = (
            frame["reference"]
            .map({"least_deprived": "Least deprived fifth", "best_group": "Best quintile"})
            .fillna(frame["reference"])
        )
        frame = frame.assign(_order=frame["indicator_id"].map(context.order)).sort_values(
            ["_order", "reference"], ascending=[True, False], kind="stable"
        )
        least = frame.loc[(frame["reference"] == "least_deprived") & frame["summary"].fillna("").astype(bool)]
        # Estimated results first: a board reads what is known before what is withheld.
        least = least.assign(_known=least["excess_events"].isna()).sort_values(
            ["_known", "_order"], kind="stable"
        )
        blocks += [Paragraph(str(text)) for text in least["summary"]]
        blocks.append(
            Table(f"Business case, {context.area_name}", frame.reset_index(drop=True), BUSINESS_COLUMNS)
        )
    sheet = Sheet(
        context.sheet_name("Business case"),
        "Excess events and their cost, by indicator",
        Table("Business case", frame.reset_index(drop=True), BUSINESS_SHEET_COLUMNS),
    )
    return [Section("business-case", "Business case", blocks, [sheet])]


INDICATOR_COLUMNS = [
    Column("title", "Indicator"),
    Column("domain", "Domain"),
    Column("measure", "Measure"),
    Column("unit", "Unit"),
    Column("period", "Period"),
    Column("polarity_text", "Polarity"),
    Column("source", "Input table"),
    Column("reference", "National definition followed"),
]


def _methods(context: _Context) -> list[Section]:
    run = context.results.run
    level = f"{context.confidence * 100:g}%"
    blocks: list[Block] = [
        Paragraph(
            f"Every value comes with a {level} confidence interval. Proportions use the Wilson score "
            "interval (Wilson 1927); rates use Byar's approximation to the exact Poisson interval (Breslow "
            "& Day 1987); medians and means use intervals described in the indicator notes."
        ),
        Paragraph(
            "The gap between quintile 1 (most deprived) and quintile 5 (least deprived) is their "
            "difference, with limits by the method of variance estimates recovery (MOVER; Newcombe 1998, "
            "Zou & Donner 2008). The slope index of inequality (SII) and relative index of inequality (RII) "
            "regress the quintile values on the population's relative rank of deprivation (Low & Low 2004): "
            "the SII is the modelled difference between the least and most deprived ends of the population."
        ),
        Paragraph(
            "Statistical process control charts follow NHS England's Making Data Count: XmR charts with "
            "process limits at the mean ± 2.66 × the average moving range, and the special-cause rules for "
            "points outside the limits, shifts, trends and two of three points near a limit. Trends are "
            "inverse-variance weighted least-squares slopes; a gap widens or narrows only where the change "
            "is statistically significant."
        ),
        Paragraph(
            "The business case estimates the events attributable to deprivation by giving every quintile "
            "the rate of the least deprived fifth (Mackenbach & Kunst 1997), valued at published unit costs."
        ),
        Paragraph("Disclosure control: " + disclosure_text(run)),
        Paragraph(
            "Deprivation is the English Index of Multiple Deprivation of each person's area of residence "
            "(lower-layer super output area); quintile 1 is the most deprived fifth of areas nationally."
        ),
        Bullets(
            [
                "Wilson EB (1927) Probable inference, the law of succession, and statistical inference. J "
                "Am Stat Assoc 22:209-212.",
                "Breslow NE, Day NE (1987) Statistical Methods in Cancer Research, vol. II (Byar's method). "
                "IARC.",
                "Newcombe RG (1998) Interval estimation for the difference between independent proportions. "
                "Stat Med 17:873-890.",
                "Zou GY, Donner A (2008) Construction of confidence limits about effect measures (MOVER). "
                "Stat Methods Med Res 17:317-334.",
                "Low A, Low A (2004) Measuring the gap: quantifying and comparing local health "
                "inequalities. J Public Health 26:388-395.",
                "NHS England (2019, updated) Making Data Count: statistical process control for NHS boards.",
                "Mackenbach JP, Kunst AE (1997) Measuring the magnitude of socio-economic inequalities in "
                "health. Soc Sci Med 44:757-771.",
            ]
        ),
        Paragraph(
            "Data sources: the indicators are computed from the input tables listed below, following the "
            "national definitions named. Reference data: English Indices of Deprivation 2025 and 2019 "
            "(Ministry of Housing, Communities and Local Government); LSOA to Sub-ICB location, ICB, local "
            "authority and region lookups, ICB and local authority boundaries (ONS Open Geography Portal); "
            "LSOA population estimates (ONS); Census 2021 ethnic group by LSOA (ONS); the European Standard "
            "Population 2013 (Eurostat); NHS trust list (NHS Digital Organisation Data Service); NHS ethnic "
            "categories (NHS Data Dictionary)."
        ),
        Paragraph(LICENCE),
    ]
    frame = pd.DataFrame(context.indicators)
    frame["polarity_text"] = frame["polarity"].astype(str).str.replace("_", " ")
    frame["domain"] = frame["domain"].map(lambda domain: DOMAIN_NAMES.get(str(domain), str(domain)))
    blocks.append(Table("Indicator definitions", frame, INDICATOR_COLUMNS))
    sheet = Sheet(
        context.sheet_name("Indicators"),
        "Indicator definitions",
        Table(
            "Indicator definitions",
            frame,
            [
                Column("indicator_id", "Indicator id"),
                *INDICATOR_COLUMNS,
                Column("standard", "Standard"),
                Column("target", "Target", "value"),
            ],
        ),
    )
    return [Section("methods", "Methods and sources", blocks, [sheet])]


# --- annual statement ----------------------------------------------------------------------


def _statement(context: _Context) -> list[Section]:
    start, end = context.window or (None, None)
    blocks: list[Block] = [
        Paragraph(
            "NHS England's Statement on Information on Health Inequalities, issued under its duty in "
            "section 13SA of the National Health Service Act 2006, sets out the information on health "
            "inequalities that NHS bodies should publish each year, and how they should describe it in "
            "their annual report."
        ),
        Paragraph(
            f"This report gives that information for {context.area_name} for the financial year "
            f"{context.year} ({fmt.months(start, end)}). Each indicator is shown by the four dimensions the "
            "statement asks for, with the gap between the most and least deprived fifths (quintile 1 minus "
            "quintile 5), the slope index of inequality and the direction of their trends. Only periods "
            "within the financial year are tabulated; trend directions are estimated over every period of "
            "the run."
        ),
        Bullets(
            [
                "Deprivation: quintile of the English Index of Multiple Deprivation of the area of "
                "residence (1 = most deprived).",
                "Ethnicity: ethnic group, from the NHS ethnic category.",
                "Age: age band.",
                "Sex: sex as recorded.",
            ]
        ),
    ]
    return [Section("statement", "Statement on Information on Health Inequalities", blocks)]


DIMENSION_COLUMNS = [
    Column("dimension", "Dimension"),
    Column("label", "Group"),
    Column("denominator", "Denominator", "count"),
    Column("value", "Value", "value"),
    Column("lower", "Lower limit", "value"),
    Column("upper", "Upper limit", "value"),
    Column("comparison", "Compared with area overall"),
]
GAP_COLUMNS = [
    Column("period_start", "Period", "period"),
    Column("gap", "Quintile 1 minus 5 (most minus least deprived)", "value"),
    Column("gap_lower", "Lower limit", "value"),
    Column("gap_upper", "Upper limit", "value"),
    Column("sii", "Slope index of inequality (least minus most deprived)", "value"),
    Column("sii_lower", "Lower limit", "value"),
    Column("sii_upper", "Upper limit", "value"),
    Column("suppressed", "Built on suppressed counts", "flag"),
]


def _gap_table(context: _Context, identifier: str) -> pd.DataFrame:
    measures = context.measures(identifier)
    columns = ["period_start", "gap", "gap_lower", "gap_upper", "sii", "sii_lower", "sii_upper", "suppressed"]
    if measures.empty:
        return pd.DataFrame(columns=columns)
    quintile = measures.loc[measures["breakdown"] == "imd_quintile"]
    parts = []
    for measure, name in (("gap_absolute", "gap"), ("sii", "sii")):
        part = quintile.loc[
            quintile["measure"] == measure, ["period_start", "value", "lower", "upper", "suppressed"]
        ]
        parts.append(
            part.rename(
                columns={
                    "value": name,
                    "lower": f"{name}_lower",
                    "upper": f"{name}_upper",
                    "suppressed": f"{name}_suppressed",
                }
            )
        )
    frame = parts[0].merge(parts[1], on="period_start", how="outer").sort_values("period_start")
    frame["suppressed"] = frame["gap_suppressed"].fillna(False).astype(bool) | frame["sii_suppressed"].fillna(
        False
    ).astype(bool)
    return frame[columns].reset_index(drop=True)


def _annual_indicator(context: _Context, indicator: dict[str, Any]) -> Section:
    identifier, unit, title = indicator["indicator_id"], str(indicator["unit"]), str(indicator["title"])
    latest = context.latest(identifier)
    blocks: list[Block] = [
        Paragraph(str(indicator.get("description") or "")),
        Paragraph(_headline(context, indicator, latest)),
        Paragraph(_gap_paragraph(context, indicator, latest)),
    ]
    parts = []
    for breakdown, dimension in DIMENSIONS.items():
        values = context.values(identifier, breakdown)
        part = values.loc[values["period_start"] == latest] if not values.empty else values
        if not part.empty:
            parts.append(part.assign(dimension=dimension))
    if parts:
        frame = _withheld(_with_labels(pd.concat(parts, ignore_index=True)), VALUE_NUMBERS)
        when = fmt.period(frame["period_start"].iloc[0], frame["period_end"].iloc[0])
        blocks.append(
            Table(
                f"{title} ({unit}) by deprivation, ethnicity, age and sex, {context.area_name}, {when}",
                frame,
                DIMENSION_COLUMNS,
            )
        )
    else:
        blocks.append(
            Paragraph("No values by deprivation, ethnicity, age or sex are published for this area.")
        )
    blocks += [
        block for block in _groups(context, indicator, "imd_quintile", latest) if isinstance(block, Chart)
    ]
    gaps = _gap_table(context, identifier)
    blocks.append(
        Table(
            f"{title}: deprivation gap ({fmt.difference_unit(unit)}) in each period of {context.year}",
            gaps,
            GAP_COLUMNS,
        )
    )
    blocks += _alert_bullets(context, identifier)
    sheet = _indicator_sheet(context, indicator, ["overall", *DIMENSIONS])
    return Section(f"indicator-{identifier}", title, blocks, [sheet])


CORE20_COLUMNS = [
    Column("title", "Indicator"),
    Column("area", "Core20PLUS5 area"),
    Column("period_start", "Period", "period"),
    Column("core20_gap", "Core20 minus rest", "value"),
    Column("core20_lower", "Lower limit", "value"),
    Column("core20_upper", "Upper limit", "value"),
    Column("quintile_gap", "Quintile 1 minus 5", "value"),
    Column("quintile_lower", "Lower limit", "value"),
    Column("quintile_upper", "Upper limit", "value"),
    Column("unit", "Unit"),
]


def _core20plus5(context: _Context) -> list[Section]:
    rows = []
    for indicator in context.indicators:
        text = " ".join(str(indicator.get(key) or "") for key in ("indicator_id", "title", "reference"))
        if "core20plus5" not in text.lower().replace(" ", ""):
            continue
        identifier = indicator["indicator_id"]
        latest = context.latest(identifier)
        reference = str(indicator.get("reference") or "")
        mentions = [part.strip() for part in reference.split(";") if "core20plus5" in part.lower()]
        area = mentions[0] if mentions else "Core20PLUS5"
        row: dict[str, Any] = {
            "indicator_id": identifier,
            "title": indicator["title"],
            "area": area,
            "period_start": latest,
            "unit": fmt.difference_unit(str(indicator["unit"])),
        }
        measures = context.measures(identifier)
        for name, breakdown in (("core20", "core20"), ("quintile", "imd_quintile")):
            found = _row(measures, breakdown=breakdown, measure="gap_absolute", period_start=latest)
            row[f"{name}_gap"] = found["value"] if found else float("nan")
            row[f"{name}_lower"] = found["lower"] if found else float("nan")
            row[f"{name}_upper"] = found["upper"] if found else float("nan")
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["indicator_id", *[column.key for column in CORE20_COLUMNS]])
    blocks: list[Block] = [
        Paragraph(
            "Core20PLUS5 is NHS England's approach to reducing healthcare inequalities: the most deprived "
            "20% of the national population (Core20), population groups chosen locally (PLUS), and five "
            "clinical areas for adults (maternity, severe mental illness, chronic respiratory disease, "
            "early cancer diagnosis, hypertension) and for children and young people (asthma, diabetes, "
            "epilepsy, oral health, mental health)."
        )
    ]
    if frame.empty:
        blocks.append(Paragraph("None of this run's indicators is defined against a Core20PLUS5 area."))
    else:
        blocks.append(Paragraph(f"{len(frame)} of this run's indicators measure a Core20PLUS5 area:"))
        blocks.append(Bullets([f"{row['title']}: {row['area']}" for row in frame.to_dict("records")]))
        blocks.append(
            Table(
                f"Core20PLUS5 indicators: the Core20 and quintile 1-5 gaps, {context.area_name}, latest "
                f"period in {context.year}",
                frame,
                CORE20_COLUMNS,
            )
        )
    sheet = Sheet(
        context.sheet_name("Core20PLUS5"),
        "Indicators aligned to Core20PLUS5 and their gaps",
        Table("Core20PLUS5", frame, [Column("indicator_id", "Indicator id"), *CORE20_COLUMNS]),
    )
    return [Section("core20plus5", "Core20PLUS5 alignment", blocks, [sheet])]


# --- templates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateSpec:
    """A report template: its title, its HTML template file and its sections in order."""

    title: str
    html: str
    sections: tuple[Callable[[_Context], list[Section]], ...]


TEMPLATES: dict[str, TemplateSpec] = {
    "board": TemplateSpec(
        "Health inequalities report to the board: {area}",
        "board.html.j2",
        (_summary, _domains(_board_indicator), _data_quality, _targets, _business_case, _methods),
    ),
    "annual-health-inequalities": TemplateSpec(
        "Annual statement on information on health inequalities {year}: {area}",
        "annual-health-inequalities.html.j2",
        (_statement, _summary, _domains(_annual_indicator), _data_quality, _core20plus5, _methods),
    ),
}
