"""The slope and relative indices of inequality (SII, RII) across ordered quantiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from gapwatch.errors import InputError, rows
from gapwatch.stats._frames import group_keys, like, require_columns, sorted_group_ids, to_pandas
from gapwatch.stats._validate import (
    FloatArray,
    as_float_array,
    check_confidence,
    check_non_negative,
)

ValueType = Literal["other", "rate", "proportion", 0, 1, 2]
_VALUE_TYPES = {0: "other", 1: "rate", 2: "proportion", "other": "other", "rate": "rate",
                "proportion": "proportion"}  # fmt: skip
_Z975 = float(special.ndtri(0.975))
# Gauss-Hermite nodes for the moments of exp/expit of a normal variable.
_NODES, _WEIGHTS = np.polynomial.hermite.hermgauss(48)
# Relative error allowed per summed term in the quick bisection step (see _quick_quantile).
_TOLERANCE = 1e-14


def _forward(values: FloatArray, kind: str) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "rate":
            return np.log(values)
        if kind == "proportion":
            return np.log(values / (1 - values))
    return values


def _backward(values: FloatArray, kind: str) -> FloatArray:
    if kind == "rate":
        return np.exp(values)
    if kind == "proportion":
        return special.expit(values)
    return values


def regression_weights(population: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Weights turning quantile values into the WLS slope and intercept (last axis = quantiles).

    Each quantile's population share ``a`` and relative rank ``b`` (the midpoint of its
    range in the cumulative population, quantile 1 first) define the weighted least
    squares fit ``sqrt(a) y = c sqrt(a) + s b sqrt(a)`` (Low & Low 2004). Its slope is
    ``slope_weights @ y`` and its intercept ``intercept_weights @ y``.
    """
    share = population / population.sum(axis=-1, keepdims=True)
    rank = np.cumsum(share, axis=-1) - share / 2
    centre = (share * rank).sum(axis=-1, keepdims=True)
    spread = (share * (rank - centre) ** 2).sum(axis=-1, keepdims=True)
    slope = share * (rank - centre) / spread
    intercept = share - centre * slope
    return slope, intercept


def _cumulants(mean: FloatArray, sd: FloatArray, kind: str) -> FloatArray:
    """First four cumulants of g(Y), Y ~ Normal(mean, sd), g the back-transformation."""
    if kind == "other":
        zeros = np.zeros_like(mean)
        return np.stack([mean, sd**2, zeros, zeros])
    points = mean[..., None] + np.sqrt(2.0) * sd[..., None] * _NODES
    values = _backward(points, kind)
    weights = _WEIGHTS / np.sqrt(np.pi)
    m1 = values @ weights
    centred = values - m1[..., None]
    m2 = (centred**2) @ weights
    m3 = (centred**3) @ weights
    m4 = (centred**4) @ weights
    return np.stack([m1, m2, m3, m4 - 3 * m2**2])


def _combination_quantile(coefficients: FloatArray, cumulants: FloatArray, z: FloatArray) -> FloatArray:
    """Cornish-Fisher quantile of sum_i c_i X_i for independent X_i with the given cumulants.

    Cornish EA, Fisher RA (1938) *Moments and cumulants in the specification of
    distributions*; exact when every X_i is normal.
    """
    k1 = (coefficients * cumulants[0]).sum(axis=-1)
    k2 = (coefficients**2 * cumulants[1]).sum(axis=-1)
    k3 = (coefficients**3 * cumulants[2]).sum(axis=-1)
    k4 = (coefficients**4 * cumulants[3]).sum(axis=-1)
    sd = np.sqrt(k2)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(k2 > 0, k3 / sd**3, 0.0)
        kurt = np.where(k2 > 0, k4 / k2**2, 0.0)
    w = z + (z**2 - 1) * skew / 6 + (z**3 - 3 * z) * kurt / 24 - (2 * z**3 - 5 * z) * skew**2 / 36
    result: FloatArray = k1 + sd * w
    return result


def _quick_quantile(
    coefficients: FloatArray, cumulants: FloatArray, z: float, tolerance: float
) -> tuple[FloatArray, FloatArray]:
    """:func:`_combination_quantile` with a bound on how far it can be from that function's value.

    Arrays here have the quantiles on the first axis (``coefficients`` is quantiles ×
    rows), so that sums run down columns. Powers of negative numbers are many times
    slower than of positive ones, so the third and fourth powers are taken of magnitudes,
    which can differ from the exact powers in the last bit or two, and sums are added in
    another order. The bound covers, with a wide margin, what such differences and
    rounding can move the quantile (relative error ``tolerance`` in each sum).
    """
    magnitude = np.abs(coefficients)
    square = coefficients**2
    cube = magnitude**3
    fourth = magnitude**4
    k1 = (coefficients * cumulants[0]).sum(axis=0)
    size1 = (magnitude * np.abs(cumulants[0])).sum(axis=0)
    # Every term of k2 is at least zero, so k2 > 0 whatever the order of the sum.
    k2 = (square * cumulants[1]).sum(axis=0)
    k3 = (np.copysign(cube, coefficients) * cumulants[2]).sum(axis=0)
    k4 = (fourth * cumulants[3]).sum(axis=0)
    size3 = (cube * np.abs(cumulants[2])).sum(axis=0)
    size4 = (fourth * np.abs(cumulants[3])).sum(axis=0)
    sd = np.sqrt(k2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        positive = k2 > 0
        skew = np.where(positive, k3 / sd**3, 0.0)
        kurt = np.where(positive, k4 / k2**2, 0.0)
        skew_error = np.where(positive, tolerance * (size3 / sd**3 + np.abs(skew)), 0.0)
        kurt_error = np.where(positive, tolerance * (size4 / k2**2 + np.abs(kurt)), 0.0)
        a, b, c = abs(z**2 - 1) / 6, abs(z**3 - 3 * z) / 24, abs(2 * z**3 - 5 * z) / 36
        w = z + (z**2 - 1) * skew / 6 + (z**3 - 3 * z) * kurt / 24 - (2 * z**3 - 5 * z) * skew**2 / 36
        w_error = (
            a * skew_error
            + b * kurt_error
            + c * (2 * np.abs(skew) + skew_error) * skew_error
            + tolerance * (abs(z) + a * np.abs(skew) + b * np.abs(kurt) + c * skew**2)
        )
        value = k1 + sd * w
        bound = sd * w_error + tolerance * (size1 + sd * np.abs(w))
    return value, bound


def _ratio_quantile(
    numerator: FloatArray,
    denominator: FloatArray,
    cumulants: FloatArray,
    z: float,
    start: FloatArray,
    scale: FloatArray,
) -> FloatArray:
    """Quantile r of A/B (A, B linear in the X_i, B > 0) from P(A - rB <= 0), by bisection.

    Each step needs only the sign of the quantile of A - rB: where a quick estimate is
    further from zero than its error bound, its sign is that of the exact value, and only
    the remaining rows (near the root) are computed exactly. The steps taken, and so the
    result, are the same as computing every step exactly, bit for bit.
    """
    width = numerator.shape[-1]
    low = np.array(start - 40 * scale, dtype="float64").reshape(-1)
    high = np.array(start + 40 * scale, dtype="float64").reshape(-1)
    top = numerator.reshape(-1, width)
    bottom = denominator.reshape(-1, width)
    spread = cumulants.reshape(cumulants.shape[0], -1, width)
    # Quantiles first for the quick estimate; the exact one takes rows as given.
    top_t, bottom_t = np.ascontiguousarray(top.T), np.ascontiguousarray(bottom.T)
    spread_t = np.ascontiguousarray(spread.transpose(0, 2, 1))
    target = np.asarray(-z)
    tolerance = (width + 8) * _TOLERANCE
    # A row whose bracket did not move in a step is at a fixed point of the bisection
    # (a step depends only on the row's own bracket), so later steps would leave it as
    # it is: settled rows are dropped from the work and the loop ends once every row has
    # settled, as the 80 steps would leave them.
    active = np.arange(low.size)
    for _ in range(80):
        before_low, before_high = low[active], high[active]
        middle = (before_low + before_high) / 2
        coefficients = top_t - middle * bottom_t
        estimate, bound = _quick_quantile(coefficients, spread_t, -z, tolerance)
        # The z-quantile of A - rB falls as r rises; the root is the z-quantile of A/B.
        above = estimate > 0
        unsure = np.flatnonzero(~(np.abs(estimate) > bound))
        if unsure.size:
            rows = active[unsure]
            # The same products as top - middle * bottom row by row: identical values.
            exact = _combination_quantile(
                np.ascontiguousarray(coefficients[:, unsure].T), spread[:, rows], target
            )
            above[unsure] = exact > 0
        after_low = np.where(above, middle, before_low)
        after_high = np.where(above, before_high, middle)
        low[active], high[active] = after_low, after_high
        moved = (after_low.view(np.int64) != before_low.view(np.int64)) | (
            after_high.view(np.int64) != before_high.view(np.int64)
        )
        still = int(moved.sum())
        if still == 0:
            break
        # Settled rows may stay for a step or two (they stay put); copying the arrays
        # only pays once a good share of them has settled.
        if still < 0.9 * moved.size:
            active = active[moved]
            top_t, bottom_t, spread_t = top_t[:, moved], bottom_t[:, moved], spread_t[:, :, moved]
    result: FloatArray = ((low + high) / 2).reshape(np.shape(start))
    return result


def _simulate(
    mean: FloatArray,
    sd: FloatArray,
    slope: FloatArray,
    intercept: FloatArray,
    kind: str,
    transform: bool,
    reps: int,
    probabilities: FloatArray,
    seed: int | None,
) -> tuple[FloatArray, FloatArray]:
    """Percentiles of the refitted SII and RII over ``reps`` draws, groups batched."""
    generator = np.random.default_rng(seed)
    groups, quantiles = mean.shape
    sii_out = np.empty((groups, probabilities.size))
    rii_out = np.empty((groups, probabilities.size))
    chunk = max(1, int(2_000_000 // max(reps * quantiles, 1)))
    for start in range(0, groups, chunk):
        stop = min(groups, start + chunk)
        draws = generator.standard_normal((stop - start, reps, quantiles))
        draws = mean[start:stop, None, :] + sd[start:stop, None, :] * draws
        if not transform:
            draws = _backward(draws, kind)
        s = np.einsum("grq,gq->gr", draws, slope[start:stop])
        c = np.einsum("grq,gq->gr", draws, intercept[start:stop])
        sii, rii = _finish(s, c, kind, transform)
        sii_out[start:stop] = np.quantile(sii, probabilities, axis=1).T
        rii_out[start:stop] = np.quantile(rii, probabilities, axis=1).T
    return sii_out, rii_out


def _finish(s: FloatArray, c: FloatArray, kind: str, transform: bool) -> tuple[FloatArray, FloatArray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        if transform and kind != "other":
            top = _backward(c + s, kind)
            bottom = _backward(c, kind)
            return top - bottom, top / bottom
        return s, (c + s) / c


def sii(
    data: Any,
    quantile: str,
    population: str,
    value: str | None = None,
    value_type: ValueType = "other",
    by: str | Sequence[str] | None = None,
    lower: str | None = None,
    upper: str | None = None,
    se: str | None = None,
    numerator: str | None = None,
    confidence: float | Sequence[float] = 0.95,
    multiplier: float = 1,
    transform: bool = False,
    rii: bool = True,
    reps: int = 100_000,
    seed: int | None = None,
    method: Literal["analytic", "simulation"] = "analytic",
) -> Any:
    """Slope index of inequality and relative index of inequality with confidence limits.

    Low A, Low A (2004) *Measuring the gap: quantifying and comparing local health
    inequalities*, J Public Health 26:388-395, as implemented for OHID Fingertips
    (PHEindicatormethods ``phe_sii``). Quantiles are ordered 1 = most deprived; each has
    a population share ``a`` and relative rank ``b`` (the midpoint of its range in the
    cumulative population); the weighted regression ``sqrt(a) y = c sqrt(a) + s b sqrt(a)``
    gives SII = multiplier × s (the fitted least-deprived value minus the fitted
    most-deprived value, in the indicator's units) and RII = (c + s) / c (inverted
    when the multiplier is negative, so that it follows the SII's polarity).

    Standard errors come from ``se`` or from the 95% limits on the log (rates) or logit
    (proportions) scale, (upper - lower) / (2 × 1.96). The published limits come from
    simulating each quantile's value from Normal(transformed value, se),
    back-transforming, refitting and taking percentiles. Because the refitted SII is a
    linear combination of the independent simulated quantile values, ``method="analytic"``
    (the default) computes the percentiles that simulation estimates: exactly for
    normal values, and by the Cornish-Fisher expansion from the first four cumulants
    (found by Gauss-Hermite quadrature) for back-transformed ones; the RII's limits
    solve P(A - rB <= 0) = p for the ratio of two such combinations.
    ``method="simulation"`` runs the simulation itself with ``reps`` draws (batched over
    areas; ``seed`` makes it repeatable). With ``transform=True`` the regression runs on
    the log/logit scale and SII = g(c + s) - g(c), RII = g(c + s) / g(c), with g the
    back-transformation; its limits are always simulated.

    The RII divides by the fitted value at the most deprived end (the least deprived
    once inverted): where that value's interval at the confidence level includes 0 the
    RII's interval is unbounded (the condition of Fieller EC (1954) *Some problems in
    interval estimation*, J R Stat Soc B 16:175-185), so its limits are missing and
    ``note`` says why.

    Returns one row per group and confidence level: ``by…, confidence, sii, sii_lower,
    sii_upper, rii, rii_lower, rii_upper, note`` (RII columns only when ``rii``).

    >>> frame = pd.DataFrame({"decile": range(1, 11), "pop": 1000.0,
    ...                       "le": [70.0 + q for q in range(10)], "se": 0.5})
    >>> round(float(sii(frame, "decile", "pop", "le", se="se").sii.iloc[0]), 6)
    10.0
    """
    frame = to_pandas(data)
    keys = group_keys(by)
    kind = _VALUE_TYPES.get(value_type)
    if kind is None:
        raise InputError(f"value_type={value_type!r}: choose 'other', 'rate' or 'proportion' (or 0, 1, 2)")
    require_columns(frame, [quantile, population, value, lower, upper, se, numerator, *keys])
    if value is None and (numerator is None or kind != "proportion"):
        raise InputError("sii: give value, or numerator for a proportion")
    if se is None and (lower is None or upper is None) and not (kind == "proportion" and numerator):
        raise InputError("sii: give se, or both lower and upper 95% limits, for every quantile")
    levels = np.atleast_1d(check_confidence(confidence)).astype("float64")
    if reps < 1000:
        raise InputError(f"reps={reps}: at least 1,000 repetitions are needed for stable limits")

    if keys:
        # Sorting by integer ids of the keys and of the quantile gives the order of
        # sort_values on the columns themselves, far faster on text keys.
        ids = sorted_group_ids(frame, keys)
        order = np.lexsort((sorted_group_ids(frame, [quantile]), ids))
        used = [*keys, quantile, population, value, lower, upper, se, numerator]
        columns = list(dict.fromkeys(column for column in used if column is not None))
        ordered = frame[columns].take(order).reset_index(drop=True)
        ids = ids[order]
    else:
        ordered = frame.sort_values([quantile], kind="stable", ignore_index=True)
    pop = as_float_array(ordered[population], population)
    missing_pop = np.isnan(pop) | (pop <= 0)
    if missing_pop.any():
        raise InputError(f"{population}: {rows(int(missing_pop.sum()))} zero, negative or missing")
    if numerator is not None and value is None:
        counts = as_float_array(ordered[numerator], numerator)
        check_non_negative(counts, numerator)
        values = counts / pop
    else:
        values = as_float_array(ordered[value], str(value))
    if kind == "proportion":
        outside = (values < 0) | (values > 1)
        if outside.any():
            raise InputError(f"{value}: {rows(int(outside.sum()))} with a proportion outside 0 to 1")
    if kind == "rate":
        check_non_negative(values, str(value))
    standard_error = _standard_errors(ordered, values, pop, kind, se, lower, upper, numerator)

    if keys:
        # Rows are in id order, so ids number the groups in order of first appearance.
        group_index = ids
        starts = np.flatnonzero(np.concatenate([[True], ids[1:] != ids[:-1]])) if len(ids) else ids
        groups = ordered[keys].iloc[starts].reset_index(drop=True)
    else:
        group_index = np.zeros(len(ordered), dtype=int)
        groups = pd.DataFrame(index=[0])
    sizes = np.bincount(group_index)
    quantile_count = int(pd.Series(ordered[quantile]).nunique())
    if quantile_count < 2:
        raise InputError(f"{quantile}: {quantile_count} quantile(s) given; the SII needs at least 2")
    complete = sizes == quantile_count
    result = _compute(
        group_index, complete, quantile_count, pop, values, standard_error, kind, transform,
        levels, multiplier, reps, seed, method,
    )  # fmt: skip
    result = result.join(groups.loc[result["_group"]].reset_index(drop=True))
    result["note"] = np.where(
        complete[result["_group"]],
        "",
        f"not all {quantile_count} quantiles present: not calculated",
    )
    if rii:
        end = "least" if multiplier < 0 else "most"
        result.loc[result["_withheld"].to_numpy(), "note"] = (
            f"RII limits withheld: the fitted value at the {end} deprived end, which the RII "
            "divides by, could be 0, so its interval has no bound"
        )
    columns = [*keys, "confidence", "sii", "sii_lower", "sii_upper"]
    if rii:
        columns += ["rii", "rii_lower", "rii_upper"]
    return like(data, result[[*columns, "note"]])


def _standard_errors(
    frame: pd.DataFrame,
    values: FloatArray,
    pop: FloatArray,
    kind: str,
    se: str | None,
    lower: str | None,
    upper: str | None,
    numerator: str | None,
) -> FloatArray:
    if se is not None:
        errors = as_float_array(frame[se], se)
        bad = np.isnan(errors) | (errors < 0)
        if bad.any():
            raise InputError(f"{se}: {rows(int(bad.sum()))} negative or missing")
        return errors
    if lower is None or upper is None:
        # Wilson limits of x / n are the published default when only counts are given.
        from gapwatch.stats.intervals import wilson

        low, high = wilson(values * pop, pop, 0.95)
    else:
        low = as_float_array(frame[lower], lower)
        high = as_float_array(frame[upper], upper)
    gaps = np.isnan(low) | np.isnan(high)
    if gaps.any():
        raise InputError(f"{lower}/{upper}: {rows(int(gaps.sum()))} missing a confidence limit")
    if kind == "proportion":
        outside = (low < 0) | (low > 1) | (high < 0) | (high > 1)
        if outside.any():
            raise InputError(f"{lower}/{upper}: {rows(int(outside.sum()))} with limits outside 0 to 1")
    with np.errstate(divide="ignore", invalid="ignore"):
        return (_forward(high, kind) - _forward(low, kind)) / (2 * _Z975)


def _compute(
    group_index: np.ndarray,
    complete: np.ndarray,
    quantile_count: int,
    pop: FloatArray,
    values: FloatArray,
    standard_error: FloatArray,
    kind: str,
    transform: bool,
    levels: FloatArray,
    multiplier: float,
    reps: int,
    seed: int | None,
    method: str,
) -> pd.DataFrame:
    group_count = complete.size
    shape = (group_count, quantile_count)
    grid_pop = np.full(shape, np.nan)
    grid_value = np.full(shape, np.nan)
    grid_se = np.full(shape, np.nan)
    usable = complete[group_index]
    position = np.zeros(len(group_index), dtype=int)
    # Position of each row within its group, rows already sorted by quantile.
    order = np.argsort(group_index, kind="stable")
    starts = np.searchsorted(group_index[order], np.arange(group_count))
    position[order] = np.arange(len(group_index)) - starts[group_index[order]]
    rows_used = usable & (position < quantile_count)
    grid_pop[group_index[rows_used], position[rows_used]] = pop[rows_used]
    grid_value[group_index[rows_used], position[rows_used]] = values[rows_used]
    grid_se[group_index[rows_used], position[rows_used]] = standard_error[rows_used]

    slope, intercept = regression_weights(grid_pop)
    mean = _forward(grid_value, kind)
    fit_values = mean if transform else grid_value
    s = (slope * fit_values).sum(axis=-1)
    c = (intercept * fit_values).sum(axis=-1)
    sii_point, rii_point = _finish(s, c, kind, transform)

    probabilities = np.concatenate([(1 - levels) / 2, 1 - (1 - levels) / 2])
    if method not in ("analytic", "simulation"):
        raise InputError(f"method={method!r}: choose 'analytic' or 'simulation'")
    # On the log/logit scale the RII divides by g(c) > 0; otherwise by a fitted value.
    linear = not (transform and kind != "other")
    cumulants = _cumulants(mean, grid_se, kind) if linear else None
    if method == "simulation" or cumulants is None:
        sii_limits, rii_limits = _simulate(
            mean, grid_se, slope, intercept, kind, transform, reps, probabilities, seed
        )
    else:
        sii_limits, rii_limits = _analytic(cumulants, slope, intercept, probabilities, rii_point)
    # The RII divides by the fitted value at one end (c, or c + s once inverted for a
    # negative multiplier). Where that value's interval includes 0 the ratio's interval
    # is unbounded (Fieller 1954) and any finite limits (from the bisection's bracket or a simulation's
    # few draws near 0) are artefacts: they are withheld, with a note.
    withheld = np.zeros((group_count, levels.size), dtype=bool)
    if cumulants is not None:
        divisor = intercept if multiplier >= 0 else slope + intercept
        ends = np.stack(
            [_combination_quantile(divisor, cumulants, np.asarray(q)) for q in special.ndtri(probabilities)],
            axis=-1,
        )
        withheld = (ends[:, : levels.size] <= 0) & (ends[:, levels.size :] >= 0)

    frames = []
    for index, level in enumerate(levels):
        low_sii = sii_limits[:, index] * multiplier
        high_sii = sii_limits[:, index + levels.size] * multiplier
        low_rii = np.minimum(rii_limits[:, index], rii_limits[:, index + levels.size])
        high_rii = np.maximum(rii_limits[:, index], rii_limits[:, index + levels.size])
        point_rii = rii_point
        if multiplier < 0:
            # A negative multiplier reverses polarity: the RII is inverted to match.
            point_rii, low_rii, high_rii = 1 / rii_point, 1 / high_rii, 1 / low_rii
        frames.append(
            pd.DataFrame(
                {
                    "_group": np.arange(group_count),
                    "confidence": level,
                    "sii": sii_point * multiplier,
                    "sii_lower": np.minimum(low_sii, high_sii),
                    "sii_upper": np.maximum(low_sii, high_sii),
                    "rii": point_rii,
                    "rii_lower": np.where(withheld[:, index], np.nan, low_rii),
                    "rii_upper": np.where(withheld[:, index], np.nan, high_rii),
                    "_withheld": withheld[:, index],
                }
            )
        )
    result = pd.concat(frames, ignore_index=True).sort_values(["_group", "confidence"], kind="stable")
    return result.reset_index(drop=True)


def _analytic(
    cumulants: FloatArray,
    slope: FloatArray,
    intercept: FloatArray,
    probabilities: FloatArray,
    rii_point: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    z = special.ndtri(probabilities)
    sii_limits = np.stack([_combination_quantile(slope, cumulants, np.asarray(q)) for q in z], axis=-1)
    top = slope + intercept
    # Delta-method scale of the RII brackets the root search.
    variance_top = (top**2 * cumulants[1]).sum(axis=-1)
    variance_bottom = (intercept**2 * cumulants[1]).sum(axis=-1)
    bottom_mean = (intercept * cumulants[0]).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.sqrt(variance_top + rii_point**2 * variance_bottom) / np.abs(bottom_mean)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    rii_limits = np.stack(
        [_ratio_quantile(top, intercept, cumulants, float(q), rii_point, scale) for q in z], axis=-1
    )
    return sii_limits, rii_limits
