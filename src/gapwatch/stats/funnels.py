"""Funnel plot control limits for proportions and rates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from scipy import stats

from gapwatch.codes import ENGLAND
from gapwatch.errors import InputError
from gapwatch.stats._validate import as_float_array, check_confidence, check_non_negative


def funnel_limits(
    denominator: Any,
    target: float,
    measure: Literal["proportion", "rate"] = "proportion",
    confidence: Sequence[float] | float = (0.95, 0.998),
    multiplier: float = 1,
) -> pd.DataFrame:
    """Control limits around a target for each denominator, for a funnel plot.

    Exact binomial (proportions) or Poisson (rates, ``target`` in events per
    ``multiplier``) limits with the interpolation of Spiegelhalter DJ (2005) *Funnel plots
    for comparing institutional performance*, Stat Med 24:1185-1202 (appendix A.1.1),
    as in APHO (2008) *Technical briefing 2: statistical process control methods in
    public health intelligence*. Returns ``denominator`` and ``lower_<level>``,
    ``upper_<level>`` columns (level as ``95`` or ``99_8``), in the units of ``target``.

    Limits never fall below 0, nor above ``multiplier`` for a proportion. The
    interpolation places a limit between the count at the tail probability and the count
    below it; when that count is 0 (a small denominator or a low target), the count
    below would be -1, which no area can have, so the lower limit is 0: no area can then
    fall below it. A binomial count cannot exceed its denominator, so the upper limit of
    a proportion is at most ``multiplier``; it is clipped there as well, so that rounding
    cannot move it past.

    >>> limits = funnel_limits([100, 10_000], target=0.5)
    >>> [round(float(v), 3) for v in limits.lower_95]
    [0.397, 0.49]
    >>> float(funnel_limits([10], target=0.08).lower_95.iloc[0])
    0.0
    """
    n = as_float_array(denominator, "denominator")
    check_non_negative(n, "denominator")
    levels = np.atleast_1d(check_confidence(confidence))
    if measure == "proportion":
        theta = target / multiplier
        if not 0 < theta < 1:
            raise InputError(
                f"target={target!r}: a proportion target must lie strictly between 0 and {multiplier}"
            )
        distribution = stats.binom(np.maximum(n, 1).astype(np.int64), theta)
    elif measure == "rate":
        theta = target / multiplier
        if theta <= 0:
            raise InputError(f"target={target!r}: a rate target must be positive")
        distribution = stats.poisson(theta * n)
    else:
        raise InputError(f"measure={measure!r}: choose 'proportion' or 'rate'")
    result = pd.DataFrame({"denominator": n})
    for level in levels:
        label = f"{level * 100:g}".replace(".", "_")
        for side, probability in (("lower", (1 - level) / 2), ("upper", 1 - (1 - level) / 2)):
            count = distribution.ppf(probability)
            above = distribution.cdf(count)
            below = distribution.cdf(count - 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(above > below, (above - probability) / (above - below), 0.0)
                limit = np.where(n > 0, (count - share) / n, np.nan) * multiplier
            # Below count 0 the interpolation reaches counts no area can have (see above).
            ceiling = multiplier if measure == "proportion" else np.inf
            result[f"{side}_{label}"] = np.clip(limit, 0.0, ceiling)
    return result


#: Points along a funnel's denominator axis: enough for smooth lines on a log scale.
FUNNEL_POINTS = 80
#: How far the drawn funnel reaches beyond the smallest and largest area (a margin of 20%).
FUNNEL_MARGIN = 0.2


def funnel_plot(
    denominators: Any, target: float, measure: Literal["proportion", "rate"], multiplier: float = 1
) -> pd.DataFrame | None:
    """The limit lines of a funnel plot of areas of the given ``denominators`` around ``target``.

    :func:`funnel_limits` at :data:`FUNNEL_POINTS` whole-number denominators spaced evenly on a
    log scale from 20% below the smallest area (at least 1) to 20% above the largest, with
    the ``target`` beside them (Spiegelhalter 2005, as :func:`funnel_limits`). ``None`` when
    no funnel can be drawn: no areas, or a target outside the range of the measure (a
    proportion of 0 or of ``multiplier``, a rate of 0 or less).

    >>> lines = funnel_plot([120, 4_000], target=50.0, measure="proportion", multiplier=100)
    >>> int(lines.denominator.iloc[0]), int(lines.denominator.iloc[-1]), float(lines.target.iloc[0])
    (96, 4800, 50.0)
    """
    sizes = as_float_array(denominators, "denominator")
    if sizes.size == 0 or target <= 0 or (measure == "proportion" and target >= multiplier):
        return None
    low, high = float(sizes.min()), float(sizes.max())
    grid = np.unique(
        np.geomspace(max(low * (1 - FUNNEL_MARGIN), 1.0), high * (1 + FUNNEL_MARGIN), FUNNEL_POINTS).round()
    )
    return funnel_limits(grid, target, measure, multiplier=multiplier).assign(target=target)


def funnel_plots(values: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """Every funnel plot of a run: one per indicator, area type and period, around England's value.

    ``values`` are published indicator values (the ``indicator_values`` table: overall
    rows are used); ``indicators`` the catalogue (``indicator_id``, ``measure``,
    ``multiplier``). Only proportions and crude rates get a funnel (a funnel does not
    suit means or medians). The areas of each plot are those of the type whose overall
    value is published (not suppressed, denominator above 0); the target is England's
    published overall value in the same period. Returns ``indicator_id``, ``area_type``,
    ``period_start`` and the columns of :func:`funnel_plot`.
    """
    columns = ["indicator_id", "area_type", "period_start"]
    overall = values.loc[values["breakdown"] == "overall"]
    plots: list[pd.DataFrame] = []
    for item in indicators[["indicator_id", "measure", "multiplier"]].to_dict("records"):
        if item["measure"] not in ("proportion", "crude_rate"):
            continue
        measure: Literal["proportion", "rate"] = "proportion" if item["measure"] == "proportion" else "rate"
        multiplier = float(item["multiplier"] or 1)
        mine = overall.loc[overall["indicator_id"] == item["indicator_id"]]
        national = mine.loc[(mine["area_type"] == "england") & (mine["area_code"] == ENGLAND)]
        england: dict[Any, Any] = dict(
            zip(national["period_start"].tolist(), national["value"].tolist(), strict=True)
        )
        shown = mine.loc[
            (mine["area_type"] != "england")
            & ~mine["suppressed"].astype(bool)
            & mine["denominator"].gt(0)
            & mine["value"].notna()
        ]
        for key, areas in shown.groupby(["area_type", "period_start"], sort=True):
            area_type, period_start = cast(tuple[Any, Any], key)
            target = england.get(period_start)
            if target is None or pd.isna(target):
                continue
            lines = funnel_plot(areas["denominator"], float(target), measure, multiplier)
            if lines is not None:
                plots.append(
                    lines.assign(
                        indicator_id=item["indicator_id"], area_type=area_type, period_start=period_start
                    )
                )
    if not plots:
        return pd.DataFrame(
            columns=[*columns, "denominator", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "target"]
        )
    frame = pd.concat(plots, ignore_index=True)
    return frame[[*columns, *[column for column in frame.columns if column not in columns]]]
