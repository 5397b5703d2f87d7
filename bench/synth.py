"""Benchmark of the synthetic-data generator: `python bench/synth.py [--persons N]`.

Prints wall time, peak memory and rows per second for each table. The baseline is the
same generator at 100,000 persons measured in the same run, so the scaling ratio shows
whether time grows linearly with people.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from gapwatch.synth import generate


def run(persons: int) -> tuple[float, dict[str, int], dict[str, float]]:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        summary = generate(persons, 1, Path(folder) / "out")
        return time.perf_counter() - start, summary.rows, summary.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    arguments = parser.parse_args()
    base_time, _, _ = run(100_000)
    print(f"baseline: 100,000 persons in {base_time:.1f} s")
    wall, rows, seconds = run(arguments.persons)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"{arguments.persons:,} persons in {wall:.1f} s, peak memory {peak:.2f} GB")
    print(f"scaling: {wall / base_time:.1f}x the baseline for {arguments.persons / 100_000:.0f}x the people")
    for table, count in sorted(rows.items()):
        rate = count / seconds[table] if seconds.get(table) else float("nan")
        print(f"  {table:28s} {count:>12,} rows  {rate:>12,.0f} rows/s")


if __name__ == "__main__":
    main()
