"""Time series of each indicator's overall value and of its gap measures, and their trends.

A series is one indicator × area × breakdown × measure over the periods of a run:
``value`` for the overall cell (breakdown ``overall``), and ``gap_absolute``,
``gap_ratio``, ``sii`` and ``rii`` for the inequality measures. Ratios are analysed on
the log scale (a ratio's change is multiplicative and its limits are symmetric there).

Two summaries per series:

* the change from the first period with a value (baseline) to the last (latest), with
  MOVER limits from each end's own limits (Zou GY, Donner A (2008) *Construction of
  confidence limits about effect measures: a general approach*, Stat Med 27:1693-1702);
* the trend over the whole window: an inverse-variance weighted least-squares slope per
  year (standard errors from each period's limits), its variance multiplied by the
  residual dispersion when that exceeds 1 (Thompson SG, Sharp SJ (1999) *Explaining
  heterogeneity in meta-analysis: a comparison of methods*, Stat Med 18:2693-2708), so
  that period-to-period variation beyond sampling error widens the limits instead of
  raising false alarms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

SERIES_KEYS = ["indicator_id", "area_type", "area_code", "breakdown", "series"]
RATIO_MEASURES = {"gap_ratio", "rii"}
GAP_MEASURES = ("gap_absolute", "gap_ratio", "sii", "rii")
DAYS_PER_YEAR = 365.25
_POINT_COLUMNS = [*SERIES_KEYS, "period_start", "value", "lower", "upper", "suppressed"]


def series(values: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """Long table of every series: SERIES_KEYS, scale, period_start, value, lower, upper.

    Withheld points (suppressed, or a value without limits) are dropped: a series only
    ever holds what was published.

    >>> values = pd.DataFrame({"indicator_id": "x", "area_type": "icb", "area_code": "E1",
    ...     "breakdown": "overall", "group": "all", "period_start": ["2024-04-01"],
    ...     "value": [50.0], "lower": [45.0], "upper": [55.0], "suppressed": [False]})
    >>> series(values, values.iloc[:0].assign(measure=[]))[["series", "scale", "value"]].values.tolist()
    [['value', 'linear', 50.0]]
    """
    overall = values.loc[values["breakdown"] == "overall"]
    parts = [overall.assign(series="value")[_POINT_COLUMNS]]
    if not measures.empty:
        gaps = measures.loc[measures["measure"].isin(GAP_MEASURES)].rename(columns={"measure": "series"})
        parts.append(gaps[_POINT_COLUMNS])
    frame = pd.concat(parts, ignore_index=True)
    published = ~frame["suppressed"].fillna(False).astype(bool)
    published &= frame[["value", "lower", "upper"]].notna().all(axis=1)
    frame = frame.loc[published].drop(columns="suppressed")
    frame["period_start"] = pd.to_datetime(frame["period_start"])
    ratio = frame["series"].isin(RATIO_MEASURES).to_numpy()
    frame["scale"] = np.where(ratio, "log", "linear")
    # A ratio at or below zero has no log: it cannot be analysed on that scale.
    positive = (frame[["value", "lower", "upper"]] > 0).all(axis=1).to_numpy()
    frame = frame.loc[~ratio | positive]
    return frame.sort_values([*SERIES_KEYS, "period_start"], kind="stable").reset_index(drop=True)


def trends(points: pd.DataFrame, confidence: float = 0.95, min_periods: int = 3) -> pd.DataFrame:
    """Baseline-to-latest change and weighted trend for every series of ``points``.

    Units: the series' own (ratios on the log scale: a slope of 0.1 is about +10% a
    year); slopes are per year. Columns: SERIES_KEYS, scale, periods, baseline_start,
    latest_start, baseline, latest, change, change_lower, change_upper, slope_per_year,
    slope_lower, slope_upper, fitted_baseline and fitted_latest (the trend line's values at
    the first and latest periods), latest_limit_lower and latest_limit_upper (the latest period's own
    limits), note. Series with fewer than ``min_periods`` points get
    the change but no slope.

    >>> points = pd.DataFrame({"indicator_id": "x", "area_type": "icb", "area_code": "E1",
    ...     "breakdown": "overall", "series": "value", "scale": "linear",
    ...     "period_start": pd.to_datetime(["2023-04-01", "2024-04-01", "2025-04-01"]),
    ...     "value": [50.0, 52.0, 54.0], "lower": [49.0, 51.0, 53.0], "upper": [51.0, 53.0, 55.0]})
    >>> row = trends(points).iloc[0]
    >>> round(float(row["change"]), 3), round(float(row["slope_per_year"]), 2)
    (4.0, 2.0)
    """
    z = float(special.ndtri(0.5 + confidence / 2))
    # Baseline and latest are the first and last rows of each series, so sort by the series
    # and its period here: rows may arrive in any order, mixed with other series'.
    frame = points.sort_values([*SERIES_KEYS, "period_start"], kind="stable").reset_index(drop=True)
    log = (frame["scale"] == "log").to_numpy()
    for column in ("value", "lower", "upper"):
        raw = frame[column].to_numpy(dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            frame[column] = np.where(log, np.log(raw), raw)
    standard_error = (frame["upper"] - frame["lower"]) / (2 * z)
    # A point with zero width (e.g. a gap of exactly 0 with 0 counts) would get infinite
    # weight; give it the smallest positive width seen instead.
    floor = standard_error[standard_error > 0].min() if (standard_error > 0).any() else 1.0
    frame["_weight"] = 1.0 / np.maximum(standard_error, floor) ** 2
    frame["_t"] = (frame["period_start"] - frame["period_start"].min()).dt.days / DAYS_PER_YEAR
    grouped = frame.groupby(SERIES_KEYS, sort=False)
    first = grouped.head(1).set_index(SERIES_KEYS)
    last = grouped.tail(1).set_index(SERIES_KEYS)
    result = first[["scale"]].copy()
    result["periods"] = grouped.size()
    result["baseline_start"] = first["period_start"].dt.date
    result["latest_start"] = last["period_start"].dt.date
    result["baseline"], result["latest"] = first["value"], last["value"]
    # The latest period's own limits (same scale): :func:`direction` calls a gap reversed
    # only when they lie wholly on the other side of zero. Not stored (the store keeps
    # the columns of its schema), only read on the way.
    result["latest_limit_lower"], result["latest_limit_upper"] = last["lower"], last["upper"]
    change = last["value"] - first["value"]
    result["change"] = change
    result["change_lower"] = change - np.sqrt(
        (last["value"] - last["lower"]) ** 2 + (first["upper"] - first["value"]) ** 2
    )
    result["change_upper"] = change + np.sqrt(
        (last["upper"] - last["value"]) ** 2 + (first["value"] - first["lower"]) ** 2
    )
    # Weighted least squares in closed form, group by group, without a Python loop.
    frame["_wt"] = frame["_weight"] * frame["_t"]
    frame["_wy"] = frame["_weight"] * frame["value"]
    sums = frame.groupby(SERIES_KEYS, sort=False)[["_weight", "_wt", "_wy"]].transform("sum")
    t_bar = sums["_wt"] / sums["_weight"]
    y_bar = sums["_wy"] / sums["_weight"]
    frame["_sxx"] = frame["_weight"] * (frame["_t"] - t_bar) ** 2
    frame["_sxy"] = frame["_weight"] * (frame["_t"] - t_bar) * (frame["value"] - y_bar)
    moments = frame.groupby(SERIES_KEYS, sort=False)[["_sxx", "_sxy"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = moments["_sxy"] / moments["_sxx"]
        per_point = frame.groupby(SERIES_KEYS, sort=False)[["_sxx", "_sxy"]].transform("sum")
        frame["_slope"] = per_point["_sxy"] / per_point["_sxx"]
        residual = frame["value"] - y_bar - frame["_slope"] * (frame["_t"] - t_bar)
        frame["_chi"] = frame["_weight"] * residual**2
        chi = frame.groupby(SERIES_KEYS, sort=False)["_chi"].sum()
        dispersion = np.maximum(1.0, chi / (result["periods"] - 2))
        slope_error = np.sqrt(dispersion / moments["_sxx"])
    enough = (result["periods"] >= max(min_periods, 3)) & (moments["_sxx"] > 0)
    frame["_t_bar"], frame["_y_bar"] = t_bar, y_bar
    centre = frame.groupby(SERIES_KEYS, sort=False).agg(
        _t_bar=("_t_bar", "first"),
        _y_bar=("_y_bar", "first"),
        _t_first=("_t", "first"),
        _t_last=("_t", "last"),
    )
    result["slope_per_year"] = slope.where(enough)
    result["slope_lower"] = (slope - z * slope_error).where(enough)
    result["slope_upper"] = (slope + z * slope_error).where(enough)
    # Where the fitted line starts and ends: which side of zero a gap is on, steadier than
    # its first and last points.
    for column, end in (("fitted_baseline", "_t_first"), ("fitted_latest", "_t_last")):
        result[column] = (centre["_y_bar"] + slope * (centre[end] - centre["_t_bar"])).where(enough)
    result["note"] = np.where(
        enough, "", f"no trend: fewer than {max(min_periods, 3)} periods with a published value"
    )
    result.loc[result["scale"] == "log", "note"] = result["note"].where(
        result["note"] != "", "log scale: change and slope are log ratios"
    )
    return result.reset_index()


def direction(trend: pd.DataFrame, polarity: pd.Series) -> np.ndarray:
    """Plain-word codes for each trend: improving / worsening, widening / narrowing, or neither.

    A word that says something moved needs the weighted slope's limits to exclude zero;
    otherwise the code is ``no_significant_change`` (pages and reports print that slope
    and its limits beside the word, so the two always agree). The side of zero a gap
    started on is read from the trend line at the first period (steadier than one noisy
    point). A gap widens when it moves away from no difference (zero for an absolute gap
    or SII, zero on the log scale for a ratio) on that side and narrows when it moves
    towards it, including a gap that closes and ends within sampling error of zero on the
    other side. It is ``reversed`` only when the latest period's own interval lies wholly
    on the other side of zero (the group behind is now significantly ahead: issue 17).
    Needs the columns of :func:`trends`, including ``latest_limit_lower`` and
    ``latest_limit_upper``.

    >>> trend = pd.DataFrame({"series": ["gap_absolute"] * 4, "slope_per_year": [-2.0, 2.0, 6.0, 2.0],
    ...     "slope_lower": [-3.0, 1.0, 5.0, 1.0], "slope_upper": [-1.0, 3.0, 7.0, 3.0],
    ...     "fitted_baseline": [-5.0, -5.0, -5.0, -5.0], "fitted_latest": [-9.0, -1.0, 7.0, 1.0],
    ...     "latest_limit_lower": [-10.0, -2.0, 6.0, -0.5], "latest_limit_upper": [-8.0, 0.0, 8.0, 2.5]})
    >>> direction(trend, pd.Series(["higher_is_better"] * 4)).tolist()
    ['widening', 'narrowing', 'reversed', 'narrowing']
    """
    slope_lower, slope_upper = trend["slope_lower"].to_numpy(), trend["slope_upper"].to_numpy()
    rising, falling = slope_lower > 0, slope_upper < 0
    is_value = (trend["series"] == "value").to_numpy()
    higher_better = (polarity == "higher_is_better").to_numpy()
    lower_better = (polarity == "lower_is_better").to_numpy()
    start = np.sign(trend["fitted_baseline"].to_numpy(dtype="float64"))
    # A line that starts exactly at zero has no side of its own: take the latest's.
    start = np.where(start == 0, np.sign(trend["fitted_latest"].to_numpy(dtype="float64")), start)
    latest_limit_lower = trend["latest_limit_lower"].to_numpy(dtype="float64")
    latest_limit_upper = trend["latest_limit_upper"].to_numpy(dtype="float64")
    reversed_ = ((start < 0) & (latest_limit_lower > 0)) | ((start > 0) & (latest_limit_upper < 0))
    widening = ((rising & (start > 0)) | (falling & (start < 0))) & ~reversed_
    narrowing = ((rising & (start < 0)) | (falling & (start > 0))) & ~reversed_
    value_words = np.select(
        [
            (rising & higher_better) | (falling & lower_better),
            (falling & higher_better) | (rising & lower_better),
            rising,
            falling,
        ],
        ["improving", "worsening", "increasing", "decreasing"],
        "no_significant_change",
    )
    gap_words = np.select(
        [reversed_ & (rising | falling), widening, narrowing],
        ["reversed", "widening", "narrowing"],
        "no_significant_change",
    )
    words: np.ndarray = np.where(is_value, value_words, gap_words)
    return np.where(trend["slope_per_year"].isna().to_numpy(), "too_few_periods", words)
