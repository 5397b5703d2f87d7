"""What a controlled cell may publish: nothing of a suppressed count, and values from rounded counts.

Two rules applied after a policy has suppressed and rounded the counts (issue 18, item 1):

* A suppressed cell publishes nothing about its hidden count: numerator, value, both sets
  of limits and both comparisons are emptied (``blank_suppressed``). Its denominator is
  kept only where it is itself published (rounded): it counts the population, not the
  events withheld.
* Under ``nhs-digital``, below national level a proportion or crude rate is computed from
  the rounded counts shown beside it, limits included, as NHS Digital presents
  percentages in its own publications (*Disclosure control method for Hospital Episode
  Statistics*, NHS Digital 2018): ``from_rounded_counts``. Computed from the unrounded
  counts and stored at full precision, a value and its Wilson or Poisson limits pin
  down the exact counts (a cell shown as "10 of 10, 72.7% (43.4-90.3)" is 8 of 11), and
  differencing exact counts recovers suppressed ones. A directly standardised rate keeps
  its value (a weighted sum of age-specific rates that gives no count back without the
  unpublished age-band populations) but its Dobson limits are recomputed with the
  rounded total count: the ratio of their distances from the value depends on the total
  count alone, so limits from the exact count would publish it.

Comparisons are then recomputed from the published values only (``recompare``), with
OHID Fingertips' rules (*Fingertips technical guidance: comparisons with a benchmark
using confidence intervals*): a comparison made with an unrounded value, or with a
suppressed group as the best, would carry the hidden count back out.

>>> import pandas as pd
>>> cells = pd.DataFrame({"area_type": ["icb"], "numerator": [10.0], "denominator": [10.0],
...                       "value": [72.7], "lower": [43.4], "upper": [90.3],
...                       "suppressed": [False], "indicator_id": ["x"]})
>>> from_rounded_counts(cells, {"x": ("proportion", 100.0)})[["value", "lower", "upper"]].round(1)
   value  lower  upper
0  100.0   72.2  100.0
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from gapwatch.stats.compare import BEST_LABELS, LABELS, POLARITY_CODES, comparisons
from gapwatch.stats.intervals import byars
from gapwatch.stats.proportions import proportion
from gapwatch.stats.rates import rate

#: Columns that carry a cell's hidden count: emptied in every suppressed cell.
HIDDEN_NUMBERS = ("numerator", "value", "lower", "upper", "lower_95", "upper_95")
HIDDEN_LABELS = ("comparison", "comparison_best")
AREA_KEYS = ["indicator_id", "period_start", "period_end", "area_type", "area_code"]
UNKNOWN = "unknown"
OVERALL = "overall"
STANDARDISED = "directly_standardised_rate"

#: What each indicator needs here: its measure and multiplier (and, for ``recompare``, polarity).
Described = Mapping[str, Any]


def _describe(indicators: Described, indicator_id: str) -> tuple[str, float, str]:
    """``(measure, multiplier, polarity)`` of an indicator or of a ``(measure, multiplier[, polarity])``."""
    item = indicators[indicator_id]
    if isinstance(item, tuple):
        polarity = item[2] if len(item) > 2 else "no_judgement"
        return str(item[0]), float(item[1]), str(polarity)
    return str(item.measure), float(item.multiplier), str(item.polarity)


def blank_suppressed(values: pd.DataFrame) -> pd.DataFrame:
    """Empty every column of a suppressed cell that carries its hidden count.

    Numerator, value, limits (at the run's level and at 95%) become missing and both
    comparisons ``not compared``; ``suppressed`` and the note say why.

    >>> cells = pd.DataFrame({"numerator": [0.0], "value": [0.0], "lower": [0.0], "upper": [40.0],
    ...                       "comparison": ["better"], "suppressed": [True]})
    >>> blank_suppressed(cells)[["numerator", "upper", "comparison"]]
       numerator  upper    comparison
    0        NaN    NaN  not compared
    """
    result = values.copy(deep=False)
    hidden = result["suppressed"].to_numpy(dtype=bool)
    if not hidden.any():
        return result
    for column in HIDDEN_NUMBERS:
        if column in result:
            result[column] = np.where(hidden, np.nan, result[column].to_numpy(dtype="float64"))
    for column in HIDDEN_LABELS:
        if column in result:
            labels = result[column].astype(object).to_numpy()
            result[column] = pd.Series(
                np.where(hidden, LABELS[0], labels), index=result.index, dtype=result[column].dtype
            )
    return result


def from_rounded_counts(
    values: pd.DataFrame,
    indicators: Described,
    confidence: float = 0.95,
    rounding: int = 5,
    control_national: bool = True,
) -> pd.DataFrame:
    """Recompute sub-national proportions and crude rates from their published (rounded) counts.

    Proportions: Wilson score limits (Newcombe 1998, method 3); crude rates: exact
    Poisson limits below 10 events and Byars' above (APHO 2008, *Technical briefing 3*),
    the methods the unrounded values were computed with, now applied to the rounded
    numerator and denominator. Directly standardised rates keep their value; their
    Dobson limits (Dobson et al. 1991) are recomputed with the rounded total count in
    place of the exact one. Only cells that publish a value are touched (a value withheld
    for a small denominator stays withheld); national (``england``) cells only when
    ``control_national``. Units are the indicator's (its ``multiplier``); ``rounding`` is the
    policy's (the total count behind a standardised rate is rounded to it).
    """
    result = values.copy(deep=False)
    if result.empty:
        return result
    controlled = (
        ((result["area_type"] != "england").to_numpy(dtype=bool) | control_national)
        & ~result["suppressed"].to_numpy(dtype=bool)
        & ~np.isnan(result["value"].to_numpy(dtype="float64"))
    )
    numerator = result["numerator"].to_numpy(dtype="float64")
    denominator = result["denominator"].to_numpy(dtype="float64")
    columns = {name: result[name].to_numpy(dtype="float64").copy()
               for name in ("value", "lower", "upper", "lower_95", "upper_95") if name in result}  # fmt: skip
    codes, ids = pd.factorize(result["indicator_id"])
    for code, indicator_id in enumerate(ids):
        rows = np.flatnonzero(controlled & (codes == code))
        if rows.size == 0:
            continue
        measure, multiplier, _ = _describe(indicators, str(indicator_id))
        levels = [("lower", "upper", confidence), ("lower_95", "upper_95", 0.95)]
        if measure in ("proportion", "crude_rate"):
            method = proportion if measure == "proportion" else rate
            for low, high, level in levels:
                if low not in columns:
                    continue
                found = method(numerator[rows], denominator[rows], level, multiplier)
                columns["value"][rows] = found["value"].to_numpy()
                columns[low][rows] = found["lower"].to_numpy()
                columns[high][rows] = found["upper"].to_numpy()
        elif measure == STANDARDISED:
            for low, high, level in levels:
                if low not in columns:
                    continue
                columns[low][rows], columns[high][rows] = _dobson_rounded(
                    columns["value"][rows], columns[low][rows], columns[high][rows], rounding, level
                )
    for name, column in columns.items():
        result[name] = column
    return result


def _dobson_rounded(
    value: np.ndarray, lower: np.ndarray, upper: np.ndarray, rounding: int, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Dobson limits of a DSR recomputed with its total count rounded to ``rounding``.

    Dobson's limits are ``DSR + s * (O_limit - O)`` with ``s = sqrt(V / O)`` and
    ``O_limit`` Byars' limit of the total count ``O`` of standardised events (Dobson AJ et
    al. 1991, Stat Med 10:457-462, as :func:`gapwatch.stats.standardisation.dsr` computes
    them). ``O`` is not the cell's numerator (events of unknown age are left out of it), so
    it is found from the limits themselves: the ratio ``(upper - DSR) / (DSR - lower)`` is
    ``(U(O) - O) / (O - L(O))``, which falls as ``O`` grows (solved by bisection and
    checked). The limits are rebuilt with ``sqrt(V)`` and the rounded count; where the
    check fails they are withheld rather than guessed.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (upper - value) / (value - lower)
    low_o = np.full(value.shape, 1.0)
    high_o = np.full(value.shape, 1e9)
    for _ in range(80):
        middle = np.sqrt(low_o * high_o)
        below, above = byars(middle, level)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = (above - middle) / (middle - below)
        # The ratio falls with O: a ratio above the target means O is larger.
        larger = at > ratio
        low_o = np.where(larger, middle, low_o)
        high_o = np.where(larger, high_o, middle)
    count = np.round(np.sqrt(low_o * high_o))
    count_lower, count_upper = byars(count, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = (upper - value) / (count_upper - count)
        found = np.isclose(value + spread * (count_lower - count), lower, rtol=1e-9, atol=0.0)
        rounded = np.maximum(np.round(count / rounding) * rounding, rounding)
        root_v = spread * np.sqrt(count)
        new_spread = root_v / np.sqrt(rounded)
        new_lower, new_upper = byars(rounded, level)
        new_lower = value + new_spread * (new_lower - rounded)
        new_upper = value + new_spread * (new_upper - rounded)
    keep = np.isnan(lower) | np.isnan(upper)
    withheld = ~keep & ~found
    return (
        np.where(keep, lower, np.where(withheld, np.nan, new_lower)),
        np.where(keep, upper, np.where(withheld, np.nan, new_upper)),
    )


def recompare(values: pd.DataFrame, indicators: Described) -> pd.DataFrame:
    """Comparisons recomputed from the published values and limits only.

    ``comparison``: each group against its area's overall value, each area's overall
    value against England's (England's own overall value is not compared);
    ``comparison_best``: each known group against the best published group of its
    breakdown in the same area, by the indicator's polarity, through the MOVER interval of
    their difference, and ``best`` for every group equal to it: one method with the
    unrounded comparisons, :func:`gapwatch.stats.compare.comparisons`. Categories follow OHID
    Fingertips (see :func:`gapwatch.stats.compare.compare`).
    A missing value or limit gives ``not compared``.
    """
    result = values.copy(deep=False)
    if result.empty or "comparison" not in result:
        return result
    codes, ids = pd.factorize(result["indicator_id"])
    polarity = np.full(len(result), -1, dtype=np.int8)
    for code, indicator_id in enumerate(ids):
        polarity[codes == code] = POLARITY_CODES.get(_describe(indicators, str(indicator_id))[2], -1)
    comparison, best = comparisons(
        result["value"].to_numpy(dtype="float64"),
        result["lower"].to_numpy(dtype="float64"),
        result["upper"].to_numpy(dtype="float64"),
        polarity,
        area=result.groupby(AREA_KEYS, sort=False, dropna=False).ngroup().to_numpy(),
        series=result.groupby(["indicator_id", "period_start", "period_end"], sort=False, dropna=False)
        .ngroup()
        .to_numpy(),
        cell=result.groupby([*AREA_KEYS, "breakdown"], sort=False, dropna=False).ngroup().to_numpy(),
        is_overall=(result["breakdown"].astype(object).to_numpy() == OVERALL),
        is_england=(result["area_type"] == "england").to_numpy(dtype=bool),
        known=~result["group"].astype(str).str.contains(UNKNOWN, regex=False).to_numpy(dtype=bool),
    )
    labels = np.asarray(BEST_LABELS, dtype=object)
    result["comparison"] = pd.Series(labels[comparison], index=result.index, dtype=values["comparison"].dtype)
    if "comparison_best" in result:
        dtype = values["comparison_best"].dtype
        result["comparison_best"] = pd.Series(labels[best], index=result.index, dtype=dtype)
    return result


def _lookup(keys: np.ndarray, known: np.ndarray, found: np.ndarray) -> np.ndarray:
    """``found`` at the position of each of ``keys`` in ``known`` (unique integer ids), or NaN."""
    table = np.full(int(keys.max()) + 1 if len(keys) else 0, np.nan)
    table[known] = np.asarray(found, dtype="float64")
    result: np.ndarray = table[keys]
    return result


def rounded_completeness(values: pd.DataFrame, control_national: bool = True) -> pd.DataFrame:
    """Below national level, each breakdown's completeness from its published (rounded) denominators.

    Completeness is ``1 - unknown / total`` (the share of the breakdown's denominator in
    known groups): from exact counts at full precision it is a fraction whose terms can
    be read back, giving the exact total behind a rounded one. Here both terms are the
    rounded denominators published beside it. A missing ``unknown`` denominator counts as
    none found (a suppressed ``unknown`` group withholds completeness elsewhere).

    >>> cells = pd.DataFrame({"indicator_id": "x", "period_start": 1, "period_end": 2,
    ...     "area_type": "icb", "area_code": "A", "breakdown": ["overall", "sex", "sex", "sex"],
    ...     "group": ["all", "female", "male", "unknown"], "denominator": [40.0, 20.0, 10.0, 10.0],
    ...     "completeness": [float("nan"), 0.7619, 0.7619, 0.7619]})
    >>> rounded_completeness(cells)["completeness"].tolist()
    [nan, 0.75, 0.75, 0.75]
    """
    if values.empty or "completeness" not in values:
        return values
    result = values.copy(deep=False)
    completeness = result["completeness"].to_numpy(dtype="float64")
    controlled = ((result["area_type"] != "england").to_numpy(dtype=bool) | control_national) & ~np.isnan(
        completeness
    )
    if not controlled.any():
        return result
    denominator = result["denominator"].to_numpy(dtype="float64")
    is_overall = (result["breakdown"] == OVERALL).to_numpy(dtype=bool)
    unknown = ~is_overall & result["group"].astype(str).str.contains(UNKNOWN, regex=False).to_numpy(
        dtype=bool
    )
    area = result.groupby(AREA_KEYS, sort=False, dropna=False).ngroup().to_numpy()
    cell = result.groupby([*AREA_KEYS, "breakdown"], sort=False, dropna=False).ngroup().to_numpy()
    missing = np.bincount(
        cell, weights=np.where(unknown, np.nan_to_num(denominator), 0.0), minlength=cell.max() + 1
    )
    total = _lookup(area, area[is_overall], denominator[is_overall])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = 1 - missing[cell] / total
    result["completeness"] = np.where(controlled, share, completeness)
    return result


_WARNING = re.compile(r"only [0-9.]+% of records have ([^;]+); the gap may mislead")


def reword_completeness_warnings(values: pd.DataFrame) -> pd.DataFrame:
    """Give a completeness warning's share as the published completeness beside it, or none.

    :mod:`gapwatch.stats.indicators` writes "warning: only 76.2% of records have ..." from
    the exact counts; published beside rounded counts that share (to 0.1%) is a fraction
    whose terms can be read back. The share is rewritten from the published
    ``completeness`` (computed from the rounded counts); where completeness is withheld
    (its ``unknown`` group is suppressed) the note keeps the warning without a share.

    >>> cells = pd.DataFrame({"completeness": [0.75, float("nan")], "note": [
    ...     "warning: only 76.2% of records have a recorded ethnicity; the gap may mislead"] * 2})
    >>> reword_completeness_warnings(cells)["note"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['warning: only 75.0% of records have a recorded ethnicity; the gap may mislead',
     'warning: a low share of records have a recorded ethnicity (the share is withheld); the gap may mislead']
    """
    if values.empty or "note" not in values or "completeness" not in values:
        return values
    notes = values["note"].fillna("").astype(str).to_numpy(dtype=object)
    warned = np.flatnonzero(pd.Series(notes).str.contains("% of records have", regex=False).to_numpy())
    if warned.size == 0:
        return values
    share = values["completeness"].to_numpy(dtype="float64")[warned]
    with np.errstate(invalid="ignore"):
        text = pd.Series(np.round(share * 100, 1)).map(
            lambda found: "" if np.isnan(found) else f"{found:.1f}"
        )
    # Few distinct (note, share) pairs stand behind many rows: each is rewritten once.
    pairs = pd.Series(notes[warned]) + "\x00" + text
    codes, distinct = pd.factorize(pairs)
    rewritten = []
    for pair in distinct:
        note, found = str(pair).split("\x00")
        if found:
            replacement = rf"only {found}% of records have \1; the gap may mislead"
        else:
            replacement = r"a low share of records have \1 (the share is withheld); the gap may mislead"
        rewritten.append(_WARNING.sub(replacement, note))
    notes[warned] = np.asarray(rewritten, dtype=object)[codes]
    result = values.copy(deep=False)
    result["note"] = pd.Series(notes, index=values.index).astype(values["note"].dtype)
    return result
