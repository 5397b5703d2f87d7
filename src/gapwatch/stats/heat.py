"""WHO Health Equity Assessment Toolkit (HEAT) summary measures of inequality.

World Health Organization (2021, 2022) *Health Equity Assessment Toolkit Plus (HEAT Plus):
technical notes*, Geneva: WHO, section "Summary measures of health inequality" — the
definitions, reference groups, directions, scalings and limits below follow it. ``y_j`` is
group j's estimate, ``p_j`` its population share, ``mu`` = Σ p_j y_j the population-weighted
(setting) mean, ``se_j`` the estimate's standard error and ``z`` the normal quantile.
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

#: What HEAT puts in place of a zero estimate inside the logarithms of the Theil index and
#: the mean log deviation (in the indicator's own units), so that one empty group does not
#: make the Theil index undefined and the mean log deviation infinite.
ZERO_SUBSTITUTE = 1e-6

NAN = float("nan")


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

    For ordered groups (``ordered=True``, e.g. IMD quintiles) rows are taken in ascending
    ``group`` order: the first is the most disadvantaged, the last the most advantaged.
    ``favourable`` says whether a higher estimate is good (coverage) or bad (mortality).
    Measures, with the HEAT Plus technical notes' definitions (WHO 2021/2022):

    * ``difference`` D. Ordered: favourable, most advantaged − most disadvantaged;
      adverse, most disadvantaged − most advantaged, so D > 0 means the disadvantaged fare
      worse either way. Unordered: highest − lowest. Limits D ± z sqrt(se_1² + se_2²).
    * ``ratio`` R: the same pair divided (ordered adverse: disadvantaged / advantaged);
      limits exp(ln R ± z sqrt(se_1²/y_1² + se_2²/y_2²)).
    * ``between_group_variance`` BGV = Σ p_j (y_j − mu)², in squared units. Limits
      BGV ± z se with the exact variance of this quadratic form under independent normal
      errors (Ahn J et al. (2018) JCO Clin Cancer Inform 2:1-19), second-order terms kept:
      se² = 4 Σ p_j² (y_j − mu)² se_j² + 2 [Σ p_j² (1 − p_j)² se_j⁴ + (Σ p_j² se_j²)²
      − Σ p_j⁴ se_j⁴]. ``between_group_sd`` = sqrt(BGV), limits by the delta method
      (se / (2 sqrt(BGV))); HEAT itself simulates these.
    * ``mean_difference_from_best_*`` Σ p_j |y_j − y_best| (weighted) or the mean of
      |y_j − y_best| (unweighted), best = highest if favourable, else lowest;
      ``mean_difference_from_mean_*`` likewise around mu; ``index_of_disparity_*`` = mean
      difference from mean / mu × 100.
    * ``theil_index`` T = Σ p_j r_j ln r_j × 1000 and ``mean_log_deviation``
      MLD = Σ p_j (−ln r_j) × 1000, r_j = y_j / mu. As in HEAT, a zero estimate is replaced
      by ``ZERO_SUBSTITUTE`` (1e-6 in the indicator's units) inside r_j; mu is not changed.
      The Theil index barely moves (r ln r → 0), but the mean log deviation then depends
      on that choice and is very large: a group at zero has no finite log deviation.
      Limits by the delta method: se(T) = 1000 sqrt(Σ p_j² se_j² (ln r_j − T/1000)²) / mu,
      se(MLD) = 1000 sqrt(Σ p_j² se_j² (1 − 1/r_j)²) / mu.
    * ``population_attributable_risk`` PAR = y_ref − mu: ordered, ref = the most advantaged
      group; unordered, the best-performing group (highest if favourable, else lowest).
      PAR is set to 0 when the reference fares worse than the mean (favourable PAR < 0,
      adverse PAR > 0). ``population_attributable_fraction`` PAF = PAR / mu × 100.
    * ``absolute_concentration_index`` ACI = Σ p_j (2 X_j − 1) y_j with X_j the relative
      rank (cumulative share up to the group's midpoint, most disadvantaged first), ordered
      only; se(ACI) = sqrt(Σ p_j² (2 X_j − 1)² se_j²), exact as ACI is linear in y.
      ``relative_concentration_index`` RCI = ACI / mu × 100 with
      se = 100 sqrt(Σ p_j² (2 X_j − 1 − ACI/mu)² se_j²) / mu (delta method). These are
      the formulas of HEAT's 2016 edition; later HEAT software takes the standard error
      of a regression on the grouped data (O'Donnell O et al. (2008) *Analyzing health
      equity using household survey data*, World Bank, ch. 8), which ignores the groups'
      own standard errors, so its limits can differ from these.

    Limits need standard errors (``se``). None are given for the mean differences and
    indices of disparity (HEAT simulates them; no closed form) nor for PAR and PAF (HEAT's
    come from Walter's (1978) binomial formula, which needs the estimate to be a proportion
    of the group's population on a known scale, not true of rates or means, and ignores
    the setting of PAR to 0). The measures relative to the mean (indices of disparity,
    Theil, MLD, PAF, RCI) are missing when mu is 0, the ratio when its denominator is 0,
    and Theil and MLD when an estimate is negative (no logarithm). Returns a long
    DataFrame ``by…, measure, value, lower, upper``; values and limits are in the units
    above.

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
        if not weights[index].sum() > 0:
            raise InputError(f"{population}: a set of groups has a total population of 0")
        measures = _measures(values[index], weights[index], errors[index], ordered, favourable, z)
        block = pd.DataFrame(measures, columns=["measure", "value", "lower", "upper"])
        for position, name in enumerate(keys):
            block.insert(position, name, [key[position] if isinstance(key, tuple) else key] * len(block))
        pieces.append(block)
    return like(data, pd.concat(pieces, ignore_index=True))


def _pair(y: np.ndarray, ordered: bool, favourable: bool) -> tuple[int, int]:
    """Positions of the numerator and subtrahend of D and R (technical notes, "Difference")."""
    if not ordered:
        return int(np.argmax(y)), int(np.argmin(y))
    disadvantaged, advantaged = 0, len(y) - 1
    # Oriented so that a positive D (R > 1) always means the disadvantaged fare worse.
    return (advantaged, disadvantaged) if favourable else (disadvantaged, advantaged)


def _par(y: np.ndarray, mu: float, ordered: bool, favourable: bool) -> float:
    """Population attributable risk (technical notes, "Population attributable risk")."""
    # Ordered: the most advantaged group (last), however it fares; else the best-performing.
    reference = float(y[-1]) if ordered else float(y.max() if favourable else y.min())
    par = reference - mu
    # No improvement is attributable to a reference that fares worse than the mean.
    return max(par, 0.0) if favourable else min(par, 0.0)


def _bgv_se(p: np.ndarray, deviation: np.ndarray, se: np.ndarray) -> float:
    """Standard error of Σ p_j (y_j − mu)²: first-order plus second-order (se⁴) terms."""
    variance = se**2
    first = 4 * (p**2 * deviation**2 * variance).sum()
    second = 2 * (
        (p**2 * (1 - p) ** 2 * variance**2).sum() + (p**2 * variance).sum() ** 2 - (p**4 * variance**2).sum()
    )
    return float(np.sqrt(first + second))


def _measures(
    y: np.ndarray, population: np.ndarray, se: np.ndarray, ordered: bool, favourable: bool, z: float
) -> list[tuple[str, float, float, float]]:
    p = population / population.sum()
    mu = float((p * y).sum())
    relative = mu != 0  # measures relative to the mean are undefined when it is 0
    first, second = _pair(y, ordered, favourable)
    y1, y2, s1, s2 = y[first], y[second], se[first], se[second]
    difference = float(y1 - y2)
    ratio = float(y1 / y2) if y2 else NAN
    d_se = float(np.sqrt(s1**2 + s2**2))
    log_se = float(np.sqrt((s1 / y1) ** 2 + (s2 / y2) ** 2)) if y1 and y2 else NAN
    deviation = y - mu
    bgv = float((p * deviation**2).sum())
    bgv_se = _bgv_se(p, deviation, se)
    bgsd = float(np.sqrt(bgv))
    bgsd_se = bgv_se / (2 * bgsd) if bgsd > 0 else NAN
    best = float(y.max() if favourable else y.min())
    mdm_weighted = float((p * np.abs(deviation)).sum())
    mdm_unweighted = float(np.abs(deviation).mean())
    theil = mld = theil_se = mld_se = NAN
    if relative:
        r = np.where(y == 0, ZERO_SUBSTITUTE, y) / mu
        with np.errstate(divide="ignore", invalid="ignore"):
            log_r = np.log(r)
            theil_raw = float((p * r * log_r).sum())
            theil, mld = theil_raw * 1000, float((p * -log_r).sum() * 1000)
            theil_se = float(1000 * np.sqrt((p**2 * se**2 * (log_r - theil_raw) ** 2).sum()) / abs(mu))
            mld_se = float(1000 * np.sqrt((p**2 * se**2 * (1 - 1 / r) ** 2).sum()) / abs(mu))
    par = _par(y, mu, ordered, favourable)
    aci = aci_se = rci = rci_se = NAN
    if ordered:
        slope = 2 * (np.cumsum(p) - p / 2) - 1  # 2 X_j - 1
        aci = float((p * slope * y).sum())
        aci_se = float(np.sqrt((p**2 * slope**2 * se**2).sum()))
        if relative:
            rci = aci / mu * 100
            rci_se = float(100 * np.sqrt((p**2 * (slope - aci / mu) ** 2 * se**2).sum()) / abs(mu))

    def interval(value: float, spread: float) -> tuple[float, float]:
        return (value - z * spread, value + z * spread) if np.isfinite(spread) else (NAN, NAN)

    def per_mean(value: float) -> float:
        return value / mu * 100 if relative else NAN

    if np.isfinite(log_se):
        ratio_limits = (ratio * float(np.exp(-z * log_se)), ratio * float(np.exp(z * log_se)))
    else:
        ratio_limits = (NAN, NAN)
    return [
        ("difference", difference, *interval(difference, d_se)),
        ("ratio", ratio, *ratio_limits),
        ("between_group_variance", bgv, *interval(bgv, bgv_se)),
        ("between_group_sd", bgsd, *interval(bgsd, bgsd_se)),
        ("mean_difference_from_best_weighted", float((p * np.abs(y - best)).sum()), NAN, NAN),
        ("mean_difference_from_best_unweighted", float(np.abs(y - best).mean()), NAN, NAN),
        ("mean_difference_from_mean_weighted", mdm_weighted, NAN, NAN),
        ("mean_difference_from_mean_unweighted", mdm_unweighted, NAN, NAN),
        ("index_of_disparity_weighted", per_mean(mdm_weighted), NAN, NAN),
        ("index_of_disparity_unweighted", per_mean(mdm_unweighted), NAN, NAN),
        ("theil_index", theil, *interval(theil, theil_se)),
        ("mean_log_deviation", mld, *interval(mld, mld_se)),
        ("population_attributable_risk", par, NAN, NAN),
        ("population_attributable_fraction", per_mean(par), NAN, NAN),
        ("absolute_concentration_index", aci, *interval(aci, aci_se)),
        ("relative_concentration_index", rci, *interval(rci, rci_se)),
    ]
