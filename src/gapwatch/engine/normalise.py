"""Common NHS spellings of the breakdown columns, read as the codes gapwatch counts by.

Extracts spell the same thing in several ways: ``LSOA_CODE`` for ``lsoa_code``, sex as
``M``/``F`` rather than the NHS Data Dictionary's person stated gender codes ``1``/``2``,
ethnic category as its label (``White - British``) rather than its code (``A``). Read
as they stand, each would make a breakdown silently 100% unknown. The spellings below are
recognised and read as codes, and the run says how many rows were read so (a warning line);
a column in which no value is recognised stops the run, saying what was found and what is
expected.

>>> label_key("White - British"), label_key("white: british")
('white british', 'white british')
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

import ibis
import pandas as pd

from gapwatch import refdata
from gapwatch.engine.backends import Engine
from gapwatch.engine.notes import InputNote, file_name
from gapwatch.errors import InputError, rows

logger = logging.getLogger("gapwatch.inputs")

#: Sex as written -> the NHS person stated gender code counted (1 male, 2 female).
SEX_SPELLINGS = {"M": "1", "MALE": "1", "F": "2", "FEMALE": "2"}
#: Person stated gender codes: 1 male, 2 female, 9 indeterminate, 0 and X not known.
SEX_CODES = frozenset({"1", "2", "9", "0", "X"})


def warn(engine: Engine, message: str, notes: Sequence[InputNote] = ()) -> None:
    """Say something the run's user should know that does not stop it: one line on the
    run's output (``warning: …``), kept on the engine (``Engine.warnings``), and as
    ``notes``, records published with the run (``Engine.notes``, the ``input_notes`` table)."""
    engine.warnings.append(message)
    engine.notes.extend(notes)
    logger.warning("warning: %s", message)


def note(engine: Engine, source: str, kind: str, text: str, **fields: Any) -> InputNote:
    """A note on input ``source`` (its file named without its folder)."""
    return InputNote(source, file_name(engine.locations.get(source, source)), kind, text, **fields)


def label_key(text: str) -> str:
    """An ethnic category label reduced to lower-case words, so that spellings of one label
    (``White - British``, ``WHITE: BRITISH``) compare equal."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def _ethnic_spellings() -> dict[str, str]:
    categories = refdata.ethnic_categories()
    return {
        label_key(label): code for code, label in zip(categories["code"], categories["label"], strict=True)
    }


def _values(engine: Engine, source: str, column: str) -> pd.DataFrame:
    """Each distinct value of a column (as trimmed text) with its number of rows."""
    table = engine.table(source)
    value = table[column].cast("string").strip()
    return engine.query(engine.compile(table.group_by(_value=value).agg(_rows=table.count())))


def _found(values: pd.DataFrame, limit: int = 3) -> str:
    top = values.dropna(subset=["_value"]).sort_values("_rows", ascending=False).head(limit)
    return ", ".join(
        f"{value!r} {int(number):,}" for value, number in zip(top["_value"], top["_rows"], strict=True)
    )


def rename_columns(engine: Engine, source: str, needed: Iterable[str]) -> None:
    """Read columns whose names differ from a needed one only in case (``LSOA_CODE``) under
    the needed name."""
    table = engine.table(source)
    by_lower = {name.lower(): name for name in table.columns}
    renames = {
        column: by_lower[column.lower()]
        for column in needed
        if column not in table.columns and column.lower() in by_lower
    }
    if renames:
        engine.replace(source, table.rename(renames))
        where = engine.locations.get(source, source)
        shown = ", ".join(f"{old!r} as {new!r}" for new, old in renames.items())
        notes = [
            note(engine, source, "renamed_columns", f"have column {old!r} read as {new!r}", column_name=new)
            for new, old in renames.items()
        ]  # every row; the count is filled in by validate.check_source, which counts them
        warn(engine, f"{where}: read column {shown}", notes)


def normalise_codes(engine: Engine, source: str) -> None:
    """Read sex and ethnic category written in common NHS spellings as codes; stop the run when
    a column holds values but none of them is recognised."""
    where = engine.locations.get(source, source)
    table = engine.table(source)
    if "sex" in table.columns and table.schema()["sex"].is_string():
        values = _values(engine, source, "sex")
        upper = values["_value"].str.upper()
        spelled = upper.isin(list(SEX_SPELLINGS))
        known = upper.isin(list(SEX_CODES)) | spelled
        written = int(values.loc[values["_value"].notna(), "_rows"].sum())
        if written and not known.any():
            raise InputError(
                f"{where}: column 'sex': none of the {rows(written)} holds a sex code "
                f"(found {_found(values)}); "
                "expected 1 (male), 2 (female), 9 or 0 (NHS person stated gender code), or M/F"
            )
        if spelled.any():
            text = table["sex"].cast("string").strip().upper()
            engine.replace(source, table.mutate(sex=text.substitute(SEX_SPELLINGS, else_=text)))
            number = int(values.loc[spelled, "_rows"].sum())
            text = "have sex written M/F (or Male/Female), read as codes 1/2"
            total = int(values["_rows"].sum())
            found = note(engine, source, "spellings_read", text, column_name="sex", rows=number, total=total)
            warn(engine, f"{where}: column 'sex': read {rows(number)} "
                 "written M/F (or Male/Female) as codes 1/2", [found])  # fmt: skip
    table = engine.table(source)
    if "ethnic_category" in table.columns and table.schema()["ethnic_category"].is_string():
        values = _values(engine, source, "ethnic_category")
        codes = set(refdata.ethnic_categories()["code"])
        labels = _ethnic_spellings()
        keys = values["_value"].map(lambda value: label_key(value) if isinstance(value, str) else None)
        coded = values["_value"].str.upper().isin(codes)
        spelled = ~coded & keys.isin(list(labels))
        written = int(values.loc[values["_value"].notna(), "_rows"].sum())
        if written and not (coded | spelled).any():
            raise InputError(
                f"{where}: column 'ethnic_category': none of the {rows(written)} holds an ethnic category "
                f"(found {_found(values)}); expected an NHS code (A to S, Z not stated, 99 not known) "
                "or its label ('White - British')"
            )
        if spelled.any():
            chosen = zip(values["_value"], keys, spelled, strict=True)
            mapping = {value: labels[key] for value, key, hit in chosen if hit}
            text = table["ethnic_category"].cast("string").strip()
            engine.replace(source, table.mutate(ethnic_category=text.substitute(mapping, else_=text)))
            number = int(values.loc[spelled, "_rows"].sum())
            found = note(engine, source, "spellings_read", "have their ethnic category written as a label "
                         "('White - British'), read as its code", column_name="ethnic_category", rows=number,
                         total=int(values["_rows"].sum()))  # fmt: skip
            warn(engine, f"{where}: column 'ethnic_category': read {rows(number)} written as labels "
                 "('White - British') as their codes", [found])  # fmt: skip


def missing_dates(engine: Engine, source: str, codes: Sequence[dt.date]) -> None:
    """Read dates that extracts write for "not known" (``codes``) as missing, in every date
    column, saying how many rows were read so.

    National datasets write an unknown date as a code: HES writes 1800-01-01 (null) and
    1801-01-01 (invalid). Taken as dates, one such row stops the run (before 1900) or, in a
    wait, makes it 225 years long; as missing, completeness counts it.
    """
    table = engine.table(source)
    columns = [name for name, dtype in table.schema().items() if dtype.is_date() or dtype.is_timestamp()]
    if not columns or not codes:
        return
    counts = {
        f"c{index}": table[name].cast("date").isin(list(codes)).sum() for index, name in enumerate(columns)
    }
    answer = engine.query(engine.compile(table.aggregate(_rows=table.count(), **counts))).iloc[0].tolist()
    total, found = int(answer[0] or 0), answer[1:]
    coded = {column: int(number or 0) for column, number in zip(columns, found, strict=True) if number}
    if not coded:
        return
    engine.replace(source, table.mutate(**{
        column: ibis.cases((table[column].cast("date").isin(list(codes)), ibis.null(table[column].type())),
                           else_=table[column])
        for column in coded
    }))  # fmt: skip
    where = engine.locations.get(source, source)
    shown = ", ".join(f"{column!r} {rows(number)}" for column, number in coded.items())
    written = ", ".join(map(str, codes))
    notes = [
        note(engine, source, "missing_date_codes",
             f"have the date in column {column!r} written as a code for 'not known' ({written}), "
             "read as missing",
             column_name=column, rows=number, total=total)
        for column, number in coded.items()
    ]  # fmt: skip
    warn(engine, f"{where}: read dates coded as not known ({written}) as missing: {shown}", notes)
