"""Equity guardrails over a published run: trends, alerts, SPC, targets and the business case.

The monitor reads one published run from the results store (the latest by default),
computes its tables from the published, disclosure-controlled figures only, and swaps
them into the store for that run in one transaction:

* ``trends``: each indicator's overall value and gap measures over the run's periods,
  baseline-to-latest change and weighted trend with limits (:mod:`.trends`);
* ``spc``: Making Data Count XmR charts of the value and the gaps (:mod:`.charts`);
* ``alerts``: the guardrail rules of ``rules.yaml`` (:mod:`.guardrails`);
* ``targets``: gap-reduction targets and trajectories (:mod:`.targets`);
* ``business_case``: excess events and £ attributable to the deprivation gap
  (:mod:`.business_case`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gapwatch.monitor.business_case import business_case
from gapwatch.monitor.charts import charts
from gapwatch.monitor.guardrails import alerts
from gapwatch.monitor.settings import load_costs, load_rules, load_targets
from gapwatch.monitor.targets import trajectories
from gapwatch.monitor.trends import direction, series, trends
from gapwatch.store import Store

Progress = Callable[[str, str, int, int], None]


@dataclass(frozen=True)
class MonitorSummary:
    run_id: str
    series: int
    alerts: dict[str, int] = field(default_factory=dict)
    targets: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def check_settings(rules: Path | None = None, targets: Path | None = None, costs: Path | None = None) -> None:
    """Read the three settings files, so that a mistake in one stops a run before it starts."""
    load_rules(rules), load_targets(targets), load_costs(costs)


def monitor(
    store: Store,
    run_id: str | None = None,
    rules: Path | None = None,
    targets: Path | None = None,
    costs: Path | None = None,
    progress: Progress | None = None,
    include_private: bool = False,
) -> MonitorSummary:
    """Compute and store the monitor tables of one published run.

    The run is ``run_id`` (private or not: ``gapwatch run`` passes the run it has just
    published), or else the newest public run, or the newest of all with ``include_private``.
    """
    clock = time.perf_counter()

    def report(stage: str, detail: str = "") -> None:
        if progress:
            progress(stage, detail, 0, 0)

    settings, goals, unit_costs = load_rules(rules), load_targets(targets), load_costs(costs)
    chosen = run_id or store.latest_run(include_private)
    report("read", chosen or "")
    values = store.read("indicator_values", chosen)
    measures = store.read("inequality_measures", chosen)
    indicators = store.read("indicators", chosen)
    chosen = str(values["run_id"].iloc[0]) if not values.empty else str(chosen)
    runs = store.runs()
    run_confidence = runs.loc[runs["run_id"] == chosen, "confidence"].iloc[0]
    confidence = settings.confidence or float(run_confidence)
    for frame in (values, measures):
        frame["suppressed"] = frame["suppressed"].fillna(False).astype(bool)
    report("trends")
    points = series(values, measures)
    trend = trends(points, confidence, settings.min_periods)
    polarity = trend["indicator_id"].map(
        dict(zip(indicators["indicator_id"], indicators["polarity"], strict=True))
    )
    trend["direction"] = direction(trend, polarity.fillna("no_judgement"))
    report("spc", "XmR charts")
    chart_table = charts(points, indicators, settings.rules.special_cause.gaps)
    report("alerts")
    alert_table = alerts(values, measures, indicators, trend, chart_table, settings)
    report("targets")
    target_table = trajectories(points, goals)
    report("business case")
    areas = store.read("areas", chosen)
    names = dict(zip(areas["area_code"], areas["area_name"], strict=True))
    case_table = business_case(values, indicators, unit_costs, confidence, area_names=names)
    report("publish")
    store.replace_monitor(
        chosen,
        {"trends": trend, "spc": chart_table, "alerts": alert_table, "targets": target_table,
         "business_case": case_table},
    )  # fmt: skip
    return MonitorSummary(
        run_id=chosen,
        series=len(trend),
        alerts={str(k): int(v) for k, v in alert_table["rule"].value_counts().sort_index().items()},
        targets={str(k): int(v) for k, v in target_table["status"].value_counts().sort_index().items()},
        seconds=time.perf_counter() - clock,
    )


__all__ = ["MonitorSummary", "check_settings", "monitor"]
