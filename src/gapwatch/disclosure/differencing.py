"""Interval (feasibility) attacks on rounded and suppressed counts, and complementary suppression.

Under ``nhs-digital`` a published sub-national count ``r`` is the true count rounded to
the nearest multiple of 5 (``rounding``), so the true count lies in ``[r - 2, r + 2]``
(no ties arise: an integer divided by 5 never ends in .5); and because counts from 1 to
the threshold (7) are never published, a published ``r`` above zero also means at least
8, and a published 0 means exactly 0. A suppressed count lies in ``[1, 7]`` (``[0, 7]``
when it was withheld because its denominator was small). National cells, when not
controlled, are exact.

A total and its parts form an additive set (an area's overall cell and the groups of a
breakdown; the groups sharing one side of an intersection; areas within their parent:
the sets of :func:`gapwatch.disclosure.secondary.additive_sets`). Interval arithmetic over
a set bounds each member: a part lies in ``[T_lo - sum(other parts' hi), T_hi -
sum(other parts' lo)]`` and the total in ``[sum(lo), sum(hi)]``; applied over every set
until nothing narrows, this is the feasibility (interval) attack on tabular data
(Hundepool A et al. (2012) *Statistical Disclosure Control*, Wiley, chapter 5, "tabular
data": the feasibility interval of a suppressed cell and the protection interval it must
keep). It is a relaxation of the exact integer problem: the ranges it finds contain
every count consistent with what is published, so a range it finds wide is at least
that wide.

Protection rule (a judgement, documented in ``docs/security.md``): every hidden count
must keep at least ``PROTECTION`` (2) feasible values: no subtraction across totals,
parts, breakdowns and areas may pin it to one number. Counts from 1 to 7 are already
reported only as "small", so a range inside that band that holds two or more values
tells no more than "small"; pinning one number is what identifies a person. Where a
hidden count is pinned, the smallest published part of a set holding it is suppressed
as well (a complementary cell: least information lost, Cox LH (1980) *JASA*
75:377-385), and the attack is run again, until no hidden count is pinned.

>>> import pandas as pd
>>> cells = pd.DataFrame({"indicator_id": "x", "period_start": "2024-04-01", "area_type": "icb",
...     "area_code": "A", "breakdown": ["overall", "sex", "sex", "sex"],
...     "group": ["all", "female", "male", "unknown"], "numerator": [15.0, 10.0, None, 10.0],
...     "denominator": [900.0, 450.0, 440.0, 10.0]})
>>> feasible_ranges(cells)[2]  # male: at most 17 - 8 - 8 (published 10s are at least 8)
(1.0, 1.0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gapwatch.disclosure.secondary import additive_sets

#: Feasible values a hidden count must keep (2: never pinned to one number).
PROTECTION = 2
COMPLEMENT_NOTE = "suppressed: protects another withheld count from subtraction"
_ROUNDS = 50


def _bounds(
    cells: pd.DataFrame,
    column: str,
    threshold: int,
    rounding: int,
    complementary: np.ndarray,
    control_national: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, hidden) of each cell's true ``column`` count as an attacker sees it."""
    count = cells[column].to_numpy(dtype="float64")
    national = (cells["area_type"] == "england").to_numpy(dtype=bool) & (not control_national)
    exact = national & ~np.isnan(count)
    half = (rounding - 1) // 2
    published = ~np.isnan(count)
    lower = np.where(count > 0, np.maximum(count - half, threshold + 1), 0.0)
    upper = np.where(count > 0, count + half, 0.0)
    lower = np.where(exact, count, lower)
    upper = np.where(exact, count, upper)
    hidden = ~published
    if "suppressed" in cells:
        # A missing count in a cell that is not suppressed is no count at all (a median's
        # numerator): it bounds nothing and hides nothing.
        hidden &= cells["suppressed"].to_numpy(dtype=bool)
    # A numerator withheld with its denominator may be 0; one withheld alone is 1 to 7.
    may_be_zero = np.ones(len(cells), dtype=bool)
    if column == "numerator" and "denominator" in cells:
        may_be_zero = np.isnan(cells["denominator"].to_numpy(dtype="float64"))
    elif column == "records":
        # A completeness row exists only where records were found: a hidden count is 1 to 7.
        may_be_zero = np.zeros(len(cells), dtype=bool)
    lower = np.where(hidden, np.where(may_be_zero, 0.0, 1.0), lower)
    upper = np.where(hidden, float(threshold), upper)
    # A complementary cell's count is any number (0 or above the threshold): unbounded above.
    lower = np.where((hidden & complementary) | (~published & ~hidden), 0.0, lower)
    upper = np.where((hidden & complementary) | (~published & ~hidden), np.inf, upper)
    return lower, upper, hidden


def _propagate(
    lower: np.ndarray, upper: np.ndarray, set_id: np.ndarray, row: np.ndarray, is_total: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Narrow every cell's range over all additive sets until nothing changes."""
    lower, upper = lower.copy(), upper.copy()
    if set_id.size == 0:
        return lower, upper
    sets = int(set_id.max()) + 1
    with_total = np.zeros(sets, dtype=bool)
    with_total[set_id[is_total]] = True
    use = with_total[set_id]
    set_id, row, is_total = set_id[use], row[use], is_total[use]
    part = ~is_total
    total_of = np.full(sets, -1, dtype=np.int64)
    total_of[set_id[is_total]] = row[is_total]
    for _ in range(_ROUNDS):
        low, high = lower[row], upper[row]
        infinite = part & np.isinf(high)
        sum_low = np.bincount(set_id, weights=np.where(part, low, 0.0), minlength=sets)
        sum_high = np.bincount(set_id, weights=np.where(part & ~infinite, high, 0.0), minlength=sets)
        open_count = np.bincount(set_id, weights=infinite.astype(float), minlength=sets)
        total_low = lower[total_of[set_id]]
        total_high = upper[total_of[set_id]]
        others_high = np.where(
            open_count[set_id] - infinite > 0, np.inf, sum_high[set_id] - np.where(infinite, 0.0, high)
        )
        others_low = sum_low[set_id] - low
        new_low = np.where(part, total_low - others_high, sum_low[set_id])
        all_high = np.where(open_count[set_id] > 0, np.inf, sum_high[set_id])
        new_high = np.where(part, total_high - others_low, all_high)
        narrowed_low = lower.copy()
        narrowed_high = upper.copy()
        np.maximum.at(narrowed_low, row, new_low)
        np.minimum.at(narrowed_high, row, new_high)
        if np.array_equal(narrowed_low, lower) and np.array_equal(narrowed_high, upper):
            break
        lower, upper = narrowed_low, narrowed_high
    return lower, upper


def feasible_ranges(
    cells: pd.DataFrame,
    column: str = "numerator",
    threshold: int = 7,
    rounding: int = 5,
    complementary: np.ndarray | None = None,
    control_national: bool = True,
) -> list[tuple[float, float]]:
    """The range of true counts (whole people or events) each cell's ``column`` may hold.

    ``cells`` are controlled indicator cells (a missing count is hidden; ``complementary``
    marks hidden cells suppressed only to protect others, whose count is unbounded). The
    interval attack of the module docstring; one ``(lower, upper)`` per row in row order.
    """
    frame = cells.reset_index(drop=True)
    extra = np.zeros(len(frame), dtype=bool) if complementary is None else np.asarray(complementary)
    lower, upper, _ = _bounds(frame, column, threshold, rounding, extra, control_national)
    set_id, row, is_total = additive_sets(frame)
    lower, upper = _propagate(lower, upper, set_id, row, is_total)
    return list(zip(np.ceil(lower - 1e-9).tolist(), np.floor(upper + 1e-9).tolist(), strict=True))


def pinned(
    cells: pd.DataFrame,
    column: str,
    threshold: int,
    rounding: int,
    complementary: np.ndarray,
    sets: tuple[np.ndarray, np.ndarray, np.ndarray],
    control_national: bool = True,
) -> np.ndarray:
    """Hidden cells whose ``column`` count keeps fewer than ``PROTECTION`` feasible values.

    A hidden count pinned to 0 is not counted: zeros are published under the policy.
    """
    lower, upper, hidden = _bounds(cells, column, threshold, rounding, complementary, control_national)
    lower, upper = _propagate(lower, upper, *sets)
    width = np.floor(upper + 1e-9) - np.ceil(lower - 1e-9) + 1
    # A count pinned to 0 is one the policy publishes anyway (zeros are never suppressed),
    # and only a published total of 0 pins it: no complement could help.
    found: np.ndarray = hidden & (width < PROTECTION) & (np.floor(upper + 1e-9) >= 1)
    return found


class _Components:
    """Cells linked through additive sets, so that a round of :func:`protect_from_differencing`
    re-runs the attack only where its last choice changed something.

    The attack narrows a cell's range only through sets that hold it, so cells of two
    different components never affect each other: a component whose cells did not change
    keeps the answer it had (the result is the same as attacking the whole table each
    round; at 200,000 people that took most of a run, as each of up to 200 rounds attacked
    millions of cells).
    """

    def __init__(self, size: int, sets: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        set_id, row, _ = sets
        count = int(set_id.max()) + 1 if set_id.size else 0
        # Cells are nodes 0..size-1, sets size..size+count-1: a cell is linked to each set holding it.
        graph = coo_matrix((np.ones(row.size), (row, set_id + size)), shape=(size + count, size + count))
        _, labels = connected_components(graph, directed=False)
        self.cell = labels[:size]
        self.sets = sets
        self.member_component = self.cell[row]

    def pinned(
        self,
        cells: pd.DataFrame,
        column: str,
        threshold: int,
        rounding: int,
        complementary: np.ndarray,
        control_national: bool,
        dirty: np.ndarray,
        found: np.ndarray,
    ) -> np.ndarray:
        """:func:`pinned` over every cell, re-computed only in the ``dirty`` components
        (a boolean per component); ``found`` is the last answer (changed in place)."""
        rows = np.flatnonzero(dirty[self.cell])
        if rows.size == 0:
            return found
        set_id, row, is_total = self.sets
        use = dirty[self.member_component]
        position = np.full(len(cells), -1, dtype=np.int64)
        position[rows] = np.arange(rows.size)
        _, compact_sets = np.unique(set_id[use], return_inverse=True)
        part = (compact_sets.astype(np.int64), position[row[use]], is_total[use])
        found[rows] = pinned(cells.iloc[rows].reset_index(drop=True), column, threshold, rounding,
                             complementary[rows], part, control_national)  # fmt: skip
        return found


def protect_from_differencing(
    values: pd.DataFrame, threshold: int = 7, rounding: int = 5, control_national: bool = True
) -> pd.DataFrame:
    """Suppress complementary cells until no hidden count is pinned by interval differencing.

    ``values`` are cells after :func:`gapwatch.disclosure.nhs_digital` (rounded counts,
    small ones missing, ``suppressed`` set). For each hidden numerator or denominator that
    the feasibility attack pins to fewer than ``PROTECTION`` values, the smallest
    published non-total part of a set holding it (by denominator) is suppressed too, its
    numerator withheld (and its denominator, when a denominator was pinned); repeated
    until none is pinned. National cells are chosen only when nothing else will do, and
    never when national figures are not controlled (``control_national`` false: they are
    published exactly, so a hidden count that they alone pin stays pinned; the setting's
    documented cost).
    """
    result = values.reset_index(drop=True).copy(deep=False)
    if result.empty:
        return values
    sets = additive_sets(result)
    set_id, row, is_total = sets
    if set_id.size == 0:
        return values
    complementary = np.zeros(len(result), dtype=bool)
    total_rows = np.zeros(len(result), dtype=bool)
    total_rows[row[is_total]] = True
    national = (result["area_type"] == "england").to_numpy(dtype=bool)
    numerator = result["numerator"].to_numpy(dtype="float64").copy()
    denominator = result["denominator"].to_numpy(dtype="float64").copy()
    suppressed = result["suppressed"].to_numpy(dtype=bool).copy()
    unfixable = {column: np.zeros(len(result), dtype=bool) for column in ("numerator", "denominator")}
    if not control_national:
        # Hidden counts pinned even with every sub-national cell hidden: exact national
        # figures alone pin them, and no complementary cell can help.
        opened = ~national & ~suppressed
        hidden_all = result.assign(
            numerator=np.where(opened, np.nan, numerator),
            denominator=np.where(opened, np.nan, denominator),
            suppressed=suppressed | opened,
        )
        for column in unfixable:
            unfixable[column] = pinned(
                hidden_all, column, threshold, rounding, opened, sets, control_national
            )
    components = _Components(len(result), sets)
    dirty = {column: np.ones(int(components.cell.max()) + 1, dtype=bool) for column in unfixable}
    known = {column: np.zeros(len(result), dtype=bool) for column in unfixable}
    for _ in range(200):
        result["numerator"], result["denominator"] = numerator, denominator
        result["suppressed"] = suppressed
        changed = False
        for column, counts in (("denominator", denominator), ("numerator", numerator)):
            bad = components.pinned(result, column, threshold, rounding, complementary, control_national,
                                    dirty[column], known[column]).copy()  # fmt: skip
            dirty[column][:] = False
            bad &= ~unfixable[column]
            if not bad.any():
                continue
            size = np.where(np.isnan(denominator), np.inf, denominator)
            cost = size + np.where(total_rows, 1e15, 0.0) + np.where(national, 1e18, 0.0)
            members = bad[row]
            needy = np.unique(set_id[members])
            in_needy = np.isin(set_id, needy) & ~np.isnan(counts[row])
            if not control_national:
                in_needy &= ~national[row]
            if not in_needy.any():
                continue
            frame = pd.DataFrame({"set": set_id[in_needy], "row": row[in_needy], "cost": cost[row[in_needy]]})
            cheapest = frame.sort_values(["set", "cost", "row"], kind="stable").drop_duplicates("set")
            chosen = np.unique(cheapest["row"].to_numpy())
            numerator[chosen] = np.nan
            if column == "denominator":
                denominator[chosen] = np.nan
            complementary[chosen] |= ~suppressed[chosen]
            suppressed[chosen] = True
            # Only the components of the chosen cells can answer differently next time.
            for mark in dirty.values():
                mark[components.cell[chosen]] = True
            changed = True
            break
        if not changed:
            break
    result["numerator"], result["denominator"] = numerator, denominator
    newly = complementary
    for column in ("value", "lower", "upper", "lower_95", "upper_95"):
        if column in result:
            result[column] = np.where(newly, np.nan, result[column].to_numpy(dtype="float64"))
    result["suppressed"] = suppressed
    notes = result.get("note", pd.Series("", index=result.index)).fillna("").astype(str).to_numpy()
    result["note"] = np.where(
        newly, np.where(notes == "", COMPLEMENT_NOTE, notes + "; " + COMPLEMENT_NOTE), notes
    )
    result.index = values.index
    return result


def protect_record_counts(
    table: pd.DataFrame, threshold: int = 7, rounding: int = 5, control_national: bool = True
) -> np.ndarray:
    """Complementary cells for the completeness table's record counts across areas.

    ``table`` holds controlled record counts (``records``: rounded, missing where from 1 to
    ``threshold``) by ``source``, period and area. England's count is the sum of its
    ICBs' and the sum of its providers' (every record has one of each, ``unknown``
    included), so England minus the published others bounds a hidden one, as for
    indicator cells (interval attack of the module docstring). Where a hidden count is
    pinned, the smallest published count of a set holding it is withheld too (England's
    only where no other is left, and never when national figures are not controlled),
    until none is. Returns which rows to withhold as complements.

    >>> table = pd.DataFrame({"source": "s", "period_start": "2024-04-01", "period_end": "2024-06-30",
    ...     "area_type": ["england", "provider", "provider", "provider"],
    ...     "area_code": ["E92000001", "A", "B", "C"], "records": [20.0, 15.0, 10.0, np.nan]})
    >>> protect_record_counts(table).tolist()  # C: at most 22 - 13 - 8 = 1 unless B is withheld
    [False, False, True, False]
    """
    frame = table.reset_index(drop=True)
    complementary = np.zeros(len(frame), dtype=bool)
    if frame.empty:
        return complementary
    kind = frame["area_type"].astype(str).to_numpy()
    series = (
        frame.groupby(["source", "period_start", "period_end"], sort=False, dropna=False).ngroup().to_numpy()
    )
    national = kind == "england"
    set_ids, rows, totals = [], [], []
    for number, part_type in enumerate(("icb", "provider")):
        parts = np.flatnonzero(kind == part_type)
        # A set needs its parts: a total alone would be bounded by an empty sum.
        heads = np.flatnonzero(national & np.isin(series, series[parts]))
        set_ids += [series[parts] * 2 + number, series[heads] * 2 + number]
        rows += [parts, heads]
        totals += [np.zeros(parts.size, dtype=bool), np.ones(heads.size, dtype=bool)]
    set_id, row, is_total = np.concatenate(set_ids), np.concatenate(rows), np.concatenate(totals)
    if set_id.size == 0:
        return complementary
    records = frame["records"].to_numpy(dtype="float64").copy()
    for _ in range(200):
        cells = pd.DataFrame({"area_type": frame["area_type"], "records": records,
                              "suppressed": np.isnan(records)})  # fmt: skip
        bad = pinned(cells, "records", threshold, rounding, complementary, (set_id, row, is_total),
                     control_national)  # fmt: skip
        if not bad.any():
            break
        cost = np.where(np.isnan(records), np.inf, records) + np.where(national, 1e18, 0.0)
        # England is chosen only where no published part of the set is left.
        needy = np.isin(set_id, np.unique(set_id[bad[row]])) & ~np.isnan(records[row])
        if not control_national:
            needy &= ~national[row]
        if not needy.any():
            break
        choice = pd.DataFrame({"set": set_id[needy], "row": row[needy], "cost": cost[row[needy]]})
        cheapest = choice.sort_values(["set", "cost", "row"], kind="stable").drop_duplicates("set")
        chosen = np.unique(cheapest["row"].to_numpy())
        records[chosen] = np.nan
        complementary[chosen] = True
    return complementary
