"""Statistical process control: XmR charts with the NHS "Making Data Count" rules.

An XmR (individuals and moving range) chart puts process limits at the mean ± 2.66
times the average moving range. The constant is Wheeler's 3 / d2 with d2 = 1.128, the
bias correction for the range of two observations, so the limits sit three estimated
standard deviations from the mean: Wheeler DJ (1993) *Understanding Variation: the key
to managing chaos*, SPC Press. The rules for special-cause variation and the icons'
variation and assurance categories follow NHS England / NHS Improvement (2019)
*Making Data Count: Getting started* and *Making Data Count: Strengthening your
decisions*, as NHS England's Making Data Count (MDC) team applies them in its current
Excel tool (as the team describes it: process limits and icons from 13 points; a point
that triggers an improvement rule and a concern rule shows improvement; points beyond
the limits count for two-of-three since November 2023; no screening of large moving
ranges) and SQL tool (v2.5 defaults: a shift and a trend are 7 points, a trend counting
both its end points; which side wins a clash is a per-metric setting there; charts
need 15 points, each recalculated segment 12), and as the NHS-R community's open
implementation NHSRplotthedots 0.2 describes them (trend points coloured by the
trend's direction, nhs-r-community/NHSRplotthedots pull request 180; two-of-three only
with its window on one side of the mean, issue 143; trial limits below 12 points,
vignette "Number of points required"). The 13-point threshold is the Excel tool's.

Everything here is pure numpy: no I/O, no frames. Units of the mean, limits and
moving ranges are those of the values.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from gapwatch.errors import InputError, rows
from gapwatch.stats._validate import FloatArray, as_float_array

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Improvement = Literal["up", "down"]
Variation = Literal[
    "common_cause",
    "special_cause_improving",
    "special_cause_concerning",
    "special_cause_high",
    "special_cause_low",
]
Assurance = Literal["consistently_met", "consistently_not_met", "hit_and_miss"]

#: Wheeler's scaling constant 3 / d2, with d2 = 1.128 for moving ranges of two points.
LIMIT_FACTOR = 2.66
#: MDC's counts: a shift is 7 points on one side of the mean, a trend 7 points (six
#: successive rises or falls; the first point of the trend is counted).
SHIFT_LENGTH = 7
TREND_LENGTH = 7
#: MDC's tool shows process limits and icons from 13 points; with fewer, the limits are
#: trial limits and no variation or assurance icon is given.
MIN_POINTS = 13


def icon_note(points: int, *, since_change: bool = False) -> str | None:
    """Why a chart with ``points`` values gives no variation or assurance icon, or None.

    NHS England's Making Data Count tool shows process limits and the icons only from
    ``MIN_POINTS`` (13) values; limits from fewer values are trial limits that move with
    every new point (NHSRplotthedots vignette "Number of points required"). The text is
    plain English for the pages.

    >>> icon_note(13) is None
    True
    >>> icon_note(8).startswith("Only 8 points: Making Data Count gives no variation")
    True
    """
    if isinstance(points, bool) or not isinstance(points, numbers.Integral) or points < 0:
        raise InputError(f"points: {points!r} is not a count of points (a whole number from 0)")
    if points >= MIN_POINTS:
        return None
    where = " since the limits were last recalculated" if since_change else ""
    noun = "point" if points == 1 else "points"
    return (
        f"Only {points} {noun}{where}: Making Data Count gives no variation or assurance icon until "
        f"there are {MIN_POINTS}, because limits from fewer points are trial limits, not yet reliable."
    )


@dataclass(frozen=True, eq=False)
class XmrResult:
    """An XmR chart: one entry per period in every array, in the order given.

    ``mean``, ``lower``, ``upper`` and ``average_moving_range`` are those of the segment
    each period belongs to, so they are filled in for missing periods too (a chart draws
    them as unbroken lines); they are NaN for segments with fewer than two values (the
    mean alone is kept when there is exactly one). ``moving_range`` is the absolute
    difference from the previous non-missing value in the same segment (NaN for the
    first value of a segment and for missing periods). The four rule arrays and
    ``special_cause`` are never set for a missing period, nor in a segment without
    limits. ``variation`` is None for a missing period. ``latest_variation`` (the
    variation icon) is that of the last non-missing period and ``assurance`` (the
    assurance icon) compares the target with the last segment's limits; both are None
    when the last segment has fewer than ``MIN_POINTS`` non-missing values
    (``trial_limits`` is then True and ``icon_note`` says why in plain English), and
    ``assurance`` is None without a target. ``variation`` is still given for every
    point of a chart with trial limits: it is the point's category against those limits,
    not an icon. Arrays are read-only.
    """

    values: FloatArray
    segment: IntArray
    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    moving_range: FloatArray
    average_moving_range: FloatArray
    outside_limits: BoolArray
    shift: BoolArray
    trend: BoolArray
    two_of_three: BoolArray
    special_cause: BoolArray
    variation: tuple[Variation | None, ...]
    latest_variation: Variation | None
    assurance: Assurance | None
    trial_limits: bool
    icon_note: str | None
    change_points: tuple[int, ...]
    improvement: Improvement | None
    target: float | None


def xmr(
    values: Any,
    *,
    change_points: Iterable[int] = (),
    improvement: Improvement | None = "up",
    target: float | None = None,
) -> XmrResult:
    """XmR process limits, special-cause rules and MDC categories for a series in time order.

    Method (Wheeler 1993; NHS England / NHS Improvement 2019, *Making Data Count:
    Getting started* and *Strengthening your decisions*): in each segment the mean
    ``X̄`` and the average moving range ``mR̄`` (mean absolute difference between
    consecutive values) give process limits ``X̄ ± 2.66 mR̄``, where 2.66 = 3 / d2 and
    d2 = 1.128. Units: those of ``values``. As in MDC's own tools, every moving range
    counts towards ``mR̄`` (large ones are not screened out).

    Conventions:

    * NaN marks a missing period. It is left out of the mean and the moving ranges, no
      rule flags it, and it neither breaks nor counts towards a run: "consecutive"
      means consecutive non-missing values, as on the plotted chart.
    * ``change_points`` are the indices at which a new segment starts (each in
      ``1 … len(values) - 1``; order and repeats do not matter). Each segment has its
      own mean and limits, no moving range spans a change point, and no run, trend or
      2-of-3 window crosses one.
    * ``outside_limits``: a value strictly above the upper or strictly below the lower
      limit.
    * ``shift``: 7 or more consecutive values all strictly above, or all strictly below,
      the mean; every value of the run is flagged. A value equal to the mean ends a run.
    * ``trend``: 7 or more consecutive values each strictly greater (or each strictly
      smaller) than the one before, i.e. 6 successive rises or falls; every value of the
      trend is flagged. An unchanged value ends a trend. 1, 2, 3, 4, 5, 6 is not a trend.
    * ``two_of_three``: in some window of 3 consecutive values, all 3 lie strictly on the
      same side of the mean and at least 2 of them strictly beyond ``X̄ ± (2/3) 2.66 mR̄``
      on that side (values beyond the limits count, as in MDC's tool since November
      2023); those values are flagged, not the third. A value on the mean is on neither
      side, so a window holding one never fires.
    * Variation: each rule fires high or low. A trend fires in its own direction (a
      rising trend high, a falling one low) wherever its points lie; the other rules
      fire on the side of the mean their point lies. High is improvement when
      ``improvement`` is ``"up"`` and concern when it is ``"down"`` (and vice versa for
      low). Where an improvement and a concern both fire on a point, the point is
      ``special_cause_improving``, as in MDC's tools. With ``improvement=None`` a point is
      ``special_cause_high`` or ``special_cause_low``; where both fire, the side of the
      mean decides, and on the mean (the turn between two trends) a peak is high and a
      trough low.
    * Icons: ``latest_variation`` and ``assurance`` are given only when the last segment
      has at least ``MIN_POINTS`` (13) non-missing values; otherwise its limits are trial
      limits, both are None, ``trial_limits`` is True and ``icon_note`` says why.
    * Assurance uses the last segment's limits, with strict comparisons: a target exactly
      on a limit is ``hit_and_miss``. For ``"up"``: lower limit > target is
      ``consistently_met``, upper limit < target ``consistently_not_met``; for
      ``"down"``: upper < target is met, lower > target not met. A target needs
      ``improvement``, which says which side of it is good.

    >>> chart = xmr([10, 12, 11] * 4 + [11], target=7.0)
    >>> float(chart.mean[0]), float(chart.average_moving_range[0])
    (11.0, 1.25)
    >>> round(float(chart.lower[0]), 3), round(float(chart.upper[0]), 3)
    (7.675, 14.325)
    >>> chart.latest_variation, chart.assurance
    ('common_cause', 'consistently_met')
    >>> short = xmr([10, 12, 11, 13, 12], target=7.0)
    >>> short.trial_limits, short.latest_variation, short.assurance
    (True, None, None)
    """
    series = _check_values(values)
    direction = _check_improvement(improvement)
    goal = _check_target(target, direction)
    n = series.size
    starts = _check_change_points(change_points, n)

    bounds = [0, *starts, n]
    segment = np.repeat(np.arange(len(bounds) - 1, dtype=np.int64), np.diff(bounds))
    mean = np.full(n, np.nan)
    average = np.full(n, np.nan)
    moving_range = np.full(n, np.nan)
    names = ("outside", "shift", "trend", "two", "high", "low", "above", "below", "peak")
    flags = {name: np.zeros(n, dtype=np.bool_) for name in names}
    for start, stop in itertools.pairwise(bounds):
        _segment(series, start, stop, mean, average, moving_range, flags)

    lower = mean - LIMIT_FACTOR * average
    upper = mean + LIMIT_FACTOR * average
    special = flags["outside"] | flags["shift"] | flags["trend"] | flags["two"]
    variation = _variation(special, flags, np.isnan(series), direction)
    present = np.flatnonzero(~np.isnan(series))
    last_points = int(np.count_nonzero(~np.isnan(series[bounds[-2] :]))) if n else 0
    note = icon_note(last_points, since_change=bool(starts))
    trial = note is not None
    latest = variation[int(present[-1])] if present.size and not trial else None
    assurance = None if trial else _assurance(float(lower[-1]), float(upper[-1]), goal, direction)

    rules = (flags["outside"], flags["shift"], flags["trend"], flags["two"])
    for array in (series, segment, mean, lower, upper, moving_range, average, *rules, special):
        array.flags.writeable = False
    return XmrResult(
        values=series,
        segment=segment,
        mean=mean,
        lower=lower,
        upper=upper,
        moving_range=moving_range,
        average_moving_range=average,
        outside_limits=flags["outside"],
        shift=flags["shift"],
        trend=flags["trend"],
        two_of_three=flags["two"],
        special_cause=special,
        variation=variation,
        latest_variation=latest,
        assurance=assurance,
        trial_limits=trial,
        icon_note=note,
        change_points=starts,
        improvement=direction,
        target=goal,
    )


def _segment(
    series: FloatArray,
    start: int,
    stop: int,
    mean: FloatArray,
    average: FloatArray,
    moving_range: FloatArray,
    flags: dict[str, BoolArray],
) -> None:
    """Fill one segment's slice of the output arrays in place."""
    where = start + np.flatnonzero(~np.isnan(series[start:stop]))
    x = series[where]
    if x.size == 0:
        return
    # np.mean of identical floats can be off by an ulp, which would put every value of a
    # flat series strictly on one side of its own mean and make a false shift.
    centre = float(x[0]) if np.all(x == x[0]) else float(np.mean(x))
    mean[start:stop] = centre
    if x.size < 2:
        return
    ranges = np.abs(np.diff(x))
    moving_range[where[1:]] = ranges
    spread = float(np.mean(ranges))
    average[start:stop] = spread

    width = LIMIT_FACTOR * spread
    above, below = x > centre, x < centre
    outside = (x > centre + width) | (x < centre - width)
    shift = _in_long_run(above, SHIFT_LENGTH) | _in_long_run(below, SHIFT_LENGTH)
    near = 2 * width / 3
    two = _two_of_three(x > centre + near, above) | _two_of_three(x < centre - near, below)
    step = np.sign(np.diff(x))
    rising = _trend_members(step > 0)
    falling = _trend_members(step < 0)
    flags["outside"][where] = outside
    flags["shift"][where] = shift
    flags["trend"][where] = rising | falling
    flags["two"][where] = two

    # Which way each flagged point points: a trend by its direction, the other rules
    # (which only fire strictly off the mean) by the point's side of the mean.
    by_side = outside | shift | two
    flags["high"][where] = (by_side & above) | rising
    flags["low"][where] = (by_side & below) | falling
    flags["above"][where] = above
    flags["below"][where] = below
    # A point in both a rising and a falling trend is where one turns into the other: a
    # peak if the value before it is lower.
    flags["peak"][where] = np.concatenate([[False], step > 0])


def _in_long_run(member: BoolArray, length: int) -> BoolArray:
    """Whether each True belongs to a block of at least ``length`` consecutive Trues."""
    if member.size == 0:
        return member.copy()
    # Label each block of equal values, then count the block sizes.
    block = np.concatenate([[0], np.cumsum(member[1:] != member[:-1])])
    sizes = np.bincount(block)
    return member & (sizes[block] >= length)


def _trend_members(step: BoolArray) -> BoolArray:
    """Values spanned by TREND_LENGTH - 1 or more successive steps of one kind.

    ``step[i]`` describes the move from value i to value i + 1, so a qualifying block of
    steps i … j covers values i … j + 1.
    """
    long_steps = _in_long_run(step, TREND_LENGTH - 1)
    members = np.zeros(step.size + 1, dtype=np.bool_)
    members[:-1] |= long_steps
    members[1:] |= long_steps
    return members


def _two_of_three(beyond: BoolArray, side: BoolArray) -> BoolArray:
    """Values beyond the two-thirds line in a 3-value window wholly on that side of the mean."""
    if beyond.size < 3:
        return np.zeros(beyond.size, dtype=np.bool_)
    ones = np.ones(3, dtype=np.int64)
    count = np.convolve(beyond.astype(np.int64), ones, mode="valid")
    whole = np.convolve(side.astype(np.int64), ones, mode="valid") == 3
    # Window w covers values w … w + 2, so value k lies in windows k - 2 … k.
    in_window = np.convolve(((count >= 2) & whole).astype(np.int64), ones, mode="full")
    return beyond & (in_window > 0)


def _variation(
    special: BoolArray, flags: dict[str, BoolArray], missing: BoolArray, improvement: Improvement | None
) -> tuple[Variation | None, ...]:
    high, low = flags["high"], flags["low"]
    # Where high and low both fire, the side of the mean (or, on the mean, peak or
    # trough) decides for a chart without a direction of improvement.
    higher = np.where(high & low, flags["above"] | (~flags["below"] & flags["peak"]), high)
    out: list[Variation | None] = []
    points = zip(
        missing.tolist(), special.tolist(), high.tolist(), low.tolist(), higher.tolist(), strict=True
    )
    for is_missing, is_special, is_high, is_low, is_higher in points:
        if is_missing:
            out.append(None)
        elif not is_special:
            out.append("common_cause")
        elif improvement is None:
            out.append("special_cause_high" if is_higher else "special_cause_low")
        else:
            good = is_high if improvement == "up" else is_low
            # MDC: where an improvement rule and a concern rule both fire, improvement.
            out.append("special_cause_improving" if good else "special_cause_concerning")
    return tuple(out)


def _assurance(
    lower: float, upper: float, target: float | None, improvement: Improvement | None
) -> Assurance | None:
    if target is None or math.isnan(lower) or math.isnan(upper):
        return None
    # Strict, as in MDC: a target exactly on a limit can be hit or missed by the process.
    if improvement == "up":
        met, not_met = lower > target, upper < target
    else:
        met, not_met = upper < target, lower > target
    if met:
        return "consistently_met"
    if not_met:
        return "consistently_not_met"
    return "hit_and_miss"


def _check_values(values: Any) -> FloatArray:
    array = as_float_array(values, "values")
    if array.ndim != 1:
        raise InputError(f"values: must be one series in time order (1-D), not {array.ndim}-D")
    infinite = np.isinf(array)
    if infinite.any():
        raise InputError(f"values: {rows(int(infinite.sum()))} infinite; use NaN for a missing period")
    # A private copy, so that making it read-only cannot surprise the caller.
    return np.array(array, dtype=np.float64)


def _check_improvement(improvement: Any) -> Improvement | None:
    if improvement is None or improvement == "up" or improvement == "down":
        return improvement
    raise InputError(f"improvement: {improvement!r} is not 'up', 'down' or None")


def _check_target(target: Any, improvement: Improvement | None) -> float | None:
    if target is None:
        return None
    if isinstance(target, bool) or not isinstance(target, numbers.Real) or not math.isfinite(target):
        raise InputError(f"target: {target!r} is not a finite number")
    if improvement is None:
        raise InputError("target: needs improvement='up' or 'down' to say which side of it is better")
    return float(target)


def _check_change_points(change_points: Iterable[int], n: int) -> tuple[int, ...]:
    try:
        points = list(change_points)
    except TypeError:
        raise InputError(f"change_points: {change_points!r} is not a list of indices") from None
    for point in points:
        if isinstance(point, bool) or not isinstance(point, numbers.Integral):
            raise InputError(f"change_points: {point!r} is not an integer index")
        if not 1 <= point <= n - 1:
            raise InputError(
                f"change_points: {point} out of range; a new segment must start at an index "
                f"from 1 to {n - 1} for {rows(n)} of values"
            )
    return tuple(sorted({int(point) for point in points}))
