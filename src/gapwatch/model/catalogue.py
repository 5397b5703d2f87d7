"""The indicator catalogue: YAML definitions validated with pydantic.

Each catalogue file holds ``indicators:``, a list of definitions. A definition names
its source table, the date that places a record in a period, the denominator and
numerator (filters written in :mod:`gapwatch.model.expressions`), the measure, and how
it is judged (polarity, target). Errors name the file, line and field.

>>> catalogue = load_catalogue()
>>> catalogue["cervical_screening_25_49"].measure
'proportion'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from gapwatch.errors import ConfigError
from gapwatch.model.breakdowns import BREAKDOWNS, DEFAULT_BREAKDOWNS, check_breakdown
from gapwatch.model.expressions import Expression, parse
from gapwatch.model.yamlfile import YamlDocument

Measure = Literal["proportion", "crude_rate", "directly_standardised_rate", "median", "percentile", "mean"]
#: Measures computed from a histogram of the value, which the engine counts instead of records.
DISTRIBUTION_MEASURES = ("median", "percentile")
#: Rates standardised by age to the 2013 European Standard Population; the engine counts
#: the numerator and the population in each five-year age band.
STANDARDISED = "directly_standardised_rate"
Period = Literal["month", "quarter", "financial_year", "rolling_12_months"]
Polarity = Literal["higher_is_better", "lower_is_better", "no_judgement"]


def _as_value_error(check: Callable[..., object], *arguments: str) -> None:
    # pydantic reports ValueErrors with the field's location; our own errors would escape it.
    try:
        check(*arguments)
    except ConfigError as error:
        raise ValueError(error.message) from None


class Count(BaseModel):
    """How a numerator or denominator is counted from its table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    where: str | None = Field(None, description="filter expression; rows that satisfy it are counted")
    sum: str | None = Field(None, description="a column or expression to add up instead of counting rows")
    population: str | None = Field(
        None, description="a population table (one row per person, e.g. persons) counted by group instead"
    )

    @field_validator("where", "sum")
    @classmethod
    def _parses(cls, text: str | None) -> str | None:
        if text is not None:
            _as_value_error(parse, text, "expression")
        return text


class Indicator(BaseModel):
    """One indicator definition."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=3)
    description: str
    domain: Literal["access", "experience", "outcome"]
    reference: str = Field(min_length=3, description="the national definition this follows")
    source: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    date_column: str
    period: Period = "quarter"
    measure: Measure
    denominator: Count = Count()
    numerator: Count | None = None
    value: str | None = Field(None, description="for median, percentile and mean: the expression summarised")
    percentile: float | None = Field(
        None, gt=0, lt=100, description="for a percentile: which one (92 for the 92nd percentile)"
    )
    multiplier: float = 1.0
    unit: str = ""
    polarity: Polarity
    target: float | None = None
    standard: str | None = None
    minimum_denominator: int = Field(0, ge=0)
    breakdowns: tuple[str, ...] = DEFAULT_BREAKDOWNS
    #: The expressions' texts and every expression of the definition by role, parsed once
    #: (see :meth:`expressions`).
    _expressions: tuple[tuple[tuple[str, str | None], ...], dict[str, Expression]] | None = PrivateAttr(
        default=None
    )

    @field_validator("breakdowns")
    @classmethod
    def _known_breakdowns(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            _as_value_error(check_breakdown, value)
        if "overall" not in values:
            return ("overall", *values)
        return values

    @field_validator("value")
    @classmethod
    def _value_parses(cls, text: str | None) -> str | None:
        if text is not None:
            _as_value_error(parse, text, "value")
        return text

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        if self.measure in ("proportion", "crude_rate", STANDARDISED) and self.numerator is None:
            raise ValueError(f"a {self.measure} needs a numerator")
        if (self.measure == "percentile") != (self.percentile is not None):
            raise ValueError("a percentile measure needs percentile: (e.g. 92), and only it takes one")
        if self.measure in ("median", "percentile", "mean"):
            if self.value is None:
                raise ValueError(f"a {self.measure} needs a value expression")
            if self.numerator is not None:
                raise ValueError(f"a {self.measure} has no numerator; filter with denominator.where")
        if self.measure == "proportion":
            if self.denominator.population or self.denominator.sum:
                raise ValueError("a proportion's denominator counts rows of its source table")
            if self.numerator is not None and (self.numerator.population or self.numerator.sum):
                raise ValueError("a proportion's numerator counts rows of its source table")
        if self.measure == STANDARDISED and not self.denominator.population:
            raise ValueError(
                "a directly standardised rate needs a population denominator "
                "(denominator: {population: persons}) to count people by age"
            )
        if self.numerator is not None and self.numerator.population:
            raise ValueError("a numerator cannot be a population table")
        if self.denominator.population and self.period == "rolling_12_months":
            raise ValueError("a population denominator cannot be summed over rolling periods")
        return self

    @model_validator(mode="after")
    def _parsed(self) -> Indicator:
        # Parsed once here, where the definition is validated, not again by each reader.
        self._expressions = (self._texts(), self._parse_expressions())
        return self

    def _texts(self) -> tuple[tuple[str, str | None], ...]:
        return (
            ("denominator.where", self.denominator.where),
            ("denominator.sum", self.denominator.sum),
            ("numerator.where", self.numerator.where if self.numerator else None),
            ("numerator.sum", self.numerator.sum if self.numerator else None),
            ("value", self.value),
        )

    def _parse_expressions(self) -> dict[str, Expression]:
        return {role: parse(text, f"{self.id}.{role}") for role, text in self._texts() if text is not None}

    def expressions(self) -> dict[str, Expression]:
        """Every expression of the definition, by role (``denominator.where``, ``value``, …),
        parsed when the definition was validated.

        >>> sorted(load_catalogue()["cervical_screening_25_49"].expressions())
        ['denominator.where', 'numerator.where']
        """
        texts = self._texts()
        # Parsed again only for a model made or changed without validation
        # (``model_construct``, ``model_copy(update=...)``).
        if self._expressions is None or self._expressions[0] != texts:
            self._expressions = (texts, self._parse_expressions())
        # A new dict each time: callers may add to it without changing the model's own.
        return dict(self._expressions[1])

    def columns(self) -> set[str]:
        """The source columns the definition reads."""
        needed = {self.date_column}
        for expression in self.expressions().values():
            needed |= expression.columns
        return needed


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicators: list[dict[str, object]]


@dataclass(frozen=True)
class Catalogue:
    """Indicators by id, with where each was defined."""

    indicators: dict[str, Indicator]
    origins: dict[str, str]
    digest: str

    def __getitem__(self, indicator_id: str) -> Indicator:
        try:
            return self.indicators[indicator_id]
        except KeyError:
            raise ConfigError(f"indicator {indicator_id!r} is not in the catalogue") from None

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self.indicators.values())

    def __len__(self) -> int:
        return len(self.indicators)

    def select(self, ids: Iterable[str] | None) -> Catalogue:
        """The catalogue restricted to ``ids`` (all when None)."""
        if ids is None:
            return self
        chosen = {indicator_id: self[indicator_id] for indicator_id in ids}
        origins = {indicator_id: self.origins[indicator_id] for indicator_id in chosen}
        return Catalogue(chosen, origins, self.digest)


def builtin_catalogue_files() -> list[Path]:
    """The YAML files of the catalogue shipped with gapwatch."""
    folder = resources.files("gapwatch") / "catalogue"
    return sorted(Path(str(item)) for item in folder.iterdir() if item.name.endswith((".yaml", ".yml")))


def load_catalogue(paths: Iterable[Path | str] | None = None) -> Catalogue:
    """Load and validate catalogue files (a file or a folder of ``*.yaml``); default: the shipped one."""
    files: list[Path] = []
    for path in paths if paths is not None else builtin_catalogue_files():
        path = Path(path)
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                raise ConfigError(f"{path}: no catalogue files (*.yaml) in this folder")
            files += found
        else:
            files.append(path)
    indicators: dict[str, Indicator] = {}
    origins: dict[str, str] = {}
    digest = hashlib.sha256()
    for file in files:
        document = YamlDocument(file)
        digest.update(file.read_bytes())
        content = document.validate(_File, document.data if document.data is not None else {})
        for index, entry in enumerate(content.indicators):
            indicator = document.validate(Indicator, entry, ("indicators", index))
            where = document.where(("indicators", index))
            if indicator.id in indicators:
                raise ConfigError(
                    f"{where}: id: duplicate indicator id {indicator.id!r} (first defined at "
                    f"{origins[indicator.id]})"
                )
            indicators[indicator.id] = indicator
            origins[indicator.id] = where
    if not indicators:
        raise ConfigError(f"{', '.join(map(str, files)) or 'catalogue'}: no indicators defined")
    return Catalogue(indicators, origins, digest.hexdigest()[:16])


__all__ = [
    "BREAKDOWNS",
    "Catalogue",
    "Count",
    "Indicator",
    "builtin_catalogue_files",
    "load_catalogue",
]
