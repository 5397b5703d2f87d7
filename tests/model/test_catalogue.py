"""The indicator catalogue: the shipped definitions, and errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest

from gapwatch.errors import ConfigError
from gapwatch.model.breakdowns import breakdown_columns
from gapwatch.model.catalogue import Count, load_catalogue
from gapwatch.model.config import load_config
from gapwatch.model.expressions import parse

SYNTHETIC_DOC = Path(__file__).parents[2] / "docs" / "synthetic-data.md"


def test_shipped_catalogue_covers_every_metric_named_in_the_synthetic_data_guide() -> None:
    catalogue = load_catalogue()
    tables = SYNTHETIC_DOC.read_text().split("## Tables", 1)[1].split("## Truth", 1)[0]
    documented = {
        word.strip("`")
        for line in tables.splitlines()
        if line.startswith("| `")
        for word in line.split("|")[-2].replace(",", " ").split()
        if word.startswith("`") and word.endswith("`")
    }
    assert documented, "the guide lists indicator ids in its table"
    assert documented <= set(catalogue.indicators), documented - set(catalogue.indicators)
    assert len(catalogue) >= 23
    for indicator in catalogue:
        assert len(indicator.reference) > 20, f"{indicator.id} cites its national definition"


def test_the_example_in_the_catalogue_guide_loads(tmp_path: Path) -> None:
    guide = (SYNTHETIC_DOC.parent / "catalogue.md").read_text()
    example = guide.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "mine.yaml"
    path.write_text(example)
    (indicator,) = load_catalogue([path])
    assert indicator.measure == "percentile"
    assert indicator.percentile == 92
    assert indicator.breakdowns[-1] == "imd_quintile:ethnic_group"


def test_catalogue_files_are_found_in_a_folder_and_ids_are_selected(tmp_path: Path) -> None:
    catalogue = load_catalogue().select(["mmr1_age_2"])
    assert [indicator.id for indicator in catalogue] == ["mmr1_age_2"]
    with pytest.raises(ConfigError, match="'nope' is not in the catalogue"):
        load_catalogue().select(["nope"])
    with pytest.raises(ConfigError, match="no catalogue files"):
        load_catalogue([tmp_path])


GOOD = """\
indicators:
  - id: screened
    title: Screened people
    description: d
    domain: access
    reference: a national definition of screening
    source: cervical_screening
    date_column: snapshot_date
    measure: proportion
    numerator: {where: "screened_within_standard"}
    polarity: higher_is_better
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("indicators: [\n  - id: x\n  bad", r"bad\.yaml:2: malformed YAML \(expected the node content"),
        (
            GOOD.replace("domain: access", "domain: accesss"),
            r"bad\.yaml:5: indicators\.0\.domain: Input should be",
        ),
        (
            GOOD.replace("    polarity:", "    colour: red\n    polarity:"),
            r"bad\.yaml:11: indicators\.0\.colour: unknown field",
        ),
        (GOOD.replace("measure: proportion", "measure: mode"), r"bad\.yaml:9: indicators\.0\.measure"),
        (GOOD.replace('    numerator: {where: "screened_within_standard"}\n', ""), "needs a numerator"),
        (
            GOOD.replace("screened_within_standard", "screened.within"),
            r"indicators\.0\.numerator\.where: .*Attribute is not allowed",
        ),
        (GOOD.replace("screened_within_standard", "open('x')"), r"unknown function open\(\)"),
        (GOOD.replace("screened_within_standard", "age >"), "cannot parse"),
        (GOOD + "    breakdowns: [overall, income]\n", r"breakdown 'income' is not known"),
        (
            GOOD + GOOD.split("indicators:\n", 1)[1],
            r"bad\.yaml:12: id: duplicate indicator id 'screened' \(first defined at .*bad\.yaml:2\)",
        ),
        (GOOD + "    percentile: 92\n", "a percentile measure needs percentile:"),
        (
            GOOD.replace("measure: proportion", "measure: percentile").replace(
                '    numerator: {where: "screened_within_standard"}\n', '    value: "age"\n'
            ),
            "a percentile measure needs percentile:",
        ),
        (
            GOOD.replace("measure: proportion", "measure: directly_standardised_rate"),
            "a directly standardised rate needs a population denominator",
        ),
        ("indicators: []\n", "no indicators defined"),
        ("something: else\n", r"bad\.yaml:1: indicators: Field required"),
    ],
    ids=[
        "malformed-yaml",
        "bad-domain",
        "unknown-field",
        "bad-measure",
        "no-numerator",
        "attribute",
        "unknown-function",
        "unparsable",
        "unknown-breakdown",
        "duplicate-id",
        "percentile-on-a-proportion",
        "percentile-without-which",
        "standardised-without-population",
        "empty",
        "wrong-top-level",
    ],
)
def test_bad_catalogue_files_give_one_line_errors_with_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_catalogue([path])
    assert "\n" not in str(caught.value)


def test_expressions_compile_to_ibis_and_evaluate_as_written() -> None:
    table = ibis.memtable(
        {"weeks": [10, 20, None], "group": ["a", "b", "a"],
         "start": ["2024-01-01", "2024-01-01", "2024-01-01"], "end": ["2024-04-01", "2024-01-08", None]}
    ).mutate(start=ibis._.start.cast("date"), end=ibis._.end.cast("date"))  # fmt: skip

    def evaluate(text: str) -> list[object]:
        return table.select(result=parse(text).compile(table)).to_pandas()["result"].tolist()

    assert evaluate("weeks > 13") == [False, True, None]
    assert evaluate("group in ['a'] and weeks is not None") == [True, False, False]
    assert evaluate("days(start, end)")[:2] == [91, 7]
    assert evaluate("weeks(start, end) <= 13")[:2] == [True, True]
    assert evaluate("month(end)")[:2] == [4, 1]
    assert parse("coalesce(weeks, 0) >= 52 or not (group == 'a')").columns == {"weeks", "group"}


def test_expressions_are_parsed_once_and_kept_on_the_indicator() -> None:
    """Readers of an indicator's expressions (validation, the engine's scans) share one parse."""
    catalogue = load_catalogue()
    ids = [indicator.id for indicator in catalogue if indicator.expressions()]
    assert len(ids) >= 10
    twins = load_catalogue()
    for indicator_id in ids:
        indicator = catalogue[indicator_id]
        first, again = indicator.expressions(), indicator.expressions()
        assert first.keys() == again.keys()
        assert all(first[role] is again[role] for role in first), indicator_id
        # A second load of the same file still gives an equal, equally hashed indicator.
        twin = twins[indicator_id]
        assert twin == indicator
        assert hash(twin) == hash(indicator)
    changed = catalogue[ids[0]].model_copy(update={"numerator": None, "denominator": Count(where="age > 1")})
    assert changed.expressions()["denominator.where"].text == "age > 1"


def test_breakdown_names_and_intersections() -> None:
    assert breakdown_columns("overall") == ()
    assert breakdown_columns("sex:age_band") == ("sex", "age_band")
    for bad in ("sex:sex", "a:b:c", "income"):
        with pytest.raises(ConfigError):
            breakdown_columns(bad)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\n", r"gapwatch\.yaml:1: periods: Field required"),
        (
            "data: d\nperiods: {start: 2024-13, end: 2025-03}\n",
            r"gapwatch\.yaml:2: periods\.start: .*not a month",
        ),
        ("data: d\nperiods: {start: '2025-04', end: '2024-03'}\n", "end 2024-03 is before start 2025-04"),
        (
            "data: d\nperiods: {start: '2024-04', end: '2025-03'}\nareas: [icb, ward]\n",
            r":3: areas: .*unknown area type\(s\) ward",
        ),
        (
            "data: d\nperiods: {start: '2024-04', end: '2025-03'}\nbackend: sqlite\n",
            r":3: backend: Input should be",
        ),
        ("periods: {start: '2024-04', end: '2025-03'}\n", "name the input"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
    ids=[
        "no-periods",
        "bad-month",
        "reversed",
        "unknown-area",
        "unknown-backend",
        "no-input",
        "not-a-mapping",
    ],
)
def test_bad_run_configs_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "gapwatch.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)
