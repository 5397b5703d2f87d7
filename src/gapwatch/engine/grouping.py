"""Grouping sets: what the engine counts by, and the one SQL statement that counts it.

A run asks for cells by area type and breakdown (a *grouping set* here is one
``(area type, breakdown, columns)``). The engine itself groups only by place and person
codes (:mod:`gapwatch.engine.codes`): every area type and breakdown with the same person
codes shares one *engine set*, and :func:`gapwatch.engine.rollup.roll_up` sums the
engine's small answer into every area and group. Ibis has no ``GROUPING SETS``, so the
statement is written here in the engine's dialect around Ibis's SQL of the rows.

>>> engine_set("icb", "sex")
('place', 'sex')
>>> engine_set("icb", "imd_quintile")
('place',)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import ibis.expr.types as ir

from gapwatch.engine.backends import Engine
from gapwatch.engine.codes import AREA_COLUMNS, CODED, PACKED, PLACE_COLUMNS
from gapwatch.model.breakdowns import breakdown_columns
from gapwatch.model.config import RunConfig

#: One set of cells a run asks for: (area type, breakdown, the columns it groups by).
GroupingSet = tuple[str, str, tuple[str, ...]]


def grouping_sets(areas: Sequence[str], breakdowns: Iterable[str], config: RunConfig) -> list[GroupingSet]:
    """Every (area type, breakdown) of the run that ``config.area_breakdowns`` allows."""
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


def engine_set(area: str, breakdown: str, packed: bool = False, by_group: bool = False) -> tuple[str, ...]:
    """The grouping set the engine counts for one area type and breakdown.

    The engine groups by place and person codes only; areas, deciles, quintiles and
    Core20 follow from the place, and ethnic group from ethnic category, in the roll-up.
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


def engine_sets(sets: Iterable[GroupingSet]) -> dict[tuple[str, str], tuple[str, ...]]:
    """:func:`engine_set` of each (area, breakdown), packing sex and flags when any is asked for.

    Where nothing asks for sex or a flag, counting by place alone is cheaper than by place
    and flags, so the flags are packed only when some breakdown needs them.
    """
    items = [(area, breakdown) for area, breakdown, _ in sets]
    packed = any(
        area != "provider"
        and set(engine_set(area, breakdown)[1:]) & set(PACKED)
        and set(engine_set(area, breakdown)[1:]) <= set(PACKED)
        for area, breakdown in items
    )
    by_group = not any("ethnic_category" in breakdown_columns(breakdown) for _, breakdown in items)
    return {item: engine_set(*item, packed=packed, by_group=by_group) for item in items}


def grouping_columns(sets: Iterable[GroupingSet]) -> list[str]:
    """Every column the engine sets of ``sets`` group by, sorted."""
    return sorted({column for columns in engine_sets(sets).values() for column in columns})


def engine_columns(prepared: ir.Table, sets: Iterable[GroupingSet]) -> dict[str, ir.Value]:
    """The coded grouping columns the engine sets need, by the names the roll-up reads."""
    return {column: prepared[CODED[column]] for column in grouping_columns(sets)}


def grouping_sql(
    engine: Engine, inner: ir.Table, leading: Sequence[str], sets: list[GroupingSet], measures: Sequence[str]
) -> str:
    """One ``GROUP BY GROUPING SETS`` statement: the sum of each of ``measures`` of ``inner``
    by the ``leading`` columns (period, value, …) and each engine set of ``sets``."""
    quote = engine.quote
    chosen = sorted(set(engine_sets(sets).values()))
    columns = sorted({column for columns in chosen for column in columns})
    select = [*map(quote, leading), *map(quote, columns)]
    select += [f"SUM({quote(measure)}) AS {quote(measure)}" for measure in measures]
    groups = ", ".join(
        "(" + ", ".join(quote(column) for column in (*leading, *group)) + ")" for group in chosen
    )
    return (
        f"SELECT {', '.join(select)} FROM ({engine.compile(inner)}) AS prepared "
        f"GROUP BY GROUPING SETS ({groups})"
    )
