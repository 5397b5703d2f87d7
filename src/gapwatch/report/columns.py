"""The columns of every report table: one list per table, for the page and for the workbook.

A table is shown twice, on the page (HTML and PDF) and on a workbook sheet, and the sheet
keeps more (codes, period ends, notes). Each list below names every column once with
where it is shown (``on="both"``, ``"page"`` or ``"sheet"``) and, where the sheet heads or
formats it differently, its sheet heading and kind; :meth:`Columns.page` and
:meth:`Columns.sheet` give the two lists of :class:`~gapwatch.report.model.Column`.
A column shown at different places on the page and the sheet is listed twice, once for
each (``TARGETS``' baseline and target date).

>>> [column.heading for column in COMPLETENESS_BY_INDICATOR.sheet()][:2]
['Indicator id', 'Indicator']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gapwatch.report.model import Column, ColumnKind
from gapwatch.report.wording import DIMENSIONS

Where = Literal["both", "page", "sheet"]


@dataclass(frozen=True)
class Field:
    """One column of a table: its frame ``key``, page ``heading`` and ``kind``, where it shows."""

    key: str
    heading: str
    kind: ColumnKind = "text"
    on: Where = "both"
    sheet_heading: str | None = None
    sheet_kind: ColumnKind | None = None


class Columns(tuple[Field, ...]):
    """A table's columns in order (a tuple of :class:`Field`)."""

    def page(self) -> list[Column]:
        """The columns of the table on the page (HTML and PDF)."""
        return [Column(f.key, f.heading, f.kind) for f in self if f.on != "sheet"]

    def sheet(self) -> list[Column]:
        """The columns of the table's workbook sheet."""
        return [
            Column(f.key, f.sheet_heading or f.heading, f.sheet_kind or f.kind)
            for f in self
            if f.on != "page"
        ]


def _sheet_only(key: str, heading: str, kind: ColumnKind = "text") -> Field:
    return Field(key, heading, kind, on="sheet")


_PERIOD_START = _sheet_only("period_start", "Period start", "date")
_PERIOD_END = _sheet_only("period_end", "Period end", "date")
_INDICATOR_ID = _sheet_only("indicator_id", "Indicator id")
_SUPPRESSED = _sheet_only("suppressed", "suppressed", "flag")

#: Every alert for the area (a sheet; the page lists the alerts' messages).
ALERTS = Columns(
    (
        _INDICATOR_ID,
        _sheet_only("title", "Indicator"),
        _sheet_only("breakdown", "Breakdown"),
        _sheet_only("rule", "Rule"),
        _sheet_only("severity", "Severity"),
        _PERIOD_START,
        _PERIOD_END,
        _sheet_only("message", "Message"),
        _sheet_only("evidence", "Evidence (JSON)"),
    )
)

#: An indicator's values: one breakdown in one period on the page, every one on its sheet.
VALUES = Columns(
    (
        _PERIOD_START,
        _PERIOD_END,
        _sheet_only("breakdown", "Breakdown"),
        _sheet_only("breakdown_name", "Breakdown name"),
        Field("label", "Group", on="page"),
        _sheet_only("group", "Group"),
        Field("numerator", "Numerator", "count"),
        Field("denominator", "Denominator", "count"),
        Field("value", "Value", "value"),
        Field("lower", "Lower limit", "value"),
        Field("upper", "Upper limit", "value"),
        Field(
            "comparison", "Compared with area overall", sheet_heading="Compared with area overall / England"
        ),
        _sheet_only("comparison_best", "Compared with best group"),
        _sheet_only("completeness", "Completeness of breakdown", "share"),
        _SUPPRESSED,
        _sheet_only("note", "Note"),
    )
)

#: The annual statement's table of an indicator by the four dimensions (page only).
DIMENSION_VALUES = Columns(
    (
        Field("dimension", "Dimension", on="page"),
        Field("label", "Group", on="page"),
        Field("denominator", "Denominator", "count", on="page"),
        Field("value", "Value", "value", on="page"),
        Field("lower", "Lower limit", "value", on="page"),
        Field("upper", "Upper limit", "value", on="page"),
        Field("comparison", "Compared with area overall", on="page"),
    )
)

#: The annual statement's deprivation gap and SII in each period of the year (page only).
GAPS = Columns(
    (
        Field("period_start", "Period", "period", on="page"),
        Field("gap", "Quintile 1 minus 5 (most minus least deprived)", "value", on="page"),
        Field("gap_lower", "Lower limit", "value", on="page"),
        Field("gap_upper", "Upper limit", "value", on="page"),
        Field("sii", "Slope index of inequality (least minus most deprived)", "value", on="page"),
        Field("sii_lower", "Lower limit", "value", on="page"),
        Field("sii_upper", "Upper limit", "value", on="page"),
        Field("suppressed", "Built on suppressed counts", "flag", on="page"),
    )
)

#: Completeness of the fields gaps depend on: the latest quarter on the page, every quarter on the sheet.
COMPLETENESS = Columns(
    (
        _sheet_only("area_type", "Area type"),
        _sheet_only("area_code", "Area code"),
        Field("source", "Input table"),
        Field("period_start", "Quarter", "period", sheet_heading="Period start", sheet_kind="date"),
        _PERIOD_END,
        Field("records", "Records", "count"),
        Field("ethnicity_valid", "Ethnicity recorded", "share"),
        Field("ethnicity_unknown", "Ethnicity not known or not stated", "share"),
        Field("lsoa_valid", "Area of residence (LSOA) linked", "share"),
        Field("sex_valid", "Sex recorded", "share"),
        Field("age_valid", "Age recorded", "share"),
        Field("late", "Received late", "share"),
        Field("duplicates", "Duplicates", "share"),
        _SUPPRESSED,
        Field("note", "Note"),
    )
)

#: Share of each indicator's denominator with a known group, by dimension.
COMPLETENESS_BY_INDICATOR = Columns(
    (
        _INDICATOR_ID,
        Field("title", "Indicator"),
        Field("period_start", "Period", "period"),
        *[Field(key, f"{name}: known", "share") for key, name in DIMENSIONS.items()],
        Field("ethnic_group_unknown", "Ethnicity: not known or not stated", "share"),
    )
)

#: Gap-reduction targets and trajectories (the baseline and the target date sit at
#: different places on the page and the sheet, so each is listed twice).
TARGETS = Columns(
    (
        _INDICATOR_ID,
        Field("title", "Indicator"),
        _sheet_only("breakdown", "Breakdown"),
        _sheet_only("measure", "Measure"),
        Field("description", "Target"),
        _sheet_only("baseline_start", "Baseline start", "date"),
        Field("baseline", "Baseline", "value"),
        Field("baseline_start", "Baseline period", "date", on="page"),
        _sheet_only("target_date", "Target date", "date"),
        Field("target_value", "Target value", "value"),
        Field("target_date", "Due", "date", on="page"),
        _sheet_only("latest_start", "Latest start", "date"),
        Field("latest", "Latest", "value"),
        Field("latest_lower", "Latest: lower limit", "value", sheet_heading="Latest lower limit"),
        Field("latest_upper", "Latest: upper limit", "value", sheet_heading="Latest upper limit"),
        Field("expected_now", "On the trajectory now", "value", sheet_heading="Expected now"),
        Field(
            "within_text",
            "Trajectory within the latest gap's interval?",
            sheet_heading="Trajectory within the latest gap's interval",
        ),
        _sheet_only("gap_to_close", "Gap to close", "value"),
        Field("status_text", "Status"),
        Field("note", "Note"),
    )
)

#: Excess events and their cost, by indicator.
BUSINESS_CASE = Columns(
    (
        _INDICATOR_ID,
        Field("title", "Indicator"),
        Field("reference_text", "Compared with", on="page"),
        _PERIOD_START,
        _PERIOD_END,
        _sheet_only("reference", "Reference"),
        _sheet_only("reference_group", "Reference group"),
        Field("excess_events", "Excess events", "value"),
        Field("lower", "Lower limit", "value"),
        Field("upper", "Upper limit", "value"),
        Field("event", "Event"),
        _sheet_only("pounds_per_event", "£ per event", "money"),
        Field("pounds", "Value (£)", "money", sheet_heading="£"),
        Field("pounds_lower", "Lower (£)", "money", sheet_heading="£ lower"),
        Field("pounds_upper", "Upper (£)", "money", sheet_heading="£ upper"),
        _sheet_only("pounds_per_unit_gap_closed", "£ per unit of gap closed", "money"),
        _sheet_only("cost_source", "Cost source"),
        _sheet_only("summary", "Summary"),
        _sheet_only("note", "Note"),
    )
)

#: Indicator definitions.
INDICATORS = Columns(
    (
        _INDICATOR_ID,
        Field("title", "Indicator"),
        Field("domain", "Domain"),
        Field("measure", "Measure"),
        Field("unit", "Unit"),
        Field("period", "Period"),
        Field("polarity_text", "Polarity"),
        Field("source", "Input table"),
        Field("reference", "National definition followed"),
        _sheet_only("standard", "Standard"),
        _sheet_only("target", "Target", "value"),
    )
)

#: Indicators aligned to Core20PLUS5 and their gaps.
CORE20PLUS5 = Columns(
    (
        _INDICATOR_ID,
        Field("title", "Indicator"),
        Field("area", "Core20PLUS5 area"),
        Field("period_start", "Period", "period"),
        Field("core20_gap", "Core20 minus rest", "value"),
        Field("core20_lower", "Lower limit", "value"),
        Field("core20_upper", "Upper limit", "value"),
        Field("quintile_gap", "Quintile 1 minus 5", "value"),
        Field("quintile_lower", "Lower limit", "value"),
        Field("quintile_upper", "Upper limit", "value"),
        Field("unit", "Unit"),
    )
)
