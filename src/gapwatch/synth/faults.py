"""Planted data-quality faults at known, documented rates.

Rates (recorded in the truth file): ethnicity unrecorded (missing, ``Z`` not stated or
``99`` not known) for 4% of people at most organisations and 25% at the one in five
that record poorly; LSOA codes malformed for 0.2% of people, well formed but unknown for
0.2% and of the 2011 vintage for 0.3%; 0.5% of event records duplicated; 2% of records
arriving more than two months late.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from gapwatch import refdata
from gapwatch.synth.columns import MISSING
from gapwatch.synth.people import CATEGORIES

ETHNICITY_UNRECORDED = {"good": 0.04, "poor": 0.25}
POOR_RECORDER_SHARE = 0.2
LSOA_MALFORMED = 0.002
LSOA_UNKNOWN = 0.002
LSOA_OLD_VINTAGE = 0.003
DUPLICATE_RATE = 0.005
LATE_RATE = 0.02
#: Ethnic categories as recorded: the true ones, then "not stated" and "not known".
RECORDED_CATEGORIES = [*CATEGORIES, "Z", "99"]
NOT_STATED = len(CATEGORIES)
NOT_KNOWN = NOT_STATED + 1
#: Malformed and unknown LSOA codes are built from a number below this.
FAULT_NUMBERS = 9999


def poor_recorder(codes: np.ndarray, seed: int) -> np.ndarray:
    """Whether each organisation records ethnicity poorly: fixed per code and seed."""
    unique, inverse = np.unique(codes.astype(str), return_inverse=True)
    flags = np.array(
        [zlib.crc32(f"{seed}:{code}".encode()) % 1000 < POOR_RECORDER_SHARE * 1000 for code in unique],
        dtype=bool,
    )
    return flags[inverse]


def unrecorded_rate(codes: np.ndarray, seed: int) -> np.ndarray:
    return np.where(poor_recorder(codes, seed), ETHNICITY_UNRECORDED["poor"], ETHNICITY_UNRECORDED["good"])


def _old_codes() -> np.ndarray:
    new = set(refdata.lsoa(2021).lsoa_code)
    return np.array(sorted(set(refdata.lsoa(2011).lsoa_code) - new))


@dataclass(frozen=True)
class LsoaCodes:
    """Every LSOA code a record can carry: the true codes in scope, then the faulty ones.

    Malformed codes are ``E01`` and a number below ``FAULT_NUMBERS`` (too short to be a
    code); unknown ones are ``E0109`` and the first four digits of such a number, padded
    to nine characters with zeros (well formed, but no LSOA has them); old ones are 2011
    codes that no longer exist in 2021.
    """

    codes: np.ndarray
    malformed_first: int
    unknown_first: int
    unknown_of_number: np.ndarray  # numbers give the same unknown code when their digits do
    old_first: int
    old_count: int


def lsoa_codes(true_codes: np.ndarray) -> LsoaCodes:
    numbers = np.arange(FAULT_NUMBERS).astype(str)
    malformed = np.char.add("E01", numbers)
    unknown, unknown_of_number = np.unique(
        np.char.ljust(np.char.add("E0109", numbers.astype("U4")), 9, "0"), return_inverse=True
    )
    old = _old_codes()
    codes = np.concatenate([true_codes.astype(str), malformed, unknown, old])
    return LsoaCodes(
        codes=codes,
        malformed_first=true_codes.size,
        unknown_first=true_codes.size + malformed.size,
        unknown_of_number=unknown_of_number.astype(np.int32),
        old_first=true_codes.size + malformed.size + unknown.size,
        old_count=old.size,
    )


def _recorded_ethnicity(true: np.ndarray, poor: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    lost = rng.random(true.size) < np.where(poor, ETHNICITY_UNRECORDED["poor"], ETHNICITY_UNRECORDED["good"])
    kind = rng.random(true.size)
    recorded = true.astype(np.int8)
    recorded[lost & (kind < 0.4)] = MISSING
    recorded[lost & (kind >= 0.4) & (kind < 0.7)] = NOT_STATED
    recorded[lost & (kind >= 0.7)] = NOT_KNOWN
    return recorded


def record(
    true_lsoa: np.ndarray,
    true_category: np.ndarray,
    poor_practice: np.ndarray,
    poor_trust: np.ndarray,
    codes: LsoaCodes,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """The LSOA and ethnic categories as organisations recorded them, faults included.

    ``poor_practice`` and ``poor_trust`` say, per person, whether their practice and
    trust record ethnicity poorly.
    """
    count = true_lsoa.size
    draw = rng.random(count)
    lsoa = true_lsoa.astype(np.int32)
    malformed = draw < LSOA_MALFORMED
    unknown = (draw >= LSOA_MALFORMED) & (draw < LSOA_MALFORMED + LSOA_UNKNOWN)
    old = (draw >= LSOA_MALFORMED + LSOA_UNKNOWN) & (draw < LSOA_MALFORMED + LSOA_UNKNOWN + LSOA_OLD_VINTAGE)
    lsoa[malformed] = codes.malformed_first + rng.integers(0, FAULT_NUMBERS, int(malformed.sum()))
    lsoa[unknown] = (
        codes.unknown_first + codes.unknown_of_number[rng.integers(0, FAULT_NUMBERS, int(unknown.sum()))]
    )
    lsoa[old] = codes.old_first + rng.integers(0, codes.old_count, int(old.sum()))
    return {
        "lsoa": lsoa,
        "gp_category": _recorded_ethnicity(true_category, poor_practice, rng),
        "trust_category": _recorded_ethnicity(true_category, poor_trust, rng),
    }


def received_dates(period_end: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """When each record arrived: five days after its period, or 60 to 120 days for late ones."""
    late = rng.random(period_end.size, dtype=np.float32) < LATE_RATE
    delay = np.full(period_end.size, 5, dtype=np.int64)
    delay[late] = rng.integers(60, 121, int(late.sum()))
    return period_end.astype("datetime64[D]") + delay.astype("timedelta64[D]")


def duplicated(person_id: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row order that repeats a random 0.5% of records, as double submissions do.

    Repeats follow their original, rows staying in person order.
    """
    rows = np.arange(person_id.size)
    chosen = np.flatnonzero(rng.random(person_id.size) < DUPLICATE_RATE)
    if chosen.size == 0:
        return rows
    order = np.concatenate([rows, chosen])
    result: np.ndarray = order[np.argsort(person_id[order], kind="stable")]
    return result
