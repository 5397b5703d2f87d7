"""Checks of an input table before anything is counted, evaluated where the data live.

Problems that make results wrong stop the run with one line naming the file, column and
how many rows (a missing column, a wrong type, negative or missing amounts, dates outside
1900-2100, an empty table). Problems confined to some rows that the breakdowns can show
(an unknown LSOA, an unrecorded ethnicity) do not stop it: those rows fall in the group
``unknown`` and are counted in the linkage and completeness tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import ibis
import ibis.expr.datatypes as dt_types
import yaml

from gapwatch import words
from gapwatch.engine import normalise
from gapwatch.engine.backends import Engine
from gapwatch.engine.notes import InputNote
from gapwatch.engine.table_checks import (
    OLDEST,
    birth_checks,
    check_copies,
    check_population_lsoa,
    count_rows,
)
from gapwatch.errors import InputError, rows
from gapwatch.model.catalogue import Indicator
from gapwatch.model.config import RunConfig
from gapwatch.model.expressions import Expression, parse, type_problem

#: Columns every service table needs for its breakdowns, with the kind of type each must have.
STANDARD_COLUMNS: dict[str, str] = {
    "lsoa_code": "string",
    "sex": "string",
    "age": "integer",
    "ethnic_category": "string",
    "learning_disability": "boolean",
    "autism": "boolean",
    "serious_mental_illness": "boolean",
}
POPULATION_COLUMNS: dict[str, str] = {**STANDARD_COLUMNS, "date_of_birth": "date"}
del POPULATION_COLUMNS["age"]

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)


def _kind(dtype: dt_types.DataType) -> str:
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_integer():
        return "integer"
    if dtype.is_numeric():
        return "number"
    if dtype.is_date() or dtype.is_timestamp():
        return "date"
    if dtype.is_string():
        return "string"
    return str(dtype)


def _compatible(actual: str, wanted: str) -> bool:
    if wanted == "string":
        return actual in ("string", "integer")
    if wanted == "number":
        return actual in ("integer", "number")
    return actual == wanted


@cache
def _rules() -> dict[str, Any]:
    path = resources.files("gapwatch") / "model" / "rules.yaml"
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def row_rules(source: str, columns: set[str]) -> list[tuple[Expression, str]]:
    """The rules (``model/rules.yaml``) that apply to a table with these columns."""
    found = []
    for entry in [*_rules().get("all", []), *_rules().get("tables", {}).get(source, [])]:
        rule = parse(entry["rule"], f"rules.yaml ({source})")
        if rule.columns <= columns:
            found.append((rule, str(entry["problem"])))
    return found


def check_source(
    engine: Engine, source: str, indicators: Sequence[Indicator], config: RunConfig, population: bool = False
) -> None:
    """Raise InputError for the first problem that would make ``source``'s counts wrong.

    Common NHS spellings of the breakdown columns (``LSOA_CODE``, sex ``M``/``F``, ethnic
    category labels) are read as codes first (:mod:`gapwatch.engine.normalise`).
    """
    where = engine.locations.get(source, source)
    wanted = dict(POPULATION_COLUMNS if population else STANDARD_COLUMNS)
    needed_by: dict[str, str] = dict.fromkeys(wanted, "every breakdown")
    for indicator in indicators:
        wanted.setdefault(indicator.date_column, "date")
        needed_by.setdefault(indicator.date_column, f"indicator {indicator.id}")
        for role, expression in indicator.expressions().items():
            for column in sorted(expression.columns):
                needed_by.setdefault(column, f"indicator {indicator.id} ({role})")
                if role.endswith(".sum"):
                    wanted[column] = "number"
    normalise.rename_columns(engine, source, needed_by)
    table = engine.table(source)
    schema = table.schema()
    if count_rows(engine, table) == 0:
        raise InputError(f"{where}: table {source!r} has no rows")
    missing = [column for column in needed_by if column not in schema]
    if missing:
        column = missing[0]
        more = f" (and {len(missing) - 1} more: {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise InputError(f"{where}: column {column!r} is missing, needed by {needed_by[column]}{more}")
    for column, kind in wanted.items():
        actual = _kind(schema[column])
        if not _compatible(actual, kind):
            raise InputError(
                f"{where}: column {column!r} has type {schema[column]}; expected {kind} "
                f"(needed by {needed_by[column]})"
            )
    normalise.normalise_codes(engine, source)
    normalise.missing_dates(engine, source, config.missing_dates)
    table = engine.table(source)
    for indicator in indicators:
        for role, expression in indicator.expressions().items():
            problem = type_problem(expression, schema, condition=role.endswith(".where"))
            if problem:
                raise InputError(f"{where}: {problem} (indicator {indicator.id}, {role}: {expression.text})")
    checks: dict[str, ibis.Value] = {"_rows": table.count()}
    dates = sorted({column for column, kind in wanted.items() if kind == "date"})
    if "received_date" in schema.names and _kind(schema["received_date"]) == "date":
        dates = sorted({*dates, "received_date"})
    today = ibis.literal(dt.date.today())
    for column in dates:
        value = table[column].cast("date")
        outside = (value < ibis.literal(EARLIEST)) | (value > ibis.literal(LATEST))
        checks[f"date:{column}"] = outside.sum()
        if column != "date_of_birth":
            checks[f"future:{column}"] = (value > today).sum()
    first, last = ibis.literal(config.periods.first_day), ibis.literal(config.periods.last_day)
    for column in sorted({indicator.date_column for indicator in indicators}):
        value = table[column].cast("date")
        checks[f"window:{column}"] = ((value >= first) & (value <= last)).sum()
    for indicator in indicators:
        for role, expression in indicator.expressions().items():
            if role.endswith(".sum"):
                amount = expression.compile(table)
                checks[f"negative:{expression.text}"] = (amount < 0).sum()
                checks[f"missing:{expression.text}"] = amount.isnull().sum()
            if role.endswith(".sum") or role == "value":
                amount = expression.compile(table)
                if amount.type().is_floating():
                    # NaN is not missing to an engine, and infinity passes every bound.
                    checks[f"infinite:{expression.text}"] = (amount.isinf() | amount.isnan()).sum()
    if population and "date_of_birth" in schema:
        checks.update(birth_checks(table, config))
    problems: dict[str, str] = {}
    for rule, problem in row_rules(source, set(schema.names)):
        mistyped = type_problem(rule, schema, condition=True)
        if mistyped:
            raise InputError(f"{where}: {mistyped} (row rule: {rule.text})")
        checks[f"rule:{rule.text}"] = (~rule.compile(table)).fill_null(False).sum()
        problems[rule.text] = problem
    result = table.aggregate(**{f"c{index}": value for index, value in enumerate(checks.values())})
    values = engine.query(engine.compile(result)).iloc[0].tolist()
    found = {name: int(value or 0) for name, value in zip(checks, values, strict=True)}
    if found["_rows"] == 0:
        raise InputError(f"{where}: table {source!r} has no rows")
    for name, number in found.items():
        if name == "_rows" or number == 0 or name.startswith(("future:", "window:")):
            continue
        problem, column = name.split(":", 1)
        if problem == "rule":
            raise InputError(f"{where}: {rows(number)} with {problems[column]} (rule: {column})")
        if problem == "date":
            raise InputError(
                f"{where}: column {column!r}: {rows(number)} with a date before {EARLIEST} or after {LATEST}"
            )
        if problem == "born":
            raise InputError(
                f"{where}: column 'date_of_birth': {rows(number)} with a date of birth after the day of "
                "the run; a population cannot hold people not yet born"
            )
        if problem == "aged":
            raise InputError(
                f"{where}: column 'date_of_birth': {rows(number)} giving an age above {OLDEST} on "
                f"{config.reference_date}, the date ages are taken at"
            )
        if problem == "infinite":
            raise InputError(
                f"{where}: column {column!r}: {rows(number)} infinite or not a number (inf, NaN); "
                "every amount must be a finite number"
            )
        if problem == "negative":
            raise InputError(
                f"{where}: column {column!r}: {rows(number)} negative; amounts cannot be below 0"
            )
        raise InputError(f"{where}: column {column!r}: {rows(number)} missing; every amount must be recorded")
    total = found["_rows"]
    for earlier in engine.notes:
        if earlier.source == source and earlier.total is None:
            earlier.total = total
            if earlier.kind == "renamed_columns":
                earlier.rows = total  # a column is renamed in every row
    for name, number in found.items():
        if name.startswith("future:") and number:
            # Not an error: an extract can be taken early. Never silent: rows of a window
            # that ends before them are not counted, and the user must know why.
            column = name.split(":", 1)[1]
            notes = [_future_note(engine, source, column, config, number, total)]
            normalise.warn(engine, f"{where}: column {column!r}: {rows(number)} ({number / total:.1%}) "
                           f"dated after the day of the run ({dt.date.today()}); they are counted only in "
                           "reporting periods that hold them, check the extract", notes)  # fmt: skip
    for indicator in indicators:
        if found.get(f"window:{indicator.date_column}", 1) == 0:
            # Published with no cells, the indicator would vanish from the results unexplained.
            window = f"{config.periods.start} to {config.periods.end}"
            column = indicator.date_column
            text = (f"No record of indicator {indicator.id} has its {column} in the reporting window "
                    f"{_window(config)}; it has no values this run")  # fmt: skip
            notes = [normalise.note(engine, source, "no_rows_in_window", text, column_name=column, rows=0,
                                    total=total, indicator_id=indicator.id)]  # fmt: skip
            normalise.warn(engine, f"{where}: indicator {indicator.id}: no row's {column} falls in the "
                           f"reporting window {window}; it will have no values this run", notes)  # fmt: skip
    if population:
        check_population_lsoa(engine, source, config.lsoa_vintage)
    if not config.accept_duplicates:
        check_copies(engine, source, found["_rows"])


def _window(config: RunConfig) -> str:
    """The reporting window as NHS readers write it: ``Q1 2024/25 to Q4 2024/25`` when it
    is whole quarters, else its months (``May 2024 to January 2025``)."""
    first, last = config.periods.first_day, config.periods.last_day
    if first.month in (1, 4, 7, 10) and last.month in (3, 6, 9, 12):
        final = dt.date(last.year, last.month - 2, 1)
        if final == first:
            return words.period_short(first)
        return f"{words.period_short(first)} to {words.period_short(final)}"
    return words.months(first, last)


def _future_note(
    engine: Engine, source: str, column: str, config: RunConfig, number: int, total: int
) -> InputNote:
    """The note on records of ``column`` dated after the day of the run (``received_date``:
    received after it, such as 2099, so that their lateness cannot be judged)."""
    today = dt.date.today()
    if column == "received_date":
        text = (f"have a received date after the day of the run ({words.day(today)}); "
                "check the extract (a date such as 2099-01-01 stands for none)")  # fmt: skip
        kind = "received_future"
        return normalise.note(engine, source, kind, text, column_name=column, rows=number, total=total)
    if config.periods.last_day <= today:
        fate = "and are not counted: the reporting window ends before them"
    else:
        fate = "and are counted only in the reporting periods that hold them"
    text = f"are dated after the day of the run ({words.day(today)}, column {column!r}) {fate}"
    return normalise.note(engine, source, "future_dated", text, column_name=column, rows=number, total=total)
