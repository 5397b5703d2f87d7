"""Read models for the dashboard and the reports: what a page or a report section shows.

Both ``gapwatch.web`` and ``gapwatch.report`` read the results store only through these
functions, so a page and the paper that goes to the board always show the same numbers.
Each function filters one published run's tables in the store (the database does the
filtering: nothing loads a whole national table into memory for one page) and returns a
tidy pandas DataFrame; nothing here computes a statistic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd

from gapwatch.disclosure.wording import national_controlled, publication_warning
from gapwatch.errors import StoreError
from gapwatch.formats import AREA_TYPE_NAMES as AREA_TYPE_NAMES
from gapwatch.stats.spc import icon_note
from gapwatch.store import MONITOR_COMPLETE, MONITOR_NOT_RUN, Store, no_run_message, run_is_private
from gapwatch.store.schema import SCHEMA

# Re-exported: the names of rules and breakdowns live with the other words (gapwatch.words),
# where the monitor's alert sentences can use them too.
from gapwatch.words import BREAKDOWN_NAMES as BREAKDOWN_NAMES
from gapwatch.words import RULE_NAMES as RULE_NAMES
from gapwatch.words import TARGET_STATUS_NAMES as TARGET_STATUS_NAMES
from gapwatch.words import WITHIN_INTERVAL_NAMES as WITHIN_INTERVAL_NAMES
from gapwatch.words import breakdown_name as breakdown_name
from gapwatch.words import input_note_sentence

#: Breakdowns shown by default on an indicator page, in order.
PAGE_BREAKDOWNS = [
    "imd_quintile",
    "imd_decile",
    "core20",
    "ethnic_group",
    "age_band",
    "sex",
    "learning_disability",
    "autism",
    "serious_mental_illness",
]
HEAT_BREAKDOWN = "imd_quintile:ethnic_group"
#: What pages and reports say, in place of alerts, targets and the business case, about a
#: run published without its monitor (``gapwatch run --no-monitor``): its empty monitor
#: tables mean "not looked", never "no alerts".
GUARDRAILS_NOT_RUN = (
    "The equity guardrails were not run for this run, so it has no alerts, trends, targets or "
    "business case: this does not mean that none would have been raised."
)
#: How a run grouped the NHS ethnic category codes (its ``ethnic_grouping`` setting), in words.
ETHNIC_GROUPING_NAMES = {
    "census2021": "as ONS Census 2021 does, with Chinese (code R) under Asian",
    "nhs2001": "as the NHS Data Dictionary's 2001 Census based list does, with Chinese (code R) under Other",
}


@dataclass(frozen=True)
class Funnel:
    """A funnel plot as published: the areas (name, denominator, value) and the limit lines."""

    areas: pd.DataFrame
    limits: pd.DataFrame


@dataclass(frozen=True)
class RunCatalogue:
    """The tables of one run that every page needs: its ``runs`` row, indicators, areas, periods.

    A published run never changes, so a server may read them once and hand them to each
    later :class:`Results` of the same run (:meth:`Results.with_catalogue`).
    """

    run: dict[str, Any]
    indicators: pd.DataFrame
    areas: pd.DataFrame
    periods: pd.DataFrame


@dataclass
class Results:
    """One published run of a results store, as pages and reports see it."""

    store: Store
    run_id: str

    @classmethod
    def latest(cls, store: Store, run_id: str | None = None, include_private: bool = False) -> Results:
        """The run ``run_id``, or else the newest public run (the newest of all with
        ``include_private``): a private run is read only when it is asked for.
        """
        chosen = run_id or store.latest_run(include_private)
        if chosen is None:
            raise StoreError(no_run_message(store))
        if chosen not in set(store.runs()["run_id"]):
            raise StoreError(f"run {chosen} is not a published run in this store")
        return cls(store, chosen)

    def _select(
        self, table: str, where: str = "", parameters: tuple[Any, ...] = (), order: str = ""
    ) -> pd.DataFrame:
        sql = f"SELECT * FROM {self.store.table(table)} WHERE run_id = ?"
        if where:
            sql += f" AND {where}"
        if order:
            sql += f" ORDER BY {order}"
        return self.store.query(sql, (self.run_id, *parameters))

    @cached_property
    def run(self) -> dict[str, Any]:
        runs = self.store.runs()
        return dict(runs.loc[runs["run_id"] == self.run_id].iloc[0])

    @property
    def policy(self) -> str:
        """The run's disclosure-control policy (``nhs-digital``, ``secondary-suppression``, ``none``)."""
        return str(self.run.get("disclosure_policy") or "none")

    @property
    def private(self) -> bool:
        """Whether the run is private: policy ``none`` or ``private: true`` (not for publication)."""
        return run_is_private(self.run)

    @property
    def control_national(self) -> bool:
        """Whether England-level cells were controlled too (the run's ``control_national``)."""
        return national_controlled(self.run)

    @property
    def warning(self) -> str | None:
        """The "not for publication" banner of a private run, or ``None`` for a public one."""
        return publication_warning(self.policy, self.private)

    @cached_property
    def guardrails_run(self) -> bool:
        """Whether the monitor (the equity guardrails) ran for this run.

        The run's ``monitor`` column says so. Runs published before that column existed
        have none: for them the monitor ran if it left any trends (it writes a trend for
        every overall value it reads).
        """
        recorded = self.run.get("monitor")
        if recorded == MONITOR_NOT_RUN:
            return False
        if recorded == MONITOR_COMPLETE:
            return True
        sql = f"SELECT COUNT(*) AS n FROM {self.store.table('trends')} WHERE run_id = ?"
        return bool(int(self.store.query(sql, (self.run_id,))["n"].iloc[0]))

    @cached_property
    def ethnic_grouping(self) -> str:
        """The run's ``ethnic_grouping`` setting, read from the configuration it recorded.

        Runs published before it was a setting all used ``census2021``.
        """
        recorded = self.run.get("config")
        settings = json.loads(recorded) if isinstance(recorded, str) and recorded else {}
        return str(settings.get("ethnic_grouping") or "census2021")

    @cached_property
    def indicators(self) -> pd.DataFrame:
        return self._select("indicators", order="domain, indicator_id")

    @cached_property
    def areas(self) -> pd.DataFrame:
        return self._select("areas", order="area_type, area_name")

    @cached_property
    def periods(self) -> pd.DataFrame:
        """Every indicator's periods, oldest first."""
        sql = (
            "SELECT DISTINCT indicator_id, period_start, period_end "
            f"FROM {self.store.table('indicator_values')} "
            "WHERE run_id = ? ORDER BY indicator_id, period_start"
        )
        frame = self.store.query(sql, (self.run_id,))
        for column in ("period_start", "period_end"):
            frame[column] = pd.to_datetime(frame[column]).dt.date
        return frame

    def catalogue(self) -> RunCatalogue:
        """This run's catalogue (read from the store unless already read)."""
        return RunCatalogue(self.run, self.indicators, self.areas, self.periods)

    def with_catalogue(self, catalogue: RunCatalogue) -> Results:
        """This object, its catalogue taken from ``catalogue`` (read earlier for the same run)."""
        if catalogue.run.get("run_id") != self.run_id:
            raise ValueError(f"the catalogue of run {catalogue.run.get('run_id')} is not run {self.run_id}'s")
        # The cached properties keep their values in the instance dictionary.
        self.__dict__.update(
            run=catalogue.run,
            indicators=catalogue.indicators,
            areas=catalogue.areas,
            periods=catalogue.periods,
        )
        return self

    def indicator(self, indicator_id: str) -> dict[str, Any] | None:
        found = self.indicators.loc[self.indicators["indicator_id"] == indicator_id]
        return None if found.empty else dict(found.iloc[0])

    def area_name(self, area_type: str, area_code: str) -> str | None:
        found = self.areas.loc[
            (self.areas["area_type"] == area_type) & (self.areas["area_code"] == area_code)
        ]
        return None if found.empty else str(found.iloc[0]["area_name"])

    def latest_period(self, indicator_id: str) -> Any:
        found = self.periods.loc[self.periods["indicator_id"] == indicator_id, "period_start"]
        return None if found.empty else found.max()

    # --- pages -----------------------------------------------------------------------------

    def scorecard(self, area_type: str, area_code: str) -> pd.DataFrame:
        """One row per indicator: its latest overall value, England's, the gaps, trend and alerts."""
        values = self._select(
            "indicator_values",
            "area_type = ? AND area_code = ? AND breakdown = 'overall'",
            (area_type, area_code),
        )
        latest = values.sort_values("period_start").groupby("indicator_id").tail(1)
        measures = self._select(
            "inequality_measures",
            "area_type = ? AND area_code = ? AND breakdown = 'imd_quintile' "
            "AND measure IN ('gap_absolute', 'sii')",
            (area_type, area_code),
        )
        frame = self.indicators[["indicator_id", "title", "domain", "unit", "polarity", "target"]].merge(
            latest[["indicator_id", "period_start", "value", "lower", "upper", "comparison", "suppressed"]],
            on="indicator_id",
            how="left",
        )
        for measure in ("gap_absolute", "sii"):
            part = (
                measures.loc[measures["measure"] == measure]
                .sort_values("period_start")
                .groupby("indicator_id")
                .tail(1)
            )
            part = part[["indicator_id", "period_start", "value", "lower", "upper"]].rename(
                columns={
                    "period_start": f"{measure}_period",
                    "value": measure,
                    "lower": f"{measure}_lower",
                    "upper": f"{measure}_upper",
                }
            )
            frame = frame.merge(part, on="indicator_id", how="left")
        trends = self._select(
            "trends",
            "area_type = ? AND area_code = ? AND breakdown = 'imd_quintile' AND series = 'gap_absolute'",
            (area_type, area_code),
        )
        frame = frame.merge(
            trends[["indicator_id", "direction"]].rename(columns={"direction": "gap_direction"}),
            on="indicator_id",
            how="left",
        )
        charts = self._select(
            "spc",
            "area_type = ? AND area_code = ? AND series = 'value'",
            (area_type, area_code),
            "period_start",
        )
        last = charts.groupby("indicator_id").tail(1)[["indicator_id", "variation", "assurance"]]
        # Making Data Count gives no icon to a chart of fewer than 13 points (trial
        # limits): the latest point's category is not shown as one; the reason is.
        points = last["indicator_id"].map(charts.groupby("indicator_id")["value"].count())
        last = last.assign(icon_note=pd.Series([icon_note(int(count)) for count in points], index=last.index))
        short = last["icon_note"].notna()
        last.loc[short, ["variation", "assurance"]] = None
        frame = frame.merge(last, on="indicator_id", how="left")
        alerts = self.alerts(area_type, area_code)
        counts = alerts.groupby("indicator_id").size().rename("alerts").reset_index()
        frame = frame.merge(counts, on="indicator_id", how="left")
        # Without the guardrails there is no count of alerts to give: not 0, but unknown.
        frame["alerts"] = frame["alerts"].fillna(0).astype(int) if self.guardrails_run else None
        return frame

    def values(
        self, indicator_id: str, area_type: str, area_code: str, breakdown: str, period_start: Any = None
    ) -> pd.DataFrame:
        """An indicator's values by group for one area and breakdown (every period unless one is given)."""
        where = "indicator_id = ? AND area_type = ? AND area_code = ? AND breakdown = ?"
        parameters: tuple[Any, ...] = (indicator_id, area_type, area_code, breakdown)
        if period_start is not None:
            where += " AND period_start = ?"
            parameters += (period_start,)
        frame = self._select("indicator_values", where, parameters, 'period_start, "group"')
        return _dates(frame)

    def _for_area(
        self, table: str, indicator_id: str, area_type: str, area_code: str, order: str
    ) -> pd.DataFrame:
        where = "indicator_id = ? AND area_type = ? AND area_code = ?"
        return _dates(self._select(table, where, (indicator_id, area_type, area_code), order))

    def measures(self, indicator_id: str, area_type: str, area_code: str) -> pd.DataFrame:
        return self._for_area(
            "inequality_measures", indicator_id, area_type, area_code, "breakdown, measure, period_start"
        )

    def charts(self, indicator_id: str, area_type: str, area_code: str) -> pd.DataFrame:
        return self._for_area("spc", indicator_id, area_type, area_code, "breakdown, series, period_start")

    def trends(self, indicator_id: str, area_type: str, area_code: str) -> pd.DataFrame:
        return self._for_area("trends", indicator_id, area_type, area_code, "breakdown, series")

    def gap_series(self, area_type: str, area_code: str) -> pd.DataFrame:
        """Every indicator's quintile 1-5 gap over the periods, for one area."""
        where = "area_type = ? AND area_code = ? AND breakdown = 'imd_quintile' AND measure = 'gap_absolute'"
        return _dates(
            self._select("inequality_measures", where, (area_type, area_code), "indicator_id, period_start")
        )

    def compare(
        self, indicator_id: str, area_type: str, period_start: Any, breakdown: str = "overall"
    ) -> pd.DataFrame:
        """Every area of a type: its overall value and its quintile 1-5 gap in one period."""
        values = self._select(
            "indicator_values",
            "indicator_id = ? AND area_type = ? AND period_start = ? AND breakdown = 'overall'",
            (indicator_id, area_type, period_start),
        )
        gaps = self._select(
            "inequality_measures",
            "indicator_id = ? AND area_type = ? AND period_start = ? AND breakdown = 'imd_quintile' "
            "AND measure = 'gap_absolute'",
            (indicator_id, area_type, period_start),
        )
        frame = values[
            ["area_code", "numerator", "denominator", "value", "lower", "upper", "comparison", "suppressed"]
        ].merge(
            gaps[["area_code", "value", "lower", "upper"]].rename(
                columns={"value": "gap", "lower": "gap_lower", "upper": "gap_upper"}
            ),
            on="area_code",
            how="left",
        )
        names = self.areas.loc[self.areas["area_type"] == area_type, ["area_code", "area_name"]]
        frame = frame.merge(names, on="area_code", how="left")
        frame["area_name"] = frame["area_name"].fillna(frame["area_code"])
        return frame.sort_values("gap", key=lambda gap: gap.abs(), ascending=False, na_position="last")

    def funnel(self, indicator_id: str, area_type: str, period_start: Any) -> Funnel | None:
        """Areas' overall values and the funnel around England's value (Spiegelhalter 2005).

        The limits were computed when the run was published (the ``funnels`` table, made
        by :func:`gapwatch.stats.funnel_plots`); this only reads them, with the areas they
        were drawn for. None when the run has no funnel for the indicator, area type and
        period (measures a funnel does not suit, such as means and medians, have none).
        """
        if not self.store.has_table("funnels"):
            return None  # a store written by a gapwatch that did not publish funnels
        limits = _dates(
            self._select(
                "funnels",
                "indicator_id = ? AND area_type = ? AND period_start = ?",
                (indicator_id, area_type, period_start),
                "denominator",
            )
        )
        if limits.empty:
            return None
        areas = self.compare(indicator_id, area_type, period_start)
        areas = areas.loc[
            ~areas["suppressed"].astype(bool) & areas["denominator"].gt(0) & areas["value"].notna()
        ]
        return Funnel(areas, limits.drop(columns=["run_id", "indicator_id", "area_type", "period_start"]))

    def alerts(
        self, area_type: str | None = None, area_code: str | None = None, rule: str | None = None
    ) -> pd.DataFrame:
        conditions, parameters = [], []
        for column, value in (("area_type", area_type), ("area_code", area_code), ("rule", rule)):
            if value is not None:
                conditions.append(f"{column} = ?")
                parameters.append(value)
        return _dates(
            self._select("alerts", " AND ".join(conditions), tuple(parameters), "indicator_id, breakdown")
        )

    def targets(self, area_type: str | None = None, area_code: str | None = None) -> pd.DataFrame:
        where, parameters = _area_filter(area_type, area_code)
        return _dates(self._select("targets", where, parameters, "indicator_id, area_type, area_code"))

    def business_case(self, area_type: str | None = None, area_code: str | None = None) -> pd.DataFrame:
        where, parameters = _area_filter(area_type, area_code)
        return _dates(self._select("business_case", where, parameters, "indicator_id, reference"))

    def completeness(self, area_type: str | None = None, area_code: str | None = None) -> pd.DataFrame:
        where, parameters = _area_filter(area_type, area_code)
        return _dates(
            self._select("completeness", where, parameters, "source, period_start, area_type, area_code")
        )

    def linkage(self) -> pd.DataFrame:
        return self._select("linkage", order="source, lsoa_status")

    def input_notes(self, indicator_id: str | None = None, source: str | None = None) -> pd.DataFrame:
        """What the run found in its inputs (``input_notes``), with each note in words
        (``sentence``, :func:`gapwatch.words.input_note_sentence`). Given an indicator and
        its ``source``: the notes on that indicator and on its whole table."""
        where: str = ""
        parameters: tuple[Any, ...] = ()
        if indicator_id is not None:
            where = "(indicator_id = ? OR (indicator_id IS NULL AND source = ?))"
            parameters = (indicator_id, source)
        if self.store.has_table("input_notes"):
            frame = self._select("input_notes", where, parameters, "source, kind, column_name")
        else:  # a store written before the table existed: its runs have no notes
            frame = pd.DataFrame(columns=[name for name, _ in SCHEMA["input_notes"]])
        about = "this indicator's table" if indicator_id is not None else None
        sentences = [input_note_sentence(row, about) for row in frame.to_dict("records")]
        return frame.assign(sentence=pd.Series(sentences, index=frame.index, dtype=object))


def _area_filter(area_type: str | None, area_code: str | None) -> tuple[str, tuple[Any, ...]]:
    conditions, parameters = [], []
    if area_type is not None:
        conditions.append("area_type = ?")
        parameters.append(area_type)
    if area_code is not None:
        conditions.append("area_code = ?")
        parameters.append(area_code)
    return " AND ".join(conditions), tuple(parameters)


def _dates(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("period_start", "period_end", "baseline_start", "latest_start", "target_date"):
        if column in frame and not frame.empty:
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame
