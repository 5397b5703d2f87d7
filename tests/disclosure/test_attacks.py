"""Attacks on a published run: no suppressed count, and no exact count behind a rounded one, comes back.

A small synthetic run (8,000 people, two ICBs) is published twice: under ``none`` (the
truth an attacker does not see) and under ``nhs-digital``. For every sub-national
proportion cell the attacker searches all integer pairs ``x <= n`` near what is published
for those whose Wilson value and limits match the published ones to stored precision
(Wilson 1927 in Newcombe's 1998 form, the method the cells are computed with), and for
every standardised rate reads the total count off the asymmetry of its Dobson limits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gapwatch.model.config import load_config
from gapwatch.pipeline import run
from gapwatch.stats.intervals import byars, wilson
from gapwatch.store import open_store
from tests.conftest import SYNTH_ICBS, SYNTH_START, write_config

KEYS = ["indicator_id", "period_start", "period_end", "area_type", "area_code", "breakdown", "group"]
AREAS = ["england", "region", "icb", "sub_icb", "provider"]
#: Candidate counts searched around a published rounded count (rounding to 5 moves it by at most 2),
#: and, for a suppressed cell, every count up to this bound.
SEARCH = 60


def _read(config: Path, table: str) -> pd.DataFrame:
    store = open_store(str(config.parent / "results.duckdb"))
    try:
        # The policy none run is private: read only when named.
        return store.read(table, store.latest_run(include_private=True))
    finally:
        store.close()


#: The nhs-digital run's values with national figures controlled (True, the default) and not (False).
national: dict[bool, pd.DataFrame] = {}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(published values with the true counts beside them, the unrounded truth, the indicators)."""
    from gapwatch.synth import generate

    data = tmp_path_factory.mktemp("attack") / "data"
    generate(8_000, 5, data, SYNTH_ICBS, SYNTH_START, 12)
    found = {}
    national.clear()
    for policy in ("none", "nhs-digital"):
        folder = tmp_path_factory.mktemp(policy)
        config = write_config(folder, data, areas=AREAS, disclosure={"policy": policy})
        loaded = load_config(config)
        run(loaded)
        found[policy] = _read(config, "indicator_values")
    national[True] = found["nhs-digital"]
    folder = tmp_path_factory.mktemp("national")
    config = write_config(
        folder, data, areas=AREAS, disclosure={"policy": "nhs-digital", "control_national": False}
    )
    run(load_config(config))
    national[False] = _read(config, "indicator_values")
    catalogue = dict(loaded.load_catalogue().indicators)
    truth = found["none"]
    published = found["nhs-digital"].merge(truth[[*KEYS, "numerator", "denominator"]], on=KEYS,
                                               suffixes=("", "_true"))  # fmt: skip
    assert len(published) == len(truth)
    return published, truth, catalogue


def _wilson_matches(
    value: float, lower: float, upper: float, multiplier: float, n_range: np.ndarray
) -> list[tuple[int, int]]:
    """Integer pairs (x, n) whose Wilson value and 95% limits equal the published ones."""
    matches = []
    tolerance = 1e-9 * multiplier
    for n in n_range[n_range > 0]:
        x = np.arange(0, n + 1, dtype="float64")
        low, high = wilson(x, np.full_like(x, n), 0.95)
        close = np.abs(x / n * multiplier - value) <= tolerance
        close &= np.abs(low * multiplier - lower) <= tolerance
        close &= np.abs(high * multiplier - upper) <= tolerance
        matches.extend((int(found), int(n)) for found in x[close])
    return matches


@pytest.fixture(scope="module")
def recovered(runs: tuple[Any, ...]) -> pd.DataFrame:
    """Sub-national proportion cells with the counts an attacker finds, where they find one pair only.

    The attacker knows a published rounded denominator is within 2 of the true one (rounding
    to 5), and searches every numerator for each candidate denominator.
    """
    published, _, catalogue = runs
    proportions = {key for key, item in catalogue.items() if item.measure == "proportion"}
    cells = published.loc[
        published["indicator_id"].isin(proportions)
        & (published["area_type"] != "england")
        & published["value"].notna()
        & (published["denominator"] <= 3_000)
    ].copy()
    found_x, found_n = [], []
    for row in cells.itertuples():
        multiplier = catalogue[row.indicator_id].multiplier
        near = np.arange(row.denominator - 2, row.denominator + 3)
        matches = _wilson_matches(row.value, row.lower, row.upper, multiplier, near)
        unique = len(matches) == 1
        found_x.append(matches[0][0] if unique else np.nan)
        found_n.append(matches[0][1] if unique else np.nan)
    cells["found_numerator"], cells["found_denominator"] = found_x, found_n
    return cells


def test_no_sub_national_proportion_gives_its_exact_counts_back(recovered: pd.DataFrame) -> None:
    exact = (recovered["numerator_true"] != recovered["numerator"]) | (
        recovered["denominator_true"] != recovered["denominator"]
    )
    assert exact.sum() > 100, "the run must have cells whose exact counts differ from the published ones"
    learned = (
        exact
        & (recovered["found_numerator"] == recovered["numerator_true"])
        & (recovered["found_denominator"] == recovered["denominator_true"])
    )
    assert learned.sum() == 0
    # Whatever the search finds is what is published beside the value: it learns nothing more.
    found = recovered["found_numerator"].notna()
    assert found.sum() > 100
    assert (recovered.loc[found, "found_numerator"] == recovered.loc[found, "numerator"]).all()
    assert (recovered.loc[found, "found_denominator"] == recovered.loc[found, "denominator"]).all()


def test_differencing_recovers_suppressed_counts_no_better_than_chance(
    runs: tuple[Any, ...], recovered: pd.DataFrame
) -> None:
    """The issue's attack: an area's total minus its other groups' exact counts gives the hidden one."""
    published, _, _ = runs
    area = ["indicator_id", "period_start", "period_end", "area_type", "area_code"]
    cells = published.merge(recovered[[*KEYS, "found_numerator"]], on=KEYS, how="left")
    cells = cells.loc[(cells["area_type"] != "england") & ~cells["breakdown"].str.contains(":")]
    totals = cells.loc[cells["breakdown"] == "overall", [*area, "found_numerator"]].rename(
        columns={"found_numerator": "total"}
    )
    parts = cells.loc[cells["breakdown"] != "overall"]
    by = [*area, "breakdown"]
    sets = (
        parts.groupby(by, dropna=False)
        .agg(
            hidden=("suppressed", "sum"),
            known=("found_numerator", "count"),
            groups=("group", "size"),
            known_sum=("found_numerator", "sum"),
        )
        .reset_index()
    )
    # Exactly one group hidden and every other group's exact count found.
    sets = sets.loc[(sets["hidden"] == 1) & (sets["known"] == sets["groups"] - 1)].merge(totals, on=area)
    sets = sets.loc[sets["total"].notna()]
    target = parts.loc[parts["suppressed"], [*by, "numerator_true"]]
    sets = sets.merge(target, on=by)
    attacked = len(sets)
    got = int(((sets["total"] - sets["known_sum"]) == sets["numerator_true"]).sum())
    assert attacked > 50
    # On counts found exactly the difference is the hidden count every time (as it was on
    # the unrounded values: 100%); on rounded counts it is right only when the rounding
    # errors happen to cancel, which the attacker cannot tell apart from when they do not.
    assert got <= attacked / 2, f"{got} of {attacked} suppressed counts recovered by differencing"


def test_suppressed_cells_publish_nothing_about_their_hidden_count(runs: tuple[Any, ...]) -> None:
    published, _, _ = runs
    hidden = published.loc[published["suppressed"]]
    assert len(hidden) > 100
    assert hidden[["numerator", "value", "lower", "upper"]].isna().all().all()
    assert (hidden["comparison"] == "not compared").all()
    assert (hidden["comparison_best"] == "not compared").all()
    assert hidden["note"].str.contains("suppressed").all()


def test_comparisons_are_made_with_published_values_only(runs: tuple[Any, ...]) -> None:
    published, _, catalogue = runs
    from gapwatch.disclosure.published import recompare

    again = recompare(published.drop(columns=["numerator_true", "denominator_true"]), catalogue)
    assert (again["comparison"].to_numpy() == published["comparison"].to_numpy()).all()
    assert (again["comparison_best"].to_numpy() == published["comparison_best"].to_numpy()).all()
    # A best group is always one that is published.
    best = published.loc[published["comparison_best"] == "best"]
    assert best["value"].notna().all()


def _dobson_count(row: pd.Series, largest: int) -> np.ndarray:
    """Total counts O whose Dobson limits are as asymmetric as the published ones.

    Dobson: (upper - DSR) / (DSR - lower) = (U(O) - O) / (O - L(O)), a function of the total
    count O alone (Byars' limits L, U): the attacker solves it for O.
    """
    ratio = (row["upper"] - row["value"]) / (row["value"] - row["lower"])
    candidates = np.arange(10, largest + 1, dtype="float64")
    low, high = byars(candidates, 0.95)
    found: np.ndarray = candidates[np.abs((high - candidates) / (candidates - low) - ratio) < 1e-9]
    return found


def test_standardised_rates_do_not_give_their_total_count_back() -> None:
    from gapwatch.disclosure import apply_policy
    from gapwatch.model.catalogue import load_catalogue
    from gapwatch.stats.standardisation import dsr

    indicator = next(item for item in load_catalogue() if item.measure == "directly_standardised_rate")
    rng = np.random.default_rng(18)
    # Twelve sub-ICB areas (scrambled order), four age bands each, total counts from about 12 to 300.
    areas = [f"E38{index:06d}" for index in rng.permutation(12)]
    bands = pd.DataFrame(
        [(area, band, float(rng.integers(3, 75)), float(rng.integers(2_000, 9_000)), weight)
         for area in areas for band, weight in enumerate((0.3, 0.3, 0.25, 0.15))],
        columns=["area_code", "band", "events", "persons", "weight"],
    )  # fmt: skip
    found = dsr(
        bands, "events", "persons", "area_code", "band", standard="weight", multiplier=indicator.multiplier
    )
    totals = bands.groupby("area_code")[["events", "persons"]].sum()
    values = pd.DataFrame({
        "indicator_id": indicator.id, "period_start": "2024-04-01", "period_end": "2025-03-31",
        "area_type": "sub_icb", "area_code": found["area_code"], "breakdown": "overall", "group": "all",
        # The cell's numerator also counts events of unknown age, left out of the DSR.
        "numerator": totals.loc[found["area_code"], "events"].to_numpy() + rng.integers(0, 4, len(found)),
        "denominator": totals.loc[found["area_code"], "persons"].to_numpy(),
        "value": found["value"], "lower": found["lower"], "upper": found["upper"],
        "lower_95": found["lower"], "upper_95": found["upper"], "comparison": "not compared",
        "comparison_best": "not compared", "completeness": np.nan, "note": "",
    })  # fmt: skip
    # The attack works on limits from the exact count (the check that it is a real attack) ...
    events = found["total_count"].to_numpy()
    for (_, row), exact in zip(values.iterrows(), events, strict=True):
        assert list(_dobson_count(row, 400)) == [exact]
    safe, _ = apply_policy(values, None, "nhs-digital", indicators={indicator.id: indicator})
    assert (events % 5 != 0).sum() >= 6
    assert safe["lower"].notna().all()
    # ... and on the published limits it finds only the total rounded to 5.
    for (_, row), exact in zip(safe.iterrows(), events, strict=True):
        assert list(_dobson_count(row, 400)) == [np.round(exact / 5) * 5]
    # The value itself is the standardised rate of the exact counts: it is not a ratio of
    # published counts, and without the age-band populations it gives no count back.
    assert np.allclose(safe["value"], values["value"])


def test_recomparing_unrounded_values_gives_the_comparisons_stats_made(runs: tuple[Any, ...]) -> None:
    """The published comparisons follow the same rules as the unrounded ones (scrambled rows)."""
    _, truth, catalogue = runs
    from gapwatch.disclosure.published import recompare

    scrambled = truth.sample(frac=1.0, random_state=18)
    again = recompare(scrambled, catalogue)
    assert (again["comparison"].to_numpy() == scrambled["comparison"].to_numpy()).all()
    differ = again["comparison_best"].to_numpy() != scrambled["comparison_best"].to_numpy()
    shown = scrambled.loc[differ, [*KEYS, "value", "lower", "upper", "comparison_best"]].assign(
        again=again.loc[differ, "comparison_best"]
    )
    assert not differ.any(), shown.head(10).to_string()


def _pinned_counts(cells: pd.DataFrame, column: str, control_national: bool = True) -> pd.DataFrame:
    """Hidden ``column`` counts that interval differencing over every additive set pins to one value.

    A count pinned to 0 is left out: zeros are published under the policy (only a published
    total of 0 pins one, and that total already says it).
    """
    from gapwatch.disclosure.differencing import feasible_ranges

    frame = cells.reset_index(drop=True)
    complementary = frame["note"].str.contains("protects another withheld count", regex=False).to_numpy()
    ranges = np.asarray(
        feasible_ranges(frame, column, complementary=complementary, control_national=control_national)
    )
    frame["low"], frame["high"] = ranges[:, 0], ranges[:, 1]
    return frame.loc[
        frame[column].isna() & frame["suppressed"] & (frame["low"] == frame["high"]) & (frame["high"] >= 1)
    ]


def test_interval_differencing_pins_no_hidden_count(runs: tuple[Any, ...]) -> None:
    """Totals minus parts (breakdowns and nested areas), with rounded counts as intervals.

    A published count r (rounded to 5, never 1 to 7) is a true count in [max(r - 2, 8), r + 2]
    (0 is exactly 0); a hidden one is in [1, 7]. Interval arithmetic over every additive set
    (Hundepool et al. 2012, *Statistical Disclosure Control*, ch. 5) bounds each hidden count.
    """
    from gapwatch.disclosure import nhs_digital

    published, truth, _ = runs
    # Rounding and suppressing alone (the nhs-digital step before complementary cells): the
    # attack pins hidden counts, and each count it pins is the true one (a real attack).
    rounded = nhs_digital(truth.sample(frac=1.0, random_state=7).assign(note=""))
    before = _pinned_counts(rounded, "numerator").merge(
        truth[[*KEYS, "numerator"]].rename(columns={"numerator": "true"}), on=KEYS
    )
    assert len(before) >= 1
    assert (before["low"] == before["true"]).all()
    # The published run: no hidden numerator or denominator is pinned.
    cells = published.drop(columns=["numerator_true", "denominator_true"])
    assert len(_pinned_counts(cells, "numerator")) == 0
    assert len(_pinned_counts(cells, "denominator")) == 0
    complements = published["note"].str.contains("protects another withheld count", regex=False)
    assert complements.sum() >= 1
    # Complementary cells publish nothing of their count either.
    assert published.loc[complements, ["numerator", "value", "lower", "upper"]].isna().all().all()


def test_national_figures_are_controlled_unless_the_setting_says_not(runs: tuple[Any, ...]) -> None:
    """``control_national``: England cells rounded and small ones withheld (default), or exact."""
    _, truth, _ = runs
    england = truth["area_type"] == "england"
    small = england & truth["numerator"].between(1, 7)
    assert small.sum() >= 10, "the run must have small national counts"
    controlled = national[True].set_index(KEYS).loc[truth.loc[england].set_index(KEYS).index]
    assert controlled["suppressed"].loc[truth.loc[small].set_index(KEYS).index].all()
    counts = controlled["numerator"].dropna().to_numpy()
    assert (counts % 5 == 0).all()
    exact = national[False].set_index(KEYS).loc[truth.loc[england].set_index(KEYS).index]
    assert not exact["suppressed"].any()
    truth_england = truth.loc[england].set_index(KEYS)
    same = exact["numerator"].fillna(-1).to_numpy() == truth_england["numerator"].fillna(-1).to_numpy()
    assert same.all()


def test_uncontrolled_national_figures_pin_only_what_no_complement_can_protect(runs: tuple[Any, ...]) -> None:
    """With exact national figures, complements still protect every hidden count that they can.

    A hidden count pinned by exact national figures when every other sub-national cell is
    hidden too cannot be protected without controlling national figures: the setting's cost.
    """
    assert runs, "the runs fixture publishes the run read here"
    published = national[False]
    cells = published.reset_index(drop=True)
    pinned = _pinned_counts(cells, "numerator", control_national=False)
    complements = cells["note"].str.contains("protects another withheld count", regex=False)
    assert complements.sum() >= 1
    assert not (complements & (cells["area_type"] == "england")).any()
    # Every count still pinned sits in a set whose only other published member is national.
    regional = pinned.loc[pinned["area_type"] == "region"]
    assert len(pinned) == len(regional), "only counts just below national level stay pinned"
