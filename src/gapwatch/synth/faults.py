"""Planted data-quality faults at known, documented rates.

Rates (recorded in the truth file): ethnicity unrecorded (missing, ``Z`` not stated or
``99`` not known) for 4% of people at most organisations and 25% at the one in five
that record poorly; LSOA codes malformed for 0.2% of people, well formed but unknown for
0.2% and of the 2011 vintage for 0.3%; 0.5% of event records duplicated; 2% of records
arriving more than two months late.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from gapwatch import refdata

ETHNICITY_UNRECORDED = {"good": 0.04, "poor": 0.25}
POOR_RECORDER_SHARE = 0.2
LSOA_MALFORMED = 0.002
LSOA_UNKNOWN = 0.002
LSOA_OLD_VINTAGE = 0.003
DUPLICATE_RATE = 0.005
LATE_RATE = 0.02


def poor_recorder(codes: np.ndarray, seed: int) -> np.ndarray:
    """Whether each organisation records ethnicity poorly: fixed per code and seed."""
    unique, inverse = np.unique(codes.astype(str), return_inverse=True)
    flags = np.array(
        [zlib.crc32(f"{seed}:{code}".encode()) % 1000 < POOR_RECORDER_SHARE * 1000 for code in unique]
    )
    return flags[inverse]


def unrecorded_rate(codes: np.ndarray, seed: int) -> np.ndarray:
    return np.where(poor_recorder(codes, seed), ETHNICITY_UNRECORDED["poor"], ETHNICITY_UNRECORDED["good"])


def _recorded_ethnicity(
    true: np.ndarray, organisation: np.ndarray, seed: int, rng: np.random.Generator
) -> np.ndarray:
    lost = rng.random(true.size) < unrecorded_rate(organisation, seed)
    kind = rng.random(true.size)
    recorded = true.astype(object).copy()
    recorded[lost & (kind < 0.4)] = None
    recorded[lost & (kind >= 0.4) & (kind < 0.7)] = "Z"
    recorded[lost & (kind >= 0.7)] = "99"
    return recorded


def _old_codes() -> np.ndarray:
    new = set(refdata.lsoa(2021).lsoa_code)
    return np.array(sorted(set(refdata.lsoa(2011).lsoa_code) - new))


def record(people: pd.DataFrame, seed: int, rng: np.random.Generator) -> pd.DataFrame:
    """Add the demographics as organisations recorded them, faults included."""
    count = len(people)
    draw = rng.random(count)
    lsoa = people.true_lsoa_code.to_numpy().astype(object).copy()
    malformed = draw < LSOA_MALFORMED
    unknown = (draw >= LSOA_MALFORMED) & (draw < LSOA_MALFORMED + LSOA_UNKNOWN)
    old = (draw >= LSOA_MALFORMED + LSOA_UNKNOWN) & (draw < LSOA_MALFORMED + LSOA_UNKNOWN + LSOA_OLD_VINTAGE)
    lsoa[malformed] = np.char.add("E01", rng.integers(0, 9999, int(malformed.sum())).astype(str))
    lsoa[unknown] = np.char.add("E0109", rng.integers(0, 9999, int(unknown.sum())).astype(str).astype("U4"))
    lsoa[unknown] = [code.ljust(9, "0") for code in lsoa[unknown]]
    lsoa[old] = rng.choice(_old_codes(), size=int(old.sum()))
    people["lsoa_code"] = lsoa
    people["lsoa_fault"] = np.select([malformed, unknown, old], ["malformed", "unknown", "other_vintage"], "")
    true = people.true_ethnic_category.to_numpy()
    people["gp_ethnic_category"] = _recorded_ethnicity(true, people.gp_practice_code.to_numpy(), seed, rng)
    people["trust_ethnic_category"] = _recorded_ethnicity(true, people.provider_code.to_numpy(), seed, rng)
    return people


def received_dates(period_end: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """When each record arrived: five days after its period, or 60 to 120 days for late ones."""
    late = rng.random(period_end.size) < LATE_RATE
    delay = np.where(late, rng.integers(60, 121, period_end.size), 5)
    return (period_end + delay.astype("timedelta64[D]")).astype("datetime64[D]")


def duplicate(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Repeat a random 0.5% of records, as double submissions do."""
    chosen = rng.random(len(frame)) < DUPLICATE_RATE
    if not chosen.any():
        return frame
    return pd.concat([frame, frame[chosen]], ignore_index=True).sort_values(
        ["person_id"], kind="stable", ignore_index=True
    )
