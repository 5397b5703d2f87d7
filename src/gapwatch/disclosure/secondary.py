"""Primary and complementary (secondary) cell suppression over additive tables.

Cells from 1 to the threshold (numerator, denominator, or for a proportion the people
*not* counted, denominator minus numerator) are suppressed first (primary). A published
total then lets a single suppressed cell be recovered by subtraction, so every additive
set must hold no suppressed cell or at least two. The additive sets are:

* the groups of a breakdown plus the area's overall cell (``imd_quintile`` 1…5, unknown);
* for an intersection ``a:b``, the cells sharing a group of ``a`` plus that ``a`` cell
  (and likewise for ``b``);
* areas within their parent area, group by group (sub-ICB locations within their ICB,
  ICBs and local authorities within their region where they nest, regions within England).

Complements are chosen to lose the least information: the non-total cell with the smallest
non-zero denominator (Cox LH (1980) *Suppression methodology and statistical disclosure
control*, JASA 75:377-385; ONS *Disclosure control guidance for tables produced from
surveys*, the "least information loss" heuristic). Because a set-by-set rule can still
leave a cell determined by the sets together (a bridge between two cycles of suppressed
cells), every connected group of suppressed cells is then audited exactly: a cell is
recoverable when the null space of the linear constraints has no component in its
direction; such a cell gets another complement and the audit repeats.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from gapwatch import refdata
from gapwatch.codes import ENGLAND

_KEYS = ["indicator_id", "period_start", "area_type", "area_code", "breakdown", "group"]
_NEVER = 1e18  # cost of suppressing a national cell: only when nothing else will do


@cache
def _nesting() -> list[tuple[str, str, dict[str, str]]]:
    """(child area type, parent area type, child code -> parent code) where areas nest exactly."""
    lsoa = refdata.lsoa(2021)
    pairs = [("sub_icb", "sicbl_code", "icb", "icb_code"), ("icb", "icb_code", "region", "region_code"),
             ("local_authority", "ltla_code", "region", "region_code")]  # fmt: skip
    found = []
    for child_type, child_column, parent_type, parent_column in pairs:
        mapping = lsoa[[child_column, parent_column]].drop_duplicates()
        if mapping[child_column].is_unique:
            found.append(
                (
                    child_type,
                    parent_type,
                    dict(zip(mapping[child_column], mapping[parent_column], strict=True)),
                )
            )
    return found


def _sets(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Membership of additive sets: (set id, cell row, is_total) arrays."""
    set_ids: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    totals: list[np.ndarray] = []
    next_id = 0
    index = pd.Series(np.arange(len(cells)), index=pd.MultiIndex.from_frame(cells[_KEYS]))

    def add(groups: Any, total_rows: np.ndarray) -> None:
        nonlocal next_id
        codes = groups.ngroup().to_numpy()
        members = groups.ngroups
        valid = total_rows >= 0
        set_ids.append(codes + next_id)
        rows.append(np.asarray(groups.obj.index))
        totals.append(np.zeros(len(codes), dtype=bool))
        group_codes = np.arange(members)
        set_ids.append(group_codes[valid] + next_id)
        rows.append(total_rows[valid])
        totals.append(np.ones(int(valid.sum()), dtype=bool))
        next_id += members

    def lookup(frame: pd.DataFrame) -> np.ndarray:
        found = index.reindex(pd.MultiIndex.from_frame(frame[_KEYS]))
        return found.fillna(-1).to_numpy(dtype=np.int64)

    area = ["indicator_id", "period_start", "area_type", "area_code"]
    # Groups of a breakdown, with the area's overall cell as their total.
    split = cells.loc[cells["breakdown"] != "overall"]
    grouped = split.groupby([*area, "breakdown"], sort=False)
    heads = grouped.head(1)[area].assign(breakdown="overall", group="all")
    add(grouped, lookup(heads))
    # Intersections: the cells sharing one side's group, with that side's own cell as total.
    crossed = split.loc[split["breakdown"].str.contains(":", regex=False)]
    for side in (0, 1):
        if crossed.empty:
            break
        part = crossed.assign(
            _side=crossed["breakdown"].str.split(":").str[side],
            _value=crossed["group"].str.split(":").str[side],
        )
        grouped = part.groupby([*area, "_side", "_value"], sort=False)
        heads = grouped.head(1)
        heads = heads[area].assign(breakdown=heads["_side"].to_numpy(), group=heads["_value"].to_numpy())
        add(grouped, lookup(heads))
    # Areas within their parent area, for each breakdown and group.
    for child_type, parent_type, parents in _nesting():
        children = cells.loc[cells["area_type"] == child_type]
        if children.empty:
            continue
        children = children.assign(_parent=children["area_code"].map(parents).fillna("unknown"))
        grouped = children.groupby(
            ["indicator_id", "period_start", "breakdown", "group", "_parent"], sort=False
        )
        heads = grouped.head(1)
        heads = heads.assign(area_type=parent_type, area_code=heads["_parent"].to_numpy())
        add(grouped, lookup(heads))
    regions = cells.loc[cells["area_type"] == "region"]
    if not regions.empty:
        grouped = regions.groupby(["indicator_id", "period_start", "breakdown", "group"], sort=False)
        heads = grouped.head(1).assign(area_type="england", area_code=ENGLAND)
        add(grouped, lookup(heads))
    if not set_ids:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=bool)
    return np.concatenate(set_ids), np.concatenate(rows), np.concatenate(totals)


def additive_sets(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The additive sets of the module docstring over ``cells`` (a 0..n-1 row index).

    Returns parallel arrays: set id, member row, and whether the member is the set's total.
    """
    return _sets(cells)


def _complements(suppressed: np.ndarray, set_id: np.ndarray, row: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """For each set with exactly one suppressed member, the cheapest other member."""
    hidden = suppressed[row]
    per_set = np.bincount(set_id, weights=hidden, minlength=int(set_id.max()) + 1)
    needy = per_set == 1
    candidate = needy[set_id] & ~hidden
    if not candidate.any():
        return np.zeros(0, dtype=np.int64)
    frame = pd.DataFrame({"set": set_id[candidate], "row": row[candidate], "cost": cost[row[candidate]]})
    chosen = frame.sort_values(["set", "cost", "row"], kind="stable").drop_duplicates("set")
    return chosen["row"].to_numpy()


def _audit(suppressed: np.ndarray, set_id: np.ndarray, row: np.ndarray, is_total: np.ndarray) -> np.ndarray:
    """Suppressed cells that the published totals determine exactly.

    Each additive set is the equation members - total = published remainder, so a total
    enters with coefficient -1: with +1 a chain of equal cells (a region that is all of
    England, a group that is all of its area) would look pinned when it is free.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    hidden = suppressed[row]
    member_sets, member_rows = set_id[hidden], row[hidden]
    member_signs = np.where(is_total[hidden], -1.0, 1.0)
    if member_rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    cells, cell_index = np.unique(member_rows, return_inverse=True)
    sets, set_index = np.unique(member_sets, return_inverse=True)
    # Cells and sets as one bipartite graph: its connected parts are independent systems.
    size = cells.size + sets.size
    graph = coo_matrix((np.ones(cell_index.size), (cell_index, cells.size + set_index)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    component = labels[cell_index]
    order = np.argsort(component, kind="stable")
    boundaries = np.flatnonzero(np.diff(component[order])) + 1
    needing: list[np.ndarray] = []
    for members in np.split(order, boundaries):
        local_cells, local_columns = np.unique(cell_index[members], return_inverse=True)
        local_sets, local_lines = np.unique(set_index[members], return_inverse=True)
        movable = _movable(
            local_lines, local_columns, member_signs[members], local_sets.size, local_cells.size
        )
        if not movable.all():
            needing.append(cells[local_cells[~movable]])
    return np.unique(np.concatenate(needing)) if needing else np.zeros(0, dtype=np.int64)


def _movable(
    lines: np.ndarray, columns: np.ndarray, signs: np.ndarray, height: int, width: int
) -> np.ndarray:
    """Which unknowns some solution of A x = 0 changes (A holds ``signs`` at (lines, columns)).

    An unknown that no null-space direction moves is determined by the totals. Small
    systems use the SVD; large ones project random vectors onto the null space with the
    sparse least-squares solver LSQR (Paige & Saunders 1982), x = y - A'z with z minimising
    |A'z - y|: a free unknown gets a non-zero component with probability one.
    """
    if width <= 40:
        matrix = np.zeros((height, width))
        matrix[lines, columns] = signs
        _, singular, right = np.linalg.svd(matrix, full_matrices=True)
        null = right[int((singular > 1e-9).sum()) :]
        return np.abs(null).max(axis=0) > 1e-9 if null.size else np.zeros(width, dtype=bool)
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import lsqr

    transposed = csr_matrix((signs, (columns, lines)), shape=(width, height))
    rng = np.random.default_rng(width)
    largest = np.zeros(width)
    for _ in range(2):
        y = rng.standard_normal(width)
        z = lsqr(transposed, y, atol=1e-14, btol=1e-14, iter_lim=20 * (width + height))[0]
        largest = np.maximum(largest, np.abs(y - transposed @ z))
    return largest > 1e-6


def _protect(
    determined: np.ndarray, suppressed: np.ndarray, set_id: np.ndarray, row: np.ndarray, cost: np.ndarray
) -> np.ndarray:
    """For each determined cell, the cheapest unsuppressed cell sharing a set with it.

    When every set of the cell is already fully suppressed, the search widens through the
    suppressed cells of those sets (their sets, and so on): a new unknown anywhere in the
    connected system that pins the cell frees it.
    """
    from scipy.sparse import csr_matrix

    if determined.size == 0:
        return determined
    shape = (suppressed.size, int(set_id.max()) + 1)
    sets_of = csr_matrix((np.ones(row.size, dtype=np.int8), (row, set_id)), shape=shape)
    members_of = sets_of.T.tocsr()
    chosen: list[int] = []
    for cell in determined.tolist():
        cells = np.array([cell])
        seen = np.zeros(shape[1], dtype=bool)
        while cells.size:
            sets = np.unique(sets_of[cells].indices)
            sets = sets[~seen[sets]]
            if sets.size == 0:
                break
            seen[sets] = True
            members = np.unique(members_of[sets].indices)
            open_members = members[~suppressed[members]]
            if open_members.size:
                chosen.append(int(open_members[np.argmin(cost[open_members])]))
                break
            cells = members
    return np.unique(np.array(chosen, dtype=np.int64))


def secondary_suppression(
    values: pd.DataFrame, threshold: int = 7, control_national: bool = True
) -> pd.DataFrame:
    """Suppress small cells and their complements so that none can be recovered by subtraction.

    National (England) cells are controlled like any other unless ``control_national`` is false.
    """
    result = values.reset_index(drop=True).copy()
    numerator = result["numerator"].to_numpy(dtype="float64")
    denominator = result["denominator"].to_numpy(dtype="float64")
    national = (result["area_type"] == "england").to_numpy()

    def small(counts: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return (counts >= 1) & (counts <= threshold)

    complement = denominator - numerator
    is_proportion = result["numerator"].notna().to_numpy() & (numerator <= denominator)
    primary = (~national | control_national) & (
        small(numerator) | small(denominator) | (is_proportion & small(complement))
    )
    suppressed = primary.copy()
    reason = np.where(primary, f"primary: a count from 1 to {threshold}", "").astype(object)
    set_id, row, is_total = _sets(result)
    size = np.where(np.isnan(denominator), 0.0, denominator)
    # Prefer small non-zero cells, then zeros; never a total unless nothing else; England last of all.
    cost = np.where(size > 0, size, 1e12) + np.where(national, _NEVER, 0.0)
    total_rows = np.zeros(len(result), dtype=bool)
    total_rows[row[is_total]] = True
    cost = cost + np.where(total_rows, 1e15, 0.0)
    if set_id.size:
        for _ in range(1000):
            chosen = _complements(suppressed, set_id, row, cost)
            if chosen.size == 0:
                determined = _audit(suppressed, set_id, row, is_total)
                chosen = _protect(determined, suppressed, set_id, row, cost)
                if chosen.size == 0:
                    break
                reason[chosen] = "complementary: the audit found a cell recoverable from several totals"
            else:
                reason[chosen] = "complementary: protects a suppressed cell in the same total"
            suppressed[chosen] = True
    result["numerator"] = np.where(suppressed, np.nan, numerator)
    result["denominator"] = np.where(suppressed, np.nan, denominator)
    for column in ("value", "lower", "upper", "lower_95", "upper_95"):
        if column in result:
            result.loc[suppressed, column] = np.nan
    result["suppressed"] = suppressed
    notes = result.get("note", pd.Series("", index=result.index)).fillna("").astype(str).to_numpy()
    text = np.where(reason == "", "", "suppressed (" + reason.astype(str) + ")")
    result["note"] = np.where((notes != "") & (text != ""), notes + "; " + text, notes + text)
    return result
