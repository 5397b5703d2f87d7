"""Compile indicator definitions to Ibis and count every cell in one scan per source.

For each source table (and each date column and period type used with it), the engine
builds one Ibis expression that links records to deprivation and geography, derives
the grouping columns of every area type and breakdown, and turns each indicator's
numerator and denominator into a column. A single ``GROUP BY GROUPING SETS`` query over
that expression then counts every indicator × period × area × group cell at once.
Grouping columns are never missing (a missing or invalid field is the group
``unknown``), so the missing columns of a result row say which grouping set it belongs to.

Only aggregates leave the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from gapwatch import refdata
from gapwatch.engine.backends import Engine
from gapwatch.engine.validate import check_source
from gapwatch.errors import InputError, rows
from gapwatch.model.breakdowns import OVERALL_GROUP, UNKNOWN, breakdown_columns
from gapwatch.model.catalogue import Indicator
from gapwatch.model.config import RunConfig
from gapwatch.refdata.ages import OLDEST, band_labels, band_starts

ENGLAND = "E92000001"
AGE_BANDS: tuple[tuple[int, str], ...] = tuple(
    (start, label) for start, label in zip(band_starts("10y"), band_labels("10y"), strict=True)
)

#: The column of the prepared table that holds each area type's code.
AREA_COLUMNS: dict[str, str | None] = {
    "england": None,
    "region": "region_code",
    "icb": "icb_code",
    "sub_icb": "sicbl_code",
    "local_authority": "ltla_code",
    "provider": "organisation_code",
}
ORGANISATION_COLUMNS = ("provider_code", "gp_practice_code")
#: Above this share of codes from the other LSOA vintage, the extract is mixed, not faulty.
MIXED_VINTAGE_SHARE = 0.05
CELL_ORDER = ["indicator_id", "period_start", "area_type", "area_code", "breakdown", "group"]


@dataclass
class Counts:
    """Tidy counts for every indicator cell; the only thing the engine hands on."""

    cells: pd.DataFrame
    histograms: pd.DataFrame
    linkage: pd.DataFrame
    sources: dict[str, int] = field(default_factory=dict)
    completeness: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class _Scan:
    source: str
    date_column: str
    period: str
    indicators: tuple[Indicator, ...]


def _period_kind(indicator: Indicator) -> str:
    return "quarter" if indicator.period == "rolling_12_months" else indicator.period


def plan_scans(indicators: Iterable[Indicator]) -> list[_Scan]:
    """Group indicators that can share one scan: same source, date column and period type."""

    def key(indicator: Indicator) -> tuple[str, str, str, bool]:
        return (
            indicator.source,
            indicator.date_column,
            _period_kind(indicator),
            indicator.measure == "median",
        )

    scans = []
    for (source, date_column, period, _), members in groupby(sorted(indicators, key=key), key=key):
        scans.append(_Scan(source, date_column, period, tuple(members)))
    return scans


def _strings(value: ir.Value) -> ir.StringValue:
    return value.cast("string").fill_null(UNKNOWN)


def _flag(value: ir.BooleanValue) -> ir.StringValue:
    return ibis.cases((value, "yes"), (~value, "no"), else_=UNKNOWN)


def _age_band(age: ir.NumericValue) -> ir.StringValue:
    branches = [(age < start, label) for start, label in AGE_BANDS[1:]]
    shifted = [(condition, AGE_BANDS[index][1]) for index, (condition, _) in enumerate(branches)]
    return ibis.cases(
        ((age.isnull() | (age < 0) | (age > OLDEST)), UNKNOWN),
        *shifted,
        else_=AGE_BANDS[-1][1],
    )


def _ethnic(category: ir.StringValue) -> tuple[ir.StringValue, ir.StringValue]:
    categories = refdata.ethnic_categories()
    valid = categories[categories["valid"]]
    code = category.strip().upper()
    as_group = code.substitute(dict(zip(valid["code"], valid["group"], strict=True)), else_=UNKNOWN)
    as_category = ibis.cases((code.isin(list(valid["code"])), code), else_=UNKNOWN)
    return as_group.fill_null(UNKNOWN), as_category.fill_null(UNKNOWN)


def _period_start(date: ir.DateValue, period: str) -> ir.DateValue:
    if period == "month":
        return date.truncate("M")
    if period == "quarter":
        return ibis.date(date.year(), ((date.month() - 1) // 3) * 3 + 1, 1)
    year = date.year() - ibis.cases((date.month() < 4, 1), else_=0)
    return ibis.date(year, 4, 1)


def prepare(
    engine: Engine,
    table: ir.Table,
    vintage: int,
    age: Callable[[ir.Table], ir.NumericValue] | None = None,
) -> ir.Table:
    """Link a table and add every grouping column (strings, never missing)."""
    linked = refdata.link(table, "lsoa_code", vintage, connection=engine.connection)
    ages = age(linked) if age is not None else linked["age"]
    ethnic_group, ethnic_category = _ethnic(linked["ethnic_category"])
    organisation = next((column for column in ORGANISATION_COLUMNS if column in linked.columns), None)
    keys: dict[str, ir.Value] = {
        "region_code": _strings(linked["region_code"]),
        "icb_code": _strings(linked["icb_code"]),
        "sicbl_code": _strings(linked["sicbl_code"]),
        "ltla_code": _strings(linked["ltla_code"]),
        "organisation_code": _strings(linked[organisation]) if organisation else ibis.literal(UNKNOWN),
        "imd_quintile": _strings(linked["imd_quintile"]),
        "imd_decile": _strings(linked["imd_decile"]),
        "core20": ibis.cases((linked["core20"], "core20"), (~linked["core20"], "rest"), else_=UNKNOWN),
        "ethnic_group": ethnic_group,
        "ethnic_category": ethnic_category,
        "age_band": _age_band(ages),
        "sex": linked["sex"].cast("string").strip().substitute({"1": "male", "2": "female"}, else_=UNKNOWN),
        "learning_disability": _flag(linked["learning_disability"]),
        "autism": _flag(linked["autism"]),
        "serious_mental_illness": _flag(linked["serious_mental_illness"]),
    }
    for name in list(keys):
        keys[name] = keys[name].fill_null(UNKNOWN)
    return linked.mutate(**keys)


def _grouping_sets(
    areas: Sequence[str], breakdowns: Iterable[str], config: RunConfig
) -> list[tuple[str, str, tuple[str, ...]]]:
    sets = []
    for area in areas:
        area_column = AREA_COLUMNS[area]
        for breakdown in sorted(set(breakdowns)):
            allowed = config.area_breakdowns.get(area)
            if allowed is not None and breakdown not in allowed:
                continue
            columns = ((area_column,) if area_column else ()) + breakdown_columns(breakdown)
            sets.append((area, breakdown, columns))
    return sets


def _grouping_sql(
    engine: Engine,
    inner: ir.Table,
    leading: Sequence[str],
    sets: list[tuple[str, str, tuple[str, ...]]],
    measures: Sequence[str],
) -> str:
    quote = engine.quote
    grouping_columns = sorted({column for _, _, columns in sets for column in columns})
    select = [*map(quote, leading), *map(quote, grouping_columns)]
    select += [f"SUM({quote(measure)}) AS {quote(measure)}" for measure in measures]
    groups = ", ".join(
        "(" + ", ".join(quote(column) for column in (*leading, *columns)) + ")" for _, _, columns in sets
    )
    return (
        f"SELECT {', '.join(select)} FROM ({engine.compile(inner)}) AS prepared "
        f"GROUP BY GROUPING SETS ({groups})"
    )


def _label(frame: pd.DataFrame, sets: list[tuple[str, str, tuple[str, ...]]]) -> pd.DataFrame:
    """Name each result row's area and group from the grouping columns it has."""
    grouping_columns = sorted({column for _, _, columns in sets for column in columns})
    present = frame[grouping_columns].notna().to_numpy()
    masks = present.astype(np.int64) @ (1 << np.arange(len(grouping_columns), dtype=np.int64))
    by_mask = {
        sum(1 << grouping_columns.index(column) for column in columns): (area, breakdown)
        for area, breakdown, columns in sets
    }
    rest = [column for column in frame.columns if column not in grouping_columns]
    parts = []
    for mask, index in pd.Series(np.arange(len(frame))).groupby(masks).groups.items():
        area, breakdown = by_mask[int(str(mask))]
        part = frame.iloc[np.asarray(index)]
        area_column = AREA_COLUMNS[area]
        group_columns = breakdown_columns(breakdown)
        if group_columns:
            group = part[group_columns[0]].astype(str)
            for column in group_columns[1:]:
                group = group + ":" + part[column].astype(str)
        else:
            group = pd.Series(OVERALL_GROUP, index=part.index)
        labelled = pd.DataFrame(
            {
                "area_type": area,
                "area_code": part[area_column].astype(str) if area_column else ENGLAND,
                "breakdown": breakdown,
                "group": group,
            },
            index=part.index,
        )
        parts.append(pd.concat([labelled, part[rest]], axis=1))
    if not parts:
        return pd.DataFrame(columns=["area_type", "area_code", "breakdown", "group", *rest])
    return pd.concat(parts, ignore_index=True)


def _measure_columns(indicator: Indicator, table: ir.Table) -> dict[str, ir.Value]:
    expressions = indicator.expressions()
    inside = expressions["denominator.where"].compile(table) if "denominator.where" in expressions else None

    def counted(condition: ir.BooleanValue | None, amount: ir.NumericValue | None) -> ir.Value:
        value = amount if amount is not None else ibis.literal(1)
        if condition is None:
            return value.fill_null(0) if amount is not None else value
        return ibis.cases((condition, value), else_=0).fill_null(0)

    denominator_sum = (
        expressions["denominator.sum"].compile(table) if "denominator.sum" in expressions else None
    )
    columns: dict[str, ir.Value] = {}
    prefix = indicator.id
    if not indicator.denominator.population:
        columns[f"{prefix}__denominator"] = counted(inside, denominator_sum)
    if indicator.numerator is not None:
        numerator_where = (
            expressions["numerator.where"].compile(table) if "numerator.where" in expressions else None
        )
        condition = (
            numerator_where
            if inside is None
            else (inside if numerator_where is None else inside & numerator_where)
        )
        numerator_sum = (
            expressions["numerator.sum"].compile(table) if "numerator.sum" in expressions else None
        )
        columns[f"{prefix}__numerator"] = counted(condition, numerator_sum)
    if indicator.measure == "mean":
        value = expressions["value"].compile(table).cast("float64")
        present = value.notnull() if inside is None else inside & value.notnull()
        columns[f"{prefix}__denominator"] = counted(present, None)
        columns[f"{prefix}__sum"] = counted(present, value)
        columns[f"{prefix}__sum_squares"] = counted(present, value * value)
    return columns


def count_scan(
    engine: Engine, scan: _Scan, config: RunConfig, areas: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run one scan; returns (cells, histograms) in long form by indicator."""
    table = engine.table(scan.source)
    prepared = prepare(engine, table, config.lsoa_vintage)
    date = prepared[scan.date_column].cast("date")
    first, last = config.periods.first_day, config.periods.last_day
    prepared = prepared.filter(date >= ibis.literal(first), date <= ibis.literal(last))
    prepared = prepared.mutate(period_start=_period_start(date, scan.period))
    breakdowns = {breakdown for indicator in scan.indicators for breakdown in indicator.breakdowns}
    sets = _grouping_sets(areas, breakdowns, config)

    if scan.indicators[0].measure == "median":
        return _median_scan(engine, scan, prepared, sets)

    measures: dict[str, ir.Value] = {}
    for indicator in scan.indicators:
        measures.update(_measure_columns(indicator, prepared))
    grouping_columns = sorted({column for _, _, columns in sets for column in columns})
    inner = prepared.select("period_start", *grouping_columns, **measures)
    raw = engine.query(_grouping_sql(engine, inner, ["period_start"], sets, list(measures)))
    labelled = _label(raw, sets)
    cells = []
    for indicator in scan.indicators:
        wanted = labelled["breakdown"].isin(indicator.breakdowns)
        part = labelled.loc[wanted, ["period_start", "area_type", "area_code", "breakdown", "group"]].copy()
        part.insert(0, "indicator_id", indicator.id)
        for role in ("numerator", "denominator", "sum", "sum_squares"):
            column = f"{indicator.id}__{role}"
            if column in labelled:
                part[role] = pd.to_numeric(labelled.loc[wanted, column]).astype("float64")
        # A cell with nothing counted is a group that does not occur for this indicator.
        occupied = part.get("denominator", pd.Series(1.0, index=part.index)).fillna(0) != 0
        if "numerator" in part:
            occupied |= part["numerator"].fillna(0) != 0
        cells.append(part.loc[occupied])
    return pd.concat(cells, ignore_index=True), pd.DataFrame()


def _median_scan(
    engine: Engine, scan: _Scan, prepared: ir.Table, sets: list[tuple[str, str, tuple[str, ...]]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Histograms of each median indicator's value: additive, so medians and their limits follow."""
    histograms = []
    grouping_columns = sorted({column for _, _, columns in sets for column in columns})
    for indicator in scan.indicators:
        expressions = indicator.expressions()
        value = expressions["value"].compile(prepared).cast("float64")
        keep = value.notnull()
        if "denominator.where" in expressions:
            keep = keep & expressions["denominator.where"].compile(prepared)
        inner = prepared.filter(keep).select(
            "period_start", *grouping_columns, value=value, rows=ibis.literal(1)
        )
        raw = engine.query(_grouping_sql(engine, inner, ["period_start", "value"], sets, ["rows"]))
        labelled = _label(raw, sets)
        labelled = labelled.loc[labelled["breakdown"].isin(indicator.breakdowns)]
        labelled.insert(0, "indicator_id", indicator.id)
        labelled["rows"] = pd.to_numeric(labelled["rows"]).astype("float64")
        labelled["value"] = pd.to_numeric(labelled["value"]).astype("float64")
        histograms.append(labelled)
    frame = pd.concat(histograms, ignore_index=True)
    keys = ["indicator_id", "period_start", "area_type", "area_code", "breakdown", "group"]
    cells = frame.groupby(keys, sort=False, as_index=False).agg(denominator=("rows", "sum"))
    return cells, frame


def _population(engine: Engine, source: str, config: RunConfig, areas: Sequence[str],
                breakdowns: set[str], organisation: str | None) -> pd.DataFrame:  # fmt: skip
    """People in the population table by area and group, ages taken at the reference date."""
    table = engine.table(source)
    if organisation and organisation in table.columns:
        table = table.drop(*[column for column in ORGANISATION_COLUMNS if column in table.columns and
                             column != organisation])  # fmt: skip
    reference = ibis.literal(config.reference_date)

    def age(linked: ir.Table) -> ir.NumericValue:
        birth = linked["date_of_birth"].cast("date")
        years = reference.year() - birth.year()
        before_birthday = (reference.month() < birth.month()) | (
            (reference.month() == birth.month()) & (reference.day() < birth.day())
        )
        return years - ibis.cases((before_birthday, 1), else_=0)

    prepared = prepare(engine, table, config.lsoa_vintage, age=age)
    sets = _grouping_sets(areas, breakdowns, config)
    grouping_columns = sorted({column for _, _, columns in sets for column in columns})
    inner = prepared.select(*grouping_columns, population=ibis.literal(1))
    raw = engine.query(_grouping_sql(engine, inner, [], sets, ["population"]))
    labelled = _label(raw, sets)
    labelled["population"] = pd.to_numeric(labelled["population"]).astype("float64")
    return labelled


def period_end(start: pd.Series, period: str) -> pd.Series:
    months = {"month": 1, "quarter": 3, "financial_year": 12, "rolling_12_months": 3}[period]
    starts = pd.to_datetime(start)
    return (starts + pd.DateOffset(months=months) - pd.Timedelta(days=1)).dt.date


def _rolling(cells: pd.DataFrame, config: RunConfig) -> pd.DataFrame:
    """Sum four consecutive quarters into rolling 12-month periods (counts are additive)."""
    keys = ["indicator_id", "area_type", "area_code", "breakdown", "group"]
    quarters = sorted(pd.to_datetime(cells["period_start"]).unique())
    additive = [column for column in ("numerator", "denominator", "sum", "sum_squares") if column in cells]
    frames = []
    for end_index in range(3, len(quarters)):
        window = quarters[end_index - 3 : end_index + 1]
        inside = cells.loc[pd.to_datetime(cells["period_start"]).isin(window)]
        summed = inside.groupby(keys, as_index=False, sort=False)[additive].sum(min_count=1)
        summed["period_start"] = pd.Timestamp(window[0]).date()
        summed["period_end"] = (
            pd.Timestamp(window[-1]) + pd.DateOffset(months=3) - pd.Timedelta(days=1)
        ).date()
        frames.append(summed)
    if not frames:
        return cells.iloc[0:0].assign(period_end=pd.Series(dtype="object"))
    return pd.concat(frames, ignore_index=True)


def count(
    engine: Engine,
    indicators: Sequence[Indicator],
    config: RunConfig,
    progress: Callable[[str, int, int], None] | None = None,
) -> Counts:
    """Count every cell of every indicator: one grouping-sets scan per source table."""
    areas = list(config.areas)
    scans = plan_scans(indicators)
    for source in sorted({scan.source for scan in scans}):
        check_source(engine, source, [i for i in indicators if i.source == source], config)
    populations = sorted({str(i.denominator.population) for i in indicators if i.denominator.population})
    for population_source in populations:
        check_source(engine, population_source, [], config, population=True)
    cell_frames, histogram_frames, linkage = [], [], []
    source_rows: dict[str, int] = {}
    steps = len(scans) + len(populations) + 2
    step = 0

    def advance(detail: str) -> None:
        nonlocal step
        step += 1
        if progress:
            progress(detail, step, steps)

    advance("checking inputs and LSOA linkage")
    for source in sorted({scan.source for scan in scans}):
        table = engine.table(source)
        linked = refdata.link(table, "lsoa_code", config.lsoa_vintage, connection=engine.connection)
        summary = refdata.link_summary(linked)
        summary.insert(0, "source", source)
        statuses = summary.set_index("lsoa_status")["rows"]
        if statuses.sum() > 0 and statuses.get("valid", 0) == 0:
            raise InputError(
                f"{engine.locations.get(source, source)}: column 'lsoa_code': none of the "
                f"{rows(int(statuses.sum()))} holds a known {config.lsoa_vintage} LSOA code "
                f"({', '.join(f'{k} {v:,}' for k, v in statuses.items() if v)}); "
                "is it the right column and vintage?"
            )
        other = int(statuses.get("other_vintage", 0))
        if other > MIXED_VINTAGE_SHARE * statuses.sum():
            other_year = 2011 if config.lsoa_vintage == 2021 else 2021
            raise InputError(
                f"{engine.locations.get(source, source)}: column 'lsoa_code': {rows(other)} "
                f"({other / statuses.sum():.0%}) hold {other_year} LSOA codes in a run set to "
                f"lsoa_vintage {config.lsoa_vintage}; convert them (gapwatch.refdata.convert_lsoa) "
                "or set lsoa_vintage"
            )
        linkage.append(summary)
        source_rows[source] = int(summary["rows"].sum())
    for scan in scans:
        advance(f"{scan.source}: {', '.join(i.id for i in scan.indicators)}")
        cells, histograms = count_scan(engine, scan, config, areas)
        by_id = {indicator.id: indicator for indicator in scan.indicators}
        for indicator_id, part in cells.groupby("indicator_id", sort=False):
            indicator = by_id[str(indicator_id)]
            if indicator.period == "rolling_12_months":
                part = _rolling(part, config)
            else:
                part = part.assign(period_end=period_end(part["period_start"], indicator.period))
                part["period_start"] = pd.to_datetime(part["period_start"]).dt.date
            cell_frames.append(part)
        if not histograms.empty:
            histograms["period_start"] = pd.to_datetime(histograms["period_start"]).dt.date
            histogram_frames.append(histograms)
    cells = pd.concat(cell_frames, ignore_index=True) if cell_frames else pd.DataFrame()
    if not cells.empty:
        # Engines return groups in any order; a fixed order makes every run's output identical.
        cells = cells.sort_values(CELL_ORDER, kind="stable", ignore_index=True)
    # Denominators that are populations: counted once per population table, joined to every period.
    population_users = [indicator for indicator in indicators if indicator.denominator.population]
    for population_source in populations:
        users = [i for i in population_users if i.denominator.population == population_source]
        advance(f"{population_source} (population denominators)")
        for organisation in sorted({_organisation_column(engine, i.source) or "" for i in users}):
            members = [i for i in users if (_organisation_column(engine, i.source) or "") == organisation]
            breakdowns = {b for i in members for b in i.breakdowns}
            people = _population(engine, population_source, config, areas, breakdowns, organisation or None)
            keys = ["area_type", "area_code", "breakdown", "group"]
            for indicator in members:
                mine = cells["indicator_id"] == indicator.id
                joined = cells.loc[mine].drop(columns=["denominator"], errors="ignore")
                joined = joined.merge(people[[*keys, "population"]], on=keys, how="left")
                joined = joined.rename(columns={"population": "denominator"})
                cells = pd.concat([cells.loc[~mine], joined], ignore_index=True)
    advance("completeness of ethnicity, LSOA, sex and age")
    from gapwatch.engine.completeness import completeness_all

    dated = sorted({(scan.source, scan.date_column) for scan in scans})
    first_date = dict(reversed(dated))
    quality = completeness_all(engine, sorted(first_date.items()), config)
    histograms_all = pd.concat(histogram_frames, ignore_index=True) if histogram_frames else pd.DataFrame()
    if not histograms_all.empty:
        histograms_all = histograms_all.sort_values([*CELL_ORDER, "value"], kind="stable", ignore_index=True)
    return Counts(cells, histograms_all, pd.concat(linkage, ignore_index=True), source_rows, quality)


def _organisation_column(engine: Engine, source: str) -> str | None:
    columns = engine.table(source).columns
    return next((column for column in ORGANISATION_COLUMNS if column in columns), None)
