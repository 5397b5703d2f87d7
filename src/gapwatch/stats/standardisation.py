"""Directly and indirectly standardised rates, and standardised ratios."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gapwatch.errors import InputError, rows
from gapwatch.stats._frames import group_keys, key_column, like, require_columns, to_pandas
from gapwatch.stats._validate import as_float_array, check_confidence, check_non_negative
from gapwatch.stats.intervals import byars, poisson_limits

#: The 2013 European Standard Population (Eurostat 2013), five-year bands 0-4 to 90+.
ESP2013 = {
    "0-4": 5000, "5-9": 5500, "10-14": 5500, "15-19": 5500, "20-24": 6000, "25-29": 6000,
    "30-34": 6500, "35-39": 7000, "40-44": 7000, "45-49": 7000, "50-54": 7000, "55-59": 6500,
    "60-64": 6000, "65-69": 5500, "70-74": 5000, "75-79": 4000, "80-84": 2500, "85-89": 1500,
    "90+": 1000,
}  # fmt: skip


def _standard_weights(frame: pd.DataFrame, age_band: str, standard: Any) -> np.ndarray:
    if isinstance(standard, str) and standard in frame.columns:
        return as_float_array(frame[standard], standard)
    if isinstance(standard, str) and standard.lower() == "esp2013":
        require_columns(frame, [age_band])
        # Each distinct label is cleaned once: frames of every cell repeat a few labels.
        codes, uniques = pd.factorize(frame[age_band].astype(str))
        labels = pd.Series(uniques, dtype=object).str.strip()
        # Leading zeros ("05-09") are common in extracts; the standard has none.
        labels = labels.str.replace(r"(?<!\d)0(\d)", r"\1", regex=True)
        mapped = pd.Series(labels.map(ESP2013).to_numpy(dtype="float64")[codes], index=frame.index)
        unknown = mapped.isna()
        if unknown.any():
            raise InputError(
                f"{age_band}: {rows(int(unknown.sum()))} with an age band not in the ESP 2013 "
                f"(e.g. {frame.loc[unknown, age_band].iloc[0]!r}); bands are 0-4, 5-9, …, 90+"
            )
        return mapped.to_numpy(dtype="float64")
    given = as_float_array(standard, "standard")
    if given.shape != (len(frame),):
        raise InputError(f"standard: {given.size} values given for {rows(len(frame))}")
    return given


def dsr(
    data: Any,
    count: str,
    population: str,
    by: str | Sequence[str] | None = None,
    age_band: str = "age_band",
    standard: Any = "esp2013",
    confidence: float = 0.95,
    multiplier: float = 100_000,
    independent_events: bool = True,
    event_frequency: str | None = None,
) -> Any:
    """Directly standardised rates with Dobson's confidence limits.

    DSR = sum(w_i x_i / n_i) / sum(w_i) × multiplier over age bands i, with standard
    population weights w (default the 2013 European Standard Population, matched by
    ``age_band`` label, or a column name or array of weights). Limits by Dobson AJ et al.
    (1991) *Confidence intervals for weighted sums of Poisson parameters*, Stat Med
    10:457-462: DSR + sqrt(var(DSR) / O) × (O_limit - O), with O the total count and its
    Byars limits, as in APHO (2008) and PHEindicatormethods ``calculate_dsr``. Value and
    limits are missing, with a ``note``, when the total count is below 10.

    When a person can have several events (``independent_events=False``), each row
    counts the *persons* with ``event_frequency`` events in an age band; the rate uses
    all events and the variance is the sum over frequencies f of f² times the variance
    of the persons-with-f-events rate (OHID, *Calculating DSRs for non-independent
    events*, Fingertips technical guidance).

    Units: events per ``multiplier`` standard population. Returns ``by…, total_count,
    total_pop, value, lower, upper, confidence, statistic, method, note``.

    >>> frame = pd.DataFrame({"age_band": list(ESP2013), "count": 10.0, "pop": 1000.0})
    >>> round(float(dsr(frame, "count", "pop").value.iloc[0]), 6)
    1000.0
    """
    frame = to_pandas(data)
    keys = group_keys(by)
    require_columns(frame, [count, population, *keys, event_frequency])
    level = float(check_confidence(confidence))
    persons = as_float_array(frame[count], count)
    pop = as_float_array(frame[population], population)
    check_non_negative(persons, count)
    check_non_negative(pop, population)
    missing = np.isnan(pop) | (pop == 0)
    if missing.any():
        raise InputError(f"{population}: {rows(int(missing.sum()))} missing or zero")
    weights = _standard_weights(frame, age_band, standard)
    check_non_negative(weights, "standard")
    if independent_events:
        frequency = np.ones_like(persons)
    else:
        if event_frequency is None:
            raise InputError("event_frequency: needed when independent_events is False")
        frequency = as_float_array(frame[event_frequency], event_frequency)
        check_non_negative(frequency, event_frequency)
    events = persons * frequency
    work = pd.DataFrame({key: key_column(frame[key]) for key in keys})
    work["_events"] = events
    work["_rate"] = weights * events / pop
    work["_variance"] = frequency**2 * weights**2 * persons / pop**2
    work["_weight"] = weights
    if not independent_events:
        # Population and standard weight are counted once per age band, not per frequency.
        band_keys = [*keys, age_band]
        work[age_band] = frame[age_band].to_numpy()
        first = ~work.duplicated(band_keys)
        work["_pop"] = np.where(first, pop, 0.0)
        work["_weight"] = np.where(first, weights, 0.0)
    else:
        work["_pop"] = pop
    sums = ["_events", "_rate", "_variance", "_weight", "_pop"]
    if keys:
        summary = work.groupby(keys, sort=True, dropna=False)[sums].sum().reset_index()
    else:
        summary = work[sums].sum().to_frame().T
    total_count = summary["_events"].to_numpy()
    total_weight = summary["_weight"].to_numpy()
    value = summary["_rate"].to_numpy() / total_weight
    variance = summary["_variance"].to_numpy() / total_weight**2
    count_lower, count_upper = byars(total_count, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.sqrt(variance / total_count)
        lower = value + spread * (count_lower - total_count)
        upper = value + spread * (count_upper - total_count)
    small = total_count < 10
    result = summary[keys].copy() if keys else pd.DataFrame(index=range(len(summary)))
    result["total_count"] = total_count
    result["total_pop"] = summary["_pop"].to_numpy()
    result["value"] = np.where(small, np.nan, value * multiplier)
    result["lower"] = np.where(small, np.nan, lower * multiplier)
    result["upper"] = np.where(small, np.nan, upper * multiplier)
    result["confidence"] = level
    result["statistic"] = f"dsr per {multiplier:g}"
    result["method"] = "Dobson"
    result["note"] = np.where(small, "total count below 10: not calculated", "")
    return like(data, result)


def _check_reference_population(
    frame: pd.DataFrame, reference_pop: np.ndarray, ref_population: str | Any, age_band: str, keys: list[str]
) -> None:
    """Every band needs a reference population above zero, or its reference rate is undefined.

    Left alone, a zero gave an infinite reference rate, hence an infinite expected count
    and a ratio of 0 with limits 0 to 0; a missing one was dropped from the sum of the
    expected counts. Both are wrong numbers that look right, so they are errors naming
    the band.
    """
    bad = np.broadcast_to(np.isnan(reference_pop) | (reference_pop == 0), (len(frame),))
    if not bad.any():
        return
    name = ref_population if isinstance(ref_population, str) else "ref_population"
    first = int(np.flatnonzero(bad)[0])
    band = frame[age_band].iloc[first] if age_band in frame.columns else None
    where = f"row {first + 1}" if band is None else f"age band {band!r}"
    if keys:
        where += " of " + ", ".join(f"{key} {frame[key].iloc[first]!r}" for key in keys)
    raise InputError(
        f"{name}: reference population zero or missing in {rows(int(bad.sum()))} (e.g. {where}); "
        "every age band needs a reference population above zero for its reference rate"
    )


def _indirect(
    data: Any,
    count: str,
    population: str,
    ref_count: str | Any,
    ref_population: str | Any,
    by: str | Sequence[str] | None,
    confidence: float,
    age_band: str,
) -> tuple[pd.DataFrame, list[str], float]:
    frame = to_pandas(data)
    keys = group_keys(by)
    require_columns(frame, [count, population, *keys])
    level = float(check_confidence(confidence))
    observed = as_float_array(frame[count], count)
    pop = as_float_array(frame[population], population)
    reference_count = as_float_array(
        frame[ref_count] if isinstance(ref_count, str) else ref_count, "ref_count"
    )
    reference_pop = as_float_array(
        frame[ref_population] if isinstance(ref_population, str) else ref_population,
        "ref_population",
    )
    for values, name in [(observed, count), (pop, population), (reference_count, "ref_count"),
                         (reference_pop, "ref_population")]:  # fmt: skip
        check_non_negative(values, name)
    _check_reference_population(frame, reference_pop, ref_population, age_band, keys)
    work = pd.DataFrame({key: key_column(frame[key]) for key in keys})
    work["observed"] = observed
    work["expected"] = pop * reference_count / reference_pop
    work["_ref_count"] = np.broadcast_to(reference_count, observed.shape)
    work["_ref_pop"] = np.broadcast_to(reference_pop, observed.shape)
    columns = ["observed", "expected", "_ref_count", "_ref_pop"]
    if keys:
        summary = work.groupby(keys, sort=True, dropna=False)[columns].sum().reset_index()
    else:
        summary = work[columns].sum().to_frame().T
    return summary, keys, level


def isr(
    data: Any,
    count: str,
    population: str,
    ref_count: str | Any,
    ref_population: str | Any,
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
    multiplier: float = 100_000,
    age_band: str = "age_band",
) -> Any:
    """Indirectly standardised rates: observed / expected × the reference rate.

    Expected events apply the reference population's age-specific rates
    (``ref_count / ref_population``) to each area's population; limits are exact Poisson
    below 10 observed events and Byars otherwise, divided by the expected count (APHO
    2008, PHEindicatormethods ``calculate_ISRate``). Units: events per ``multiplier``.
    A band whose reference population is zero or missing is an error naming it (from
    the ``age_band`` column when there is one). Returns ``by…, observed, expected,
    ref_rate, value, lower, upper, confidence, statistic, method``.

    >>> frame = pd.DataFrame({"count": [10.0, 20.0], "pop": [100.0, 100.0],
    ...                       "ref_count": [50.0, 50.0], "ref_pop": [500.0, 500.0]})
    >>> round(float(isr(frame, "count", "pop", "ref_count", "ref_pop").value.iloc[0]), 1)
    15000.0
    """
    summary, keys, level = _indirect(
        data, count, population, ref_count, ref_population, by, confidence, age_band
    )
    result = _ratio_result(summary, keys, level)
    # The reference rate is the crude rate of the whole reference population, summed over
    # the age bands given with each area.
    reference_rate = (summary["_ref_count"] / summary["_ref_pop"]).to_numpy()
    result.insert(len(keys) + 2, "ref_rate", reference_rate * multiplier)
    for column in ("value", "lower", "upper"):
        result[column] = result[column] * reference_rate * multiplier
    result["statistic"] = f"indirectly standardised rate per {multiplier:g}"
    return like(data, result)


def smr(
    data: Any,
    count: str,
    population: str,
    ref_count: str | Any,
    ref_population: str | Any,
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
    ref_value: float = 1,
    age_band: str = "age_band",
) -> Any:
    """Standardised ratios (observed / expected) × ``ref_value`` (1, or 100 for an SMR of 100).

    Same expected counts and limits as :func:`isr` (PHEindicatormethods
    ``calculate_ISRatio``), and the same check of the reference population. Returns
    ``by…, observed, expected, value, lower, upper, confidence, statistic, method``.

    >>> frame = pd.DataFrame({"count": [30.0], "pop": [100.0], "ref_count": [50.0], "ref_pop": [250.0]})
    >>> float(smr(frame, "count", "pop", "ref_count", "ref_pop").value.iloc[0])
    1.5
    """
    summary, keys, level = _indirect(
        data, count, population, ref_count, ref_population, by, confidence, age_band
    )
    result = _ratio_result(summary, keys, level)
    for column in ("value", "lower", "upper"):
        result[column] = result[column] * ref_value
    result["statistic"] = f"standardised ratio (reference {ref_value:g})"
    return like(data, result)


def _ratio_result(summary: pd.DataFrame, keys: list[str], level: float) -> pd.DataFrame:
    observed = summary["observed"].to_numpy()
    expected = summary["expected"].to_numpy()
    lower, upper = poisson_limits(observed, level)
    result = summary[[*keys, "observed", "expected"]].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        result["value"] = observed / expected
        result["lower"] = lower / expected
        result["upper"] = upper / expected
    result["confidence"] = level
    result["method"] = np.where(observed < 10, "Exact", "Byars")
    return result
