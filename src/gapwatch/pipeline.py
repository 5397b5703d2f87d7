"""One run, end to end: input tables -> counts -> values and gaps -> disclosure control -> store.

This module only wires the layers together, in the order ARCHITECTURE.md describes;
each step is done by its own package.

>>> RunSummary("r1", "results.duckdb", 23, 1000, 12.5).cells
1000
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from gapwatch import __version__
from gapwatch.disclosure import apply_policy, control_completeness, control_input_notes
from gapwatch.engine import notes
from gapwatch.engine.backends import engine_for
from gapwatch.engine.counts import count
from gapwatch.engine.inputs import register_inputs
from gapwatch.errors import ConfigError, GapwatchError, InputError
from gapwatch.model.config import RunConfig
from gapwatch.refdata import area_names
from gapwatch.stats.funnels import funnel_plots
from gapwatch.stats.indicators import indicator_values
from gapwatch.store import MONITOR_NOT_RUN, Store, new_run_id, open_store, run_record
from gapwatch.store.faults import pause_point

#: Called with (stage, detail, step, steps); steps is 0 when a stage has no count.
Progress = Callable[[str, str, int, int], None]
#: Called with the store being written and the new run's id, before anything is visible.
BeforePublishing = Callable[[Store, str], None]


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    store: str
    indicators: int
    cells: int
    seconds: float


def run(
    config: RunConfig,
    store: str | None = None,
    backend: str | None = None,
    progress: Progress | None = None,
    then: BeforePublishing | None = None,
    published: Callable[[str], None] | None = None,
) -> RunSummary:
    """Run the configured catalogue and publish the results atomically to the store.

    ``then`` (the monitor, for ``gapwatch run``) writes into the same publication: readers
    see the run and what ``then`` wrote together, or neither. ``published`` is called with
    the run id at the instant it becomes visible (so that a Ctrl-C report is true).
    """
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()

    def report(stage: str, detail: str = "", step: int = 0, steps: int = 0) -> None:
        pause_point(stage)
        if progress:
            progress(stage, detail, step, steps)

    catalogue = config.load_catalogue()
    kind = backend or config.backend
    location = store or config.store
    if not location.startswith(("postgresql://", "postgres://")):
        location = str(config.resolve(location))
    report("open", kind)
    with engine_for(kind, config.database) as engine:
        register_inputs(engine, config, catalogue)
        counts = count(
            engine,
            list(catalogue),
            config,
            progress=lambda detail, step, steps: report("count", detail, step, steps),
        )
        found_in_inputs = notes.frame(engine.notes)
    if counts.cells.empty:
        raise InputError(
            f"no records fall in the reporting window {config.periods.start} to {config.periods.end}: "
            "check periods: in the config against the dates in the data"
        )
    report("values", f"{len(counts.cells):,} cells")
    values = indicator_values(
        counts.cells, counts.histograms, catalogue.indicators, config.confidence, config.completeness_warning,
        standardised=counts.standardised,
    )  # fmt: skip
    report("disclosure", config.disclosure.policy)
    # Gaps and slope indices are computed inside disclosure control, from the published
    # cells (from the unrounded ones only when the policy is ``none``).
    safe_values, safe_measures = apply_policy(
        values, None, config.disclosure.policy, config.disclosure.threshold, config.disclosure.rounding,
        indicators=catalogue.indicators, confidence=config.confidence,
        control_national=config.disclosure.control_national,
    )  # fmt: skip
    indicators = pd.DataFrame(
        [
            {
                "indicator_id": item.id, "title": item.title, "description": item.description,
                "domain": item.domain, "measure": item.measure, "unit": item.unit,
                "multiplier": item.multiplier, "polarity": item.polarity, "target": item.target,
                "standard": item.standard, "source": item.source, "period": item.period,
                "reference": item.reference,
            }
            for item in catalogue
        ]
    )  # fmt: skip
    report("publish", location)
    results = open_store(location)
    try:
        run_id = new_run_id(started)
        with results.writing():
            if published is not None:
                results.on_commit(partial(published, run_id))
            results.publish(
                run_record(
                    run_id=run_id, name=config.name, started_at=started.replace(tzinfo=None),
                    finished_at=dt.datetime.now(dt.UTC).replace(tzinfo=None), backend=kind,
                    disclosure_policy=config.disclosure.policy,
                    disclosure_threshold=config.disclosure.threshold,
                    disclosure_rounding=config.disclosure.rounding, confidence=config.confidence,
                    config=config.model_dump(mode="json"), catalogue_digest=catalogue.digest,
                    gapwatch_version=__version__, indicators=len(catalogue), cells=len(safe_values),
                    seconds=time.perf_counter() - clock, monitor=MONITOR_NOT_RUN,
                ),
                {
                    "indicators": indicators,
                    "areas": area_names(safe_values),
                    "indicator_values": safe_values,
                    "inequality_measures": safe_measures,
                    # Drawn from the published values, so the limits rest on no hidden count.
                    "funnels": funnel_plots(safe_values, indicators),
                    "linkage": counts.linkage,
                    "completeness": control_completeness(
                        counts.completeness,
                        config.disclosure.policy,
                        config.disclosure.threshold,
                        config.disclosure.rounding,
                        config.disclosure.control_national,
                    ),
                    "input_notes": control_input_notes(
                        found_in_inputs,
                        config.disclosure.policy,
                        config.disclosure.threshold,
                        config.disclosure.rounding,
                        config.disclosure.control_national,
                    ),
                },
            )  # fmt: skip
            if then is not None:
                pause_point("monitor")
                try:
                    then(results, run_id)
                except GapwatchError as error:
                    raise type(error)(f"run {run_id} was not published: {error.message}") from error
            pause_point("publish:commit")
        pause_point("published")
    finally:
        results.close()
    return RunSummary(run_id, location, len(catalogue), len(safe_values), time.perf_counter() - clock)


def check_config_path(path: Path) -> None:
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give the run's YAML file (e.g. {path / 'gapwatch.yaml'})")
