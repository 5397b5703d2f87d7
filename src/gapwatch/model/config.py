"""The run configuration: which data, which indicators, which areas and periods.

A run is described by one YAML file (``gapwatch.yaml``); relative paths in it are read
relative to the file. ``gapwatch demo`` writes one you can copy.

>>> config = RunConfig.model_validate({"data": "data", "periods": {"start": "2023-04", "end": "2024-03"}})
>>> config.periods.months()[0], len(config.periods.months())
('2023-04', 12)
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gapwatch.errors import ConfigError
from gapwatch.model.breakdowns import AREA_TYPES, check_breakdown
from gapwatch.model.catalogue import Catalogue, load_catalogue
from gapwatch.model.yamlfile import YamlDocument

Backend = Literal["duckdb", "postgres", "pyspark"]
DEFAULT_AREAS: tuple[str, ...] = tuple(AREA_TYPES)
#: Breakdowns reported for small areas: finer ones there would be mostly suppressed cells.
_LOCAL = ("overall", "imd_quintile", "core20", "ethnic_group", "age_band", "sex")
SMALL_AREA_BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "sub_icb": _LOCAL,
    "local_authority": _LOCAL,
    "provider": ("overall",),
}


def _month(text: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}", text):
        raise ValueError(f"{text!r} is not a month written YYYY-MM")
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{text!r} is not a month written YYYY-MM") from None


class Periods(BaseModel):
    """The reporting window: whole months from ``start`` to ``end`` inclusive (YYYY-MM)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _is_month(cls, text: str) -> str:
        _month(str(text))
        return str(text)

    @model_validator(mode="after")
    def _ordered(self) -> Periods:
        if _month(self.end) < _month(self.start):
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    @property
    def first_day(self) -> dt.date:
        return _month(self.start)

    @property
    def last_day(self) -> dt.date:
        end = _month(self.end)
        following = dt.date(end.year + (end.month == 12), end.month % 12 + 1, 1)
        return following - dt.timedelta(days=1)

    def months(self) -> list[str]:
        first, last = _month(self.start), _month(self.end)
        count = (last.year - first.year) * 12 + last.month - first.month + 1
        return [f"{first.year + (first.month - 1 + i) // 12}-{(first.month - 1 + i) % 12 + 1:02d}"
                for i in range(count)]  # fmt: skip


class Disclosure(BaseModel):
    """Statistical disclosure control applied before anything is stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    policy: Literal["nhs-digital", "secondary-suppression", "none"] = "nhs-digital"
    threshold: int = Field(7, ge=0, description="counts from 1 to this are suppressed")
    rounding: int = Field(5, ge=1, description="nhs-digital: other counts are rounded to a multiple of this")
    control_national: bool = Field(
        True,
        description="control England-level cells like any other (small counts withheld, others rounded); "
        "false publishes national figures exactly",
    )


class MonitorSettings(BaseModel):
    """The equity guardrails run after each published run (gapwatch.monitor)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    enabled: bool = True
    rules: str | None = Field(None, description="guardrail rules YAML (the shipped defaults when empty)")
    targets: str | None = Field(
        None, description="gap-reduction targets YAML (the shipped examples when empty)"
    )
    costs: str | None = Field(None, description="unit costs YAML (the shipped indicative costs when empty)")


class RunConfig(BaseModel):
    """Everything one run needs."""

    model_config = ConfigDict(extra="forbid")

    name: str = "gapwatch"
    data: str | None = Field(None, description="folder of input tables (<table>.parquet or .csv)")
    database: str | None = Field(None, description="database URL whose tables are the input (postgres)")
    tables: dict[str, str] = Field(default_factory=dict, description="input table -> file or table name")
    column_types: dict[str, dict[str, Literal["text", "integer", "number", "date", "boolean"]]] = Field(
        default_factory=dict,
        description="CSV inputs: table -> column -> type, where the type the first rows suggest is wrong",
    )
    catalogue: list[str] | None = None
    indicators: list[str] | None = None
    areas: list[str] = list(DEFAULT_AREAS)
    area_breakdowns: dict[str, list[str]] = Field(
        default_factory=lambda: {area: list(groups) for area, groups in SMALL_AREA_BREAKDOWNS.items()},
        description="for these area types, only these breakdowns (the indicator's own list elsewhere)",
    )
    periods: Periods
    population_date: str | None = Field(None, description="date ages in the population table are taken at")
    lsoa_vintage: Literal[2011, 2021] = 2021
    accept_duplicates: bool = Field(
        False, description="count an input whose rows are more than 10% exact copies (else the run stops)"
    )
    missing_dates: list[dt.date] = Field(
        default_factory=lambda: [dt.date(1800, 1, 1), dt.date(1801, 1, 1)],
        description="dates that extracts write for 'not known' (HES: 1800-01-01 null, 1801-01-01 invalid); "
        "read as missing",
    )
    #: Where Chinese (R) goes in the ethnic_group breakdown (gapwatch.refdata.ethnic_categories).
    ethnic_grouping: Literal["census2021", "nhs2001"] = "census2021"
    confidence: float = Field(0.95, gt=0.5, lt=1)
    completeness_warning: float = Field(
        0.9, ge=0, le=1, description="warn where less than this share of a breakdown's records are placed"
    )
    disclosure: Disclosure = Disclosure()
    private: bool = Field(
        False, description="serve this run's results only to signed-in readers (see docs/security.md)"
    )
    monitor: MonitorSettings = MonitorSettings()
    store: str = "results.duckdb"
    backend: Backend = "duckdb"
    base: Path = Field(Path("."), exclude=True)

    @field_validator("area_breakdowns")
    @classmethod
    def _known_breakdowns(cls, values: dict[str, list[str]]) -> dict[str, list[str]]:
        for area, breakdowns in values.items():
            if area not in AREA_TYPES:
                raise ValueError(f"unknown area type {area}; choose from {', '.join(AREA_TYPES)}")
            for value in breakdowns:
                try:
                    check_breakdown(value)
                except ConfigError as error:
                    raise ValueError(error.message) from None
        return values

    @field_validator("areas")
    @classmethod
    def _known_areas(cls, values: list[str]) -> list[str]:
        unknown = [value for value in values if value not in AREA_TYPES]
        if unknown:
            raise ValueError(
                f"unknown area type(s) {', '.join(unknown)}; choose from {', '.join(AREA_TYPES)}"
            )
        return values

    @field_validator("population_date")
    @classmethod
    def _is_date(cls, text: str | None) -> str | None:
        if text is not None:
            try:
                dt.date.fromisoformat(str(text))
            except ValueError:
                raise ValueError(f"{text!r} is not a date written YYYY-MM-DD") from None
        return text

    @model_validator(mode="after")
    def _has_data(self) -> RunConfig:
        if self.data is None and self.database is None and not self.tables:
            raise ValueError("name the input: data (a folder), database (a URL) or tables")
        return self

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base / candidate

    def load_catalogue(self) -> Catalogue:
        paths = [self.resolve(path) for path in self.catalogue] if self.catalogue else None
        catalogue = load_catalogue(paths)
        return catalogue.select(self.indicators)

    @property
    def reference_date(self) -> dt.date:
        if self.population_date is not None:
            return dt.date.fromisoformat(self.population_date)
        return self.periods.last_day


def load_config(path: Path | str) -> RunConfig:
    """Read and validate a run configuration file; errors name the file, line and field."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    document = YamlDocument(path)
    if not isinstance(document.data, dict):
        raise ConfigError(f"{path}:1: expected a mapping of settings (name, data, periods, …)")
    config = document.validate(RunConfig, document.data)
    config.base = path.resolve().parent
    return config
