"""Directly and indirectly standardised rates against the published reference values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gapwatch import stats
from gapwatch.errors import InputError
from tests.stats._oracle import DIGITS, oracle

ESP = list(stats.ESP2013.values())


def _expected(area: str, statistic: str) -> pd.Series:
    results = oracle("testresults_DSR.csv")
    return results[(results.area == area) & (results.statistic == statistic)].iloc[0]


@pytest.mark.parametrize(("level", "suffix"), [(0.95, "95_0"), (0.998, "99_8")])
def test_dsr_equals_the_reference(level: float, suffix: str) -> None:
    data = oracle("testdata_multiarea.csv")
    # The fixture misspells one band ("55-69"), so the standard is given by position.
    result = stats.dsr(
        data, "count", "pop", by="area", age_band="ageband", standard=np.tile(ESP, 3),
        confidence=level, multiplier=10_000,
    ).set_index("area")  # fmt: skip
    for area in ["testdata_big", "testdata_small"]:
        row = _expected(area, "dsr per 10000")
        assert result.loc[area, "value"] == pytest.approx(row.value, rel=DIGITS)
        assert result.loc[area, "lower"] == pytest.approx(row[f"lower{suffix}cl"], rel=DIGITS)
        assert result.loc[area, "upper"] == pytest.approx(row[f"upper{suffix}cl"], rel=DIGITS)
    assert np.isnan(result.loc["testdata_tiny", "value"])
    assert "below 10" in result.loc["testdata_tiny", "note"]


def test_dsr_with_another_standard_column() -> None:
    data = oracle("testdata_1976.csv")
    result = stats.dsr(data, "count", "pop", age_band="Age Band", standard="esp1976", multiplier=10_000)
    row = _expected("testdata_1976", "dsr per 10000")
    assert result.value.iloc[0] == pytest.approx(row.value, rel=DIGITS)
    assert result.lower.iloc[0] == pytest.approx(row.lower95_0cl, rel=DIGITS)
    assert result.upper.iloc[0] == pytest.approx(row.upper95_0cl, rel=DIGITS)


def _non_independent() -> pd.DataFrame:
    data = oracle("testdata_nonindepe.csv")
    data["standard"] = data.groupby("area").cumcount().map(dict(enumerate(ESP)))
    long = data.melt(
        id_vars=["area", "ageband", "pop", "standard"], value_vars=["f1", "f2", "f3", "f4"],
        var_name="frequency", value_name="persons",
    )  # fmt: skip
    long["frequency"] = long.frequency.str[1].astype(int)
    long["persons"] = long.persons.fillna(0)
    return long


@pytest.mark.parametrize(("level", "suffix"), [(0.95, "95_0"), (0.998, "99_8")])
def test_dsr_for_non_independent_events_equals_the_reference(level: float, suffix: str) -> None:
    result = stats.dsr(
        _non_independent(), "persons", "pop", by="area", age_band="ageband", standard="standard",
        independent_events=False, event_frequency="frequency", confidence=level,
    ).set_index("area")  # fmt: skip
    for area in ["testdata_nonind_big", "testdata_nonind_dummy", "testdata_nonind_small"]:
        row = _expected(area, "dsr per 100000")
        assert result.loc[area, "total_count"] == row.total_count
        assert result.loc[area, "value"] == pytest.approx(row.value, rel=1e-9)
        assert result.loc[area, "lower"] == pytest.approx(row[f"lower{suffix}cl"], rel=1e-9)
        assert result.loc[area, "upper"] == pytest.approx(row[f"upper{suffix}cl"], rel=1e-9)
    assert np.isnan(result.loc["testdata_nonind_tiny", "value"])


@pytest.mark.parametrize(
    ("statistic", "function", "scale"),
    [
        ("indirectly standardised rate per 100000", "isr", 100_000),
        ("indirectly standardised rate per 1000", "isr", 1_000),
        ("indirectly standardised ratio x 1", "smr", 1),
        ("indirectly standardised ratio x 100", "smr", 100),
    ],
)
def test_isr_and_smr_equal_the_reference(statistic: str, function: str, scale: float) -> None:
    data = oracle("testdata_multiarea_isr.csv")
    expected = oracle("testresults_ISR.csv")
    expected = expected[(expected.statistic == statistic) & expected.area.str.startswith("testdata")]
    for level, suffix in [(0.95, "95_0"), (0.998, "99_8")]:
        if function == "isr":
            result = stats.isr(data, "count", "pop", "refcount", "refpop", by="area", confidence=level,
                               multiplier=scale)  # fmt: skip
        else:
            result = stats.smr(data, "count", "pop", "refcount", "refpop", by="area", confidence=level,
                               ref_value=scale)  # fmt: skip
        result = result.set_index("area").loc[expected.area]
        np.testing.assert_allclose(result.expected, expected.expected, rtol=DIGITS)
        np.testing.assert_allclose(result.value, expected.value, rtol=DIGITS)
        np.testing.assert_allclose(result.lower, expected[f"lower{suffix}cl"], rtol=DIGITS)
        np.testing.assert_allclose(result.upper, expected[f"upper{suffix}cl"], rtol=DIGITS)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("testdata_err1.csv", "count: 1 row negative"),
        ("testdata_err2.csv", "pop: 1 row missing or zero"),
        ("testdata_err3.csv", "pop: 1 row negative"),
        ("testdata_err4.csv", "standard: 1 row negative"),
    ],
)
def test_reference_error_inputs_are_rejected(name: str, message: str) -> None:
    data = oracle(name)
    standard = "stdpop" if "stdpop" in data.columns else np.tile(ESP, len(data) // 19)
    band = "Age Band" if "Age Band" in data.columns else "area"
    with pytest.raises(InputError, match=message):
        stats.dsr(data, "count", "pop", age_band=band, standard=standard)


def test_esp_bands_are_matched_by_label() -> None:
    frame = pd.DataFrame({"age_band": ["05-09", "0-4"], "count": [20.0, 10.0], "pop": [100.0, 100.0]})
    result = stats.dsr(frame, "count", "pop")
    expected = (5500 * 0.2 + 5000 * 0.1) / (5500 + 5000) * 100_000
    assert result.value.iloc[0] == pytest.approx(expected)
    with pytest.raises(InputError, match="age band not in the ESP 2013"):
        stats.dsr(frame.assign(age_band=["5-10", "0-4"]), "count", "pop")
