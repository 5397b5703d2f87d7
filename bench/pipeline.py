"""Benchmark of the whole catalogue: `python bench/pipeline.py --persons N`.

Generates N synthetic people (cached under ``$GAPWATCH_BENCH_DATA`` or a temporary folder),
runs every indicator of the shipped catalogue on DuckDB and prints wall time and peak
memory, with two ratios measured in the same run:

* against the floor: the SQL the engine generated, replayed directly in DuckDB with the
  results fetched as Arrow (each source's distinct LSOA codes, its counts with its
  completeness, a histogram for each median or percentile, the duplicates' window and the
  population counts; no Ibis compilation, no Python after the query: what is left when
  the engine's own overhead is taken away);
* against pandas: the same counts computed the straightforward way (load each table,
  join the LSOA lookup, one ``groupby`` per area type and breakdown, and the completeness
  counts; it skips the value histograms of medians and percentiles and the population
  denominators, so it flatters pandas slightly).

Goals (issue 5): within 2x of the floor, at least 10x faster than pandas at 1,000,000
people, and 10,000,000 people in at most 2 minutes and 6 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gapwatch import refdata
from gapwatch.engine.backends import engine_for, find_input
from gapwatch.engine.counts import count
from gapwatch.engine.grouping import grouping_sets
from gapwatch.model.catalogue import load_catalogue
from gapwatch.model.config import RunConfig
from gapwatch.pipeline import run
from gapwatch.refdata.ages import band_labels, band_starts
from gapwatch.synth import generate


def _data(persons: int) -> Path:
    root = Path(os.environ.get("GAPWATCH_BENCH_DATA", tempfile.gettempdir())) / f"gapwatch-bench-{persons}"
    if not (root / "truth.json").exists():
        print(f"generating {persons:,} synthetic people into {root} …", flush=True)
        generate(persons, 1, root, overwrite=True)
    return root


def _config(data: Path, store: Path) -> RunConfig:
    return RunConfig.model_validate(
        {"data": str(data), "periods": {"start": "2023-04", "end": "2026-03"}, "store": str(store)}
    )


def _evaluate(node: ast.expr, frame: pd.DataFrame) -> pd.Series:
    """The catalogue's expression language evaluated with pandas (the baseline's own interpreter)."""
    match node:
        case ast.Name(id=name):
            return frame[name]
        case ast.Constant(value=value):
            return pd.Series(value, index=frame.index)
        case ast.BoolOp(op=op, values=values):
            result = _evaluate(values[0], frame).fillna(False).astype(bool)
            for value in values[1:]:
                other = _evaluate(value, frame).fillna(False).astype(bool)
                result = result & other if isinstance(op, ast.And) else result | other
            return result
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return ~_evaluate(operand, frame).fillna(False).astype(bool)
        case ast.Compare(left=left, ops=[ast.IsNot()], comparators=[_]):
            return _evaluate(left, frame).notna()
        case ast.Compare(left=left, ops=[ast.Is()], comparators=[_]):
            return _evaluate(left, frame).isna()
        case ast.Compare(left=left, ops=[ast.In()], comparators=[ast.List(elts=items)]):
            return _evaluate(left, frame).isin(
                [item.value for item in items if isinstance(item, ast.Constant)]
            )
        case ast.Compare(left=left, ops=[op], comparators=[right]):
            operations = {ast.Eq: "__eq__", ast.NotEq: "__ne__", ast.Lt: "__lt__", ast.LtE: "__le__",
                          ast.Gt: "__gt__", ast.GtE: "__ge__"}  # fmt: skip
            return getattr(_evaluate(left, frame), operations[type(op)])(_evaluate(right, frame))
        case ast.Call(func=ast.Name(id="days"), args=[start, end]):
            return (pd.to_datetime(_evaluate(end, frame)) - pd.to_datetime(_evaluate(start, frame))).dt.days
        case ast.Call(func=ast.Name(id="month"), args=[date]):
            return pd.to_datetime(_evaluate(date, frame)).dt.month
    raise NotImplementedError(ast.unparse(node))


def _pandas_completeness(frame: pd.DataFrame, date_column: str, config: RunConfig) -> int:
    """The completeness counts (``gapwatch.engine.completeness``) of one table, in pandas."""
    dates = pd.to_datetime(frame[date_column])
    first, last = pd.Timestamp(config.periods.first_day), pd.Timestamp(config.periods.last_day)
    inside = (dates >= first) & (dates <= last)
    part = frame.loc[inside]
    dates = dates[inside]
    received = pd.to_datetime(part["received_date"]) if "received_date" in part else dates
    person = part["person_id"] if "person_id" in part else pd.Series(range(len(part)), index=part.index)
    counts = pd.DataFrame({
        "period_start": dates.dt.to_period("Q").dt.start_time,
        "icb_code": part["icb_code"], "organisation_code": part["organisation_code"], "records": 1,
        "ethnicity_valid": part["ethnic_category"] != "unknown",
        "lsoa_valid": part["imd_decile"] != "unknown",
        "sex_valid": part["sex"] != "unknown", "age_valid": part["age"].between(0, 120),
        "late": (received - dates).dt.days > 45,
        "duplicates": part.groupby([person, dates]).cumcount() > 0,
    })  # fmt: skip
    cells = 0
    for keys in (["period_start"], ["period_start", "icb_code"], ["period_start", "organisation_code"]):
        cells += len(counts.groupby(keys).sum())
    return cells


def _pandas_counts(data: Path, config: RunConfig) -> int:
    """The same counts in plain pandas: the baseline an analyst would write by hand."""
    catalogue = load_catalogue()
    lookup = refdata.lsoa(2021)
    categories = refdata.ethnic_categories()
    valid = categories[categories["valid"]]
    to_group = dict(zip(valid["code"], valid["group"], strict=True))
    bands = band_starts("10y")
    labels = np.array(band_labels("10y"), dtype=object)
    cells = 0
    for source in sorted({indicator.source for indicator in catalogue}):
        indicators = [indicator for indicator in catalogue if indicator.source == source]
        frame = pd.read_parquet(find_input(data, source))
        frame = frame.merge(lookup, on="lsoa_code", how="left")
        for column in ("region_code", "icb_code", "sicbl_code", "ltla_code"):
            frame[column] = frame[column].fillna("unknown")
        organisation = "provider_code" if "provider_code" in frame else "gp_practice_code"
        frame["organisation_code"] = frame[organisation].fillna("unknown")
        frame["imd_quintile"] = frame["imd_quintile"].astype("string").fillna("unknown")
        frame["imd_decile"] = frame["imd_decile"].astype("string").fillna("unknown")
        frame["core20"] = np.where(
            frame["core20"].isna(), "unknown", np.where(frame["core20"].astype(bool), "core20", "rest")
        )
        frame["ethnic_group"] = frame["ethnic_category"].map(to_group).fillna("unknown")
        frame["ethnic_category"] = frame["ethnic_category"].where(
            frame["ethnic_category"].isin(to_group), "unknown"
        )
        frame["age_band"] = labels[np.searchsorted(bands, frame["age"].to_numpy(), side="right") - 1]
        frame["sex"] = frame["sex"].map({"1": "male", "2": "female"}).fillna("unknown")
        for flag in ("learning_disability", "autism", "serious_mental_illness"):
            frame[flag] = np.where(frame[flag], "yes", "no")
        cells += _pandas_completeness(frame, indicators[0].date_column, config)
        for indicator in indicators:
            dates = pd.to_datetime(frame[indicator.date_column])
            inside = (dates >= pd.Timestamp(config.periods.first_day)) & (
                dates <= pd.Timestamp(config.periods.last_day)
            )
            part = frame.loc[inside].copy()
            part["period_start"] = dates[inside].dt.to_period("Q").dt.start_time
            expressions = indicator.expressions()
            where = pd.Series(True, index=part.index)
            if "denominator.where" in expressions:
                where = _evaluate(expressions["denominator.where"].tree, part).fillna(False).astype(bool)
            amount = (_evaluate(expressions["denominator.sum"].tree, part) if "denominator.sum" in expressions
                      else pd.Series(1.0, index=part.index))  # fmt: skip
            part["denominator"] = np.where(where, amount, 0.0)
            numerator = where.copy()
            if "numerator.where" in expressions:
                numerator &= _evaluate(expressions["numerator.where"].tree, part).fillna(False).astype(bool)
            amount = (_evaluate(expressions["numerator.sum"].tree, part) if "numerator.sum" in expressions
                      else pd.Series(1.0, index=part.index))  # fmt: skip
            part["numerator"] = np.where(numerator, amount, 0.0)
            for _area, _breakdown, columns in grouping_sets(config.areas, indicator.breakdowns, config):
                keys = ["period_start", *columns]
                cells += len(part.groupby(keys, observed=True)[["numerator", "denominator"]].sum())
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--skip-pandas", action="store_true", help="Do not run the pandas baseline.")
    arguments = parser.parse_args()
    data = _data(arguments.persons)
    with tempfile.TemporaryDirectory() as folder:
        config = _config(data, Path(folder) / "results.duckdb")
        marks: list[tuple[str, float]] = []

        def progress(stage: str, detail: str, step: int, steps: int) -> None:
            marks.append((stage, time.perf_counter()))

        start = time.perf_counter()
        summary = run(config, progress=progress)
        wall = time.perf_counter() - start
        marks.append(("", time.perf_counter()))
        stages: dict[str, float] = {}
        for (stage, began), (_, ended) in itertools.pairwise(marks):
            stages[stage] = stages.get(stage, 0.0) + ended - began
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(f"gapwatch run: {arguments.persons:,} persons, {summary.indicators} indicators, "
              f"{summary.cells:,} cells in {wall:.1f} s; peak memory {peak:.2f} GB")  # fmt: skip
        print("  by stage: " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in stages.items()))

        with engine_for("duckdb") as engine:
            for table in sorted({i.source for i in load_catalogue()} | {"persons"}):
                engine.register_file(table, find_input(data, table))
            start = time.perf_counter()
            count(engine, list(load_catalogue()), config)
            counting = time.perf_counter() - start
            statements = list(engine.executed)
            start = time.perf_counter()
            for statement in statements:
                engine.connection.con.sql(statement).to_arrow_table()  # type: ignore[attr-defined]
            floor = time.perf_counter() - start
        print(f"engine counting: {counting:.1f} s; floor (its SQL replayed in DuckDB): {floor:.1f} s "
              f"-> {counting / floor:.2f}x the floor (goal <= 2x)")  # fmt: skip
        if not arguments.skip_pandas:
            start = time.perf_counter()
            cells = _pandas_counts(data, config)
            baseline = time.perf_counter() - start
            print(f"pandas baseline: {cells:,} cells in {baseline:.1f} s -> gapwatch counting is "
                  f"{baseline / counting:.1f}x faster (goal >= 10x)")  # fmt: skip


if __name__ == "__main__":
    main()
