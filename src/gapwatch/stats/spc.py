"""Statistical process control: XmR charts with the NHS "Making Data Count" rules.

An XmR (individuals and moving range) chart puts process limits at the mean ± 2.66
times the average moving range. The constant is Wheeler's 3 / d2 with d2 = 1.128, the
bias correction for the range of two observations, so the limits sit three estimated
standard deviations from the mean: Wheeler DJ (1993) *Understanding Variation: the key
to managing chaos*, SPC Press. The rules for special-cause variation and the icons'
variation and assurance categories follow NHS England / NHS Improvement (2019)
*Making Data Count: Getting started* and *Making Data Count: Strengthening your
decisions*.

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
#: MDC's counts: a shift is 7 points on one side of the mean, a trend 6 points.
SHIFT_LENGTH = 7
TREND_LENGTH = 6


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
    limits. ``variation`` is None for a missing period; ``latest_variation`` is that of
    the last non-missing period (None when there is none). ``assurance`` compares the
    target with the last segment's limits (None without a target, or when that segment
    has no limits). Arrays are read-only.
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
    d2 = 1.128. Units: those of ``values``.

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
    * ``trend``: 6 or more consecutive values each strictly greater (or each strictly
      smaller) than the one before, i.e. 5 successive rises or falls; every value of the
      trend is flagged. An unchanged value ends a trend.
    * ``two_of_three``: in some window of 3 consecutive values, at least 2 lie strictly
      beyond ``X̄ ± (2/3) 2.66 mR̄`` on the same side (values beyond the limits count);
      those values are flagged, not the third. A segment of 2 values is one window.
    * Variation: a flagged value above the mean is high, below it low. A value on the
      mean can only be flagged by a trend and takes that trend's direction (the peak
      where a rise turns into a fall is high, the trough low). High is
      ``special_cause_improving`` when ``improvement`` is ``"up"`` and
      ``special_cause_concerning`` when it is ``"down"`` (and vice versa for low); with
      ``improvement=None`` they are ``special_cause_high`` / ``special_cause_low``.
    * Assurance uses the last segment's limits. For ``"up"``: lower limit ≥ target is
      ``consistently_met``, upper limit < target ``consistently_not_met``, otherwise
      ``hit_and_miss``; for ``"down"``: upper ≤ target is met, lower > target not met. A
      target needs ``improvement``, which says which side of it is good.

    >>> chart = xmr([10, 12, 11, 13, 12])
    >>> round(float(chart.mean[0]), 2), float(chart.average_moving_range[0])
    (11.6, 1.5)
    >>> round(float(chart.lower[0]), 2), round(float(chart.upper[0]), 2)
    (7.61, 15.59)
    >>> chart.latest_variation, chart.assurance
    ('common_cause', None)
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
    flags = {name: np.zeros(n, dtype=np.bool_) for name in ("outside", "shift", "trend", "two", "high")}
    for start, stop in itertools.pairwise(bounds):
        _segment(series, start, stop, mean, average, moving_range, flags)

    lower = mean - LIMIT_FACTOR * average
    upper = mean + LIMIT_FACTOR * average
    special = flags["outside"] | flags["shift"] | flags["trend"] | flags["two"]
    variation = _variation(special, flags["high"], np.isnan(series), direction)
    present = np.flatnonzero(~np.isnan(series))
    latest = variation[int(present[-1])] if present.size else None
    assurance = _assurance(float(lower[-1]), float(upper[-1]), goal, direction) if n else None

    arrays = (series, segment, mean, lower, upper, moving_range, average, *flags.values(), special)
    for array in arrays:
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
    flags["outside"][where] = (x > centre + width) | (x < centre - width)
    flags["shift"][where] = _in_long_run(above, SHIFT_LENGTH) | _in_long_run(below, SHIFT_LENGTH)

    step = np.sign(np.diff(x))
    rising = _trend_members(step > 0)
    falling = _trend_members(step < 0)
    flags["trend"][where] = rising | falling

    near = 2 * width / 3
    flags["two"][where] = _two_of_three(x > centre + near) | _two_of_three(x < centre - near)

    # Side of the mean decides high or low; only a trend can flag a value on the mean,
    # and then the trend's direction decides. A value in both a rising and a falling
    # trend is where one ends and the other starts: a peak if the previous value is lower.
    previous_lower = np.concatenate([[False], step > 0])
    on_trend_high = rising & (~falling | previous_lower)
    flags["high"][where] = above | (~below & on_trend_high)


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


def _two_of_three(beyond: BoolArray) -> BoolArray:
    """Values beyond the two-thirds line that share a 3-value window with another such value."""
    if beyond.size < 3:
        return beyond & (int(beyond.sum()) >= 2)
    count = np.convolve(beyond.astype(np.int64), np.ones(3, dtype=np.int64), mode="valid")
    # Window w covers values w … w + 2, so value k lies in windows k - 2 … k.
    in_window = np.convolve((count >= 2).astype(np.int64), np.ones(3, dtype=np.int64), mode="full")
    return beyond & (in_window > 0)


def _variation(
    special: BoolArray, high: BoolArray, missing: BoolArray, improvement: Improvement | None
) -> tuple[Variation | None, ...]:
    if improvement is None:
        names: tuple[Variation, Variation] = ("special_cause_high", "special_cause_low")
    elif improvement == "up":
        names = ("special_cause_improving", "special_cause_concerning")
    else:
        names = ("special_cause_concerning", "special_cause_improving")
    out: list[Variation | None] = []
    points = zip(missing.tolist(), special.tolist(), high.tolist(), strict=True)
    for is_missing, is_special, is_high in points:
        if is_missing:
            out.append(None)
        elif not is_special:
            out.append("common_cause")
        else:
            out.append(names[0] if is_high else names[1])
    return tuple(out)


def _assurance(
    lower: float, upper: float, target: float | None, improvement: Improvement | None
) -> Assurance | None:
    if target is None or math.isnan(lower) or math.isnan(upper):
        return None
    if improvement == "up":
        met, not_met = lower >= target, upper < target
    else:
        met, not_met = upper <= target, lower > target
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
