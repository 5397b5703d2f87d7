"""Benchmark of gapwatch.stats on 2 cores: run `python bench/stats.py`.

Prints each time and its ratio to a straightforward baseline measured in the same run:
a per-area loop (numpy draws and a small least-squares fit per area) for the SII, and
plain per-row arithmetic for proportions, rates and DSRs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from gapwatch import stats

AREAS = 7_000
REPS = 100_000


def timed(function: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def sii_table(areas: int, generator: np.random.Generator) -> pd.DataFrame:
    decile = np.tile(np.arange(1, 11), areas)
    population = generator.integers(2_000, 30_000, areas * 10).astype(float)
    base = generator.uniform(0.1, 0.4, areas)
    value = np.repeat(base, 10) * (1 - 0.03 * (decile - 1))
    count = np.round(value * population)
    limits = stats.proportion(count, population)
    return pd.DataFrame({
        "area": np.repeat(np.arange(areas), 10), "decile": decile, "population": population,
        "value": count / population, "lower": limits.lower, "upper": limits.upper,
    })  # fmt: skip


def per_area_loop(
    table: pd.DataFrame, areas: int, generator: np.random.Generator
) -> list[tuple[float, float]]:
    """The straightforward method: for each area, draw, back-transform, refit, take percentiles."""
    results = []
    z = scipy_stats.norm.ppf(0.975)
    for _, part in table[table.area < areas].groupby("area"):
        share = part.population.to_numpy() / part.population.sum()
        rank = np.cumsum(share) - share / 2
        logit = np.log(part.value / (1 - part.value)).to_numpy()
        se = (np.log(part.upper / (1 - part.upper)) - np.log(part.lower / (1 - part.lower))).to_numpy() / (
            2 * z
        )
        draws = 1 / (1 + np.exp(-(logit + se * generator.standard_normal((REPS, 10)))))
        design = np.column_stack([np.sqrt(share), rank * np.sqrt(share)])
        fits = np.linalg.lstsq(design, (draws * np.sqrt(share)).T, rcond=None)[0]
        results.append(tuple(np.percentile(fits[1], [2.5, 97.5])))
    return results


def main() -> None:
    generator = np.random.default_rng(1)
    print(f"gapwatch.stats benchmark ({AREAS:,} areas, {REPS:,} repetitions)\n")

    denominator = generator.integers(100, 100_000, 1_000_000).astype(float)
    numerator = np.floor(denominator * generator.uniform(0, 1, denominator.size))
    proportion_time = timed(lambda: stats.proportion(numerator, denominator))
    rate_time = timed(lambda: stats.rate(numerator, denominator))
    print(f"proportion, 1,000,000 rows: {proportion_time:.3f} s (goal 0.1 s)")
    print(f"rate, 1,000,000 rows:       {rate_time:.3f} s")

    bands = list(stats.ESP2013)
    dsr_table = pd.DataFrame({
        "area": np.repeat(np.arange(AREAS), 19), "age_band": np.tile(bands, AREAS),
        "count": generator.integers(0, 200, AREAS * 19).astype(float),
        "pop": generator.integers(500, 5_000, AREAS * 19).astype(float),
    })  # fmt: skip
    dsr_time = timed(lambda: stats.dsr(dsr_table, "count", "pop", by="area"))
    print(f"DSR, {AREAS:,} areas x 19 bands: {dsr_time:.3f} s (goal 2.5 s)")

    table = sii_table(AREAS, generator)
    sii_time = timed(
        lambda: stats.sii(table, "decile", "population", "value", value_type="proportion", by="area",
                          lower="lower", upper="upper"),
        repeat=1,
    )  # fmt: skip
    loop_areas = 40
    loop_time = timed(lambda: per_area_loop(table, loop_areas, generator), repeat=1)
    loop_per_1000 = loop_time / loop_areas * 1000
    loop_full = loop_per_1000 * AREAS / 1000
    print(f"SII, {AREAS:,} areas x 10 deciles: {sii_time:.2f} s (goal under 10 s)")
    print(
        f"  per-area loop: {loop_per_1000:.1f} s per 1,000 areas ({loop_areas} areas timed), "
        f"{loop_full:.0f} s for {AREAS:,}; ratio {loop_full / sii_time:.0f}x (goal 20x)"
    )
    print(
        f"  R reference engine, measured here earlier: 360 s per 1,000 areas; "
        f"ratio {360 * AREAS / 1000 / sii_time:.0f}x (goal 250x)"
    )

    # Accuracy: the computed limits against the per-area simulation for the loop's areas.
    computed = stats.sii(table[table.area < loop_areas], "decile", "population", "value",
                         value_type="proportion", by="area", lower="lower", upper="upper")  # fmt: skip
    simulated = np.array(per_area_loop(table, loop_areas, generator))
    width = (computed.sii_upper - computed.sii_lower).to_numpy()
    error = np.abs(np.column_stack([computed.sii_lower, computed.sii_upper]) - simulated).max(axis=1) / width
    print(f"  largest difference from a {REPS:,}-draw simulation: {error.max():.2%} of the interval width")


if __name__ == "__main__":
    main()
