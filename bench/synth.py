"""Benchmark of the synthetic-data generator: `python bench/synth.py [--persons N]`.

Prints wall time, peak memory, CPU time and rows per second for each table. The baseline
is the same generator at 100,000 persons measured in the same run, so the scaling ratio
shows whether time grows linearly with people (the baseline carries the fixed cost of
reading the reference data, so the ratio is below linear). Big runs share the tables out
over worker processes: each table's rate is its rows over the time the process that made
it spent drawing and writing them, and the tables made side by side add up to more than
the overall rate. Output goes to a temporary folder (set TMPDIR to choose where).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

from gapwatch.synth.generate import SynthSummary, default_workers, generate_with_workers

BASELINE = 100_000
SAMPLE_SECONDS = 0.1


def _resident_bytes(pid: int) -> tuple[int, list[int]]:
    """Resident memory of one process and the ids of its children (0 and none once it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            resident = next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:")), 0)
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return resident, [int(child) for child in children.read().split()]
    except (OSError, StopIteration):
        return 0, []


def _tree_resident_bytes() -> int:
    """Resident memory of this process and all its descendants together."""
    total, waiting = 0, [os.getpid()]
    while waiting:
        resident, children = _resident_bytes(waiting.pop())
        total += resident
        waiting += children
    return total


class PeakMemory:
    """The highest resident memory of this process tree while the block runs, sampled."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_resident_bytes())
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exception: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu_seconds() -> float:
    """CPU time of this process and of the workers it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(persons: int, workers: int) -> tuple[float, float, int, SynthSummary]:
    """Wall seconds, CPU seconds, peak bytes and the summary of one run."""
    with tempfile.TemporaryDirectory(prefix="gapwatch-bench-synth-") as folder, PeakMemory() as memory:
        cpu, start = _cpu_seconds(), time.perf_counter()
        out = Path(folder) / "out"
        summary = generate_with_workers(persons, 1, out, None, "2023-04", 36, False, None, workers)
        wall = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu
    return wall, cpu, memory.peak, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, help="worker processes (default: as generate picks)")
    parser.add_argument("--skip-baseline", action="store_true", help="do not time 100,000 persons first")
    arguments = parser.parse_args()
    workers = arguments.workers or default_workers(arguments.persons)
    base_time = None
    if not arguments.skip_baseline:
        base_time, base_cpu, _, _ = run(BASELINE, default_workers(BASELINE))
        print(f"baseline: {BASELINE:,} persons in {base_time:.1f} s ({base_cpu:.1f} s CPU)")
    wall, cpu, peak, summary = run(arguments.persons, workers)
    # ru_maxrss is in kilobytes; for children, that of the largest one waited for.
    largest = max(
        resource.getrusage(who).ru_maxrss for who in [resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN]
    )
    total = sum(summary.rows.values())
    print(
        f"{arguments.persons:,} persons with {workers} worker process(es) in {wall:.1f} s "
        f"({cpu:.1f} s CPU), {total:,} rows ({total / wall:,.0f} rows/s overall)"
    )
    print(
        f"peak memory {peak / 1024**3:.2f} GB (this process and its workers together, sampled every "
        f"{SAMPLE_SECONDS} s); largest single process {largest / 1024**2:.2f} GB"
    )
    if base_time is not None:
        ratio = arguments.persons / BASELINE
        print(f"scaling: {wall / base_time:.1f}x the baseline for {ratio:.0f}x the people")
    print("rows per second of each table: its rows over the time its process spent drawing and writing it")
    for table, count in summary.rows.items():
        rate = count / summary.seconds[table] if summary.seconds.get(table) else float("nan")
        seconds = summary.seconds.get(table, 0.0)
        print(f"  {table:28s} {count:>12,} rows  {seconds:7.1f} s  {rate:>12,.0f} rows/s")


if __name__ == "__main__":
    main()
