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
from gapwatch.synth.services import TruthRows


class TruthAccumulator:
    """Sums of generating probabilities by indicator, quarter, ICB and group."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.parts: list[pd.DataFrame] = []

    def add(self, people: pd.DataFrame, truths: list[TruthRows]) -> None:
        for truth in truths:
            if truth.rows.size == 0:
                continue
            inside = (truth.period_index >= 0) & (truth.period_index < self.window.months)
            rows = truth.rows[inside]
            frame = pd.DataFrame(
                {
                    "indicator_id": truth.indicator_id,
                    "period": truth.period_index[inside] // 3,
                    "icb_code": people.icb_code.to_numpy()[rows],
                    "imd_quintile": people.imd_quintile.to_numpy()[rows].astype(str),
                    "ethnic_group": people.true_ethnic_group.to_numpy()[rows],
                    "probability": truth.probability[inside],
                }
            )
            for breakdown, column in (("overall", None), ("imd_quintile", "imd_quintile"),
                                      ("ethnic_group", "ethnic_group")):  # fmt: skip
                keys = ["indicator_id", "period", "icb_code"] + ([column] if column else [])
                summed = frame.groupby(keys, sort=False).probability.agg(["sum", "count"]).reset_index()
                summed["breakdown"] = breakdown
                summed["group"] = summed[column] if column else "all"
                self.parts.append(
                    summed[["indicator_id", "period", "icb_code", "breakdown", "group", "sum", "count"]]
                )

    def table(self) -> pd.DataFrame:
        keys = ["indicator_id", "period", "icb_code", "breakdown", "group"]
        total = (
            pd.concat(self.parts, ignore_index=True)
            .groupby(keys, sort=True)[["sum", "count"]]
            .sum()
            .reset_index()
        )
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
