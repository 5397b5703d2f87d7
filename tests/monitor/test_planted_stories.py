"""The headline alert against the stories planted in the synthetic data (issue acceptance).

Synthetic England plants, in every ICB, one of three stories for each of three
indicators: the average improves while the quintile 1-5 gap widens, the gap closes, or
nothing changes (``truth.json``). Run on 600,000 people in all 42 ICBs over three years,
the ``average_improving_gap_widening`` alert must find at least 90% of the planted cases
and fire in at most 5% of the pairs where nothing was planted.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from gapwatch.model.config import load_config
from gapwatch.monitor import monitor
from gapwatch.pipeline import run
from gapwatch.store import open_store

STORY_INDICATORS = ["cervical_screening_25_49", "cervical_screening_50_64", "hypertension_treated_to_target"]


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    from gapwatch.synth import generate

    folder = tmp_path_factory.mktemp("stories")
    generate(600_000, 5, folder / "data", None, "2022-04", 36)
    config = folder / "gapwatch.yaml"
    config.write_text(yaml.safe_dump({
        "name": "stories", "data": str(folder / "data"), "periods": {"start": "2022-04", "end": "2025-03"},
        "areas": ["england", "icb"], "indicators": STORY_INDICATORS, "store": str(folder / "results.duckdb"),
    }))  # fmt: skip
    summary = run(load_config(config))
    store = open_store(summary.store)
    try:
        monitor(store, summary.run_id)
        alerts = store.read("alerts", summary.run_id)
    finally:
        store.close()
    truth = pd.DataFrame(json.loads((folder / "data" / "truth.json").read_text())["stories"])
    return alerts, truth


@pytest.mark.slow
def test_average_improving_gap_widening_finds_the_planted_cases(
    monitored: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    alerts, truth = monitored
    headline = alerts.loc[
        (alerts["rule"] == "average_improving_gap_widening") & (alerts["area_type"] == "icb"),
        ["indicator_id", "area_code"],
    ].drop_duplicates()
    fired = truth.merge(
        headline.rename(columns={"area_code": "icb_code"}).assign(fired=True), how="left"
    ).fillna({"fired": False})
    rates = fired.groupby("story")["fired"].agg(["mean", "sum", "size"])
    planted, nothing = rates.loc["average_up_gap_wider"], rates.loc["none"]
    print(
        f"\naverage_improving_gap_widening: found {int(planted['sum'])} of {int(planted['size'])} planted cases "
        f"({planted['mean']:.1%}); fired in {int(nothing['sum'])} of {int(nothing['size'])} pairs with nothing "
        f"planted ({nothing['mean']:.1%}); gap-closing pairs {rates.loc['gap_closing', 'mean']:.1%}"
    )
    assert planted["size"] >= 30
    assert nothing["size"] >= 30
    assert planted["mean"] >= 0.90
    assert nothing["mean"] <= 0.05


@pytest.mark.slow
def test_every_alert_carries_evidence_and_a_sentence(monitored: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    alerts, _ = monitored
    assert {"average_improving_gap_widening", "most_deprived_falling_behind"} <= set(alerts["rule"])
    for row in alerts.itertuples():
        evidence = json.loads(row.evidence)
        assert evidence, row.rule
        assert row.message.endswith("."), row.message
        assert row.severity in {"high", "medium", "low"}
