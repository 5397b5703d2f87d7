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

from gapwatch.model.breakdowns import OVERALL_GROUP, UNKNOWN
from gapwatch.model.catalogue import DISTRIBUTION_MEASURES, STANDARDISED, Indicator
from gapwatch.stats.compare import compare
from gapwatch.stats.gaps import gap, mover_difference
from gapwatch.stats.intervals import z_value
from gapwatch.stats.medians import percentile_from_counts
from gapwatch.stats.proportions import proportion
from gapwatch.stats.rates import rate
from gapwatch.stats.sii import sii
from gapwatch.stats.standardisation import dsr

CELL_KEYS = ["indicator_id", "period_start", "period_end", "area_type", "area_code", "breakdown", "group"]
AREA_KEYS = ["indicator_id", "period_start", "period_end", "area_type", "area_code"]
ENGLAND_CODE = "E92000001"


def _limits(frame: pd.DataFrame, indicator: Indicator, confidence: float) -> pd.DataFrame:
    multiplier = indicator.multiplier
    if indicator.measure == "proportion":
        return proportion(frame["numerator"], frame["denominator"], confidence, multiplier)
    if indicator.measure == "crude_rate":
        return rate(frame["numerator"], frame["denominator"], confidence, multiplier)
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
        parts.append(frame)
    values = pd.concat(parts, ignore_index=True)
    # Integer ids of each area-period and each indicator-period: joins on one integer key
    # instead of five text columns are most of the time saved on millions of cells.
    values["_area"] = values.groupby(AREA_KEYS, sort=False, dropna=False).ngroup().to_numpy()
    series = values.groupby(["indicator_id", "period_start", "period_end"], sort=False, dropna=False).ngroup()
    values["_series"] = series.to_numpy()
    values = _completeness(_comparisons(values, indicators), completeness_warning)
    return values.drop(columns=["_area", "_series"])


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


def _completeness(values: pd.DataFrame, warning: float) -> pd.DataFrame:
    """Share of each breakdown's denominator in known groups, with a warning below ``warning``."""
    keys = ["_area", "breakdown"]
    split = values["breakdown"] != "overall"
    # No real group's label contains "unknown", so a substring test finds a side that is unknown.
    unknown = split & values["group"].str.contains(UNKNOWN, regex=False)
    missing = values.loc[unknown].groupby(keys, as_index=False).agg(_unknown=("denominator", "sum"))
    totals = values.loc[~split, ["_area", "denominator"]].rename(columns={"denominator": "_total"})
    joined = values[keys].merge(missing, on=keys, how="left").merge(totals, on="_area", how="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = 1 - joined["_unknown"].fillna(0).to_numpy() / joined["_total"].to_numpy()
    values["completeness"] = np.where(split.to_numpy(), share, np.nan)
    names = {name: set(name.split(":")) for name in values["breakdown"].unique()}
    for breakdown, field in _FIELDS.items():
        involved = [name for name, parts in names.items() if breakdown in parts]
        named = values["breakdown"].isin(involved)
        concerned = named & (values["completeness"] < warning)
        if concerned.any():
            text = (values.loc[concerned, "completeness"] * 100).round(1).astype(str)
            message = "warning: only " + text + f"% of records have {field}; the gap may mislead"
            notes = values.loc[concerned, "note"]
            values.loc[concerned, "note"] = np.where(notes == "", message, notes + "; " + message)
    return values


def _lookup(keys: pd.Series, known: pd.Series, found: pd.Series) -> np.ndarray:
    """``found`` at the position of each of ``keys`` in ``known`` (unique integer ids), or NaN."""
    table = np.full(int(keys.max()) + 1 if len(keys) else 0, np.nan)
    table[known.to_numpy()] = found.to_numpy(dtype="float64")
    return table[keys.to_numpy()]


def _comparisons(values: pd.DataFrame, indicators: Mapping[str, Indicator]) -> pd.DataFrame:
    polarity = values["indicator_id"].map({key: item.polarity for key, item in indicators.items()})
    overall = values.loc[values["breakdown"] == "overall", ["_area", "_series", "area_type", "value"]]
    # Groups against their area's overall value; areas' overall values against England's.
    comparator = _lookup(values["_area"], overall["_area"], overall["value"])
    england = overall.loc[overall["area_type"] == "england"]
    england_value = _lookup(values["_series"], england["_series"], england["value"])
    is_overall = (values["breakdown"] == "overall").to_numpy()
    comparator = np.where(is_overall, england_value, comparator)
    comparator = np.where(is_overall & (values["area_type"] == "england").to_numpy(), np.nan, comparator)
    values["comparison"] = "not compared"
    values["comparison_best"] = "not compared"
    for kind in ("higher_is_better", "lower_is_better", "no_judgement"):
        rows = (polarity == kind).to_numpy()
        if rows.any():
            values.loc[rows, "comparison"] = compare(
                values.loc[rows, "value"], values.loc[rows, "lower"], values.loc[rows, "upper"],
                comparator[rows], kind,
            )  # fmt: skip
    # The best group of each breakdown (known groups only) by the indicator's polarity.
    judged = (polarity != "no_judgement") & (values["breakdown"] != "overall") & (values["group"] != UNKNOWN)
    judged &= ~values["group"].str.contains(UNKNOWN, regex=False) & values["value"].notna()
    candidates = values.loc[judged]
    signed = np.where(polarity[judged] == "higher_is_better", 1.0, -1.0) * candidates["value"]
    best_index = signed.groupby([candidates["_area"], candidates["breakdown"]], sort=False).idxmax()
    best = values.loc[best_index.to_numpy(), ["_area", "breakdown", "value", "group"]].rename(
        columns={"value": "best_value", "group": "best_group"}
    )
    merged = values.loc[judged, ["_area", "breakdown"]].merge(best, on=["_area", "breakdown"], how="left")
    for kind in ("higher_is_better", "lower_is_better"):
        chosen = judged & (polarity == kind)
        if chosen.any():
            inside = chosen[judged].to_numpy()
            values.loc[chosen, "comparison_best"] = compare(
                values.loc[chosen, "value"], values.loc[chosen, "lower"], values.loc[chosen, "upper"],
                merged.loc[inside, "best_value"].to_numpy(), kind,
            )  # fmt: skip
    # Every group equal to the best value is "best": ties must not depend on row order.
    tied = values.loc[judged, ["_area", "breakdown", "value"]].merge(
        best[["_area", "breakdown", "best_value"]], on=["_area", "breakdown"], how="left"
    )
    at_best = tied["value"].to_numpy() == tied["best_value"].to_numpy()
    values.loc[values.index[judged.to_numpy()][at_best], "comparison_best"] = "best"
    values.loc[values["group"] == OVERALL_GROUP, "comparison_best"] = "not compared"
    return values


def _pairs(values: pd.DataFrame, breakdown: str, group_a: str, group_b: str) -> pd.DataFrame:
    part = values.loc[values["breakdown"] == breakdown]
    keys = [*AREA_KEYS, "breakdown"]
    columns = ["numerator", "denominator", "value", "lower", "upper"]
    a = part.loc[part["group"] == group_a, [*keys, *columns]]
    b = part.loc[part["group"] == group_b, [*keys, *columns]]
    return a.merge(b, on=keys, suffixes=("_a", "_b"))


def _gaps(values: pd.DataFrame, indicators: Mapping[str, Indicator], confidence: float) -> pd.DataFrame:
    frames = []
    for breakdown, group_a, group_b in (("imd_quintile", "1", "5"), ("core20", "core20", "rest")):
        pairs = _pairs(values, breakdown, group_a, group_b)
        if pairs.empty:
            continue
        for indicator_id, part in pairs.groupby("indicator_id", sort=False):
            indicator = indicators[str(indicator_id)]
            part = part.reset_index(drop=True)
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
            for measure, numbers in (("gap_absolute", difference), ("gap_ratio", ratio)):
                frame = part[[*AREA_KEYS, "breakdown"]].copy()
                frame["measure"] = measure
                frame["value"], frame["lower"], frame["upper"] = numbers[:, 0], numbers[:, 1], numbers[:, 2]
                frame["group_a"], frame["group_b"] = group_a, group_b
                frame["note"] = method
                frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _slope_indices(
    values: pd.DataFrame, indicators: Mapping[str, Indicator], confidence: float
) -> pd.DataFrame:
    frames = []
    keys = [*AREA_KEYS, "breakdown"]
    for breakdown, quantiles in (("imd_decile", 10), ("imd_quintile", 5)):
        part = values.loc[(values["breakdown"] == breakdown) & (values["group"] != UNKNOWN)].copy()
        if part.empty:
            continue
        part["quantile"] = pd.to_numeric(part["group"])
        for indicator_id, mine in part.groupby("indicator_id", sort=False):
            indicator = indicators[str(indicator_id)]
            multiplier = indicator.multiplier
            mine = mine.reset_index(drop=True)
            value_type: Literal["proportion", "rate", "other"]
            if indicator.measure == "proportion":
                value_type, scale = "proportion", multiplier
            elif indicator.measure == "crude_rate":
                value_type, scale = "rate", 1.0
            else:
                value_type, scale = "other", 1.0
            mine["v"] = mine["value"] / scale
            mine["lo"] = mine["lower_95"] / scale
            mine["hi"] = mine["upper_95"] / scale
            usable = mine["v"].notna() & mine["lo"].notna() & mine["hi"].notna() & (mine["denominator"] > 0)
            if value_type == "proportion":
                usable &= (mine["v"] > 0) & (mine["v"] < 1) & (mine["lo"] > 0) & (mine["hi"] < 1)
            if value_type == "rate":
                usable &= (mine["v"] > 0) & (mine["lo"] > 0)
            complete = usable.groupby([mine[key] for key in keys], sort=False).transform("sum") == quantiles
            ready = mine.loc[complete]
            skipped = mine.loc[~complete, keys].drop_duplicates()
            if not ready.empty:
                result = sii(
                    ready, "quantile", "denominator", "v", value_type, by=keys, lower="lo", upper="hi",
                    confidence=confidence, multiplier=scale,
                )  # fmt: skip
                for measure in ("sii", "rii"):
                    frame = result[keys].copy()
                    frame["measure"] = measure
                    frame["value"] = result[measure].to_numpy()
                    frame["lower"] = result[f"{measure}_lower"].to_numpy()
                    frame["upper"] = result[f"{measure}_upper"].to_numpy()
                    frame["group_a"], frame["group_b"] = "1", str(quantiles)
                    frame["note"] = f"Low & Low (2004) across {quantiles} {breakdown.split('_')[1]}s"
                    frames.append(frame)
            if not skipped.empty:
                for measure in ("sii", "rii"):
                    frame = skipped.copy()
                    frame["measure"] = measure
                    frame["value"] = frame["lower"] = frame["upper"] = np.nan
                    frame["group_a"], frame["group_b"] = "1", str(quantiles)
                    frame["note"] = (
                        f"not calculated: every {breakdown.split('_')[1]} needs a value strictly between "
                        "its limits' bounds (no zero counts)"
                    )
                    frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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
