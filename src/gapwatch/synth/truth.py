"""The truth file: what each indicator's value should be, and the planted stories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gapwatch.synth import faults
from gapwatch.synth.calendar import Window
from gapwatch.synth.model import CLOSING_SHARE, OUTCOMES, STORY_EFFECT, story_of
from gapwatch.synth.people import CELLS_PER_ICB, GROUPS, QUINTILES
from gapwatch.synth.services import TruthRows


class TruthAccumulator:
    """Sums of generating probabilities and row counts by indicator, quarter and cell.

    Cells are ICB × IMD quintile × ethnic group (``People.cell``); the breakdowns of the
    truth file are sums over them. Each indicator's sums grow chunk by chunk in one
    process, so they do not depend on how work was shared between processes.
    """

    def __init__(self, window: Window, icb_codes: list[str]) -> None:
        self.window = window
        self.icb_codes = icb_codes
        self.quarters = (window.months + 2) // 3
        self.cells = len(icb_codes) * CELLS_PER_ICB
        self.sums: dict[str, np.ndarray] = {}
        self.counts: dict[str, np.ndarray] = {}

    def add(self, truths: list[TruthRows]) -> None:
        size = self.quarters * self.cells
        for truth in truths:
            if truth.indicator_id not in self.sums:
                self.sums[truth.indicator_id] = np.zeros(size)
                self.counts[truth.indicator_id] = np.zeros(size, dtype=np.int64)
            inside = (truth.period_index >= 0) & (truth.period_index < self.window.months)
            key = (truth.period_index[inside] // 3) * self.cells + truth.cell[inside]
            weights = truth.probability[inside]
            self.sums[truth.indicator_id] += np.bincount(key, weights=weights, minlength=size)
            self.counts[truth.indicator_id] += np.bincount(key, minlength=size)

    def merge(self, other: TruthAccumulator) -> None:
        """Take over the indicators another accumulator summed (each is summed in one place)."""
        for indicator in other.sums:
            if indicator in self.sums:
                raise ValueError(f"{indicator}: truth summed in two places")
            self.sums[indicator] = other.sums[indicator]
            self.counts[indicator] = other.counts[indicator]

    def table(self) -> pd.DataFrame:
        keys = ["indicator_id", "period", "icb_code", "breakdown", "group"]
        shape = (self.quarters, len(self.icb_codes), QUINTILES, len(GROUPS))
        parts = []
        for indicator in self.sums:
            sums = self.sums[indicator].reshape(shape)
            counts = self.counts[indicator].reshape(shape)
            margins = [
                ("overall", ["all"], sums.sum(axis=(2, 3))[..., None], counts.sum(axis=(2, 3))[..., None]),
                ("imd_quintile", [str(quintile) for quintile in range(1, QUINTILES + 1)],
                 sums.sum(axis=3), counts.sum(axis=3)),
                ("ethnic_group", GROUPS, sums.sum(axis=2), counts.sum(axis=2)),
            ]  # fmt: skip
            for breakdown, groups, summed, counted in margins:
                period, icb, group = np.nonzero(counted)
                parts.append(pd.DataFrame({
                    "indicator_id": indicator,
                    "period": period,
                    "icb_code": np.asarray(self.icb_codes, dtype=object)[icb],
                    "breakdown": breakdown,
                    "group": np.asarray(groups, dtype=object)[group],
                    "sum": summed[period, icb, group],
                    "count": counted[period, icb, group],
                }))  # fmt: skip
        total = pd.concat(parts, ignore_index=True).sort_values(keys, ignore_index=True)
        starts = self.window.month_start(total.period.to_numpy() * 3)
        ends = self.window.month_end(np.minimum(total.period.to_numpy() * 3 + 2, self.window.months - 1))
        return pd.DataFrame(
            {
                "indicator_id": total.indicator_id,
                "period_start": starts,
                "period_end": ends,
                "icb_code": total.icb_code,
                "breakdown": total.breakdown,
                "group": total.group,
                "expected_value": total["sum"] / total["count"],
                "rows": total["count"].astype(np.int64),
            }
        )


def stories(icb_codes: list[str], seed: int) -> list[dict[str, str]]:
    """Every ICB-indicator pair of the indicators that carry stories, with its story."""
    return [
        {
            "indicator_id": outcome.indicator_id,
            "icb_code": icb,
            "story": story_of(outcome.indicator_id, icb, seed),
        }
        for outcome in OUTCOMES.values()
        if outcome.story
        for icb in sorted(icb_codes)
    ]


def parameters(seed: int, persons: int, icb_codes: list[str], window: Window) -> dict[str, Any]:
    return {
        "seed": seed,
        "persons": persons,
        "icb_codes": sorted(icb_codes),
        "start": window.start,
        "months": window.months,
        "story_effect_log_odds": STORY_EFFECT,
        "gap_closing_share": CLOSING_SHARE,
        "outcomes": {
            key: {
                "national_level": outcome.level,
                "deprivation_log_odds_per_unit": outcome.deprivation,
                "ethnic_group_log_odds": outcome.ethnicity,
                "higher_is_better": outcome.higher_is_better,
                "icb_spread_log_odds": outcome.icb_spread,
                "has_story": outcome.story,
            }
            for key, outcome in OUTCOMES.items()
        },
        "faults": {
            "ethnicity_unrecorded_rate": faults.ETHNICITY_UNRECORDED,
            "poor_recorder_share": faults.POOR_RECORDER_SHARE,
            "lsoa_malformed_rate": faults.LSOA_MALFORMED,
            "lsoa_unknown_rate": faults.LSOA_UNKNOWN,
            "lsoa_other_vintage_rate": faults.LSOA_OLD_VINTAGE,
            "duplicate_rate": faults.DUPLICATE_RATE,
            "late_rate": faults.LATE_RATE,
        },
    }


def write(
    out: Path, accumulator: TruthAccumulator, about: dict[str, Any], organisations: pd.DataFrame
) -> None:
    accumulator.table().to_parquet(out / "truth.parquet", index=False)
    organisations.to_parquet(out / "truth_organisations.parquet", index=False)
    (out / "truth.json").write_text(json.dumps(about, indent=2, sort_keys=True) + "\n", encoding="utf-8")
