"""Frames as the engine hands them on: text looked up once per label, periods as dates.

The engine's results run to millions of rows that share a few hundred labels and a few
dozen periods, so text is built from small arrays of labels (in Arrow, or as pandas
categoricals) and each distinct date is converted once.

>>> as_dates(pd.Series(["2024-04-01", "2024-04-01"])).tolist()
[datetime.date(2024, 4, 1), datetime.date(2024, 4, 1)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

#: A column of labels made up in parts: each part's codes into its own labels.
Parts = list[tuple[np.ndarray, np.ndarray]]
#: pandas' default text dtype, which a frame built from Python strings would hold.
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
#: The keys of a cell, in the order the engine's cells are sorted by.
CELL_ORDER = ["indicator_id", "period_start", "area_type", "area_code", "breakdown", "group"]


def labels_of(parts: Parts, categorical: bool) -> pd.Categorical | pd.api.extensions.ExtensionArray:
    """The column ``parts`` make, as pandas text or (``categorical``) a categorical."""
    if not categorical:
        # Looking labels up in Arrow spares pandas turning millions of Python strings into
        # Arrow strings one by one when the frame is built.
        # A negative code (a categorical's missing value) becomes a missing label.
        chunks = [
            pa.array(list(labels), type=pa.large_string()).take(pa.array(codes, mask=codes < 0))
            for codes, labels in parts
        ]
        return pd.array(pa.chunked_array(chunks, type=pa.large_string()).combine_chunks(), dtype=TEXT)
    # One set of categories for all parts, so that millions of rows hold small codes
    # rather than strings (sorted, so that ordering by the column orders by its text).
    everything = np.concatenate([labels for _, labels in parts]).astype(str)
    categories, mapping = np.unique(everything, return_inverse=True)
    codes, offset = [], 0
    for part_codes, labels in parts:
        codes.append(mapping[offset : offset + len(labels)][part_codes])
        offset += len(labels)
    return pd.Categorical.from_codes(np.concatenate(codes), categories=pd.Index(categories))


def constant(value: str, length: int, index: pd.Index) -> pd.Series:
    """A categorical column holding one text value in every row."""
    codes = np.zeros(length, dtype=np.int8)
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index([value])), index=index)


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its categorical columns of text as pandas' own text columns, each
    category's text looked up once (by :func:`labels_of`)."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(
            values.cat.categories.dtype
        ):
            parts = [(values.cat.codes.to_numpy(), values.cat.categories.to_numpy(dtype=object))]
            frame[column] = pd.Series(labels_of(parts, categorical=False), index=frame.index)
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


def period_end(start: pd.Series, period: str) -> pd.Series:
    """The last day of each period that starts on ``start``: a ``month``, ``quarter`` or
    ``financial_year`` (``rolling_12_months`` are counted by quarter, so three months)."""
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
