"""``count``: every cell of every indicator, one grouping-sets scan per source table.

The engine is layered inside; this module is its top:

* :mod:`gapwatch.engine.scans` plans the scans (indicators that share a source, date
  column and period type);
* :mod:`gapwatch.engine.codes` numbers places and person groups;
  :mod:`gapwatch.engine.linking` links each source's distinct LSOA codes once;
* :mod:`gapwatch.engine.prepare` builds each source's prepared expression (linking and
  codes), compiled once;
* :mod:`gapwatch.engine.grouping` writes the ``GROUP BY GROUPING SETS`` statement;
* :mod:`gapwatch.engine.rollup` sums its small answer into every area and group;
* :mod:`gapwatch.engine.jobs` runs each scan as a job, :mod:`gapwatch.engine.populations`
  counts population denominators, and :mod:`gapwatch.engine.completeness` counts the
  completeness of each source, inside its first quarterly counts scan where it can;
* what the engine works out once is kept in its session (:mod:`gapwatch.engine.session`).

Codes are never missing (a missing or invalid field is code 0, the group ``unknown``),
so the missing columns of a result row say which grouping set it belongs to. Only
aggregates leave the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from gapwatch.engine import completeness
from gapwatch.engine.backends import Engine, Job
from gapwatch.engine.frames import CELL_ORDER, concat_categorical
from gapwatch.engine.jobs import ScanResult, scan_job
from gapwatch.engine.linking import link_sources, linkage
from gapwatch.engine.populations import (
    GROUP_KEYS,
    count_population,
    plan_populations,
    standardised,
    with_population,
)
from gapwatch.engine.scans import fold_completeness, plan_scans
from gapwatch.engine.validate import check_source
from gapwatch.model.catalogue import STANDARDISED, Indicator
from gapwatch.model.config import RunConfig


@dataclass
class Counts:
    """Tidy counts for every indicator cell; the only thing the engine hands on."""

    cells: pd.DataFrame
    histograms: pd.DataFrame
    linkage: pd.DataFrame
    sources: dict[str, int] = field(default_factory=dict)
    completeness: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Numerator and population of each directly standardised rate's cells by five-year
    #: age band (``standard_age``); bands without population are left out.
    standardised: pd.DataFrame = field(default_factory=pd.DataFrame)


def count(
    engine: Engine,
    indicators: Sequence[Indicator],
    config: RunConfig,
    progress: Callable[[str, int, int], None] | None = None,
) -> Counts:
    """Count every cell of every indicator: one grouping-sets scan per source table."""
    areas = list(config.areas)
    scans = plan_scans(indicators)
    sources = sorted({scan.source for scan in scans})
    for source in sources:
        check_source(engine, source, [i for i in indicators if i.source == source], config)
    populations = sorted({str(i.denominator.population) for i in indicators if i.denominator.population})
    for population_source in populations:
        check_source(engine, population_source, [], config, population=True)
    folded, own_completeness = fold_completeness(scans)
    # Jobs start when run (:meth:`Engine.run_jobs`), not when made.
    jobs: list[Job[Any]] = [
        scan_job(engine, scan, config, areas, fold) for scan, fold in zip(scans, folded, strict=True)
    ]
    details = [f"{scan.source}: {', '.join(i.id for i in scan.indicators)}" for scan in scans]
    population_plans = plan_populations(engine, indicators)
    for plan in population_plans:
        jobs.append(count_population(engine, plan, config, areas))
        details.append(f"{plan.source} (population denominators)")
    for source, date_column in own_completeness:
        jobs.append(completeness.completeness(engine, source, date_column, config))
        details.append(f"{source}: completeness of ethnicity, LSOA, sex and age")
    step, steps = 0, 1 + len(jobs)

    def advance(detail: str) -> None:
        nonlocal step
        step += 1
        if progress:
            progress(detail, step, steps)

    advance("checking inputs and LSOA linkage")
    link_sources(engine, [*sources, *populations], config.lsoa_vintage)
    linked = [linkage(engine, source, config.lsoa_vintage) for source in sources]
    source_rows = {
        source: int(summary["rows"].sum()) for source, summary in zip(sources, linked, strict=True)
    }
    results = engine.run_jobs(jobs, finished=lambda index: advance(details[index]))
    scanned: list[ScanResult] = results[: len(scans)]
    population_counts: list[pd.DataFrame] = results[len(scans) : len(scans) + len(population_plans)]
    # Each indicator's cells come from one scan, already in order (see :func:`scan_job`):
    # put in order of indicator, they are in the order of every cell.
    parts = {name: part for result in scanned for name, part in result.parts.items()}
    columns = list(dict.fromkeys(column for part in parts.values() for column in part.columns))
    histogram_frames = [result.histograms for result in scanned if not result.histograms.empty]
    age_frames = [result.by_age for result in scanned if not result.by_age.empty]
    quality_frames = [result.completeness for result, fold in zip(scanned, folded, strict=True) if fold]
    quality_frames += results[len(scans) + len(population_plans) :]
    by_band: list[pd.DataFrame] = []
    with_people: dict[str, pd.DataFrame] = {}
    for plan, by_age in zip(population_plans, population_counts, strict=True):
        people = cast(
            pd.DataFrame, by_age.groupby(GROUP_KEYS, sort=False, as_index=False)["population"].sum()
        )
        for indicator in plan.members:
            if indicator.id not in parts:
                continue
            # Every group with people is a cell, with 0 events where it had none.
            joined = with_population(parts[indicator.id], people, list(indicator.breakdowns))
            with_people[indicator.id] = joined
            if indicator.measure == STANDARDISED:
                by_band.append(standardised(indicator, joined, by_age, age_frames))
    # Cells whose denominators are populations come last, in the order they were joined.
    frames = [parts[name] for name in sorted(parts) if name not in with_people]
    frames += with_people.values()
    # Population denominators are joined after the scans: a run whose indicators all have
    # them has no denominator column in any scan's cells.
    if with_people and "denominator" not in columns:
        at = columns.index("numerator") + 1 if "numerator" in columns else len(columns)
        columns.insert(at, "denominator")
    cells = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame()
    bands = pd.concat(by_band, ignore_index=True) if by_band else pd.DataFrame()
    if not bands.empty:
        bands = bands.sort_values([*CELL_ORDER, "standard_age"], kind="stable", ignore_index=True)
    # Histograms keep the order the engine gave: the statistics sort each cell's values.
    return Counts(
        cells,
        concat_categorical(histogram_frames),
        pd.concat(linked, ignore_index=True),
        source_rows,
        completeness.combined(quality_frames),
        bands,
    )
