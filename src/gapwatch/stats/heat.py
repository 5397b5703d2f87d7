"""WHO Health Equity Assessment Toolkit (HEAT) summary measures of inequality.

World Health Organization (2024) *Health Equity Assessment Toolkit (HEAT): technical
notes*, Geneva: WHO — the definitions, scalings and limits below follow its summary
measure table. ``y_j`` is group j's estimate, ``p_j`` its population share, ``mu`` the
population-weighted mean, ``se_j`` its standard error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gapwatch.errors import InputError, rows
from gapwatch.stats._frames import group_keys, like, require_columns, to_pandas
from gapwatch.stats._validate import as_float_array, check_confidence
from gapwatch.stats.intervals import z_value

MEASURES = (
    "difference", "ratio", "between_group_variance", "between_group_sd",
    "mean_difference_from_best_weighted", "mean_difference_from_best_unweighted",
    "mean_difference_from_mean_weighted", "mean_difference_from_mean_unweighted",
    "index_of_disparity_weighted", "index_of_disparity_unweighted", "theil_index",
    "mean_log_deviation", "population_attributable_risk", "population_attributable_fraction",
    "absolute_concentration_index", "relative_concentration_index",
)  # fmt: skip


def heat_measures(
    data: Any,
    group: str,
    estimate: str,
    population: str,
    by: str | Sequence[str] | None = None,
    se: str | None = None,
    ordered: bool = False,
    favourable: bool = True,
    confidence: float = 0.95,
) -> Any:
    """Every WHO HEAT summary measure for each set of groups.

    For ordered groups (e.g. IMD quintiles, ``ordered=True``) rows are taken in ``group``
    order, first = most disadvantaged. ``favourable`` says whether a higher estimate is
    good (coverage) or bad (mortality). Measures (WHO HEAT technical notes, 2024):

    * ``difference`` D: ordered, most advantaged minus most disadvantaged; otherwise
      highest minus lowest. Limits D ± z sqrt(se_1² + se_2²).
    * ``ratio`` R: the same pair divided; limits exp(ln R ± z sqrt(se_1²/y_1² + se_2²/y_2²)).
    * ``between_group_variance`` BGV = Σ p_j (y_j - mu)², limits with
      se = sqrt(Σ 4 p_j² (y_j - mu)² se_j²); ``between_group_sd`` = sqrt(BGV).
    * ``mean_difference_from_best_*`` Σ p_j |y_j - y_best| (weighted) or the mean of
      |y_j - y_best| (unweighted); ``mean_difference_from_mean_*`` likewise around mu.
    * ``index_of_disparity_*`` = mean difference from mean / mu × 100.
    * ``theil_index`` = Σ p_j r_j ln r_j × 1000 and ``mean_log_deviation`` = Σ p_j (-ln r_j)
      × 1000, with r_j = y_j / mu.
    * ``population_attributable_risk`` PAR = y_best - mu (best = highest if favourable,
      else lowest) and ``population_attributable_fraction`` = PAR / mu × 100.
    * ``absolute_concentration_index`` ACI = Σ p_j (2 X_j - 1) y_j with X_j the relative
      rank (ordered only), and ``relative_concentration_index`` = ACI / mu × 100.

    Limits are given where HEAT defines an analytic formula and standard errors are
    supplied (``se``); others are missing. Returns a long DataFrame ``by…, measure,
    value, lower, upper``.

    >>> frame = pd.DataFrame({"q": [1, 2], "y": [40.0, 60.0], "pop": [50.0, 50.0]})
    >>> heat_measures(frame, "q", "y", "pop", ordered=True).set_index("measure").value["difference"]
    np.float64(20.0)
    """
    frame = to_pandas(data)
    keys = group_keys(by)
    require_columns(frame, [group, estimate, population, se, *keys])
    level = float(check_confidence(confidence))
    z = float(z_value(level))
    frame = frame.sort_values([*keys, group], kind="stable", ignore_index=True)
    values = as_float_array(frame[estimate], estimate)
    weights = as_float_array(frame[population], population)
    bad = np.isnan(weights) | (weights < 0)
    if bad.any():
        raise InputError(f"{population}: {rows(int(bad.sum()))} negative or missing")
    errors = as_float_array(frame[se], se) if se else np.full_like(values, np.nan)
    pieces = []
    grouped = frame.groupby(keys, sort=False) if keys else [((), frame)]
    for key, part in grouped:
        index = part.index.to_numpy()
        measures = _measures(values[index], weights[index], errors[index], ordered, favourable, z)
        block = pd.DataFrame(measures, columns=["measure", "value", "lower", "upper"])
        for position, name in enumerate(keys):
            block.insert(position, name, [key[position] if isinstance(key, tuple) else key] * len(block))
        pieces.append(block)
    return like(data, pd.concat(pieces, ignore_index=True))


def _measures(
    y: np.ndarray, population: np.ndarray, se: np.ndarray, ordered: bool, favourable: bool, z: float
) -> list[tuple[str, float, float, float]]:
    p = population / population.sum()
    mu = float((p * y).sum())
    if ordered:
        low_index, high_index = 0, len(y) - 1
    else:
        low_index, high_index = int(np.argmin(y)), int(np.argmax(y))
    y1, y2, s1, s2 = y[high_index], y[low_index], se[high_index], se[low_index]
    difference = float(y1 - y2)
    ratio = float(y1 / y2) if y2 else np.nan
    d_se = float(np.sqrt(s1**2 + s2**2))
    log_se = float(np.sqrt((s1 / y1) ** 2 + (s2 / y2) ** 2)) if y1 and y2 else np.nan
    bgv = float((p * (y - mu) ** 2).sum())
    bgv_se = float(np.sqrt((4 * p**2 * (y - mu) ** 2 * se**2).sum()))
    bgsd = float(np.sqrt(bgv))
    bgsd_se = bgv_se / (2 * bgsd) if bgsd > 0 else np.nan
    best = float(y.max() if favourable else y.min())
    ratio_to_mean = y / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        theil = float((p * ratio_to_mean * np.log(ratio_to_mean)).sum() * 1000)
        mld = float((p * -np.log(ratio_to_mean)).sum() * 1000)
    rank = np.cumsum(p) - p / 2
    aci = float((p * (2 * rank - 1) * y).sum()) if ordered else np.nan
    par = best - mu
    nan = np.nan

    def interval(value: float, spread: float) -> tuple[float, float]:
        return (value - z * spread, value + z * spread) if np.isfinite(spread) else (nan, nan)

    return [
        ("difference", difference, *interval(difference, d_se)),
        ("ratio", ratio, *(
            (ratio * np.exp(-z * log_se), ratio * np.exp(z * log_se)) if np.isfinite(log_se) else (nan, nan)
        )),
        ("between_group_variance", bgv, *interval(bgv, bgv_se)),
        ("between_group_sd", bgsd, *interval(bgsd, bgsd_se)),
        ("mean_difference_from_best_weighted", float((p * np.abs(y - best)).sum()), nan, nan),
        ("mean_difference_from_best_unweighted", float(np.abs(y - best).mean()), nan, nan),
        ("mean_difference_from_mean_weighted", float((p * np.abs(y - mu)).sum()), nan, nan),
        ("mean_difference_from_mean_unweighted", float(np.abs(y - mu).mean()), nan, nan),
        ("index_of_disparity_weighted", float((p * np.abs(y - mu)).sum() / mu * 100), nan, nan),
        ("index_of_disparity_unweighted", float(np.abs(y - mu).mean() / mu * 100), nan, nan),
        ("theil_index", theil, nan, nan),
        ("mean_log_deviation", mld, nan, nan),
        ("population_attributable_risk", par, nan, nan),
        ("population_attributable_fraction", par / mu * 100, nan, nan),
        ("absolute_concentration_index", aci, nan, nan),
        ("relative_concentration_index", aci / mu * 100 if ordered else nan, nan, nan),
    ]  # fmt: skip
