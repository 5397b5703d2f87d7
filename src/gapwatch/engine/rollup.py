"""The roll-up: the engine's counts by place and person codes summed into every cell.

The engine's answer to a grouping-sets statement (:mod:`gapwatch.engine.grouping`) is
small (places × codes × periods), so summing it here with integer keys costs little, and
it spares the engine one hash table per area type: each area, IMD decile, quintile and
Core20 follows from the place (:class:`gapwatch.engine.codes.Places`), ethnic group from
ethnic category, sex and flags from the packed ``flags`` code. Labels are looked up only
at the end (:mod:`gapwatch.engine.frames`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gapwatch.engine.codes import (
    AREA_COLUMNS,
    ENGLAND,
    PACKED,
    PLACE_COLUMNS,
    code_labels,
    ethnic_group_of_category,
    places,
)
from gapwatch.engine.frames import Parts, labels_of
from gapwatch.engine.grouping import GroupingSet, engine_sets, grouping_columns
from gapwatch.model.breakdowns import OVERALL_GROUP, breakdown_columns
from gapwatch.refdata.ethnicity import DEFAULT_GROUPING


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


@dataclass
class Coded:
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


def code_rows(raw: pd.DataFrame, leading: Sequence[str], grouping_columns: list[str]) -> Coded:
    """:class:`Coded` of an engine result ``raw`` grouped by ``leading`` and ``grouping_columns``."""
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
    return Coded(list(leading), grouping_columns, masks, lead_arrays, coded, unpacked, organisations)


def roll_up(
    raw: pd.DataFrame,
    leading: Sequence[str],
    sets: list[GroupingSet],
    measures: Sequence[str],
    vintage: int,
    categorical: bool = False,
    all_sets: Sequence[GroupingSet] | None = None,
    coded_rows: Coded | None = None,
    grouping: str = DEFAULT_GROUPING,
) -> pd.DataFrame:
    """Sum the engine's counts by place and person codes into every area and group, labelled.

    The engine's result is small (places × codes × periods), so summing it here with
    integer keys costs little, and it spares the engine one hash table per area type.
    With ``categorical``, the text columns (area, breakdown, group) are pandas categoricals.
    ``all_sets`` are the sets the engine's query counted, when ``sets`` are only some of them;
    ``coded_rows``, :func:`code_rows` of ``raw`` when another roll-up of it has worked it out;
    ``grouping``, the run's ``ethnic_grouping``, where ethnic groups are summed from categories.
    """
    known = places(vintage)
    labels = code_labels()
    chosen = engine_sets([*sets, *(all_sets or [])])
    columns = grouping_columns([*sets, *(all_sets or [])])
    text_columns = ["area_type", "area_code", "breakdown", "group"]
    columns_out = [*leading, *text_columns, *measures]
    if raw.empty:
        return pd.DataFrame(columns=columns_out)
    if coded_rows is None:
        coded_rows = code_rows(raw, leading, columns)
    if (coded_rows.leading, coded_rows.grouping_columns) != (list(leading), columns):
        raise ValueError("coded_rows were worked out for other leading columns or grouping sets")
    masks, lead, coded, unpacked = coded_rows.masks, coded_rows.lead, coded_rows.coded, coded_rows.unpacked
    organisations = coded_rows.organisations
    # One array per measure: a column of a two-dimensional array is strided, and gathering
    # from it was slower than from its own array.
    amounts = [pd.to_numeric(raw[measure]).to_numpy(dtype="float64", na_value=0.0) for measure in measures]
    # Every output column is gathered as parts of codes into small label arrays, and labels
    # are only looked up at the end: building strings row by row cost more than the sums.
    parts: dict[str, Parts] = {column: [] for column in [*leading, *text_columns]}
    sums: dict[str, list[np.ndarray]] = {measure: [] for measure in measures}
    rows_of, gathered = coded_rows.rows_of, coded_rows.gathered
    for area, breakdown, _ in sets:
        engine_set = chosen[(area, breakdown)]
        person_codes = unpacked if "flags" in engine_set else coded
        if engine_set not in rows_of:
            mask = sum(1 << columns.index(column) for column in engine_set)
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
            keys.append((known.codes[area_column][place], known.labels[area_column]))
        for column in breakdown_columns(breakdown):
            if column in PLACE_COLUMNS and place is not None:
                keys.append((known.codes[column][place], known.labels[column]))
            elif column == "ethnic_group" and "ethnic_group" in engine_set:
                keys.append((take("ethnic_group", coded["ethnic_group"]), labels["ethnic_group"]))
            elif column == "ethnic_group":
                category = take("ethnic_category", coded["ethnic_category"])
                keys.append((ethnic_group_of_category(grouping)[category], labels["ethnic_group"]))
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
    out.update({column: labels_of(parts[column], categorical) for column in text_columns})
    out.update({measure: np.concatenate(sums[measure]) for measure in measures})
    return pd.DataFrame(out)
