"""The business case for closing gaps: excess events against a reference quintile, and their cost."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gapwatch.errors import ConfigError, InputError
from gapwatch.model.catalogue import load_catalogue
from gapwatch.monitor.business_case import OUTPUT_COLUMNS, business_case
from gapwatch.monitor.business_case_words import plural
from gapwatch.monitor.settings import UnitCost, load_costs

# CI runs many more examples than a developer's machine (see the Makefile's test target).
EXAMPLES = int(os.environ.get("GAPWATCH_PROPERTY_EXAMPLES", "150"))
Z95 = 1.959963984540054  # the normal 97.5th percentile
Z90 = 1.6448536269514722

QUARTER = (date(2025, 1, 1), date(2025, 3, 31))


def quintile_values(
    numerators: Sequence[float],
    denominators: Sequence[float],
    *,
    indicator_id: str = "ind",
    area_code: str = "E54000057",
    period: tuple[date, date] = QUARTER,
    suppressed: Sequence[bool] | None = None,
    groups: Sequence[str] = ("1", "2", "3", "4", "5"),
) -> pd.DataFrame:
    """Rows of ``indicator_values`` for one indicator, area and period, broken down by IMD quintile."""
    rows = [
        {
            "run_id": "run-1",
            "indicator_id": indicator_id,
            "period_start": period[0],
            "period_end": period[1],
            "area_type": "icb",
            "area_code": area_code,
            "breakdown": "imd_quintile",
            "group": group,
            "numerator": float(numerator),
            "denominator": float(denominator),
            "value": math.nan,
            "lower": math.nan,
            "upper": math.nan,
            "suppressed": bool(suppressed[index]) if suppressed else False,
            "note": "",
        }
        for index, (group, numerator, denominator) in enumerate(
            zip(groups, numerators, denominators, strict=True)
        )
    ]
    return pd.DataFrame(rows)


def indicator_table(
    indicator_id: str = "ind",
    *,
    measure: str = "proportion",
    polarity: str = "higher_is_better",
    multiplier: float = 100.0,
    unit: str = "%",
    period: str = "quarter",
    title: str = "Screening coverage",
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "indicator_id": indicator_id,
                "title": title,
                "measure": measure,
                "unit": unit,
                "multiplier": multiplier,
                "polarity": polarity,
                "target": math.nan,
                "standard": "",
                "period": period,
            }
        ]
    )


def outreach(indicator_id: str = "ind", pounds: float = 30.0) -> dict[str, UnitCost]:
    return {
        indicator_id: UnitCost(
            indicator_id=indicator_id,
            event="person reached",
            pounds_per_event=pounds,
            direction="reached",
            source="Test source",
            year="2022/23",
        )
    }


def row(table: pd.DataFrame, reference: str) -> dict[Any, Any]:
    found = table.loc[table["reference"] == reference]
    assert len(found) == 1, table
    return found.iloc[0].to_dict()


# --------------------------------------------------------------------------- hand-worked examples


def test_higher_is_better_proportion_against_least_deprived() -> None:
    # Proportions 0.5 .. 0.9, 100 people in each quintile, quintile 5 the reference (0.9):
    # excess = 100 × (0.4 + 0.3 + 0.2 + 0.1) = 100 more people reached.
    # var = Σ_{q≠5} d_q² r_q(1−r_q)/d_q + (Σ_{q≠5} d_q)² r_5(1−r_5)/d_5
    #     = 100 × (0.25 + 0.24 + 0.21 + 0.16) + 400² × 0.09 / 100 = 86 + 144 = 230.
    table = business_case(quintile_values([50, 60, 70, 80, 90], [100] * 5), indicator_table(), {})
    assert list(table.columns) == OUTPUT_COLUMNS
    assert list(table["reference"]) == ["least_deprived", "best_group"]
    least = row(table, "least_deprived")
    assert least["reference_group"] == "5"
    assert least["excess_events"] == pytest.approx(100)
    half = Z95 * math.sqrt(230)  # 29.72
    assert least["lower"] == pytest.approx(100 - half)
    assert least["upper"] == pytest.approx(100 + half)
    assert least["period_start"] == date(2025, 1, 1)
    assert least["period_end"] == date(2025, 3, 31)
    assert least["area_type"] == "icb"
    assert least["area_code"] == "E54000057"


def test_confidence_sets_the_normal_quantile() -> None:
    table = business_case(
        quintile_values([50, 60, 70, 80, 90], [100] * 5), indicator_table(), {}, confidence=0.90
    )
    least = row(table, "least_deprived")
    assert least["lower"] == pytest.approx(100 - Z90 * math.sqrt(230))
    assert least["upper"] == pytest.approx(100 + Z90 * math.sqrt(230))
    assert "90% CI" in least["summary"]


def test_lower_is_better_crude_rate_counts_avoidable_events() -> None:
    # Rates per person-year 50/1000=0.05, 40/1000=0.04, 60/2000=0.03, 40/2000=0.02, 40/4000=0.01.
    # excess vs quintile 5 = 1000×0.04 + 1000×0.03 + 2000×0.02 + 2000×0.01 = 40+30+40+20 = 130 events.
    # Poisson var(r) = r/d, so d² var(r) = d r = the numerator: 50+40+60+40 = 190,
    # plus (1000+1000+2000+2000)² × 0.01/4000 = 36,000,000 × 0.0000025 = 90; var = 280.
    indicators = indicator_table(
        measure="crude_rate", polarity="lower_is_better", multiplier=100_000, unit="per 100,000 people"
    )
    table = business_case(
        quintile_values([50, 40, 60, 40, 40], [1000, 1000, 2000, 2000, 4000]), indicators, {}
    )
    least = row(table, "least_deprived")
    assert least["excess_events"] == pytest.approx(130)
    assert least["lower"] == pytest.approx(130 - Z95 * math.sqrt(280))
    assert least["upper"] == pytest.approx(130 + Z95 * math.sqrt(280))
    # Here quintile 5 is also the best (lowest) rate.
    assert row(table, "best_group")["reference_group"] == "5"
    assert row(table, "best_group")["excess_events"] == pytest.approx(130)
    assert "fewer events counted by this indicator" in least["summary"]


def test_orientation_flips_with_polarity() -> None:
    # The same counts read as harms (lower is better): quintile 5's 0.9 is now the worst rate,
    # so against it every quintile is better: signed excess = 100 × (−0.4−0.3−0.2−0.1) = −100,
    # reported as 0; against the best quintile (1, rate 0.5) it is 100 × (0.1+0.2+0.3+0.4) = 100.
    indicators = indicator_table(polarity="lower_is_better")
    table = business_case(quintile_values([50, 60, 70, 80, 90], [100] * 5), indicators, {})
    least = row(table, "least_deprived")
    assert least["excess_events"] == 0
    assert least["lower"] == 0
    assert least["upper"] == 0  # −100 + 1.96 × √(86 + 144) ≈ −70 is still below 0
    assert "negative" in least["note"]
    assert "reported as 0" in least["summary"]
    best = row(table, "best_group")
    assert best["reference_group"] == "1"
    assert best["excess_events"] == pytest.approx(100)
    # var = 100 × (0.24 + 0.21 + 0.16 + 0.09) + 400² × 0.25/100 = 70 + 400 = 470.
    assert best["upper"] == pytest.approx(100 + Z95 * math.sqrt(470))


def test_best_group_differs_from_least_deprived() -> None:
    # Proportions 0.4, 0.6, 0.9, 0.8, 0.7 (higher is better): quintile 3 is best.
    # vs quintile 5 (0.7): 100 × (0.3 + 0.1 − 0.2 − 0.1) = 10 (quintiles 3 and 4 count against).
    # vs quintile 3 (0.9): 100 × (0.5 + 0.3 + 0.1 + 0.2) = 110.
    # var vs 3 = 100 × (0.24 + 0.24 + 0.16 + 0.21) + 400² × 0.09/100 = 85 + 144 = 229.
    table = business_case(quintile_values([40, 60, 90, 80, 70], [100] * 5), indicator_table(), {})
    least = row(table, "least_deprived")
    best = row(table, "best_group")
    assert least["excess_events"] == pytest.approx(10)
    assert best["reference_group"] == "3"
    assert best["excess_events"] == pytest.approx(110)
    assert best["lower"] == pytest.approx(110 - Z95 * math.sqrt(229))
    assert "optimistic" in best["note"]
    assert best["summary"] == ""
    assert least["summary"] != ""


def test_ties_for_best_go_to_the_less_deprived_quintile() -> None:
    table = business_case(quintile_values([40, 90, 90, 60, 70], [100] * 5), indicator_table(), {})
    assert row(table, "best_group")["reference_group"] == "3"


@pytest.mark.parametrize(
    ("suppressed", "numerators", "groups", "reason"),
    [
        ([False, False, True, False, False], [50, 60, math.nan, 80, 90], "12345", "quintile 3"),
        ([False, False, False, False, False], [50, 60, math.nan, 80, 90], "12345", "quintile 3"),
        ([False, True, False, False, False], [50, 60, 70, 80, 90], "12345", "quintile 2"),
        ([False] * 4, [50, 60, 70, 90], "1235", "quintile 4 missing"),
    ],
)
def test_withheld_when_a_quintile_is_suppressed_or_missing(
    suppressed: list[bool], numerators: list[float], groups: str, reason: str
) -> None:
    values = quintile_values(numerators, [100] * len(groups), suppressed=suppressed, groups=list(groups))
    table = business_case(values, indicator_table(), outreach())
    assert len(table) == 2
    for _, result in table.iterrows():
        for column in ("excess_events", "lower", "upper", "pounds", "pounds_lower", "pounds_upper"):
            assert math.isnan(result[column]), column
        assert reason in result["note"]
        assert "withheld" in result["note"]
    least = row(table, "least_deprived")
    assert "withheld" in least["summary"]
    # Quintile 1's denominator is still published, so a one-point move can still be valued.
    assert least["pounds_per_unit_gap_closed"] == pytest.approx(30)


def test_withheld_when_a_denominator_is_zero() -> None:
    table = business_case(
        quintile_values([50, 60, 0, 80, 90], [100, 100, 0, 100, 100]), indicator_table(), {}
    )
    assert math.isnan(row(table, "least_deprived")["excess_events"])
    assert "zero denominator" in row(table, "least_deprived")["note"]


def test_unknown_quintile_and_other_breakdowns_are_ignored() -> None:
    values = quintile_values([50, 60, 70, 80, 90], [100] * 5)
    extra = quintile_values([900], [1000], groups=["unknown"])
    overall = quintile_values([350], [500], groups=["all"]).assign(breakdown="overall")
    table = business_case(pd.concat([values, extra, overall]), indicator_table(), {})
    assert len(table) == 2
    assert row(table, "least_deprived")["excess_events"] == pytest.approx(100)


def test_only_the_latest_period_is_used() -> None:
    old = quintile_values([10, 20, 30, 40, 90], [100] * 5, period=(date(2024, 10, 1), date(2024, 12, 31)))
    new = quintile_values([50, 60, 70, 80, 90], [100] * 5)
    table = business_case(pd.concat([new, old]), indicator_table(), {})
    assert len(table) == 2
    least = row(table, "least_deprived")
    assert least["period_start"] == date(2025, 1, 1)
    assert least["excess_events"] == pytest.approx(100)


def test_latest_period_without_quintiles_is_withheld_not_replaced_by_an_older_one() -> None:
    old = quintile_values([50, 60, 70, 80, 90], [100] * 5, period=(date(2024, 10, 1), date(2024, 12, 31)))
    overall_now = quintile_values([350], [500], groups=["all"]).assign(breakdown="overall")
    table = business_case(pd.concat([old, overall_now]), indicator_table(), {})
    least = row(table, "least_deprived")
    assert least["period_start"] == date(2025, 1, 1)
    assert math.isnan(least["excess_events"])


def test_each_area_and_indicator_is_assessed_separately() -> None:
    values = pd.concat(
        [
            quintile_values([50, 60, 70, 80, 90], [100] * 5, area_code="A"),
            quintile_values([40, 60, 90, 80, 70], [100] * 5, area_code="B"),
            quintile_values([50, 40, 60, 40, 40], [1000, 1000, 2000, 2000, 4000], indicator_id="rate"),
        ]
    )
    indicators = pd.concat(
        [indicator_table(), indicator_table("rate", measure="crude_rate", polarity="lower_is_better")]
    )
    table = business_case(values, indicators, {})
    least = table.loc[table["reference"] == "least_deprived"].set_index(["indicator_id", "area_code"])
    assert least.loc[("ind", "A"), "excess_events"] == pytest.approx(100)
    assert least.loc[("ind", "B"), "excess_events"] == pytest.approx(10)
    assert least.loc[("rate", "E54000057"), "excess_events"] == pytest.approx(130)
    assert len(table) == 6


@pytest.mark.parametrize(
    ("measure", "polarity"),
    [("mean", "higher_is_better"), ("median", "lower_is_better"), ("proportion", "no_judgement")],
)
def test_measures_and_polarities_without_an_excess_are_skipped(measure: str, polarity: str) -> None:
    values = quintile_values([50, 60, 70, 80, 90], [100] * 5)
    table = business_case(values, indicator_table(measure=measure, polarity=polarity), {})
    assert table.empty
    assert list(table.columns) == OUTPUT_COLUMNS


# --------------------------------------------------------------------------- costs


def test_pounds_are_excess_times_unit_cost() -> None:
    table = business_case(quintile_values([50, 60, 70, 80, 90], [100] * 5), indicator_table(), outreach())
    least = row(table, "least_deprived")
    assert least["pounds_per_event"] == 30
    assert least["pounds"] == pytest.approx(100 * 30)
    assert least["pounds_lower"] == pytest.approx(least["lower"] * 30)
    assert least["pounds_upper"] == pytest.approx(least["upper"] * 30)
    # One percentage point of quintile 1's 100 people is 1 person: 100 × (1/100) × £30 = £30.
    assert least["pounds_per_unit_gap_closed"] == pytest.approx(30)
    assert least["event"] == "person reached"
    assert least["cost_source"] == "Test source (2022/23 prices)"
    assert "At £30 per person reached" in least["summary"]
    assert "£3,000 in this period" in least["summary"]


def test_pounds_per_unit_gap_closed_for_a_rate_uses_the_multiplier() -> None:
    # Quintile 1 has 50,000 person-years; one unit of a rate per 100,000 is 50,000/100,000 = 0.5
    # events, at £1,000 each = £500.
    indicators = indicator_table(
        measure="crude_rate", polarity="lower_is_better", multiplier=100_000, unit="per 100,000 children"
    )
    cost = {
        "ind": UnitCost(
            indicator_id="ind",
            event="tooth extraction under general anaesthetic",
            pounds_per_event=1000,
            direction="avoidable",
            source="Test",
            year="2022/23",
        )
    }
    values = quintile_values([150, 100, 80, 60, 50], [50_000] * 5)
    table = business_case(values, indicators, cost)
    least = row(table, "least_deprived")
    # Excess = 100 + 50 + 30 + 10 = 190 extractions; £190,000.
    assert least["excess_events"] == pytest.approx(190)
    assert least["pounds"] == pytest.approx(190_000)
    assert least["pounds_per_unit_gap_closed"] == pytest.approx(500)
    assert "190 fewer tooth extractions under general anaesthetic" in least["summary"]
    assert "£190,000 in this period" in least["summary"]


def test_without_a_unit_cost_events_are_reported_and_pounds_are_nan() -> None:
    table = business_case(
        quintile_values([50, 60, 70, 80, 90], [100] * 5), indicator_table(), outreach("another_indicator")
    )
    for _, result in table.iterrows():
        assert result["excess_events"] == pytest.approx(100)
        for column in (
            "pounds_per_event",
            "pounds",
            "pounds_lower",
            "pounds_upper",
            "pounds_per_unit_gap_closed",
        ):
            assert math.isnan(result[column]), column
        assert result["event"] == ""
        assert result["cost_source"] == ""
    assert "no £ figure" in row(table, "least_deprived")["summary"]


# --------------------------------------------------------------------------- the summary paragraph


def test_summary_paragraph_reads_for_a_commissioner() -> None:
    table = business_case(
        quintile_values([50, 60, 70, 80, 90], [100] * 5),
        indicator_table(title="Cervical screening coverage, women aged 25 to 49"),
        outreach(),
        area_names={"E54000057": "NHS Greater Manchester ICB"},
    )
    summary = row(table, "least_deprived")["summary"]
    assert summary.startswith(
        "Cervical screening coverage, women aged 25 to 49, NHS Greater Manchester ICB, "
        "in Q4 2024/25 (January to March 2025): if every deprivation quintile had the rate of the least "
        "deprived fifth (90.0%, against 50.0% in the most deprived fifth), about 100 more people "
        "(95% CI 70.3 to 130) would have been reached."
    )
    assert "a year" not in summary


def test_the_summary_quotes_the_published_values_the_indicator_page_shows() -> None:
    # Issue 17: the business case recomputed each rate from the (disclosure-rounded) counts
    # and printed it to 3 significant figures, so it could differ from the indicator page
    # for the same cell. Here quintile 1's counts are rounded to 50/100 but the published
    # value is 51.37% (from the unrounded counts); quintile 5 published 88.25%.
    values = quintile_values([50, 60, 70, 80, 90], [100] * 5).sample(frac=1, random_state=1)
    values["value"] = values["group"].map({"1": 51.37, "2": 60.0, "3": 70.0, "4": 80.0, "5": 88.25})
    summary = row(business_case(values, indicator_table(), {}), "least_deprived")["summary"]
    assert "(88.2%, against 51.4% in the most deprived fifth)" in summary or (
        "(88.3%, against 51.4% in the most deprived fifth)" in summary
    )


def test_summary_uses_the_area_code_without_a_name_and_a_year_only_for_annual_periods() -> None:
    values = quintile_values(
        [5000, 6000, 7000, 8000, 9000], [10_000] * 5, period=(date(2024, 4, 1), date(2025, 3, 31))
    )
    table = business_case(values, indicator_table(period="financial_year"), outreach())
    summary = row(table, "least_deprived")["summary"]
    assert "ICB E54000057, in the financial year 2024/25 (April 2024 to March 2025)" in summary
    # 10,000 more people at £30 = £300,000, and the limits to the nearest £1,000.
    assert "that is about £300,000 a year" in summary
    assert "in this period" not in summary


def test_pluralising_events() -> None:
    assert plural("delayed mental-health bed day") == "delayed mental-health bed days"
    assert (
        plural("tooth extraction under general anaesthetic") == "tooth extractions under general anaesthetic"
    )
    assert plural("child with poorly controlled asthma") == "children with poorly controlled asthma"
    assert plural("late-stage cancer diagnosis") == "late-stage cancer diagnoses"
    assert plural("inappropriate out-of-area placement") == "inappropriate out-of-area placements"
    assert plural("emergency") == "emergencies"


# --------------------------------------------------------------------------- bad inputs


def test_missing_columns_are_named() -> None:
    values = quintile_values([50, 60, 70, 80, 90], [100] * 5).drop(columns=["denominator", "suppressed"])
    with pytest.raises(InputError, match="missing columns denominator, suppressed"):
        business_case(values, indicator_table(), {})
    with pytest.raises(InputError, match="indicators: missing column polarity"):
        business_case(quintile_values([50] * 5, [100] * 5), indicator_table().drop(columns="polarity"), {})


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.1, 95])
def test_confidence_must_be_between_0_and_1(confidence: float) -> None:
    with pytest.raises(InputError, match="confidence"):
        business_case(quintile_values([50] * 5, [100] * 5), indicator_table(), {}, confidence=confidence)


def test_an_indicator_without_a_definition_is_an_error() -> None:
    with pytest.raises(InputError, match="no definition in indicators for ind"):
        business_case(quintile_values([50] * 5, [100] * 5), indicator_table("other"), {})


def test_repeated_cells_are_an_error() -> None:
    values = quintile_values([50, 60, 70, 80, 90], [100] * 5)
    with pytest.raises(InputError, match="10 rows repeat"):
        business_case(pd.concat([values, values.assign(run_id="run-2")]), indicator_table(), {})


def test_a_proportion_above_one_is_an_error() -> None:
    with pytest.raises(InputError, match="numerator above denominator"):
        business_case(quintile_values([50, 60, 70, 80, 190], [100] * 5), indicator_table(), {})


# --------------------------------------------------------------------------- unit cost files


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "costs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_ENTRY = """\
costs:
  - indicator_id: mmr2_age_5
    event: person reached
    pounds_per_event: 30
    direction: reached
    source: PSSRU 2023
    year: "2022/23"
"""


def test_load_costs_reads_a_file(tmp_path: Path) -> None:
    costs = load_costs(write(tmp_path, GOOD_ENTRY))
    assert costs == {
        "mmr2_age_5": UnitCost(
            indicator_id="mmr2_age_5",
            event="person reached",
            pounds_per_event=30,
            direction="reached",
            source="PSSRU 2023",
            year="2022/23",
        )
    }


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        (
            "pounds_per_event: 30",
            "pounds_per_event: -5",
            ":4: costs.0.pounds_per_event: Input should be greater than 0",
        ),
        ("pounds_per_event: 30", "pounds_per_event: .nan", ":4: costs.0.pounds_per_event"),
        ("direction: reached", "direction: saved", ":5: costs.0.direction"),
        ('year: "2022/23"', "year: 2022", ":7: costs.0.year"),
        ("    source: PSSRU 2023\n", "", ":2: costs.0.source: Field required"),
        (
            "    source: PSSRU 2023\n",
            "    source: PSSRU 2023\n    colour: blue\n",
            ":7: costs.0.colour: unknown field",
        ),
    ],
)
def test_load_costs_errors_name_file_line_and_field(
    tmp_path: Path, replace: str, by: str, message: str
) -> None:
    assert replace in GOOD_ENTRY
    path = write(tmp_path, GOOD_ENTRY.replace(replace, by))
    with pytest.raises(ConfigError) as error:
        load_costs(path)
    assert error.value.message.startswith(f"{path}{message}"), error.value.message


def test_load_costs_rejects_unknown_top_level_keys_duplicates_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"costs\.yaml:1: prices: unknown field"):
        load_costs(write(tmp_path, "prices: []\n" + GOOD_ENTRY))
    duplicate = GOOD_ENTRY + GOOD_ENTRY.removeprefix("costs:\n")
    with pytest.raises(
        ConfigError, match=r"costs\.yaml:8: costs\.1\.indicator_id: duplicate unit cost for 'mmr2_age_5'"
    ):
        load_costs(write(tmp_path, duplicate))
    with pytest.raises(ConfigError, match="empty file"):
        load_costs(write(tmp_path, "# nothing yet\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_costs(tmp_path / "absent.yaml")


def test_shipped_costs_load_and_name_catalogue_indicators() -> None:
    costs = load_costs()
    catalogue = load_catalogue()
    expected = {
        "mh_delayed_discharge_days_per_1000_obd",
        "mh_out_of_area_placements",
        "cancer_early_stage",
        "cyp_tooth_extractions_under_10",
        "cyp_asthma_reliever_overuse",
        "hypertension_treated_to_target",
        "mmr2_age_5",
        "cervical_screening_25_49",
    }
    assert set(costs) == expected
    assert set(costs) <= set(catalogue.indicators)
    for indicator_id, cost in costs.items():
        indicator = catalogue.indicators[indicator_id]
        assert indicator.measure in ("proportion", "crude_rate"), indicator_id
        assert indicator.polarity != "no_judgement", indicator_id
        # "Extra people reached" only makes sense where more is better.
        if cost.direction == "reached":
            assert indicator.polarity == "higher_is_better", indicator_id
        assert cost.source.strip()
        assert cost.year.strip()


def test_shipped_file_says_its_figures_are_indicative() -> None:
    text = (Path(__file__).parents[2] / "src" / "gapwatch" / "monitor" / "costs.yaml").read_text(
        encoding="utf-8"
    )
    assert "INDICATIVE DEFAULTS" in text.split("costs:")[0]


# --------------------------------------------------------------------------- properties


@st.composite
def five_quintiles(draw: st.DrawFn) -> tuple[str, str, list[int], list[int]]:
    measure = draw(st.sampled_from(["proportion", "crude_rate"]))
    polarity = draw(st.sampled_from(["higher_is_better", "lower_is_better"]))
    denominators = draw(st.lists(st.integers(1, 50_000), min_size=5, max_size=5))
    top = (lambda d: d) if measure == "proportion" else (lambda d: 3 * d)
    numerators = [draw(st.integers(0, top(d))) for d in denominators]
    return measure, polarity, numerators, denominators


@settings(max_examples=max(EXAMPLES // 5, 50), deadline=None)
@given(five_quintiles(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_limits_bracket_the_estimate(case: tuple[str, str, list[int], list[int]], confidence: float) -> None:
    measure, polarity, numerators, denominators = case
    table = business_case(
        quintile_values(numerators, denominators),
        indicator_table(
            measure=measure, polarity=polarity, multiplier=100 if measure == "proportion" else 1000
        ),
        {},
        confidence=confidence,
    )
    for _, result in table.iterrows():
        assert 0 <= result["lower"] <= result["excess_events"] <= result["upper"]
    # The best group is the most extreme reference, so nothing exceeds its excess.
    assert row(table, "best_group")["excess_events"] >= row(table, "least_deprived")["excess_events"] - 1e-9


@settings(max_examples=max(EXAMPLES // 5, 50), deadline=None)
@given(
    st.sampled_from(["proportion", "crude_rate"]),
    st.sampled_from(["higher_is_better", "lower_is_better"]),
    st.integers(0, 40),
    st.integers(1, 40),
    st.lists(st.integers(1, 500), min_size=5, max_size=5),
)
def test_equal_rates_have_no_excess(measure: str, polarity: str, a: int, b: int, scales: list[int]) -> None:
    # Numerator a×c and denominator b×c give exactly the same float rate a/b in every quintile.
    numerators = [a * c for c in scales]
    denominators = [max(a, b) * c for c in scales]
    table = business_case(
        quintile_values(numerators, denominators),
        indicator_table(measure=measure, polarity=polarity),
        {},
    )
    for _, result in table.iterrows():
        assert result["excess_events"] == pytest.approx(0, abs=1e-9)
        assert result["lower"] == pytest.approx(0, abs=1e-9)
        assert result["upper"] >= 0
