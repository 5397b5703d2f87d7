"""The special-cause guardrail and the pages agree on how many points a chart needs.

NHS England's *Making Data Count* gives variation icons only from 13 points: limits from
fewer are trial limits (``gapwatch.stats.spc.MIN_POINTS``). The pages show no icon below
13 points, so the special-cause alert must not fire there either.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gapwatch.errors import ConfigError
from gapwatch.monitor.charts import charts
from gapwatch.monitor.guardrails import special_cause
from gapwatch.monitor.settings import RuleSettings, load_rules
from gapwatch.stats.spc import MIN_POINTS

#: A gap that varies a little about 5 and then jumps to 9 at its latest point. With all 13
#: points, X̄ = 69.2 / 13 = 5.32 and mR̄ = (the 11 small moving ranges, 2.1 in all, plus the
#: jump, 4.1) / 12 = 0.52, so the upper limit X̄ + 2.66 mR̄ = 6.70 (Wheeler 1993): 9 lies
#: far outside; so it does against the trial limits of the shorter charts.
STEADY = [5.0, 5.2, 4.9, 5.1, 5.0, 4.8, 5.1, 5.2, 4.9, 5.0, 5.1, 4.9]
JUMP = 9.0


def _points(area_code: str, values: list[float]) -> pd.DataFrame:
    starts = pd.date_range("2021-04-01", periods=len(values), freq="QS-APR")
    return pd.DataFrame({
        "indicator_id": "screened", "area_type": "icb", "area_code": area_code, "breakdown": "imd_quintile",
        "series": "gap_absolute", "scale": "linear", "period_start": starts, "value": values,
    })  # fmt: skip


def _alerted(settings: RuleSettings) -> set[str]:
    points = pd.concat(
        [
            _points("E54000012", [*STEADY[:11], JUMP]),  # 12 points: trial limits
            _points("E54000013", [*STEADY, JUMP]),  # 13 points
            # 13 periods, one of them missing: 12 published points, still trial limits.
            _points("E54000014", [*STEADY[:5], np.nan, *STEADY[5:11], JUMP]),
        ],
        ignore_index=True,
    )
    indicators = pd.DataFrame(
        {"indicator_id": ["screened"], "polarity": ["higher_is_better"], "target": [None]}
    )
    chart = charts(points, indicators, {"imd_quintile": ["gap_absolute"]})
    latest = chart.groupby("area_code").tail(1).set_index("area_code")
    # Every chart's latest point is special cause against its (trial or full) limits.
    assert latest["special_cause"].all(), latest
    found = special_cause(chart, {"screened": "People screened"}, {}, settings)
    return set(found["area_code"])


def test_a_special_cause_alert_needs_as_many_points_as_a_variation_icon() -> None:
    assert MIN_POINTS == 13
    assert _alerted(RuleSettings()) == {"E54000013"}
    assert _alerted(load_rules()) == {"E54000013"}


def test_rules_asking_for_fewer_points_are_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  special_cause:\n    min_points: 6\n")
    with pytest.raises(ConfigError) as error:
        load_rules(path)
    message = error.value.message
    assert "\n" not in message
    assert f"{path}:3: rules.special_cause.min_points" in message
    assert "13" in message
    path.write_text("rules:\n  special_cause:\n    min_points: 20\n")
    assert load_rules(path).rules.special_cause.min_points == 20
