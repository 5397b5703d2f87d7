"""Statistical disclosure control, applied to every result before it is stored.

Policies (named in the run configuration and recorded with each run):

* ``nhs-digital`` (default): NHS Digital's automated method for secondary-care
  statistics. Below national level, counts from 1 to the threshold (7) are replaced by a
  suppression marker and all other counts are rounded to the nearest 5; values are
  withheld with their limits and comparisons when their numerator or denominator is
  suppressed. Given the indicators (as the pipeline gives them), proportions and crude
  rates are then recomputed from the rounded counts, limits included (see
  :mod:`gapwatch.disclosure.published`), and complementary cells are suppressed where
  rounded totals minus rounded parts would pin a hidden count (see
  :mod:`gapwatch.disclosure.differencing`). National (England) figures are controlled
  the same way unless ``control_national`` is false (then they are published exactly).
* ``secondary-suppression``: see :mod:`gapwatch.disclosure.secondary`.
* ``none``: nothing is controlled (for analysts' own secure environments only).

>>> import pandas as pd
>>> cells = pd.DataFrame({"area_type": ["icb", "icb", "england"], "numerator": [3.0, 12.0, 3.0],
...                       "denominator": [40.0, 41.0, 81.0], "value": [7.5, 29.3, 3.7],
...                       "lower": [2.6, 17.6, 1.3], "upper": [19.9, 44.5, 10.3], "note": ""})
>>> safe = nhs_digital(cells, control_national=False)
>>> safe[["numerator", "denominator", "value", "suppressed"]]
   numerator  denominator  value  suppressed
0        NaN         40.0    NaN        True
1       10.0         40.0   29.3       False
2        3.0         81.0    3.7       False
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gapwatch.disclosure.differencing import protect_from_differencing, protect_record_counts
from gapwatch.disclosure.published import (
    Described,
    blank_suppressed,
    from_rounded_counts,
    recompare,
    reword_completeness_warnings,
    rounded_completeness,
)
from gapwatch.disclosure.secondary import secondary_suppression
from gapwatch.errors import ConfigError
from gapwatch.stats._frames import text_from_codes

POLICIES = ("nhs-digital", "secondary-suppression", "none")
MIN_RECORDS_FOR_SHARE = 100
VALUE_COLUMNS = ("value", "lower", "upper")


def _add_note(notes: pd.Series, where: np.ndarray, text: str) -> pd.Series:
    notes = notes.fillna("").astype(str)
    if not where.any():
        return notes
    # A column of millions of notes holds few distinct ones: each is edited once, and the
    # column rebuilt from codes, far cheaper than editing or converting every row.
    codes, distinct = pd.factorize(notes, use_na_sentinel=False)
    existing = np.asarray(distinct, dtype=object)
    edited = np.where(existing == "", text, existing + ("; " + text))
    codes = np.where(where, codes + len(existing), codes)
    return text_from_codes(codes, [*existing, *edited], notes.index, notes.dtype)


def _withhold(frame: pd.DataFrame, where: np.ndarray, column: str) -> None:
    """Set ``column`` missing where ``where``, in place, as ``frame.loc[where, column] = nan`` does."""
    if frame[column].dtype == np.float64:
        # A whole float column is replaced: far cheaper than a masked assignment.
        frame[column] = np.where(where, np.nan, frame[column].to_numpy())
    else:
        frame.loc[where, column] = np.nan


def _key_ids(frames: list[pd.DataFrame], keys: list[str]) -> list[np.ndarray]:
    """One integer per row of each frame for its ``keys`` (from 0 up), equal across frames
    where the keys are (missing values equal to each other, as a merge matches them)."""
    lengths = np.cumsum([0, *(len(frame) for frame in frames)])
    combined = np.zeros(int(lengths[-1]), dtype=np.int64)
    size = 1
    for key in keys:
        column = pd.concat([frame[key] for frame in frames], ignore_index=True)
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        count = max(len(uniques), 1)
        if size * count >= 2**62:
            combined, found = pd.factorize(combined)
            size = max(len(found), 1)
        combined = combined * count + codes
        size *= count
    dense = pd.factorize(combined)[0].astype(np.int64, copy=False)
    return [dense[lengths[index] : lengths[index + 1]] for index in range(len(frames))]


def _among(ids: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Whether each of ``ids`` is one of ``chosen`` (small non-negative integers)."""
    table = np.zeros(int(max(ids.max(initial=-1), chosen.max(initial=-1))) + 1, dtype=bool)
    table[chosen] = True
    result: np.ndarray = table[ids]
    return result


def _whole_sum(values: np.ndarray) -> bool:
    """True when any order of adding ``values`` (missing as 0) gives the exact sum."""
    found = values[~np.isnan(values)]
    return bool(np.all(found == np.floor(found)) and np.abs(found).sum() < 2.0**53)


def controlled_rows(cells: pd.DataFrame, control_national: bool) -> np.ndarray:
    """Which cells disclosure control applies to: all, or all but England's."""
    if control_national:
        return np.ones(len(cells), dtype=bool)
    result: np.ndarray = (cells["area_type"] != "england").to_numpy(dtype=bool)
    return result


def small(counts: np.ndarray, threshold: int) -> np.ndarray:
    """True where a count is from 1 to ``threshold`` (zero is published)."""
    with np.errstate(invalid="ignore"):
        return (counts >= 1) & (counts <= threshold)


def nhs_digital(
    values: pd.DataFrame, threshold: int = 7, rounding: int = 5, control_national: bool = True
) -> pd.DataFrame:
    """Apply the ``nhs-digital`` policy to indicator values (see the module docstring)."""
    # Columns are replaced, never changed in place, so the copy can share their data.
    result = values.copy(deep=False)
    controlled = controlled_rows(result, control_national)
    numerator = result["numerator"].to_numpy(dtype="float64")
    denominator = result["denominator"].to_numpy(dtype="float64")
    withheld_numerator = controlled & small(numerator, threshold)
    withheld_denominator = controlled & small(denominator, threshold)
    withheld = withheld_numerator | withheld_denominator
    result["numerator"] = np.where(
        withheld_numerator, np.nan, np.where(controlled, np.round(numerator / rounding) * rounding, numerator)
    )
    result["denominator"] = np.where(
        withheld_denominator,
        np.nan,
        np.where(controlled, np.round(denominator / rounding) * rounding, denominator),
    )
    for column in [*VALUE_COLUMNS, "lower_95", "upper_95"]:
        if column in result:
            _withhold(result, withheld, column)
    result["suppressed"] = withheld
    result["note"] = _add_note(result.get("note", pd.Series("", index=result.index)), withheld,
                               f"suppressed: a count from 1 to {threshold}")  # fmt: skip
    return result


def withhold_measures(
    measures: pd.DataFrame,
    values_before: pd.DataFrame,
    values_after: pd.DataFrame,
    threshold: int,
    control_national: bool = True,
) -> pd.DataFrame:
    """Withhold gaps built on a withheld group, and slope indices whose own total count is small.

    ``values_before`` are the unrounded values (for the SII's total count) and
    ``values_after`` the controlled ones (for which groups were withheld).
    """
    if measures.empty:
        return measures.assign(suppressed=pd.Series(dtype=bool))
    keys = ["indicator_id", "period_start", "period_end", "area_type", "area_code", "breakdown"]
    # Columns are replaced, never changed in place, so the copy can share their data.
    result = measures.copy(deep=False)
    after = values_after["suppressed"].to_numpy(dtype=bool)
    # Only withheld groups that some gap names can matter: a cheap test on two columns
    # leaves far fewer rows to match on all seven keys.
    sides = pd.concat([result["group_a"], result["group_b"]], ignore_index=True).unique()
    after = after & values_after["group"].isin(sides).to_numpy(dtype=bool)
    after = after & values_after["breakdown"].isin(result["breakdown"].unique()).to_numpy(dtype=bool)
    withheld_groups = values_after.loc[after, [*keys, "group"]]
    flagged = np.zeros(len(result), dtype=bool)
    is_gap = result["measure"].str.startswith("gap").to_numpy(dtype=bool)
    before = values_before.loc[
        values_before["breakdown"].isin(["imd_decile", "imd_quintile"]).to_numpy(dtype=bool)
    ]
    # Integer ids of the keys stand in for merges on them.
    mine, theirs, totalled = _key_ids([result, withheld_groups, before], keys)
    for side in ("group_a", "group_b"):
        mine_side, theirs_side = _key_ids(
            [pd.DataFrame({"_cell": mine, "_group": result[side].to_numpy()}),
             pd.DataFrame({"_cell": theirs, "_group": withheld_groups["group"].to_numpy()})],
            ["_cell", "_group"],
        )  # fmt: skip
        flagged |= is_gap & _among(mine_side, theirs_side)
    numerator = before["numerator"].to_numpy(dtype="float64")
    if _whole_sum(numerator):
        # Whole counts add up exactly in any order, as the groupby's compensated sum does.
        keyless = before[keys].isna().any(axis=1).to_numpy()
        sums = np.bincount(
            totalled[~keyless],
            weights=np.where(np.isnan(numerator), 0.0, numerator)[~keyless],
            minlength=int(max(mine.max(initial=-1), totalled.max(initial=-1))) + 1,
        )
        present = np.zeros(sums.size, dtype=bool)
        present[totalled[~keyless]] = True
        total = np.where(present[mine], sums[mine], np.nan)
    else:
        totals = before.groupby(keys, as_index=False).agg(_total=("numerator", "sum"))
        total = result[keys].merge(totals, on=keys, how="left")["_total"].to_numpy(dtype="float64")
    controlled = controlled_rows(result, control_national)
    flagged |= ~is_gap & controlled & small(total, threshold)
    for column in VALUE_COLUMNS:
        _withhold(result, flagged, column)
    result["suppressed"] = flagged
    result["note"] = _add_note(result["note"], flagged, "suppressed: built on a withheld count")
    return result


def control_completeness(
    quality: pd.DataFrame,
    policy: str = "nhs-digital",
    threshold: int = 7,
    rounding: int = 5,
    control_national: bool = True,
) -> pd.DataFrame:
    """Completeness as shares (0 to 1, to 0.1%) with the record count controlled like any count.

    Where controlled, a share is withheld where fewer than ``MIN_RECORDS_FOR_SHARE``
    records stand behind it: over fewer records a share would let the small number of
    invalid records be worked out. A share published beside a rounded record count is
    computed from rounded counts (both terms rounded to ``rounding``): from exact ones, to
    0.1%, the shares of one row fit only the exact record count among those within 2 of
    the rounded one. Record counts that England minus the other areas would pin are
    protected by complementary cells
    (:func:`gapwatch.disclosure.differencing.protect_record_counts`).
    """
    if quality.empty:
        return quality
    result = quality[["source", "period_start", "period_end", "area_type", "area_code"]].copy()
    records = quality["records"].to_numpy(dtype="float64")
    controlled = controlled_rows(quality, control_national) & (policy != "none")
    withheld = controlled & small(records, threshold)
    result["records"] = np.where(
        withheld, np.nan, np.where(controlled, np.round(records / rounding) * rounding, records)
    )
    complement = np.zeros(len(result), dtype=bool)
    if controlled.any():
        complement = protect_record_counts(
            result.reset_index(drop=True), threshold, rounding, control_national
        )
        result["records"] = np.where(complement, np.nan, result["records"].to_numpy(dtype="float64"))
    too_few = controlled & (records < MIN_RECORDS_FOR_SHARE)
    shown = np.where(controlled, np.round(records / rounding) * rounding, records)
    for column in ("ethnicity_valid", "lsoa_valid", "sex_valid", "age_valid", "late", "duplicates"):
        counts = quality[column].to_numpy(dtype="float64")
        counts = np.where(controlled, np.round(counts / rounding) * rounding, counts)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.round(counts / shown, 3)
        result[column] = np.where(too_few | complement, np.nan, share)
    result["suppressed"] = too_few | complement
    result["note"] = np.where(
        complement,
        "records withheld: protects another withheld count from subtraction",
        np.where(too_few, f"shares withheld: fewer than {MIN_RECORDS_FOR_SHARE} records", ""),
    )
    return result


def control_input_notes(
    notes: pd.DataFrame,
    policy: str = "nhs-digital",
    threshold: int = 7,
    rounding: int = 5,
    control_national: bool = True,
) -> pd.DataFrame:
    """What the run found in its inputs, its record counts controlled as completeness's are.

    A note counts records of a whole input table, so it is national unless a run's
    ``control_national`` is false. Controlled counts from 1 to ``threshold`` are withheld
    and the rest rounded to ``rounding``; the share is the rounded count over the rounded
    table size (an unrounded share would give a rounded-away count back), withheld with the
    count or where fewer than ``MIN_RECORDS_FOR_SHARE`` records stand behind it.

    >>> notes = pd.DataFrame({"kind": ["future_dated"], "rows": [12.0], "total": [240.0]})
    >>> control_input_notes(notes)[["rows", "share"]].to_numpy().tolist()
    [[10.0, 0.042]]
    """
    result = notes.drop(columns=["total"], errors="ignore").copy()
    if notes.empty:
        return result.assign(share=pd.Series(dtype="float64"), suppressed=pd.Series(dtype=bool))
    rows = notes["rows"].to_numpy(dtype="float64")
    total = notes["total"].to_numpy(dtype="float64")
    controlled = policy != "none" and control_national
    if controlled:
        withheld = small(rows, threshold)
        rows = np.where(withheld, np.nan, np.round(rows / rounding) * rounding)
        total = np.round(total / rounding) * rounding
        too_few = withheld | (total < MIN_RECORDS_FOR_SHARE)
    else:
        withheld = too_few = np.zeros(len(notes), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.round(rows / total, 3)
    result["rows"] = rows
    result["share"] = np.where(too_few | ~np.isfinite(share), np.nan, share)
    result["suppressed"] = withheld
    return result


def apply_policy(
    values: pd.DataFrame,
    measures: pd.DataFrame | None,
    policy: str = "nhs-digital",
    threshold: int = 7,
    rounding: int = 5,
    indicators: Described | None = None,
    confidence: float = 0.95,
    control_national: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Control indicator values and inequality measures under a named policy.

    A suppressed cell publishes nothing about its hidden count
    (:func:`gapwatch.disclosure.published.blank_suppressed`). Given the catalogue's
    ``indicators`` (measure, multiplier, polarity), under ``nhs-digital`` sub-national
    proportions and crude rates are recomputed from their rounded counts, and under
    every policy comparisons are recomputed from the published values only; inequality
    measures are then computed from the published cells (``measures`` may be None: they
    are computed here). Without ``indicators`` only the blanking is done, and
    ``measures`` must be given.
    """
    if policy == "none":
        if measures is None:
            measures = _measures(values, indicators, confidence)
        return values.assign(suppressed=False), measures.assign(suppressed=False)
    if policy == "nhs-digital":
        safe = nhs_digital(values, threshold, rounding, control_national)
        # Rounded totals minus rounded parts can still pin a hidden count: complementary cells.
        safe = protect_from_differencing(safe, threshold, rounding, control_national)
    elif policy == "secondary-suppression":
        safe = secondary_suppression(values, threshold, control_national)
    else:
        raise ConfigError(f"disclosure policy {policy!r} is not known; choose one of {', '.join(POLICIES)}")
    safe = blank_suppressed(safe)
    if indicators is not None:
        if policy == "nhs-digital":
            safe = from_rounded_counts(safe, indicators, confidence, rounding, control_national)
            safe = rounded_completeness(safe, control_national)
        safe = recompare(safe, indicators)
        # Gaps and slope indices from the published cells: computed from the unrounded
        # ones at full precision they could be searched for the exact counts behind them.
        measures = _measures(safe, indicators, confidence)
    elif measures is None:
        raise ValueError("apply_policy: measures are needed when indicators are not given")
    # A completeness warning's share from the exact counts would give them back.
    safe = reword_completeness_warnings(_withhold_completeness(safe))
    return safe, withhold_measures(measures, values, safe, threshold, control_national)


def _measures(values: pd.DataFrame, indicators: Described | None, confidence: float) -> pd.DataFrame:
    if indicators is None:
        raise ValueError("apply_policy: measures are needed when indicators are not given")
    from gapwatch.stats.indicators import inequality_measures

    return inequality_measures(values, indicators, confidence)


def _withhold_completeness(values: pd.DataFrame) -> pd.DataFrame:
    """Withhold a breakdown's completeness where its unknown group is withheld.

    Completeness is 1 - unknown / total: published beside the total it would give the
    withheld count back.
    """
    if "completeness" not in values:
        return values
    keys = ["indicator_id", "period_start", "period_end", "area_type", "area_code", "breakdown"]
    unknown = values["group"].astype(str).str.contains("unknown", regex=False).to_numpy(dtype=bool)
    hidden = unknown & values["suppressed"].to_numpy(dtype=bool)
    if not hidden.any():
        return values
    # Rows are first matched on the keys held as Arrow text (cheap to encode over millions
    # of rows), then the few that match on those are matched on the remaining keys.
    text = [key for key in keys if values[key].dtype != object]
    (partial,) = _key_ids([values[text]], text)
    near = _among(partial, partial[hidden])
    rest = [key for key in keys if key not in text]
    if rest:
        narrowed = pd.DataFrame(
            {"_partial": partial[near]} | {key: values[key].to_numpy()[near] for key in rest}
        )
        (ids,) = _key_ids([narrowed], ["_partial", *rest])
    else:
        ids = partial[near]
    flag = np.zeros(len(values), dtype=bool)
    flag[near] = _among(ids, ids[hidden[near]])
    _withhold(values, flag, "completeness")
    return values
