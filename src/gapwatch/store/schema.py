"""The tables of the results store, their columns and the indexes readers need.

Types are portable SQL (DuckDB and PostgreSQL). ``docs/results-schema.md`` documents
every column; a test keeps the two in step.

>>> [name for name, _ in SCHEMA["runs"]][:3]
['run_id', 'name', 'status']
"""

from __future__ import annotations

import pandas as pd

TEXT, DOUBLE = "TEXT", "DOUBLE PRECISION"

#: Tables and their columns, in order; types are portable SQL.
SCHEMA: dict[str, list[tuple[str, str]]] = {
    "runs": [
        ("run_id", TEXT), ("name", TEXT), ("status", TEXT), ("started_at", "TIMESTAMP"),
        ("finished_at", "TIMESTAMP"), ("backend", TEXT), ("disclosure_policy", TEXT),
        ("disclosure_threshold", "INTEGER"), ("disclosure_rounding", "INTEGER"), ("confidence", DOUBLE),
        ("config", TEXT), ("catalogue_digest", TEXT), ("gapwatch_version", TEXT), ("indicators", "INTEGER"),
        ("cells", "BIGINT"), ("seconds", DOUBLE), ("monitor", TEXT), ("private", "BOOLEAN"),
    ],
    "indicators": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("title", TEXT), ("description", TEXT), ("domain", TEXT),
        ("measure", TEXT), ("unit", TEXT), ("multiplier", DOUBLE), ("polarity", TEXT),
        ("target", DOUBLE), ("standard", TEXT), ("source", TEXT), ("period", TEXT),
        ("reference", TEXT),
    ],
    "areas": [
        ("run_id", TEXT), ("area_type", TEXT), ("area_code", TEXT), ("area_name", TEXT),
        ("parent_type", TEXT), ("parent_code", TEXT),
    ],
    "indicator_values": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("period_start", "DATE"), ("period_end", "DATE"),
        ("area_type", TEXT), ("area_code", TEXT), ("breakdown", TEXT), ("group", TEXT),
        ("numerator", DOUBLE), ("denominator", DOUBLE), ("value", DOUBLE),
        ("lower", DOUBLE), ("upper", DOUBLE), ("comparison", TEXT),
        ("comparison_best", TEXT), ("completeness", DOUBLE), ("suppressed", "BOOLEAN"),
        ("note", TEXT),
    ],
    "inequality_measures": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("period_start", "DATE"), ("period_end", "DATE"),
        ("area_type", TEXT), ("area_code", TEXT), ("breakdown", TEXT), ("measure", TEXT),
        ("value", DOUBLE), ("lower", DOUBLE), ("upper", DOUBLE),
        ("confidence", DOUBLE), ("group_a", TEXT), ("group_b", TEXT), ("suppressed", "BOOLEAN"),
        ("note", TEXT),
    ],
    "completeness": [
        ("run_id", TEXT), ("source", TEXT), ("period_start", "DATE"), ("period_end", "DATE"),
        ("area_type", TEXT), ("area_code", TEXT), ("records", DOUBLE), ("ethnicity_valid", DOUBLE),
        ("lsoa_valid", DOUBLE), ("sex_valid", DOUBLE), ("age_valid", DOUBLE), ("late", DOUBLE),
        ("duplicates", DOUBLE), ("suppressed", "BOOLEAN"), ("note", TEXT),
    ],
    "linkage": [
        ("run_id", TEXT), ("source", TEXT), ("lsoa_status", TEXT), ("rows", "BIGINT"),
        ("share", DOUBLE),
    ],
    "input_notes": [
        ("run_id", TEXT), ("source", TEXT), ("file", TEXT), ("indicator_id", TEXT), ("kind", TEXT),
        ("column_name", TEXT), ("rows", DOUBLE), ("share", DOUBLE), ("suppressed", "BOOLEAN"), ("text", TEXT),
    ],
    "funnels": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("area_type", TEXT), ("period_start", "DATE"),
        ("denominator", DOUBLE), ("lower_95", DOUBLE), ("upper_95", DOUBLE), ("lower_99_8", DOUBLE),
        ("upper_99_8", DOUBLE), ("target", DOUBLE),
    ],
    # Written by gapwatch.monitor after the run is published (see Store.replace_monitor).
    "trends": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("area_type", TEXT), ("area_code", TEXT),
        ("breakdown", TEXT), ("series", TEXT), ("scale", TEXT), ("periods", "INTEGER"),
        ("baseline_start", "DATE"), ("latest_start", "DATE"), ("baseline", DOUBLE), ("latest", DOUBLE),
        ("change", DOUBLE), ("change_lower", DOUBLE), ("change_upper", DOUBLE),
        ("slope_per_year", DOUBLE), ("slope_lower", DOUBLE), ("slope_upper", DOUBLE),
        ("fitted_baseline", DOUBLE), ("fitted_latest", DOUBLE), ("direction", TEXT), ("note", TEXT),
    ],
    "spc": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("area_type", TEXT), ("area_code", TEXT),
        ("breakdown", TEXT), ("series", TEXT), ("period_start", "DATE"), ("value", DOUBLE),
        ("mean", DOUBLE), ("lower", DOUBLE), ("upper", DOUBLE), ("special_cause", "BOOLEAN"),
        ("rules", TEXT), ("variation", TEXT), ("assurance", TEXT),
    ],
    "alerts": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("area_type", TEXT), ("area_code", TEXT),
        ("breakdown", TEXT), ("rule", TEXT), ("severity", TEXT), ("period_start", "DATE"),
        ("period_end", "DATE"), ("message", TEXT), ("evidence", TEXT),
    ],
    "targets": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("area_type", TEXT), ("area_code", TEXT),
        ("breakdown", TEXT), ("measure", TEXT), ("description", TEXT), ("baseline_start", "DATE"),
        ("baseline", DOUBLE), ("target_date", "DATE"), ("target_value", DOUBLE), ("latest_start", "DATE"),
        ("latest", DOUBLE), ("latest_lower", DOUBLE), ("latest_upper", DOUBLE), ("expected_now", DOUBLE),
        ("within_interval", "BOOLEAN"), ("gap_to_close", DOUBLE), ("status", TEXT), ("note", TEXT),
    ],
    "business_case": [
        ("run_id", TEXT), ("indicator_id", TEXT), ("period_start", "DATE"), ("period_end", "DATE"),
        ("area_type", TEXT), ("area_code", TEXT), ("reference", TEXT), ("reference_group", TEXT),
        ("excess_events", DOUBLE), ("lower", DOUBLE), ("upper", DOUBLE), ("event", TEXT),
        ("pounds_per_event", DOUBLE), ("pounds", DOUBLE), ("pounds_lower", DOUBLE),
        ("pounds_upper", DOUBLE), ("pounds_per_unit_gap_closed", DOUBLE), ("cost_source", TEXT),
        ("summary", TEXT), ("note", TEXT),
    ],
}  # fmt: skip

MONITOR_TABLES = ["trends", "spc", "alerts", "targets", "business_case"]
RESULT_TABLES = [table for table in SCHEMA if table != "runs" and table not in MONITOR_TABLES]
READABLE_TABLES = RESULT_TABLES + MONITOR_TABLES

#: What a run's ``monitor`` column says: its monitor tables were written with it, or it was
#: published without them (``gapwatch run --no-monitor``), so "no alerts" means "not looked".
MONITOR_COMPLETE, MONITOR_NOT_RUN = "complete", "not run"

#: Indexes on what readers filter by (``gapwatch.views``), always led by ``run_id``: pages
#: and reports ask for one run's rows of one area, or of one indicator in one period. Only
#: PostgreSQL builds them; DuckDB scans columns with min/max zone maps instead, and an index
#: there would slow every publish for no gain.
INDEXES: dict[str, list[tuple[str, ...]]] = {
    "runs": [("run_id",)],
    "indicators": [("run_id",)],
    "areas": [("run_id",)],
    "linkage": [("run_id",)],
    "input_notes": [("run_id",)],
    "indicator_values": [
        ("run_id", "area_type", "area_code", "breakdown", "indicator_id", "period_start"),
        ("run_id", "indicator_id", "area_type", "period_start"),
    ],
    "inequality_measures": [
        ("run_id", "area_type", "area_code", "breakdown", "indicator_id", "period_start"),
        ("run_id", "indicator_id", "area_type", "period_start"),
    ],
    "completeness": [("run_id", "area_type", "area_code")],
    "funnels": [("run_id", "indicator_id", "area_type", "period_start")],
    "trends": [("run_id", "area_type", "area_code", "indicator_id")],
    "spc": [("run_id", "area_type", "area_code", "indicator_id")],
    "alerts": [("run_id", "area_type", "area_code")],
    "targets": [("run_id", "area_type", "area_code")],
    "business_case": [("run_id", "area_type", "area_code")],
}


def quote(name: str) -> str:
    """An SQL identifier in double quotes (every name here is a fixed, known word)."""
    return f'"{name}"'


def conform(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly the table's columns, in order; missing ones are all null."""
    columns = [name for name, _ in SCHEMA[table]]
    missing = [column for column in columns if column not in frame.columns]
    for column in missing:
        frame = frame.assign(**{column: None})
    return frame[columns]
