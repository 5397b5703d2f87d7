"""Equity guardrail alerts: the rules of ``rules.yaml`` applied to a run's trends and values.

Every alert says which rule fired, how severe it is, a sentence a board member can read,
and its evidence (the numbers, limits and periods, as JSON) so that it can be checked.
Alerts only ever use published (disclosure-controlled) figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gapwatch.monitor.settings import RuleSettings
from gapwatch.words import breakdown_name, period_short

ALERT_COLUMNS = [
    "indicator_id",
    "area_type",
    "area_code",
    "breakdown",
    "rule",
    "severity",
    "period_start",
    "period_end",
    "message",
    "evidence",
]
GAP_NAMES = {
    ("imd_quintile", "gap_absolute"): "quintile 1-5 gap",
    ("imd_quintile", "gap_ratio"): "quintile 1-5 ratio",
    ("imd_quintile", "sii"): "slope index of inequality across quintiles",
    ("imd_quintile", "rii"): "relative index of inequality across quintiles",
    ("imd_decile", "gap_absolute"): "decile 1-10 gap",
    ("imd_decile", "sii"): "slope index of inequality across deciles",
    ("core20", "gap_absolute"): "Core20-rest gap",
    ("core20", "gap_ratio"): "Core20-rest ratio",
}


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 6)


def _evidence(row: pd.Series, prefix: str = "") -> dict[str, Any]:
    return {
        "baseline_start": str(row[f"{prefix}baseline_start"]),
        "latest_start": str(row[f"{prefix}latest_start"]),
        "baseline": _number(row[f"{prefix}baseline"]),
        "latest": _number(row[f"{prefix}latest"]),
        "slope_per_year": _number(row[f"{prefix}slope_per_year"]),
        "slope_lower": _number(row[f"{prefix}slope_lower"]),
        "slope_upper": _number(row[f"{prefix}slope_upper"]),
        "periods": int(row[f"{prefix}periods"]),
    }


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(records, columns=ALERT_COLUMNS)


def _latest_end(values: pd.DataFrame) -> dict[tuple[str, pd.Timestamp], Any]:
    ends = values[["indicator_id", "period_start", "period_end"]].drop_duplicates(
        ["indicator_id", "period_start"]
    )
    return {
        (str(indicator), pd.Timestamp(str(start))): end
        for indicator, start, end in ends.itertuples(index=False, name=None)
    }


def _gap_trends(trends: pd.DataFrame, gaps: Mapping[Any, Sequence[str]]) -> pd.DataFrame:
    wanted = pd.DataFrame(
        [(breakdown, measure) for breakdown, measures in gaps.items() for measure in measures],
        columns=["breakdown", "series"],
    )
    return trends.merge(wanted, on=["breakdown", "series"])


def average_improving_gap_widening(
    trends: pd.DataFrame, titles: dict[str, str], ends: dict[Any, Any], settings: RuleSettings
) -> pd.DataFrame:
    """Overall value improving significantly while a configured gap widens significantly."""
    rule = settings.rules.average_improving_gap_widening
    if not rule.enabled:
        return _frame([])
    average = trends.loc[(trends["series"] == "value") & (trends["direction"] == "improving")]
    gaps = _gap_trends(trends, rule.gaps)
    gaps = gaps.loc[gaps["direction"] == "widening"]
    keys = ["indicator_id", "area_type", "area_code"]
    both = average.merge(gaps, on=keys, suffixes=("_avg", ""))
    records = []
    for (indicator, area_type, area_code, breakdown), part in both.groupby([*keys, "breakdown"], sort=True):
        first = part.iloc[0]
        named = [GAP_NAMES.get((str(breakdown), str(measure)), str(measure)) for measure in part["series"]]
        scale = " (log scale)" if (part["scale"] == "log").any() else ""
        message = (
            f"{titles.get(str(indicator), indicator)}: the average improved from {first['baseline_avg']:.3g} "
            f"to {first['latest_avg']:.3g} between {period_short(first['baseline_start_avg'])} and "
            f"{period_short(first['latest_start_avg'])}, "
            f"but the {' and the '.join(named)} widened{scale} over the same periods."
        )
        evidence = {
            "average": _evidence(_unsuffix(first, "_avg")),
            "gaps": {str(row["series"]): _evidence(row) for _, row in part.iterrows()},
        }
        records.append(
            {
                "indicator_id": indicator,
                "area_type": area_type,
                "area_code": area_code,
                "breakdown": breakdown,
                "rule": "average_improving_gap_widening",
                "severity": rule.severity,
                "period_start": first["latest_start"],
                "period_end": ends.get((indicator, pd.Timestamp(first["latest_start"]))),
                "message": message,
                "evidence": json.dumps(evidence),
            }
        )
    return _frame(records)


def _unsuffix(row: pd.Series, suffix: str) -> pd.Series:
    picked = row[[name for name in row.index if name.endswith(suffix)]]
    return picked.rename(lambda name: name.removesuffix(suffix))


def most_deprived_falling_behind(
    trends: pd.DataFrame,
    measures: pd.DataFrame,
    polarity: dict[str, str],
    titles: dict[str, str],
    ends: dict[Any, Any],
    settings: RuleSettings,
) -> pd.DataFrame:
    """Quintile 1 (or Core20) significantly worse than the comparison group, and the gap widening."""
    rule = settings.rules.most_deprived_falling_behind
    if not rule.enabled or measures.empty:
        return _frame([])
    gaps = _gap_trends(trends, rule.gaps)
    gaps = gaps.loc[gaps["direction"] == "widening"]
    latest = measures.assign(period_start=pd.to_datetime(measures["period_start"]).dt.date).rename(
        columns={
            "measure": "series",
            "period_start": "latest_start",
            "lower": "latest_lower",
            "upper": "latest_upper",
            "value": "latest_value",
        }
    )
    keys = ["indicator_id", "area_type", "area_code", "breakdown", "series", "latest_start"]
    joined = gaps.merge(latest[[*keys, "latest_lower", "latest_upper", "group_a", "group_b"]], on=keys)
    direction = joined["indicator_id"].map(polarity)
    # Gaps are group a (most deprived) minus group b: negative is worse when higher is better.
    worse = ((direction == "higher_is_better") & (joined["latest_upper"] < 0)) | (
        (direction == "lower_is_better") & (joined["latest_lower"] > 0)
    )
    records = []
    for _, row in joined.loc[worse].iterrows():
        name = GAP_NAMES.get((row["breakdown"], row["series"]), row["series"])
        message = (
            f"{titles.get(row['indicator_id'], row['indicator_id'])}: group {row['group_a']} is "
            f"significantly worse than group {row['group_b']} ({name} {row['latest']:.3g}, limits "
            f"{row['latest_lower']:.3g} to {row['latest_upper']:.3g} in "
            f"{period_short(row['latest_start'])}) "
            "and the gap is widening."
        )
        evidence = {
            "gap": _evidence(row),
            "latest_lower": _number(row["latest_lower"]),
            "latest_upper": _number(row["latest_upper"]),
            "measure": row["series"],
        }
        records.append(
            {
                "indicator_id": row["indicator_id"],
                "area_type": row["area_type"],
                "area_code": row["area_code"],
                "breakdown": row["breakdown"],
                "rule": "most_deprived_falling_behind",
                "severity": rule.severity,
                "period_start": row["latest_start"],
                "period_end": ends.get((row["indicator_id"], pd.Timestamp(row["latest_start"]))),
                "message": message,
                "evidence": json.dumps(evidence),
            }
        )
    return _frame(records)


def _latest_values(values: pd.DataFrame) -> pd.DataFrame:
    """Each indicator × area's rows in the last period that has an overall value."""
    overall = values.loc[(values["breakdown"] == "overall") & values["value"].notna()]
    latest = overall.groupby(["indicator_id", "area_type", "area_code"], as_index=False)["period_start"].max()
    return values.merge(latest, on=["indicator_id", "area_type", "area_code", "period_start"])


def below_standard(latest: pd.DataFrame, indicators: pd.DataFrame, settings: RuleSettings) -> pd.DataFrame:
    """A group significantly below the indicator's target while the area's average meets it."""
    rule = settings.rules.below_standard
    if not rule.enabled:
        return _frame([])
    targets = indicators.loc[
        indicators["target"].notna() & indicators["polarity"].ne("no_judgement"),
        ["indicator_id", "target", "polarity", "title"],
    ]
    frame = latest.merge(targets, on="indicator_id")
    if frame.empty:
        return _frame([])
    higher = frame["polarity"] == "higher_is_better"
    meets = np.where(higher, frame["value"] >= frame["target"], frame["value"] <= frame["target"])
    frame = frame.assign(_meets=meets)
    keys = ["indicator_id", "area_type", "area_code"]
    average_meets = frame.loc[(frame["breakdown"] == "overall") & frame["_meets"], keys]
    groups = frame.loc[frame["breakdown"].isin(rule.breakdowns) & ~frame["suppressed"].astype(bool)]
    groups = groups.merge(average_meets, on=keys)
    higher = groups["polarity"] == "higher_is_better"
    below = np.where(higher, groups["upper"] < groups["target"], groups["lower"] > groups["target"])
    groups = groups.loc[below]
    records = []
    for (indicator, area_type, area_code, breakdown), part in groups.groupby([*keys, "breakdown"], sort=True):
        first = part.iloc[0]
        listed = ", ".join(f"{row.group} {row.value:.3g}" for row in part.head(6).itertuples())
        side = "below" if first["polarity"] == "higher_is_better" else "above"
        message = (
            f"{first['title']}: the average meets the target of {first['target']:.3g}, but by "
            f"{_lower_first(breakdown_name(str(breakdown)))} "
            f"these groups are significantly {side} it: {listed}{' …' if len(part) > 6 else ''}."
        )
        evidence = {
            "target": _number(first["target"]),
            "groups": [
                {
                    "group": row.group,
                    "value": _number(row.value),
                    "lower": _number(row.lower),
                    "upper": _number(row.upper),
                }
                for row in part.itertuples()
            ],
        }
        records.append(
            {
                "indicator_id": indicator,
                "area_type": area_type,
                "area_code": area_code,
                "breakdown": breakdown,
                "rule": "below_standard",
                "severity": rule.severity,
                "period_start": first["period_start"],
                "period_end": first["period_end"],
                "message": message,
                "evidence": json.dumps(evidence),
            }
        )
    return _frame(records)


def cant_see_gap(latest: pd.DataFrame, titles: dict[str, str], settings: RuleSettings) -> pd.DataFrame:
    """The breakdown field is recorded for too few records for its gap to be trusted."""
    rule = settings.rules.cant_see_gap
    if not rule.enabled or "completeness" not in latest:
        return _frame([])
    frame = latest.loc[latest["breakdown"].isin(rule.breakdowns) & latest["completeness"].notna()]
    keys = ["indicator_id", "area_type", "area_code", "breakdown", "period_start", "period_end"]
    worst = frame.groupby(keys, as_index=False)["completeness"].min()
    worst = worst.loc[worst["completeness"] < rule.threshold]
    records = []
    for row in worst.itertuples():
        message = (
            f"{titles.get(row.indicator_id, row.indicator_id)}: only {row.completeness:.1%} of records "
            f"have a usable {_lower_first(breakdown_name(row.breakdown))} "
            f"(threshold {rule.threshold:.0%}), so the "
            "gap by "
            f"{_lower_first(breakdown_name(row.breakdown))} cannot be measured reliably."
        )
        records.append(
            {
                "indicator_id": row.indicator_id,
                "area_type": row.area_type,
                "area_code": row.area_code,
                "breakdown": row.breakdown,
                "rule": "cant_see_gap",
                "severity": rule.severity,
                "period_start": row.period_start,
                "period_end": row.period_end,
                "message": message,
                "evidence": json.dumps(
                    {"completeness": _number(row.completeness), "threshold": rule.threshold}
                ),
            }
        )
    return _frame(records)


def special_cause(
    charts: pd.DataFrame, titles: dict[str, str], ends: dict[Any, Any], settings: RuleSettings
) -> pd.DataFrame:
    """Special-cause variation at the latest point of a configured gap's XmR chart.

    Only charts with at least ``min_points`` published (non-missing) points, never fewer
    than Making Data Count's 13 (:data:`gapwatch.stats.spc.MIN_POINTS`): with fewer, the
    limits are trial limits and the pages show no variation icon, so an alert would
    claim what the chart beside it does not (NHS England (2019) *Making Data Count*).
    """
    rule = settings.rules.special_cause
    if not rule.enabled or charts.empty:
        return _frame([])
    wanted = pd.DataFrame(
        [(breakdown, measure) for breakdown, measures in rule.gaps.items() for measure in measures],
        columns=["breakdown", "series"],
    )
    keys = ["indicator_id", "area_type", "area_code", "breakdown", "series"]
    gaps = charts.merge(wanted, on=["breakdown", "series"])
    # The latest point is the last row of its chart once sorted by period: charts may
    # arrive in any order (from the store, or mixed with other series').
    gaps = gaps.sort_values([*keys, "period_start"], kind="stable")
    # Published points: a missing period is no point of the chart (stats.spc.xmr).
    points = gaps.groupby(keys)["value"].transform("count")
    latest = gaps.loc[points >= rule.min_points].groupby(keys, sort=True).tail(1)
    latest = latest.loc[latest["special_cause"].astype(bool)]
    records = []
    for row in latest.itertuples():
        concerning = row.variation == "special_cause_concerning"
        name = GAP_NAMES.get((str(row.breakdown), str(row.series)), str(row.series))
        word = "widening" if concerning else "narrowing"
        message = (
            f"{titles.get(str(row.indicator_id), row.indicator_id)}: special-cause variation in the "
            f"{name} in the "
            f"{period_short(row.period_start)} ({row.rules}); the gap is {word} beyond its usual variation."
        )
        evidence = {
            "value": _number(row.value),
            "mean": _number(row.mean),
            "lower": _number(row.lower),
            "upper": _number(row.upper),
            "rules": row.rules,
            "variation": row.variation,
        }
        records.append(
            {
                "indicator_id": row.indicator_id,
                "area_type": row.area_type,
                "area_code": row.area_code,
                "breakdown": row.breakdown,
                "rule": "special_cause",
                "severity": rule.severity if concerning else "low",
                "period_start": row.period_start,
                "period_end": ends.get((str(row.indicator_id), pd.Timestamp(str(row.period_start)))),
                "message": message,
                "evidence": json.dumps(evidence),
            }
        )
    return _frame(records)


def alerts(
    values: pd.DataFrame,
    measures: pd.DataFrame,
    indicators: pd.DataFrame,
    trends: pd.DataFrame,
    charts: pd.DataFrame,
    settings: RuleSettings,
) -> pd.DataFrame:
    """Every enabled rule's alerts, most severe first."""
    titles = dict(zip(indicators["indicator_id"], indicators["title"], strict=True))
    polarity = dict(zip(indicators["indicator_id"], indicators["polarity"], strict=True))
    ends = _latest_end(values)
    latest = _latest_values(values)
    frames = [
        average_improving_gap_widening(trends, titles, ends, settings),
        most_deprived_falling_behind(trends, measures, polarity, titles, ends, settings),
        below_standard(latest, indicators, settings),
        cant_see_gap(latest, titles, settings),
        special_cause(charts, titles, ends, settings),
    ]
    result = pd.concat([frame for frame in frames if not frame.empty] or [_frame([])], ignore_index=True)
    # Rules take their dates from different tables (dates from some, Timestamps from
    # others): one type per column, or writing the table fails on whichever comes first.
    for column in ("period_start", "period_end"):
        result[column] = pd.to_datetime(result[column]).dt.date
    order = result["severity"].map({"high": 0, "medium": 1, "low": 2})
    return (
        result.assign(_order=order)
        .sort_values(["_order", "rule", "indicator_id", "area_type", "area_code", "breakdown"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _lower_first(name: str) -> str:
    # "Deprivation quintile (IMD, ...)" inside a sentence, without lowering IMD or NHS.
    return name[:1].lower() + name[1:]
