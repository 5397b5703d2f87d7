"""Compile indicator definitions to Ibis and count every cell in one scan per source.

For each source table (and each date column, period type and kind of count used with
it), the engine builds one Ibis expression that links records to deprivation and
geography through a table of the source's distinct LSOA codes, derives integer codes of
the record's place (region, ICB, sub-ICB, local authority and IMD decile together) and
person groups, and turns each indicator's numerator and denominator into a column. A
single ``GROUP BY GROUPING SETS`` query over that expression counts by place and person
codes; :func:`_roll_up` then sums that small result into every indicator × period × area
× group cell. Codes are never missing (a missing or invalid field is code 0, the group
``unknown``), so the missing columns of a result row say which grouping set it belongs to.
The first quarterly counts scan of a source also counts its completeness
(:mod:`gapwatch.engine.completeness`), so the source is not read again for it.

Only aggregates leave the engine.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, reduce
from itertools import groupby
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from gapwatch import refdata
from gapwatch.codes import ENGLAND
from gapwatch.engine.backends import Engine, Job
from gapwatch.engine.populations import with_population as population_cells
from gapwatch.engine.validate import check_source
from gapwatch.errors import InputError, rows
from gapwatch.model.breakdowns import OVERALL_GROUP, UNKNOWN, breakdown_columns
from gapwatch.model.catalogue import DISTRIBUTION_MEASURES, STANDARDISED, Indicator
from gapwatch.model.config import RunConfig
from gapwatch.refdata.ages import OLDEST, band_labels, band_starts
from gapwatch.refdata.ethnicity import DEFAULT_GROUPING

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
    #: Numerator and population of each directly standardised rate's cells by five-year
    #: age band (``standard_age``); bands without population are left out.
    standardised: pd.DataFrame = field(default_factory=pd.DataFrame)


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

    def key(indicator: Indicator) -> tuple[str, str, str, str]:
        counted = "histogram" if indicator.measure in DISTRIBUTION_MEASURES else "counts"
        if indicator.measure == STANDARDISED:
            counted = "by age"
        return (indicator.source, indicator.date_column, _period_kind(indicator), counted)

    scans = []
    for (source, date_column, period, _), members in groupby(sorted(indicators, key=key), key=key):
        scans.append(_Scan(source, date_column, period, tuple(members)))
    return scans


#: Columns that belong to the LSOA of residence, so everyone in one place shares them.
PLACE_COLUMNS = ("region_code", "icb_code", "sicbl_code", "ltla_code", "imd_decile", "imd_quintile", "core20")
#: Person-level grouping columns; inside the engine each is a small integer code, 0 = unknown.
_FLAGS = ("learning_disability", "autism", "serious_mental_illness")
CODED_COLUMNS = ("ethnic_category", "age_band", "sex", *_FLAGS)
#: Prepared-table names of the place and person codes (kept apart from the input's own columns,
#: which indicator expressions read unchanged).
_CODED = {
    name: f"_gapwatch_{name}"
    for name in (
        "place", "lsoa_valid", "organisation_code", "standard_age", "flags", "ethnic_group", *CODED_COLUMNS
    )
}
#: Person codes of three values each (0 unknown, 1, 2) packed into one ``flags`` code, the
#: first the most significant: one grouping set by place and flags replaces one per field.
PACKED = ("sex", *_FLAGS)


@dataclass(frozen=True)
class _Places:
    """Every distinct place (region, ICB, sub-ICB, LTLA, decile) with its grouping labels.

    Place 0 is the unknown place of records whose LSOA does not link.
    """

    lookup: pd.DataFrame
    codes: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]


@cache
def _places(vintage: int) -> _Places:
    lookup = refdata.lsoa(vintage)[list(PLACE_COLUMNS)].drop_duplicates()
    lookup = lookup.sort_values(list(PLACE_COLUMNS), ignore_index=True)
    lookup.insert(0, "place", np.arange(1, len(lookup) + 1, dtype=np.int32))
    text = {
        column: lookup[column].astype(str).to_numpy(dtype=object)
        for column in PLACE_COLUMNS
        if column != "core20"
    }
    text["core20"] = np.where(lookup["core20"].to_numpy(dtype=bool), "core20", "rest").astype(object)
    codes, labels = {}, {}
    for column, values in text.items():
        uniques, inverse = np.unique(values.astype(str), return_inverse=True)
        labels[column] = np.array([UNKNOWN, *uniques], dtype=object)
        codes[column] = np.concatenate([[0], inverse + 1]).astype(np.int64)
    return _Places(lookup, codes, labels)


@cache
def _code_labels() -> dict[str, np.ndarray]:
    """Labels of the person-level codes, indexed by code (0 is ``unknown``)."""
    categories = refdata.ethnic_categories()
    valid = categories[categories["valid"]]
    labels = {
        "ethnic_category": [UNKNOWN, *valid["code"]],
        "ethnic_group": [UNKNOWN, *sorted(set(valid["group"]))],
        "age_band": [UNKNOWN, *(label for _, label in AGE_BANDS)],
        "standard_age": [UNKNOWN, *band_labels("5y")],
        "sex": [UNKNOWN, "male", "female"],
        **{flag: [UNKNOWN, "yes", "no"] for flag in _FLAGS},
    }
    return {name: np.array(values, dtype=object) for name, values in labels.items()}


@cache
def _ethnic_group_of_category(grouping: str = DEFAULT_GROUPING) -> np.ndarray:
    """The ethnic_group code of each ethnic_category code, under the run's ``ethnic_grouping``.

    Every grouping has the same five groups (they differ only in where code R goes), so
    the group labels of :func:`_code_labels` serve them all.
    """
    categories = refdata.ethnic_categories(grouping)
    valid = categories[categories["valid"]]
    groups = list(_code_labels()["ethnic_group"])
    return np.array([0, *(groups.index(group) for group in valid["group"])], dtype=np.int64)


def _lsoa_codes(engine: Engine, source: str, table: ir.Table, vintage: int) -> tuple[ir.Table, pd.DataFrame]:
    """Link each distinct LSOA code of a table once; returns the answer as an engine table, and
    the rows by ``lsoa_status`` (as :func:`gapwatch.refdata.link_summary` gives them).

    A table has tens of thousands of distinct codes but can have hundreds of millions of
    rows: normalising and classifying codes row by row was most of the cost of linking.
    """
    cached = engine.cache.get(("lsoa_codes", source, vintage))
    if cached is None:
        cached = _keep_lsoa_codes(engine, [source], vintage, [engine.run(_linked(engine, table, vintage))])
    return cached


def _linked(engine: Engine, table: ir.Table, vintage: int) -> Job[tuple[pd.DataFrame, pd.DataFrame]]:
    """The job of :func:`_lsoa_codes`: the place code of each distinct LSOA code of a table,
    and the rows by ``lsoa_status``."""
    raw = table["lsoa_code"].cast("string")
    counts = yield engine.compile(table.group_by(_lsoa_raw=raw).agg(rows=table.count()))
    classified = _classified(engine, counts["_lsoa_raw"], vintage)
    valid = (classified["lsoa_status"] == "valid").to_numpy()
    dictionary = pd.DataFrame({
        "_lsoa_raw": counts["_lsoa_raw"].astype(object),
        _CODED["place"]: np.where(valid, classified["place"].to_numpy(), 0).astype(np.int32),
        _CODED["lsoa_valid"]: valid.astype(np.int32),
    }).dropna(subset=["_lsoa_raw"])  # fmt: skip
    by_status = counts.groupby(classified["lsoa_status"].to_numpy())["rows"].sum()
    summary = pd.DataFrame({"lsoa_status": list(refdata.LSOA_STATUSES)})
    summary["rows"] = summary["lsoa_status"].map(by_status).fillna(0).astype("int64")
    total = int(summary["rows"].sum())
    summary["share"] = summary["rows"] / total if total else 0.0
    return dictionary, summary


def _keep_lsoa_codes(
    engine: Engine, sources: Sequence[str], vintage: int, linked: Sequence[tuple[pd.DataFrame, pd.DataFrame]]
) -> tuple[ir.Table, pd.DataFrame]:
    """Put :func:`_linked`'s codes of one or more tables in the engine, as one table their
    records join (a code links to the same place whichever table it comes from)."""
    dictionary = pd.concat([codes for codes, _ in linked], ignore_index=True)
    dictionary = dictionary.drop_duplicates("_lsoa_raw", ignore_index=True)
    name = f"gapwatch_lsoa_codes_{len([key for key in engine.cache if key[0] == 'lsoa_codes'])}"
    try:
        codes = engine.connection.create_table(name, dictionary, temp=True, overwrite=True)
    except NotImplementedError:
        # PySpark has no temporary tables; a view over an in-memory table serves the same end.
        codes = engine.connection.create_view(name, ibis.memtable(dictionary), overwrite=True)
    for source, (_, summary) in zip(sources, linked, strict=True):
        engine.cache[("lsoa_codes", source, vintage)] = (codes, summary)
    return codes, linked[-1][1]


def _classified(engine: Engine, codes: pd.Series, vintage: int) -> pd.DataFrame:
    """``lsoa_status`` and place code of each raw LSOA code, in order (place 0 unless valid).

    Sources share most of their codes: a code classified for one source is not classified
    again for the next (:func:`gapwatch.refdata.classify_lsoa` of every source's codes was
    most of the cost of linking).
    """
    memo: pd.DataFrame = engine.cache.get(("lsoa_classified", vintage), pd.DataFrame())
    text = codes.astype(object)
    new = pd.Series(pd.unique(text[text.notna() & ~text.isin(memo.index)]), dtype=object)
    if len(new) or memo.empty:
        found = refdata.classify_lsoa(new, vintage)
        place = found[list(PLACE_COLUMNS)].merge(_places(vintage).lookup, on=list(PLACE_COLUMNS), how="left")
        found = pd.DataFrame(
            {"lsoa_status": found["lsoa_status"].to_numpy(), "place": place["place"].fillna(0).to_numpy()},
            index=pd.Index(new, dtype=object),
        )
        memo = pd.concat([memo, found]) if not memo.empty else found
        engine.cache[("lsoa_classified", vintage)] = memo
    result = memo.reindex(text.where(text.notna(), None))
    result["lsoa_status"] = result["lsoa_status"].where(text.notna().to_numpy(), "missing")
    result["place"] = result["place"].fillna(0).astype(np.int64)
    return result.reset_index(drop=True)


def _age_band(age: ir.NumericValue, starts: Sequence[int]) -> ir.IntegerValue:
    """The code (1, 2, …) of the band an age falls in; 0 when missing or impossible."""
    branches = [(age < start, index + 1) for index, start in enumerate(starts[1:])]
    return ibis.cases(((age.isnull() | (age < 0) | (age > OLDEST)), 0), *branches, else_=len(starts))


def _flag(value: ir.BooleanValue) -> ir.IntegerValue:
    return ibis.cases((value, 1), (~value, 2), else_=0)


def _period_start(date: ir.DateValue, period: str) -> ir.DateValue:
    if period == "month":
        return date.truncate("M")
    if period == "quarter":
        return ibis.date(date.year(), ((date.month() - 1) // 3) * 3 + 1, 1)
    year = date.year() - ibis.cases((date.month() < 4, 1), else_=0)
    return ibis.date(year, 4, 1)


def prepare(
    engine: Engine,
    source: str,
    vintage: int,
    age: Callable[[ir.Table], ir.NumericValue] | None = None,
    table: ir.Table | None = None,
    grouping: str = DEFAULT_GROUPING,
) -> ir.Table:
    """Add the place and person codes of every grouping column to a source table.

    The input's own columns stay as they are (indicator expressions read them); the codes
    are the columns named in ``_CODED``, integers that are never missing (0 = unknown).
    ``grouping`` is the run's ``ethnic_grouping`` (see :func:`gapwatch.refdata.ethnic_categories`).
    """
    table = engine.table(source) if table is None else table
    codes, _ = _lsoa_codes(engine, source, table, vintage)
    keyed = table.mutate(_lsoa_raw=table["lsoa_code"].cast("string"))
    joined = keyed.left_join(codes, "_lsoa_raw")
    linked = joined.select(*table.columns, _CODED["place"], _CODED["lsoa_valid"])
    ages = age(linked) if age is not None else linked["age"]
    categories = refdata.ethnic_categories()
    valid = list(categories.loc[categories["valid"], "code"])
    ethnic = linked["ethnic_category"].cast("string").strip().upper()
    organisation = next((column for column in ORGANISATION_COLUMNS if column in linked.columns), None)
    group_of = _ethnic_group_of_category(grouping)
    keys: dict[str, ir.Value] = {
        _CODED["place"]: linked[_CODED["place"]].fill_null(0),
        _CODED["lsoa_valid"]: linked[_CODED["lsoa_valid"]].fill_null(0),
        _CODED["organisation_code"]: (
            linked[organisation].cast("string").fill_null(UNKNOWN) if organisation else ibis.literal(UNKNOWN)
        ),
        _CODED["ethnic_category"]: ethnic.substitute(
            {code: index + 1 for index, code in enumerate(valid)}, else_=0
        ).fill_null(0),
        _CODED["ethnic_group"]: ethnic.substitute(
            {code: int(group_of[index + 1]) for index, code in enumerate(valid)}, else_=0
        ).fill_null(0),
        _CODED["age_band"]: _age_band(ages, band_starts("10y")).fill_null(0),
        _CODED["standard_age"]: _age_band(ages, band_starts("5y")).fill_null(0),
        _CODED["sex"]: (
            linked["sex"].cast("string").strip().substitute({"1": 1, "2": 2}, else_=0).fill_null(0)
        ),
        **{_CODED[flag]: _flag(linked[flag]).fill_null(0) for flag in _FLAGS},
    }
    flags: ir.IntegerValue = ibis.literal(0, type="int16")
    for name in PACKED:
        flags = flags * 3 + keys[_CODED[name]]
    keys[_CODED["flags"]] = flags
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


def _engine_set(area: str, breakdown: str, packed: bool = False, by_group: bool = False) -> tuple[str, ...]:
    """The grouping set the engine counts for one area type and breakdown.

    The engine groups by place and person codes only; areas, deciles, quintiles and
    Core20 follow from the place, and ethnic group from ethnic category, in :func:`_roll_up`.
    Every area type and breakdown with the same person codes shares one engine set. With
    ``packed``, those needing at most sex and the three flags share one set by place and
    ``flags``. With ``by_group``, ethnic group is counted by its own code rather than
    summed from ethnic category (a sixth of the groups where no category is asked for).
    """
    columns = breakdown_columns(breakdown)
    ethnic = "ethnic_group" if by_group else "ethnic_category"
    person = sorted({ethnic if column == "ethnic_group" else column
                     for column in columns if column not in PLACE_COLUMNS})  # fmt: skip
    if area == "provider":
        place = ("place",) if any(column in PLACE_COLUMNS for column in columns) else ()
        return ("organisation_code", *place, *person)
    if packed and set(person) <= set(PACKED):
        return ("place", "flags")
    return ("place", *person)


def _engine_sets(sets: Iterable[tuple[str, str, tuple[str, ...]]]) -> dict[tuple[str, str], tuple[str, ...]]:
    """:func:`_engine_set` of each (area, breakdown), packing sex and flags when any is asked for.

    Where nothing asks for sex or a flag, counting by place alone is cheaper than by place
    and flags, so the flags are packed only when some breakdown needs them.
    """
    items = [(area, breakdown) for area, breakdown, _ in sets]
    packed = any(
        area != "provider" and set(_engine_set(area, breakdown)[1:]) & set(PACKED)
        and set(_engine_set(area, breakdown)[1:]) <= set(PACKED)
        for area, breakdown in items
    )
    by_group = not any("ethnic_category" in breakdown_columns(breakdown) for _, breakdown in items)
    return {item: _engine_set(*item, packed=packed, by_group=by_group) for item in items}


def engine_columns(
    prepared: ir.Table, sets: Iterable[tuple[str, str, tuple[str, ...]]]
) -> dict[str, ir.Value]:
    """The coded grouping columns the engine sets need, by the names :func:`_roll_up` reads."""
    needed = sorted({column for columns in _engine_sets(sets).values() for column in columns})
    return {column: prepared[_CODED[column]] for column in needed}


def _grouping_sql(
    engine: Engine,
    inner: ir.Table,
    leading: Sequence[str],
    sets: list[tuple[str, str, tuple[str, ...]]],
    measures: Sequence[str],
) -> str:
    quote = engine.quote
    engine_sets = sorted(set(_engine_sets(sets).values()))
    grouping_columns = sorted({column for columns in engine_sets for column in columns})
    select = [*map(quote, leading), *map(quote, grouping_columns)]
    select += [f"SUM({quote(measure)}) AS {quote(measure)}" for measure in measures]
    groups = ", ".join(
        "(" + ", ".join(quote(column) for column in (*leading, *columns)) + ")" for columns in engine_sets
    )
    return (
        f"SELECT {', '.join(select)} FROM ({engine.compile(inner)}) AS prepared "
        f"GROUP BY GROUPING SETS ({groups})"
    )


def _distinct(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct values of non-negative integer keys below ``size``, and the
    position of each key among them (``np.unique(key, return_inverse=True)``).

    Where the key space is not much larger than the keys, marking the keys present in a
    table is linear and spares the sort, which was most of the time of a roll-up.
    """
    if 0 < size <= max(4 * len(key), 1 << 20):
        present = np.zeros(size, dtype=bool)
        present[key] = True
        unique = np.flatnonzero(present)
        # Only the positions of keys present are ever read, so they need no zeros.
        position = np.empty(size, dtype=np.int64)
        position[unique] = np.arange(len(unique))
        return unique, position[key]
    unique, inverse = np.unique(key, return_inverse=True)
    return unique, inverse.reshape(-1)


#: A column of labels made up in parts: each part's codes into its own labels.
_Parts = list[tuple[np.ndarray, np.ndarray]]


#: pandas' default text dtype, which a frame built from Python strings would hold.
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def _labels(parts: _Parts, categorical: bool) -> pd.Categorical | pd.api.extensions.ExtensionArray:
    if not categorical:
        # Looking labels up in Arrow spares pandas turning millions of Python strings into
        # Arrow strings one by one when the frame is built.
        # A negative code (a categorical's missing value) becomes a missing label.
        chunks = [
            pa.array(list(labels), type=pa.large_string()).take(pa.array(codes, mask=codes < 0))
            for codes, labels in parts
        ]
        return pd.array(pa.chunked_array(chunks, type=pa.large_string()).combine_chunks(), dtype=_TEXT)
    # One set of categories for all parts, so that millions of rows hold small codes
    # rather than strings (sorted, so that ordering by the column orders by its text).
    everything = np.concatenate([labels for _, labels in parts]).astype(str)
    categories, mapping = np.unique(everything, return_inverse=True)
    codes, offset = [], 0
    for part_codes, labels in parts:
        codes.append(mapping[offset : offset + len(labels)][part_codes])
        offset += len(labels)
    return pd.Categorical.from_codes(np.concatenate(codes), categories=pd.Index(categories))


@dataclass
class _Coded:
    """An engine result's grouping columns as integer arrays, worked out once for every
    roll-up of it (a scan's indicators and its completeness read the same result)."""

    leading: list[str]
    grouping_columns: list[str]
    masks: np.ndarray
    lead: list[tuple[np.ndarray, np.ndarray]]
    coded: dict[str, np.ndarray]
    unpacked: dict[str, np.ndarray]
    organisations: np.ndarray
    #: Rows of each engine set, and columns gathered for those rows, as roll-ups ask for them.
    rows_of: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)
    gathered: dict[tuple[tuple[str, ...], str], np.ndarray] = field(default_factory=dict)


def _grouping_columns(sets: Iterable[tuple[str, str, tuple[str, ...]]]) -> list[str]:
    return sorted({column for columns in _engine_sets(sets).values() for column in columns})


def _coded(raw: pd.DataFrame, leading: Sequence[str], grouping_columns: list[str]) -> _Coded:
    # Bit i set where grouping column i is present: which grouping set a row belongs to
    # (shifts, not a product of matrices, which numpy does slowly for integers).
    masks = np.zeros(len(raw), dtype=np.int64)
    for bit, column in enumerate(grouping_columns):
        masks |= raw[column].notna().to_numpy().astype(np.int64) << bit
    lead = [pd.factorize(raw[column], sort=True) for column in leading]
    coded = {
        column: raw[column].fillna(0).to_numpy().astype(np.int64)
        for column in grouping_columns
        if column != "organisation_code"
    }
    organisations = np.array([], dtype=object)
    if "organisation_code" in grouping_columns:
        codes, uniques = pd.factorize(raw["organisation_code"], sort=True)
        coded["organisation_code"] = codes.astype(np.int64)
        organisations = np.asarray(uniques, dtype=object)
    unpacked: dict[str, np.ndarray] = {}
    if "flags" in coded:
        rest = coded["flags"]
        for name in reversed(PACKED):
            rest, unpacked[name] = np.divmod(rest, 3)
    lead_arrays = [(np.asarray(codes), np.asarray(uniques)) for codes, uniques in lead]
    return _Coded(list(leading), grouping_columns, masks, lead_arrays, coded, unpacked, organisations)


def _roll_up(
    raw: pd.DataFrame,
    leading: Sequence[str],
    sets: list[tuple[str, str, tuple[str, ...]]],
    measures: Sequence[str],
    vintage: int,
    categorical: bool = False,
    all_sets: Sequence[tuple[str, str, tuple[str, ...]]] | None = None,
    coded_rows: _Coded | None = None,
    grouping: str = DEFAULT_GROUPING,
) -> pd.DataFrame:
    """Sum the engine's counts by place and person codes into every area and group, labelled.

    The engine's result is small (places × codes × periods), so summing it here with
    integer keys costs little, and it spares the engine one hash table per area type.
    With ``categorical``, the text columns (area, breakdown, group) are pandas categoricals.
    ``all_sets`` are the sets the engine's query counted, when ``sets`` are only some of them;
    ``coded_rows``, :func:`_coded` of ``raw`` when another roll-up of it has worked it out;
    ``grouping``, the run's ``ethnic_grouping``, where ethnic groups are summed from categories.
    """
    places = _places(vintage)
    labels = _code_labels()
    chosen = _engine_sets([*sets, *(all_sets or [])])
    grouping_columns = _grouping_columns([*sets, *(all_sets or [])])
    text_columns = ["area_type", "area_code", "breakdown", "group"]
    columns_out = [*leading, *text_columns, *measures]
    if raw.empty:
        return pd.DataFrame(columns=columns_out)
    if coded_rows is None:
        coded_rows = _coded(raw, leading, grouping_columns)
    if (coded_rows.leading, coded_rows.grouping_columns) != (list(leading), grouping_columns):
        raise ValueError("coded_rows were worked out for other leading columns or grouping sets")
    masks, lead, coded, unpacked = coded_rows.masks, coded_rows.lead, coded_rows.coded, coded_rows.unpacked
    organisations = coded_rows.organisations
    # One array per measure: a column of a two-dimensional array is strided, and gathering
    # from it was slower than from its own array.
    amounts = [pd.to_numeric(raw[measure]).to_numpy(dtype="float64", na_value=0.0) for measure in measures]
    # Every output column is gathered as parts of codes into small label arrays, and labels
    # are only looked up at the end: building strings row by row cost more than the sums.
    parts: dict[str, _Parts] = {column: [] for column in [*leading, *text_columns]}
    sums: dict[str, list[np.ndarray]] = {measure: [] for measure in measures}
    rows_of, gathered = coded_rows.rows_of, coded_rows.gathered
    for area, breakdown, _ in sets:
        engine_set = chosen[(area, breakdown)]
        person_codes = unpacked if "flags" in engine_set else coded
        if engine_set not in rows_of:
            mask = sum(1 << grouping_columns.index(column) for column in engine_set)
            rows_of[engine_set] = np.flatnonzero(masks == mask)
        selected = rows_of[engine_set]
        if not len(selected):
            continue

        def take(name: str, values: np.ndarray, engine_set: tuple[str, ...] = engine_set) -> np.ndarray:
            # Many area types and breakdowns share an engine set: each column is gathered once.
            if (engine_set, name) not in gathered:
                gathered[(engine_set, name)] = values[rows_of[engine_set]]
            return gathered[(engine_set, name)]

        place = take("place", coded["place"]) if "place" in engine_set else None
        keys: list[tuple[np.ndarray, np.ndarray]] = [
            (take(f"lead {index}", codes), uniques) for index, (codes, uniques) in enumerate(lead)
        ]
        area_column = AREA_COLUMNS[area]
        if area == "provider":
            keys.append((take("organisation_code", coded["organisation_code"]), organisations))
        elif area_column is not None and place is not None:
            keys.append((places.codes[area_column][place], places.labels[area_column]))
        for column in breakdown_columns(breakdown):
            if column in PLACE_COLUMNS and place is not None:
                keys.append((places.codes[column][place], places.labels[column]))
            elif column == "ethnic_group" and "ethnic_group" in engine_set:
                keys.append((take("ethnic_group", coded["ethnic_group"]), labels["ethnic_group"]))
            elif column == "ethnic_group":
                category = take("ethnic_category", coded["ethnic_category"])
                keys.append((_ethnic_group_of_category(grouping)[category], labels["ethnic_group"]))
            else:
                keys.append((take(f"person {column}", person_codes[column]), labels[column]))
        key = np.zeros(len(selected), dtype=np.int64)
        size = 1
        for key_codes, key_labels in keys:
            key = key * len(key_labels) + key_codes
            size *= len(key_labels)
        unique, inverse = _distinct(key, size)
        decoded: list[np.ndarray] = []
        rest = unique
        for _, uniques in reversed(keys):
            rest, code = np.divmod(rest, len(uniques))
            decoded.append(code)
        decoded.reverse()
        count = len(unique)
        zeros = np.zeros(count, dtype=np.int64)
        for index, column in enumerate(leading):
            parts[column].append((decoded[index], keys[index][1]))
        parts["area_type"].append((zeros, np.array([area], dtype=object)))
        has_area = area_column is not None
        first = len(leading) + has_area
        if has_area:
            parts["area_code"].append((decoded[len(leading)], keys[len(leading)][1]))
        else:
            parts["area_code"].append((zeros, np.array([ENGLAND], dtype=object)))
        parts["breakdown"].append((zeros, np.array([breakdown], dtype=object)))
        group_codes, group_keys = decoded[first:], keys[first:]
        if not group_codes:
            parts["group"].append((zeros, np.array([OVERALL_GROUP], dtype=object)))
        elif len(group_codes) == 1:
            parts["group"].append((group_codes[0], group_keys[0][1]))
        else:
            # An intersection's label ("1:Asian") is built once per distinct pair, not per row.
            pair = np.zeros(count, dtype=np.int64)
            for part_codes, (_, part_labels) in zip(group_codes, group_keys, strict=True):
                pair = pair * len(part_labels) + part_codes
            distinct_pairs, pair_codes = np.unique(pair, return_inverse=True)
            names, rest = [], distinct_pairs
            for _, uniques in reversed(group_keys):
                rest, code = np.divmod(rest, len(uniques))
                names.append(uniques[code])
            joined = [":".join(map(str, labels)) for labels in zip(*reversed(names), strict=True)]
            parts["group"].append((pair_codes.reshape(-1), np.array(joined, dtype=object)))
        for index, measure in enumerate(measures):
            weights = take(f"measure {measure}", amounts[index])
            sums[measure].append(np.bincount(inverse, weights=weights, minlength=count))
    if not parts["area_type"]:
        return pd.DataFrame(columns=columns_out)
    out: dict[str, Any] = {
        column: np.concatenate([labels[codes] for codes, labels in parts[column]]) for column in leading
    }
    out.update({column: _labels(parts[column], categorical) for column in text_columns})
    out.update({measure: np.concatenate(sums[measure]) for measure in measures})
    return pd.DataFrame(out)


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


def _counted_rows(indicator: Indicator, table: ir.Table) -> ir.BooleanValue | None:
    """The rows that can add to any of an indicator's counts (its ``denominator.where``),
    or None when every row can."""
    expressions = indicator.expressions()
    if "denominator.where" not in expressions:
        return None
    condition: ir.BooleanValue = expressions["denominator.where"].compile(table)
    return condition.fill_null(False)


def _foldable(scan: _Scan) -> bool:
    """Whether a scan can count the completeness of its source too: counts (not a histogram
    or counts by age) by quarter. Such a scan then reads every record of the window: a row
    filter would save less than the separate scan of the source that it would cost."""
    first = scan.indicators[0]
    return scan.period == "quarter" and first.measure not in (*DISTRIBUTION_MEASURES, STANDARDISED)


def count_scan(
    engine: Engine, scan: _Scan, config: RunConfig, areas: Sequence[str], quality: bool = False
) -> Job[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """One scan, as a job (:meth:`Engine.run_jobs`); returns (cells, histograms, counts by
    age band, completeness) in long form by indicator. With ``quality`` (see
    :func:`_foldable`), the same scan counts the source's completeness
    (:mod:`gapwatch.engine.completeness`)."""
    from gapwatch.engine import completeness

    grouping = config.ethnic_grouping
    key = ("prepared", scan.source, config.lsoa_vintage, grouping)
    if key not in engine.cache:
        name = f"gapwatch_prepared_{len(engine.definitions)}"
        engine.cache[key] = engine.define(
            name, prepare(engine, scan.source, config.lsoa_vintage, grouping=grouping)
        )
    prepared = engine.cache[key]
    date = prepared[scan.date_column].cast("date")
    first, last = config.periods.first_day, config.periods.last_day
    prepared = prepared.filter(date >= ibis.literal(first), date <= ibis.literal(last))
    date = prepared[scan.date_column].cast("date")
    within = prepared
    prepared = prepared.mutate(period_start=_period_start(date, scan.period))
    breakdowns = {breakdown for indicator in scan.indicators for breakdown in indicator.breakdowns}
    sets = _grouping_sets(areas, breakdowns, config)

    if scan.indicators[0].measure in DISTRIBUTION_MEASURES:
        found, histograms = yield from _median_scan(
            engine, scan, prepared, sets, config.lsoa_vintage, grouping
        )
        return found, histograms, pd.DataFrame(), pd.DataFrame()

    counted = [_counted_rows(indicator, prepared) for indicator in scan.indicators]
    quality = quality and _foldable(scan)
    if all(condition is not None for condition in counted) and not quality:
        # Rows outside every indicator's denominator add nothing to any count; leaving them
        # out before grouping spares most of the work where, say, only quarter-end snapshots
        # count. A group left with no rows is one the indicators would not report anyway.
        prepared = prepared.filter(reduce(operator.or_, counted))
    measures: dict[str, ir.Value] = {}
    for indicator in scan.indicators:
        measures.update(_measure_columns(indicator, prepared))
    leading = ["period_start"]
    columns = engine_columns(prepared, sets)
    if scan.indicators[0].measure == STANDARDISED:
        leading.append("standard_age")
        columns["standard_age"] = prepared[_CODED["standard_age"]]
    query_sets = sets
    quality_measures: dict[str, ir.Value] = {}
    if quality:
        quality_measures = completeness.measure_columns(prepared, date)
        query_sets = [*sets, *(item for item in completeness.SETS if item not in sets)]
        columns.update(engine_columns(prepared, query_sets))
    inner = prepared.select("period_start", **columns, **measures, **quality_measures)
    statements = [_grouping_sql(engine, inner, leading, query_sets, [*measures, *quality_measures])]
    # Sent with the counts, not after them: the engine's last answers are then those of the
    # last jobs, and little Python is left to do when the engine has finished.
    duplicates = None
    if quality:
        duplicates = completeness.duplicates_sql(engine, scan.source, within, scan.date_column, config)
    answers = yield statements + ([duplicates] if duplicates else [])
    raw = answers[0]
    coded_rows = _coded(raw, leading, _grouping_columns(query_sets)) if not raw.empty else None
    quality_frame = pd.DataFrame()
    if quality:
        repeats = answers[1] if duplicates else None
        quality_frame = completeness.label(scan.source, raw, repeats, query_sets, config, coded_rows)
    # Cells stay categorical until :func:`_scan_job` has put them in order: selecting and
    # sorting millions of rows of text cost more than the rest of the roll-up.
    labelled = _roll_up(raw, leading, sets, list(measures), config.lsoa_vintage, categorical=True,
                        all_sets=query_sets, coded_rows=coded_rows, grouping=grouping)  # fmt: skip
    by_age = pd.DataFrame()
    if "standard_age" in leading:
        labelled["standard_age"] = _code_labels()["standard_age"][labelled["standard_age"].astype(np.int64)]
        by_age = as_text(labelled.loc[labelled["standard_age"] != UNKNOWN])
        keys = ["period_start", "area_type", "area_code", "breakdown", "group"]
        labelled = labelled.groupby(keys, sort=False, observed=True, as_index=False)[list(measures)].sum()
    cells = []
    for indicator in scan.indicators:
        wanted = labelled["breakdown"].isin(indicator.breakdowns).to_numpy()
        part = labelled.loc[wanted, ["period_start", "area_type", "area_code", "breakdown", "group"]].copy()
        part.insert(0, "indicator_id", _constant(indicator.id, len(part), part.index))
        for role in ("numerator", "denominator", "sum", "sum_squares"):
            column = f"{indicator.id}__{role}"
            if column in labelled:
                part[role] = labelled.loc[wanted, column].astype("float64")
        # A cell with nothing counted is a group that does not occur for this indicator.
        occupied = part.get("denominator", pd.Series(1.0, index=part.index)).fillna(0) != 0
        if "numerator" in part:
            occupied |= part["numerator"].fillna(0) != 0
        cells.append(part.loc[occupied])
    standardised: list[pd.DataFrame] = []
    for indicator in scan.indicators if not by_age.empty else ():
        in_breakdowns = by_age["breakdown"].isin(indicator.breakdowns)
        part = by_age.loc[in_breakdowns, [*CELL_ORDER[1:], "standard_age"]].copy()
        part.insert(0, "indicator_id", indicator.id)
        part["numerator"] = by_age.loc[in_breakdowns, f"{indicator.id}__numerator"].astype("float64")
        standardised.append(part)
    return (
        concat_categorical(cells),
        pd.DataFrame(),
        pd.concat(standardised, ignore_index=True) if standardised else pd.DataFrame(),
        quality_frame,
    )


def _median_scan(
    engine: Engine,
    scan: _Scan,
    prepared: ir.Table,
    sets: list[tuple[str, str, tuple[str, ...]]],
    vintage: int,
    grouping: str = DEFAULT_GROUPING,
) -> Job[tuple[pd.DataFrame, pd.DataFrame]]:
    """Histograms of each median or percentile indicator's value: additive, so the
    median or percentile and its limits follow."""
    statements, wanted = [], []
    for indicator in scan.indicators:
        expressions = indicator.expressions()
        value = expressions["value"].compile(prepared).cast("float64")
        keep = value.notnull()
        if "denominator.where" in expressions:
            keep = keep & expressions["denominator.where"].compile(prepared)
        mine = [item for item in sets if item[1] in indicator.breakdowns]
        inner = prepared.filter(keep).select(
            "period_start", **engine_columns(prepared, mine), value=value, rows=ibis.literal(1)
        )
        statements.append(_grouping_sql(engine, inner, ["period_start", "value"], mine, ["rows"]))
        wanted.append(mine)
    answers = yield statements
    histograms = []
    for indicator, mine, raw in zip(scan.indicators, wanted, answers, strict=True):
        # Histograms run to millions of rows: their text columns stay categorical.
        labelled = _roll_up(
            raw, ["period_start", "value"], mine, ["rows"], vintage, categorical=True, grouping=grouping
        )
        identity = pd.Categorical.from_codes(np.zeros(len(labelled), dtype=np.int8), pd.Index([indicator.id]))
        labelled.insert(0, "indicator_id", pd.Series(identity, index=labelled.index))
        labelled["rows"] = labelled["rows"].astype("float64")
        labelled["value"] = pd.to_numeric(labelled["value"]).astype("float64")
        histograms.append(labelled)
    frame = concat_categorical(histograms)
    keys = ["indicator_id", "period_start", "area_type", "area_code", "breakdown", "group"]
    cells = frame.groupby(keys, sort=False, observed=True, as_index=False).agg(denominator=("rows", "sum"))
    if "period_start" in cells and isinstance(cells["period_start"].dtype, pd.CategoricalDtype):
        cells["period_start"] = cells["period_start"].astype(cells["period_start"].cat.categories.dtype)
    return cells, frame


def _constant(value: str, length: int, index: pd.Index) -> pd.Series:
    """A categorical column holding one text value in every row."""
    codes = np.zeros(length, dtype=np.int8)
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index([value])), index=index)


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its categorical columns of text as pandas' own text columns, each
    category's text looked up once (by :func:`_labels`)."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(
            values.cat.categories.dtype
        ):
            parts = [(values.cat.codes.to_numpy(), values.cat.categories.to_numpy(dtype=object))]
            frame[column] = pd.Series(_labels(parts, categorical=False), index=frame.index)
    return frame


def concat_categorical(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """``pd.concat`` that keeps categorical columns categorical (pandas falls back to text
    when the frames' categories differ, which costs a string per row)."""
    frames = [frame for frame in frames if len(frame.columns)]
    if not frames:
        return pd.DataFrame()
    # Shallow copies: columns are replaced, never changed in place.
    frames = [frame.copy(deep=False) for frame in frames]
    for column in frames[0].columns:
        if all(isinstance(frame[column].dtype, pd.CategoricalDtype) for frame in frames):
            union = sorted({value for frame in frames for value in frame[column].cat.categories})
            for frame in frames:
                frame[column] = frame[column].cat.set_categories(union)
    return pd.concat(frames, ignore_index=True)


def _population(engine: Engine, source: str, config: RunConfig, areas: Sequence[str],
                breakdowns: set[str], organisation: str | None) -> Job[pd.DataFrame]:  # fmt: skip
    """People in the population table by area, group and five-year age band (``standard_age``),
    ages taken at the reference date."""
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

    grouping = config.ethnic_grouping
    prepared = prepare(engine, source, config.lsoa_vintage, age=age, table=table, grouping=grouping)
    sets = _grouping_sets(areas, breakdowns, config)
    inner = prepared.select(
        **engine_columns(prepared, sets),
        standard_age=prepared[_CODED["standard_age"]],
        population=ibis.literal(1),
    )
    raw = yield _grouping_sql(engine, inner, ["standard_age"], sets, ["population"])
    labelled = _roll_up(raw, ["standard_age"], sets, ["population"], config.lsoa_vintage, grouping=grouping)
    labelled["population"] = labelled["population"].astype("float64")
    labelled["standard_age"] = _code_labels()["standard_age"][labelled["standard_age"].astype(np.int64)]
    return labelled


def period_end(start: pd.Series, period: str) -> pd.Series:
    months = {"month": 1, "quarter": 3, "financial_year": 12, "rolling_12_months": 3}[period]
    # Millions of cells share a few dozen periods: each distinct start is worked out once;
    # a missing start (code -1) picks the None appended at the end.
    codes, uniques = pd.factorize(pd.to_datetime(start))
    ends = (pd.DatetimeIndex(uniques) + pd.DateOffset(months=months) - pd.Timedelta(days=1)).date
    return pd.Series(np.array([*ends, None], dtype=object)[codes], index=start.index)


def as_dates(values: pd.Series, categorical: bool = False) -> pd.Series:
    """Period starts as calendar dates, each distinct one converted once (as a categorical of
    dates with ``categorical``: millions of histogram rows share a few dozen periods)."""
    codes, uniques = pd.factorize(pd.to_datetime(values), sort=True)
    if categorical:
        return pd.Series(
            pd.Categorical.from_codes(codes, categories=pd.Index(list(pd.DatetimeIndex(uniques).date))),
            index=values.index,
        )
    # A missing start (code -1) picks the None appended at the end.
    dates = np.array([*pd.DatetimeIndex(uniques).date, None], dtype=object)
    return pd.Series(dates[codes], index=values.index)


def _rolling(cells: pd.DataFrame, config: RunConfig) -> pd.DataFrame:
    """Sum four consecutive quarters into rolling 12-month periods (counts are additive)."""
    keys = ["indicator_id", "area_type", "area_code", "breakdown", "group"]
    quarters = sorted(pd.to_datetime(cells["period_start"]).unique())
    additive = [column for column in ("numerator", "denominator", "sum", "sum_squares") if column in cells]
    frames = []
    for end_index in range(3, len(quarters)):
        window = quarters[end_index - 3 : end_index + 1]
        inside = cells.loc[pd.to_datetime(cells["period_start"]).isin(window)]
        summed = inside.groupby(keys, as_index=False, sort=False, observed=True)[additive].sum(min_count=1)
        summed["period_start"] = pd.Timestamp(window[0])
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
    dated = sorted({(scan.source, scan.date_column) for scan in scans})
    quality_date = dict(reversed(dated))
    folded = []
    for scan in scans:
        # A source's completeness is counted in the first scan of its records that can
        # carry it, not in a scan of its own.
        fold = scan.source in quality_date and quality_date[scan.source] == scan.date_column
        folded.append(fold and _foldable(scan))
        if folded[-1]:
            del quality_date[scan.source]
    # Jobs start when run (:meth:`Engine.run_jobs`), not when made.
    jobs: list[Job[Any]] = [
        _scan_job(engine, scan, config, areas, fold) for scan, fold in zip(scans, folded, strict=True)
    ]
    details = [f"{scan.source}: {', '.join(i.id for i in scan.indicators)}" for scan in scans]
    # Denominators that are populations: counted once per population table, joined to every period.
    population_users = [indicator for indicator in indicators if indicator.denominator.population]
    population_plans: list[list[Indicator]] = []
    for population_source in populations:
        users = [i for i in population_users if i.denominator.population == population_source]
        for organisation in sorted({_organisation_column(engine, i.source) or "" for i in users}):
            members = [i for i in users if (_organisation_column(engine, i.source) or "") == organisation]
            breakdowns = {b for i in members for b in i.breakdowns}
            population_plans.append(members)
            jobs.append(
                _population(engine, population_source, config, areas, breakdowns, organisation or None)
            )
            details.append(f"{population_source} (population denominators)")
    from gapwatch.engine import completeness

    for source, date_column in sorted(quality_date.items()):
        jobs.append(completeness.completeness(engine, source, date_column, config))
        details.append(f"{source}: completeness of ethnicity, LSOA, sex and age")
    linkage = []
    source_rows: dict[str, int] = {}
    step, steps = 0, 1 + len(jobs)

    def advance(detail: str) -> None:
        nonlocal step
        step += 1
        if progress:
            progress(detail, step, steps)

    advance("checking inputs and LSOA linkage")
    # Each table's codes are classified while the engine lists the next table's, and put in
    # the engine after, as one table (while jobs run, only the engine's own thread may use
    # its connection).
    vintage = config.lsoa_vintage
    unlinked = [source for source in dict.fromkeys([*sorted({scan.source for scan in scans}), *populations])
                if ("lsoa_codes", source, vintage) not in engine.cache]  # fmt: skip
    if unlinked:
        found = engine.run_jobs([_linked(engine, engine.table(source), vintage) for source in unlinked])
        _keep_lsoa_codes(engine, unlinked, vintage, found)
    for source in sorted({scan.source for scan in scans}):
        _, summary = _lsoa_codes(engine, source, engine.table(source), config.lsoa_vintage)
        summary = summary.copy()
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
    results = engine.run_jobs(jobs, finished=lambda index: advance(details[index]))
    scanned = results[: len(scans)]
    population_counts = results[len(scans) : len(scans) + len(population_plans)]
    # Each indicator's cells come from one scan, already in order (see :func:`_scan_job`):
    # put in order of indicator, they are in the order of every cell.
    parts = {name: part for scanned_parts, *_ in scanned for name, part in scanned_parts.items()}
    columns = list(dict.fromkeys(column for part in parts.values() for column in part.columns))
    histogram_frames = [histograms for _, histograms, _, _ in scanned if not histograms.empty]
    age_frames = [by_age for _, _, by_age, _ in scanned if not by_age.empty]
    quality_frames = [quality for (*_, quality), fold in zip(scanned, folded, strict=True) if fold]
    quality_frames += results[len(scans) + len(population_plans) :]
    standardised: list[pd.DataFrame] = []
    with_population: dict[str, pd.DataFrame] = {}
    keys = ["area_type", "area_code", "breakdown", "group"]
    for members, by_age in zip(population_plans, population_counts, strict=True):
        people = by_age.groupby(keys, sort=False, as_index=False)["population"].sum()
        for indicator in members:
            if indicator.id not in parts:
                continue
            # Every group with people is a cell, with 0 events where it had none.
            joined = population_cells(parts[indicator.id], people, list(indicator.breakdowns))
            with_population[indicator.id] = joined
            if indicator.measure == STANDARDISED:
                standardised.append(_standardised(indicator, joined, by_age, age_frames))
    # Cells whose denominators are populations come last, in the order they were joined.
    frames = [parts[name] for name in sorted(parts) if name not in with_population]
    frames += with_population.values()
    # Population denominators are joined after the scans: a run whose indicators all have
    # them has no denominator column in any scan's cells.
    if with_population and "denominator" not in columns:
        at = columns.index("numerator") + 1 if "numerator" in columns else len(columns)
        columns.insert(at, "denominator")
    cells = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame()
    quality = completeness.combined(quality_frames)
    # Histograms keep the order the engine gave: the statistics sort each cell's values.
    histograms_all = concat_categorical(histogram_frames)
    by_band = pd.concat(standardised, ignore_index=True) if standardised else pd.DataFrame()
    if not by_band.empty:
        by_band = by_band.sort_values([*CELL_ORDER, "standard_age"], kind="stable", ignore_index=True)
    return Counts(cells, histograms_all, pd.concat(linkage, ignore_index=True), source_rows, quality, by_band)


def _scan_job(
    engine: Engine, scan: _Scan, config: RunConfig, areas: Sequence[str], quality: bool
) -> Job[tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """:func:`count_scan`, with each indicator's cells apart (by indicator id), given their periods' ends
    (rolling periods summed from quarters), in order and labelled as :class:`Counts` holds
    them: what can be done scan by scan is done while the engine counts the next scans."""
    cells, histograms, by_age, quality_frame = yield from count_scan(engine, scan, config, areas, quality)
    if not by_age.empty:
        by_age["period_end"] = period_end(by_age["period_start"], scan.period)
        by_age["period_start"] = as_dates(by_age["period_start"])
    by_id = {indicator.id: indicator for indicator in scan.indicators}
    parts = {}
    for indicator_id, part in cells.groupby("indicator_id", sort=False, observed=True):
        indicator = by_id[str(indicator_id)]
        if indicator.period == "rolling_12_months":
            part = _rolling(part, config)
        else:
            part = part.assign(period_end=period_end(part["period_start"], indicator.period))
        # Engines return groups in any order; a fixed order makes every run's output identical.
        # Sorted while period starts are still timestamps (Python date objects sort slowly)
        # and text is still categorical (categories are sorted, so codes sort as the text).
        part = part.sort_values(CELL_ORDER[1:], kind="stable", ignore_index=True)
        parts[indicator.id] = _finished(part)
    if not histograms.empty:
        histograms["period_start"] = as_dates(histograms["period_start"], categorical=True)
    return parts, histograms, by_age, quality_frame


def _finished(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells as :class:`Counts` holds them: text columns of text, period starts as dates."""
    cells = as_text(cells)
    cells["period_start"] = as_dates(cells["period_start"])
    return cells


def _standardised(
    indicator: Indicator, cells: pd.DataFrame, population: pd.DataFrame, numerators: list[pd.DataFrame]
) -> pd.DataFrame:
    """Numerator and population of each of an indicator's cells by five-year age band.

    Every band with people in the cell's population is listed (a band without events has
    numerator 0). Events of unknown age, or in a band with no population, cannot be
    standardised and are left out; the cell's crude counts still include them.
    """
    keys = ["area_type", "area_code", "breakdown", "group"]
    known = population.loc[population["standard_age"] != UNKNOWN, [*keys, "standard_age", "population"]]
    bands = cells[["indicator_id", "period_start", "period_end", *keys]].merge(known, on=keys)
    events = [frame.loc[frame["indicator_id"] == indicator.id] for frame in numerators]
    if events:
        on = ["indicator_id", "period_start", "period_end", *keys, "standard_age"]
        bands = bands.merge(pd.concat(events, ignore_index=True)[[*on, "numerator"]], on=on, how="left")
    else:
        bands["numerator"] = 0.0
    bands["numerator"] = bands["numerator"].fillna(0.0)
    return bands


def _organisation_column(engine: Engine, source: str) -> str | None:
    columns = engine.table(source).columns
    return next((column for column in ORGANISATION_COLUMNS if column in columns), None)
