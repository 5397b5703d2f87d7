"""Indicator values and inequality measures for every cell at once, from the engine's counts.

This module applies the method families of this package to the tidy counts the engine
returns: it holds no method of its own. Values: Wilson limits for proportions, exact or
Byars limits for rates, Student's t for means, order statistics for medians. Gaps: IMD
quintile 1 vs 5 and Core20 vs rest (Newcombe / MOVER differences, log-scale ratios).
Slope and relative index of inequality across deciles and quintiles (Low & Low 2004).
Comparisons: each group against its area's overall value, each area's overall value
against England, and each group against the best group (Fingertips-style categories).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from gapwatch.model.breakdowns import UNKNOWN
from gapwatch.model.catalogue import DISTRIBUTION_MEASURES, STANDARDISED, Indicator
from gapwatch.stats._frames import text_from_codes
from gapwatch.stats.compare import BEST_LABELS, POLARITY_CODES, comparisons
from gapwatch.stats.gaps import gap, mover_difference
from gapwatch.stats.intervals import z_value
from gapwatch.stats.medians import percentile_from_counts
from gapwatch.stats.proportions import proportion
from gapwatch.stats.rates import rate
from gapwatch.stats.sii import sii
from gapwatch.stats.standardisation import dsr

CELL_KEYS = ["indicator_id", "period_start", "period_end", "area_type", "area_code", "breakdown", "group"]
AREA_KEYS = ["indicator_id", "period_start", "period_end", "area_type", "area_code"]


def _limits(frame: pd.DataFrame, indicator: Indicator, confidence: float) -> pd.DataFrame:
    multiplier = indicator.multiplier
    # Events over a zero denominator (say, records in a group with no population) are
    # refused by the methods; here they are left missing and noted by indicator_values.
    denominator = frame["denominator"].where(frame["denominator"] != 0)
    if indicator.measure == "proportion":
        return proportion(frame["numerator"], denominator, confidence, multiplier)
    if indicator.measure == "crude_rate":
        return rate(frame["numerator"], denominator, confidence, multiplier)
    if indicator.measure == "mean":
        n = frame["denominator"].to_numpy(dtype="float64")
        total = frame["sum"].to_numpy(dtype="float64")
        squares = frame["sum_squares"].to_numpy(dtype="float64")
        from scipy import stats as scipy_stats

        with np.errstate(divide="ignore", invalid="ignore"):
            value = total / n
            variance = np.maximum(squares - total * value, 0) / (n - 1)
            half = scipy_stats.t.ppf(0.5 + confidence / 2, n - 1) * np.sqrt(variance / n)
        half = np.where(n > 1, half, np.nan)
        return pd.DataFrame(
            {
                "value": value * multiplier,
                "lower": (value - half) * multiplier,
                "upper": (value + half) * multiplier,
            }
        )
    raise ValueError(indicator.measure)


def indicator_values(
    cells: pd.DataFrame,
    histograms: pd.DataFrame,
    indicators: Mapping[str, Indicator],
    confidence: float = 0.95,
    completeness_warning: float = 0.9,
    standardised: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per cell: ``CELL_KEYS…, numerator, denominator, value, lower, upper, note``
    plus the 95% limits used by the SII (``lower_95``, ``upper_95``) and ``completeness``:
    the share of the breakdown's denominator in known groups (a gap measured where only
    part of the records can be placed can mislead; below ``completeness_warning`` the
    note says so). Directly standardised rates come from ``standardised``: each cell's
    numerator and population by five-year age band (Dobson limits)."""
    parts = []
    polarities = []
    by_events: list[np.ndarray] = []
    for indicator_id, frame in cells.groupby("indicator_id", sort=False):
        indicator = indicators[str(indicator_id)]
        frame = frame.reset_index(drop=True)
        if "numerator" not in frame:
            frame["numerator"] = np.nan
        if indicator.measure in DISTRIBUTION_MEASURES:
            mine = histograms.loc[histograms["indicator_id"] == indicator_id]
            keys = [key for key in CELL_KEYS if key != "period_end"]
            percentile = indicator.percentile or 50.0
            at = percentile_from_counts(mine, "value", "rows", keys, percentile, confidence)
            if confidence != 0.95:
                at95 = percentile_from_counts(mine, "value", "rows", keys, percentile, 0.95)
            else:
                at95 = at
            at["lower_95"], at["upper_95"] = at95["lower"].to_numpy(), at95["upper"].to_numpy()
            frame = frame.drop(columns=["denominator"]).merge(at, on=keys, how="left")
            for column in ("value", "lower", "upper", "lower_95", "upper_95"):
                frame[column] = frame[column] * indicator.multiplier
        elif indicator.measure == STANDARDISED:
            bands = standardised if standardised is not None else pd.DataFrame()
            mine = bands.loc[bands["indicator_id"] == indicator_id] if not bands.empty else bands
            frame = frame.merge(_standardised(mine, indicator, confidence), on=CELL_KEYS, how="left")
        else:
            limits = _limits(frame, indicator, confidence)
            frame["value"] = limits["value"].to_numpy()
            frame["lower"] = limits["lower"].to_numpy()
            frame["upper"] = limits["upper"].to_numpy()
            at95 = limits if confidence == 0.95 else _limits(frame, indicator, 0.95)
            frame["lower_95"] = at95["lower"].to_numpy()
            frame["upper_95"] = at95["upper"].to_numpy()
        frame["note"] = frame.pop("_note").fillna("") if "_note" in frame else ""
        small = frame["denominator"] < max(indicator.minimum_denominator, 1)
        if small.any():
            frame.loc[small, ["value", "lower", "upper", "lower_95", "upper_95"]] = np.nan
            frame.loc[small, "note"] = f"denominator below {max(indicator.minimum_denominator, 1)}"
        with_events = (frame["denominator"] == 0) & (frame["numerator"] > 0)
        if with_events.any():
            frame.loc[with_events, "note"] = "events counted but the denominator is 0: not calculated"
        if indicator.denominator.population:
            _unplaced_events(frame)
        parts.append(frame)
        polarities.append(np.full(len(frame), _POLARITY_CODES.get(indicator.polarity, -1), dtype=np.int8))
        by_events.append(np.full(len(frame), bool(indicator.denominator.population)))
    values = pd.concat(parts, ignore_index=True)
    # Integer ids of each area-period and each indicator-period: joins on one integer key
    # instead of five text columns are most of the time saved on millions of cells.
    codes = {key: _codes(values[key]) for key in AREA_KEYS}
    values["_area"] = _group_ids([codes[key] for key in AREA_KEYS])
    values["_series"] = _group_ids([codes[key] for key in ("indicator_id", "period_start", "period_end")])
    codes_found, names_found = pd.factorize(values["breakdown"], use_na_sentinel=False)
    breakdowns = (codes_found.astype(np.int64, copy=False), list(names_found))
    polarity = np.concatenate(polarities) if polarities else np.zeros(0, dtype=np.int8)
    events = np.concatenate(by_events) if by_events else np.zeros(0, dtype=bool)
    values = _comparisons(values, polarity, breakdowns)
    values = _completeness(values, completeness_warning, breakdowns, events)
    return values.drop(columns=["_area", "_series"])


#: The note of a rate's group whose events cannot be placed in the population.
UNPLACED_NOTE = (
    "not a rate: these events have no recorded group, so their people cannot be found in the "
    "population; their count is shown alone"
)


def _unplaced_events(frame: pd.DataFrame) -> None:
    """Blank the value of each ``unknown`` group of a rate per population, in place.

    Events whose ethnicity, LSOA, sex or age is not recorded belong to people of every
    group; dividing them by the people whose own record lacks the field (or by anyone) is
    not a rate of any group. Their count stays, with a note: it says how many events the
    breakdown cannot place, and disclosure control treats it as any other count.
    """
    split = (frame["breakdown"] != "overall").to_numpy(dtype=bool)
    # No real group's label contains "unknown", so a substring test finds a side that is unknown.
    unknown = split & frame["group"].astype(str).str.contains(UNKNOWN, regex=False).to_numpy(dtype=bool)
    if unknown.any():
        frame.loc[unknown, ["value", "lower", "upper", "lower_95", "upper_95"]] = np.nan
        frame.loc[unknown, "note"] = UNPLACED_NOTE


_POLARITY_CODES = POLARITY_CODES


def _codes(column: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes of a key column (missing values get a code of their own) and how many."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes.astype(np.int64, copy=False), len(uniques)


def _group_ids(keys: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """Id of each row's combination of key codes, numbered in order of first appearance.

    The same numbers as ``groupby(keys, sort=False, dropna=False).ngroup()``, from codes
    that are factorised once and shared between several groupings.
    """
    combined, size = keys[0]
    for codes, count in keys[1:]:
        if size * max(count, 1) >= 2**62:
            combined, uniques = pd.factorize(combined)
            size = len(uniques)
        combined = combined * max(count, 1) + codes
        size *= max(count, 1)
    ids = pd.factorize(combined)[0]
    return ids.astype(np.int64, copy=False)


def _standardised(bands: pd.DataFrame, indicator: Indicator, confidence: float) -> pd.DataFrame:
    """Directly standardised rate of each cell (ESP 2013, Dobson limits) from its age bands."""
    columns = [*CELL_KEYS, "value", "lower", "upper", "lower_95", "upper_95", "_note"]
    if bands.empty:
        return pd.DataFrame(columns=columns)

    def rates(level: float) -> pd.DataFrame:
        return dsr(bands, "numerator", "population", list(CELL_KEYS), "standard_age",
                   confidence=level, multiplier=indicator.multiplier)  # fmt: skip

    at = rates(confidence)
    at95 = at if confidence == 0.95 else rates(0.95)
    at = at.rename(columns={"note": "_note"})
    at["lower_95"], at["upper_95"] = at95["lower"].to_numpy(), at95["upper"].to_numpy()
    return at[columns]


#: Breakdowns whose field is often unrecorded, and the words for it in a warning.
_LINKED = "an LSOA that links to deprivation"
_FIELDS = {"ethnic_group": "a recorded ethnicity", "ethnic_category": "a recorded ethnicity",
           "imd_quintile": _LINKED, "imd_decile": _LINKED, "core20": _LINKED}  # fmt: skip


def _completeness(
    values: pd.DataFrame,
    warning: float,
    breakdowns: tuple[np.ndarray, list[str]],
    events: np.ndarray | None = None,
) -> pd.DataFrame:
    """Share of each breakdown's denominator in known groups, with a warning below ``warning``.

    For the rows marked in ``events`` (rates whose denominator is a population), the share
    is of the numerator's events instead: the population table can record ethnicity far
    better than the events do, and it is the events whose group must be known for the
    gap to be seen.
    """
    split = (values["breakdown"] != "overall").to_numpy()
    # No real group's label contains "unknown", so a substring test finds a side that is unknown.
    unknown = split & values["group"].str.contains(UNKNOWN, regex=False).to_numpy(dtype=bool)
    area = values["_area"].to_numpy()
    denominator = values["denominator"].to_numpy(dtype="float64")
    if events is not None and events.any():
        denominator = np.where(events, values["numerator"].to_numpy(dtype="float64"), denominator)
    codes, found = breakdowns
    key = area * max(len(found), 1) + codes
    missing = _unknown_totals(key, unknown, denominator)
    if missing is None:
        keys = ["_area", "breakdown"]
        weighed = values[keys].assign(_weight=denominator)
        sums = weighed.loc[unknown].groupby(keys, as_index=False).agg(_unknown=("_weight", "sum"))
        missing = weighed[keys].merge(sums, on=keys, how="left")["_unknown"].fillna(0).to_numpy()
    total = _lookup(area, area[~split], denominator[~split])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = 1 - missing / total
    values["completeness"] = np.where(split, share, np.nan)
    completeness = values["completeness"].to_numpy()
    names = {index: set(str(name).split(":")) for index, name in enumerate(found)}
    flagged: list[tuple[np.ndarray, str]] = []
    for breakdown, field in _FIELDS.items():
        involved = [index for index, parts in names.items() if breakdown in parts]
        with np.errstate(invalid="ignore"):
            concerned = np.isin(codes, involved) & (completeness < warning)
        if concerned.any():
            flagged.append((concerned, field))
    if flagged:
        # Notes are rewritten once for every row warned about, in the order of _FIELDS.
        anywhere = np.logical_or.reduce([concerned for concerned, _ in flagged])
        rows = np.flatnonzero(anywhere)
        notes = pd.Series(values["note"].to_numpy()[rows], dtype=values["note"].dtype)
        for concerned, field in flagged:
            inside = concerned[rows]
            text = (pd.Series(completeness[rows[inside]]) * 100).round(1).astype(str)
            message = "warning: only " + text + f"% of records have {field}; the gap may mislead"
            current = notes[inside].reset_index(drop=True)
            notes[inside] = np.where(current == "", message, current + "; " + message)
        values.loc[anywhere, "note"] = notes.to_numpy()
    return values


def _unknown_totals(key: np.ndarray, unknown: np.ndarray, denominator: np.ndarray) -> np.ndarray | None:
    """Sum of the unknown groups' denominators for each row's area and breakdown (0 if none).

    None when the denominators are not all whole numbers below 2**53: only then is a
    plain sum, in any order, exactly the compensated sum of a pandas groupby.
    """
    found = denominator[unknown]
    found = np.where(np.isnan(found), 0.0, found)
    if not (np.all(found == np.floor(found)) and np.abs(found).sum() < 2.0**53):
        return None
    distinct, inverse = np.unique(key[unknown], return_inverse=True)
    sums = np.bincount(inverse, weights=found, minlength=distinct.size)
    at = np.clip(np.searchsorted(distinct, key), 0, max(distinct.size - 1, 0))
    hit = distinct[at] == key if distinct.size else np.zeros(key.size, dtype=bool)
    result: np.ndarray = np.where(hit, sums[at] if distinct.size else 0.0, 0.0)
    return result


def _lookup(keys: np.ndarray, known: np.ndarray, found: np.ndarray) -> np.ndarray:
    """``found`` at the position of each of ``keys`` in ``known`` (unique integer ids), or NaN."""
    table = np.full(int(keys.max()) + 1 if len(keys) else 0, np.nan)
    table[known] = np.asarray(found, dtype="float64")
    result: np.ndarray = table[keys]
    return result


def _comparisons(
    values: pd.DataFrame, polarity: np.ndarray, breakdowns: tuple[np.ndarray, list[str]]
) -> pd.DataFrame:
    """Comparison categories (:func:`gapwatch.stats.compare.comparisons`); ``polarity`` holds
    each row's _POLARITY_CODES (-1 if none)."""
    group = values["group"]
    codes, found = breakdowns
    area = values["_area"].to_numpy()
    comparison, best = comparisons(
        values["value"].to_numpy(dtype="float64"),
        values["lower"].to_numpy(dtype="float64"),
        values["upper"].to_numpy(dtype="float64"),
        polarity,
        area=area,
        series=values["_series"].to_numpy(),
        cell=area * max(len(found), 1) + codes,
        is_overall=(values["breakdown"] == "overall").to_numpy(dtype=bool),
        is_england=(values["area_type"] == "england").to_numpy(dtype=bool),
        known=~group.str.contains(UNKNOWN, regex=False).to_numpy(dtype=bool),
    )
    values["comparison"] = text_from_codes(comparison, BEST_LABELS, values.index)
    values["comparison_best"] = text_from_codes(best, BEST_LABELS, values.index)
    return values


def _pairs(values: pd.DataFrame, breakdown: str, group_a: str, group_b: str) -> pd.DataFrame:
    keys = [*AREA_KEYS, "breakdown"]
    columns = ["numerator", "denominator", "value", "lower", "upper"]
    part = (values["breakdown"] == breakdown).to_numpy(dtype=bool)
    group = values["group"]
    a = values.loc[part & (group == group_a).to_numpy(dtype=bool), [*keys, *columns]]
    b = values.loc[part & (group == group_b).to_numpy(dtype=bool), [*keys, *columns]]
    # One integer key for the six key columns: the same matches, in the same order, as
    # merging on the columns themselves, without hashing text.
    both = pd.concat([a[keys], b[keys]], ignore_index=True)
    cell = _group_ids([_codes(both[key]) for key in keys])
    a = a.assign(_cell=cell[: len(a)])
    b = b[columns].assign(_cell=cell[len(a) :])
    return a.merge(b, on="_cell", suffixes=("_a", "_b")).drop(columns="_cell")


def _by_indicator(frame: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """Row positions of each indicator, as ``groupby("indicator_id", sort=False)`` groups them."""
    codes, uniques = pd.factorize(frame["indicator_id"])
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return [(uniques[index], order[bounds[index] : bounds[index + 1]]) for index in range(len(uniques))]


class _Measures:
    """Rows of inequality measures gathered piece by piece and built into one frame at the end.

    The same frame as concatenating one small frame per piece, without building text
    columns for every piece's repeated labels.
    """

    def __init__(self) -> None:
        self.keys: list[pd.DataFrame] = []
        self.numbers: list[np.ndarray] = []
        self.labels: list[tuple[str, str, str, str]] = []
        self.notes: list[np.ndarray | None] = []

    def add(
        self,
        keys: pd.DataFrame,
        measure: str,
        numbers: np.ndarray | None,
        labels: tuple[str, str, str],
        notes: np.ndarray | None = None,
    ) -> None:
        """``keys`` rows with ``numbers`` (value, lower, upper; missing if None) and labels
        (group_a, group_b, note); ``notes``, one per row, are added to the note where not empty."""
        self.keys.append(keys)
        self.numbers.append(np.full((len(keys), 3), np.nan) if numbers is None else numbers)
        self.labels.append((measure, *labels))
        self.notes.append(notes)

    def frame(self) -> pd.DataFrame:
        if not self.keys:
            return pd.DataFrame()
        frame = pd.concat(self.keys, ignore_index=True)
        lengths = [len(keys) for keys in self.keys]
        numbers = np.concatenate(self.numbers)
        labels = np.array(self.labels, dtype=object).reshape(-1, 4)

        def text(column: int) -> pd.Series:
            return pd.Series(np.repeat(labels[:, column], lengths), index=frame.index, dtype="str")

        frame["measure"] = text(0)
        frame["value"], frame["lower"], frame["upper"] = numbers[:, 0], numbers[:, 1], numbers[:, 2]
        frame["group_a"], frame["group_b"], frame["note"] = text(1), text(2), text(3)
        if any(notes is not None for notes in self.notes):
            given = np.concatenate(
                [
                    np.full(n, "", dtype=object) if notes is None else notes
                    for n, notes in zip(lengths, self.notes, strict=True)
                ]
            )
            own = given != ""
            frame.loc[own, "note"] = frame.loc[own, "note"] + "; " + given[own]
        return frame


def _gaps(values: pd.DataFrame, indicators: Mapping[str, Indicator], confidence: float) -> pd.DataFrame:
    frames = _Measures()
    for breakdown, group_a, group_b in (("imd_quintile", "1", "5"), ("core20", "core20", "rest")):
        pairs = _pairs(values, breakdown, group_a, group_b)
        if pairs.empty:
            continue
        for indicator_id, rows in _by_indicator(pairs):
            indicator = indicators[str(indicator_id)]
            part = pairs.take(rows).reset_index(drop=True)
            if indicator.measure in ("proportion", "crude_rate"):
                kind: Literal["proportion", "rate"] = (
                    "proportion" if indicator.measure == "proportion" else "rate"
                )
                result = gap(
                    part["numerator_a"], part["denominator_a"], part["numerator_b"], part["denominator_b"],
                    kind, confidence, indicator.multiplier,
                )  # fmt: skip
                difference = result[["difference", "difference_lower", "difference_upper"]].to_numpy()
                ratio = result[["ratio", "ratio_lower", "ratio_upper"]].to_numpy()
                method = str(result["method"].iloc[0])
            else:
                with np.errstate(invalid="ignore", divide="ignore"):
                    difference = np.column_stack(mover_difference(
                        part["value_a"].to_numpy(), part["lower_a"].to_numpy(), part["upper_a"].to_numpy(),
                        part["value_b"].to_numpy(), part["lower_b"].to_numpy(), part["upper_b"].to_numpy(),
                    ))  # fmt: skip
                    ratio = np.column_stack(
                        [
                            part["value_a"] / part["value_b"],
                            np.full(len(part), np.nan),
                            np.full(len(part), np.nan),
                        ]
                    )
                method = "MOVER from each group's limits; ratio without limits"
            keys = part[[*AREA_KEYS, "breakdown"]]
            for measure, numbers in (("gap_absolute", difference), ("gap_ratio", ratio)):
                frames.add(keys, measure, np.asarray(numbers, dtype="float64"), (group_a, group_b, method))
    return frames.frame()


def _slope_indices(
    values: pd.DataFrame, indicators: Mapping[str, Indicator], confidence: float
) -> pd.DataFrame:
    frames = _Measures()
    keys = [*AREA_KEYS, "breakdown"]
    for breakdown, quantiles in (("imd_decile", 10), ("imd_quintile", 5)):
        chosen = (values["breakdown"] == breakdown) & (values["group"] != UNKNOWN)
        needed = [*keys, "group", "value", "lower_95", "upper_95", "denominator"]
        part = values.loc[chosen.to_numpy(dtype=bool), needed]
        if part.empty:
            continue
        # Each distinct label converted once: the same numbers and dtype as converting every row.
        labels, distinct = pd.factorize(part["group"], use_na_sentinel=False)
        quantile = pd.to_numeric(pd.Series(distinct, dtype=part["group"].dtype)).to_numpy()[labels]
        part = part.assign(quantile=quantile)
        # Cells as integers: rows with a missing key belong to no cell, as in a groupby.
        cells = _group_ids([_codes(part[key]) for key in keys])
        keyless = part[keys].isna().any(axis=1).to_numpy()
        for indicator_id, rows in _by_indicator(part):
            indicator = indicators[str(indicator_id)]
            multiplier = indicator.multiplier
            mine = part.take(rows).reset_index(drop=True)
            value_type: Literal["proportion", "rate", "other"]
            if indicator.measure == "proportion":
                value_type, scale = "proportion", multiplier
            elif indicator.measure == "crude_rate":
                value_type, scale = "rate", 1.0
            else:
                value_type, scale = "other", 1.0
            v = mine["value"].to_numpy(dtype="float64") / scale
            lo = mine["lower_95"].to_numpy(dtype="float64") / scale
            hi = mine["upper_95"].to_numpy(dtype="float64") / scale
            mine["v"], mine["lo"], mine["hi"] = v, lo, hi
            with np.errstate(invalid="ignore"):
                present = ~np.isnan(v) & ~np.isnan(lo) & ~np.isnan(hi)
                present &= mine["denominator"].to_numpy(dtype="float64") > 0
                usable = present.copy()
                if value_type == "proportion":
                    usable &= (v > 0) & (v < 1) & (lo > 0) & (hi < 1)
                if value_type == "rate":
                    usable &= (v > 0) & (lo > 0)
            _, cell = np.unique(cells[rows], return_inverse=True)
            complete = (np.bincount(cell, weights=usable)[cell] == quantiles) & ~keyless[rows]
            # Every quantile has a value, but one is at its bound (a true zero: no events, or
            # all): the log or logit scale cannot hold it, so that cell's standard errors and
            # limits are taken on the natural scale, from each quantile's own limits.
            at_bound = (np.bincount(cell, weights=present)[cell] == quantiles) & ~keyless[rows] & ~complete
            name = breakdown.split("_")[1]
            for chosen_rows, kind, note in (
                (complete, value_type, f"Low & Low (2004) across {quantiles} {name}s"),
                (at_bound, "other", f"Low & Low (2004) across {quantiles} {name}s; a {name} with no "
                 "events (or all) has its limits on the natural scale"),
            ):  # fmt: skip
                ready = mine.loc[chosen_rows]
                if ready.empty:
                    continue
                result = sii(
                    ready, "quantile", "denominator", "v", kind, by=keys, lower="lo", upper="hi",
                    confidence=confidence, multiplier=scale,
                )  # fmt: skip
                for measure in ("sii", "rii"):
                    numbers = result[[measure, f"{measure}_lower", f"{measure}_upper"]].to_numpy(
                        dtype="float64"
                    )
                    # The RII's limits may be withheld (see sii); its note says so.
                    notes = result["note"].to_numpy(dtype=object)
                    notes = notes if measure == "rii" and (notes != "").any() else None
                    frames.add(result[keys], measure, numbers, ("1", str(quantiles), note), notes)
            complete |= at_bound
            # The first row of each cell not calculated, as drop_duplicates keeps it.
            _, first = np.unique(cell[~complete], return_index=True)
            skipped = mine.loc[~complete, keys].iloc[np.sort(first)]
            if not skipped.empty:
                note = f"not calculated: every {name} needs a value with confidence limits"
                for measure in ("sii", "rii"):
                    frames.add(skipped, measure, None, ("1", str(quantiles), note))
    return frames.frame()


def inequality_measures(
    values: pd.DataFrame, indicators: Mapping[str, Indicator], confidence: float = 0.95
) -> pd.DataFrame:
    """Gaps (quintile 1 vs 5, Core20 vs rest) and SII/RII (deciles, quintiles) per area and period.

    Returns ``AREA_KEYS…, breakdown, measure, value, lower, upper, group_a, group_b, note``;
    ``measure`` is ``gap_absolute`` (group a minus group b, in the indicator's units),
    ``gap_ratio`` (a / b), ``sii`` (least minus most deprived on the fitted line, in the
    indicator's units) or ``rii``.
    """
    z_value(confidence)
    found = (_gaps(values, indicators, confidence), _slope_indices(values, indicators, confidence))
    parts = [frame for frame in found if not frame.empty]
    if not parts:
        return pd.DataFrame(
            columns=[
                *AREA_KEYS,
                "breakdown",
                "measure",
                "value",
                "lower",
                "upper",
                "group_a",
                "group_b",
                "note",
            ]
        )
    result = pd.concat(parts, ignore_index=True)
    result["confidence"] = confidence
    return result
