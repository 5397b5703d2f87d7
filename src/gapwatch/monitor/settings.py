"""The monitor's YAML settings: guardrail rules, gap-reduction targets and unit costs.

All three ship with defaults (``rules.yaml``, ``targets.yaml`` and the indicative
``costs.yaml`` beside this module); a user's own file replaces them. Every error names
the file, line and field.

>>> load_rules().rules.average_improving_gap_widening.severity
'high'
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gapwatch.errors import ConfigError
from gapwatch.model.breakdowns import AREA_TYPES, check_breakdown
from gapwatch.model.yamlfile import YamlDocument
from gapwatch.stats.spc import MIN_POINTS

Severity = Literal["high", "medium", "low"]
GapMeasure = Literal["gap_absolute", "gap_ratio", "sii", "rii"]
GapBreakdown = Literal["imd_quintile", "imd_decile", "core20"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _quintile_gaps() -> dict[GapBreakdown, list[GapMeasure]]:
    return {"imd_quintile": ["gap_absolute", "sii"]}


class GapRule(_Strict):
    enabled: bool = True
    severity: Severity = "high"
    gaps: dict[GapBreakdown, list[GapMeasure]] = Field(default_factory=_quintile_gaps)


class BreakdownRule(_Strict):
    enabled: bool = True
    severity: Severity = "medium"
    breakdowns: list[str] = Field(default_factory=lambda: ["imd_quintile", "ethnic_group"])

    @field_validator("breakdowns")
    @classmethod
    def _known(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                check_breakdown(value)
            except ConfigError as error:
                raise ValueError(error.message) from None
        return values


class CompletenessRule(BreakdownRule):
    threshold: float = Field(0.9, ge=0, le=1)


class SpcRule(GapRule):
    """Special-cause variation at the latest point of a gap's XmR chart.

    ``min_points``: published points a chart needs before it can raise an alert. Never
    fewer than Making Data Count's 13 (:data:`gapwatch.stats.spc.MIN_POINTS`), below
    which the pages show no variation icon: limits from fewer points are trial limits.
    """

    severity: Severity = "medium"
    min_points: int = MIN_POINTS

    @field_validator("min_points")
    @classmethod
    def _not_trial_limits(cls, value: int) -> int:
        if value < MIN_POINTS:
            raise ValueError(
                f"{value} is too few: at least {MIN_POINTS} points (Making Data Count: limits "
                "from fewer points are trial limits, and the pages show no variation icon for them)"
            )
        return value


class Rules(_Strict):
    average_improving_gap_widening: GapRule = GapRule()
    most_deprived_falling_behind: GapRule = GapRule()
    below_standard: BreakdownRule = BreakdownRule()
    cant_see_gap: CompletenessRule = CompletenessRule()
    special_cause: SpcRule = SpcRule()


class RuleSettings(_Strict):
    confidence: float | None = Field(None, gt=0.5, lt=1)
    min_periods: int = Field(3, ge=3)
    rules: Rules = Rules()


class Target(_Strict):
    indicator_id: str
    breakdown: GapBreakdown = "imd_quintile"
    measure: GapMeasure = "gap_absolute"
    reduce_by: float = Field(..., gt=0, le=1, description="share of the baseline gap to close")
    by: str = Field(..., pattern=r"^\d{4}-\d{2}$", description="YYYY-MM: the month the target falls due")
    areas: list[str] | None = None
    description: str = ""

    @field_validator("areas")
    @classmethod
    def _known_areas(cls, values: list[str] | None) -> list[str] | None:
        unknown = [value for value in values or [] if value not in AREA_TYPES]
        if unknown:
            raise ValueError(
                f"unknown area type(s) {', '.join(unknown)}; choose from {', '.join(AREA_TYPES)}"
            )
        return values

    @property
    def due(self) -> dt.date:
        """The last day of the month in ``by``."""
        year, month = (int(part) for part in self.by.split("-"))
        return dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)


class Targets(_Strict):
    targets: list[Target] = Field(default_factory=list)


def _document(path: Path | None, name: str) -> YamlDocument:
    if path is not None:
        return YamlDocument(Path(path))
    shipped = resources.files("gapwatch.monitor").joinpath(name)
    return YamlDocument(Path(str(shipped)), shipped.read_text(encoding="utf-8"))


def load_rules(path: Path | None = None) -> RuleSettings:
    """Guardrail rules from ``path``, or the shipped defaults."""
    document = _document(path, "rules.yaml")
    return document.validate(RuleSettings, document.data or {})


def load_targets(path: Path | None = None) -> Targets:
    """Gap-reduction targets from ``path``, or the shipped examples."""
    document = _document(path, "targets.yaml")
    return document.validate(Targets, document.data or {})


class UnitCost(_Strict):
    """The £ cost of one event counted by an indicator's numerator (or one person reached)."""

    indicator_id: str = Field(min_length=1)
    event: str = Field(min_length=1, description="what one unit is, singular, e.g. 'delayed bed day'")
    pounds_per_event: float = Field(gt=0, allow_inf_nan=False, description="£ per event")
    direction: Literal["avoidable", "reached"] = Field(
        description="avoidable: harms avoided by closing the gap; reached: extra people reached"
    )
    source: str = Field(min_length=1, description="the published source of the figure")
    year: str = Field(min_length=1, description="price year, e.g. '2022/23'")


class _CostsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    costs: list[dict[str, Any]]


def load_costs(path: Path | None = None) -> dict[str, UnitCost]:
    """Unit costs of the business case from ``path``, or the shipped, indicative ``costs.yaml``,
    by indicator.

    >>> load_costs()["mmr2_age_5"].direction
    'reached'
    """
    document = _document(path, "costs.yaml")
    if document.data is None:
        raise ConfigError(f"{document.path}:1: costs: empty file; expected a 'costs:' list")
    content = document.validate(_CostsFile, document.data)
    costs: dict[str, UnitCost] = {}
    for index, entry in enumerate(content.costs):
        cost = document.validate(UnitCost, entry, ("costs", index))
        if cost.indicator_id in costs:
            raise ConfigError(
                f"{document.where(('costs', index, 'indicator_id'))}: costs.{index}.indicator_id: "
                f"duplicate unit cost for {cost.indicator_id!r}"
            )
        costs[cost.indicator_id] = cost
    return costs
