"""SII and RII against the published reference (PHEindicatormethods phe_sii fixtures)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from gapwatch import stats
from gapwatch.errors import InputError
from tests.stats._oracle import oracle

VALUE_TYPES = {0: "other", 1: "rate", 2: "proportion"}
CASES = [
    ("default (e.g. life expectancy) - default parameters", [0.95]),
    ("default (e.g. life expectancy) - multiple CIs", [0.95, 0.99]),
    ("default - testing quintiles", [0.95]),
    ("proportion (e.g. child obesity) - default parameters", [0.95]),
    ("rate (e.g. infant mortality) - default parameters", [0.95]),
]


def _case(description: str) -> pd.DataFrame:
    data = oracle("testdata_SII_visible.csv")
    return data[data.TestDescription == description]


def _run(description: str, levels: list[float], **options: object) -> pd.DataFrame:
    data = _case(description)
    return stats.sii(
        data, "Quantile", "Population", "Value", value_type=VALUE_TYPES[int(data.ValueType.iloc[0])],
        by="Area", lower="LowerCL", upper="UpperCL", confidence=levels, **options,
    )  # fmt: skip


def _monte_carlo_error(width: float, level: float, reps: int = 100_000) -> float:
    # Standard error of a simulated percentile: sqrt(p(1-p)/reps) / density at the percentile.
    p = (1 - level) / 2
    sd = width / (2 * scipy_stats.norm.ppf(1 - p))
    return float(np.sqrt(p * (1 - p) / reps) / scipy_stats.norm.pdf(scipy_stats.norm.ppf(p)) * sd)


@pytest.mark.parametrize(("description", "levels"), CASES)
@pytest.mark.parametrize("method", ["analytic", "simulation"])
def test_sii_and_rii_match_the_reference(description: str, levels: list[float], method: str) -> None:
    result = _run(description, levels, method=method, seed=20261124)
    expected = _case(description).dropna(subset=["sii"]).set_index("Area")
    for area, row in expected.iterrows():
        mine = result[result.Area == area].set_index("confidence")
        assert mine.sii.iloc[0] == pytest.approx(row.sii, rel=1e-12)
        assert mine.rii.iloc[0] == pytest.approx(row.rii, rel=1e-12)
        for number, level in enumerate(levels, start=1):
            reference = [row[f"{m}_{side}cl_{number}"] for m in ("sii", "rii") for side in ("lower", "upper")]
            if np.isnan(reference).all():
                continue
            ours = [
                mine.loc[level, column] for column in ("sii_lower", "sii_upper", "rii_lower", "rii_upper")
            ]
            for measure in (0, 2):
                width = reference[measure + 1] - reference[measure]
                # The reference limits are themselves 100,000-draw simulations: agree within
                # 1%, or within three Monte Carlo standard errors of that simulation.
                tolerance = 3 * _monte_carlo_error(width, level)
                for side in (0, 1):
                    expected_limit = reference[measure + side]
                    close = abs(ours[measure + side] - expected_limit)
                    assert close <= max(0.01 * abs(expected_limit), tolerance), (
                        area,
                        level,
                        measure,
                        side,
                    )


def test_analytic_limits_equal_a_large_simulation() -> None:
    description = "rate (e.g. infant mortality) - default parameters"
    analytic = _run(description, [0.95, 0.998])
    simulated = _run(description, [0.95, 0.998], method="simulation", reps=400_000, seed=7)
    for column in ("sii_lower", "sii_upper", "rii_lower", "rii_upper"):
        np.testing.assert_allclose(analytic[column], simulated[column], rtol=2e-3)


def test_standard_error_gives_the_same_point_estimates() -> None:
    data = _case("default (e.g. life expectancy) - default parameters")
    from_limits = stats.sii(
        data, "Quantile", "Population", "Value", by="Area", lower="LowerCL", upper="UpperCL"
    )
    from_se = stats.sii(data, "Quantile", "Population", "Value", by="Area", se="StandardError")
    np.testing.assert_allclose(from_limits.sii, from_se.sii)
    np.testing.assert_allclose(from_limits.sii_lower, from_se.sii_lower, rtol=1e-3)


def test_multiplier_scales_sii_and_a_negative_one_inverts_rii() -> None:
    data = _case("proportion (e.g. child obesity) - default parameters")
    base = stats.sii(data, "Quantile", "Population", "Value", value_type="proportion", by="Area",
                     lower="LowerCL", upper="UpperCL")  # fmt: skip
    scaled = stats.sii(data, "Quantile", "Population", "Value", value_type="proportion", by="Area",
                       lower="LowerCL", upper="UpperCL", multiplier=-100)  # fmt: skip
    np.testing.assert_allclose(scaled.sii, -100 * base.sii)
    np.testing.assert_allclose(scaled.sii_lower, -100 * base.sii_upper, rtol=1e-9)
    np.testing.assert_allclose(scaled.rii, 1 / base.rii)


def test_transform_fits_on_the_log_scale() -> None:
    frame = pd.DataFrame({"q": range(1, 6), "pop": 1000.0, "rate": [10.0 * 1.1**k for k in range(5)],
                          "se": 0.05})  # fmt: skip
    result = stats.sii(
        frame, "q", "pop", "rate", value_type="rate", se="se", transform=True, reps=2000, seed=1
    )
    # Equal populations: ranks 0.1..0.9; log-linear values give slope ln(1.1)/0.2 per unit rank.
    slope = np.log(1.1) / 0.2
    intercept = np.log(10.0) - 0.1 * slope
    assert result.rii.iloc[0] == pytest.approx(np.exp(slope), rel=1e-9)
    assert result.sii.iloc[0] == pytest.approx(np.exp(intercept + slope) - np.exp(intercept), rel=1e-9)
    assert result.sii_lower.iloc[0] < result.sii.iloc[0] < result.sii_upper.iloc[0]


def test_incomplete_area_is_reported_not_dropped() -> None:
    data = _case("default (e.g. life expectancy) - default parameters")
    partial = data[~((data.Area == "area2") & (data.Quantile == 3))]
    result = stats.sii(partial, "Quantile", "Population", "Value", by="Area", se="StandardError")
    assert result.Area.tolist() == ["area1", "area2"]
    assert np.isnan(result.sii.iloc[1])
    assert "not all 10 quantiles" in result.note.iloc[1]


@pytest.mark.parametrize(
    ("description", "options", "message"),
    [
        (
            "error handling - invalid proportion in CLs",
            {"value_type": "proportion"},
            "limits outside 0 to 1",
        ),
        (
            "error handling - negative populations",
            {},
            "Population: 1 row zero, negative or missing",
        ),
        (
            "error handling - negative counts/standard error",
            {"se": "StandardError"},
            "negative or missing",
        ),
    ],
)
def test_reference_error_cases_are_rejected(
    description: str, options: dict[str, object], message: str
) -> None:
    data = _case(description)
    arguments: dict[str, object] = {"by": "Area", "lower": "LowerCL", "upper": "UpperCL"} | options
    with pytest.raises(InputError, match=message):
        stats.sii(data, "Quantile", "Population", "Value", **arguments)  # type: ignore[arg-type]


def test_other_bad_input() -> None:
    frame = pd.DataFrame(
        {"q": [1, 2], "pop": [10.0, 10.0], "v": [1.0, 2.0], "lo": [0.5, np.nan], "hi": [1.5, 2.5]}
    )
    with pytest.raises(InputError, match="give se, or both lower and upper"):
        stats.sii(frame, "q", "pop", "v")
    with pytest.raises(InputError, match="lo/hi: 1 row missing a confidence limit"):
        stats.sii(frame, "q", "pop", "v", lower="lo", upper="hi")
    with pytest.raises(InputError, match="q: 1 quantile"):
        stats.sii(frame.iloc[:1], "q", "pop", "v", lower="lo", upper="hi")
    with pytest.raises(InputError, match="value_type='odds'"):
        stats.sii(frame, "q", "pop", "v", value_type="odds", lower="lo", upper="hi")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="v: 1 row not numeric"):
        stats.sii(frame.assign(v=["a", 2.0]), "q", "pop", "v", se="hi")
