"""The same catalogue on the same synthetic data gives identical results on DuckDB, PostgreSQL and PySpark."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from gapwatch.engine.backends import engine_for
from gapwatch.model.catalogue import load_catalogue
from gapwatch.model.config import load_config
from gapwatch.pipeline import run
from gapwatch.store import open_store
from tests.conftest import require_postgres, require_spark, write_config

KEYS = ["indicator_id", "period_start", "area_type", "area_code", "breakdown", "group"]
AREAS = ["england", "region", "icb", "sub_icb", "provider"]


def _values(store_location: str) -> pd.DataFrame:
    store = open_store(store_location)
    try:
        values = store.read("indicator_values").drop(columns=["run_id"])
    finally:
        store.close()
    values["period_start"] = pd.to_datetime(values["period_start"]).dt.date
    return values.sort_values(KEYS, ignore_index=True)


@pytest.fixture(scope="module")
def duckdb_values(synthetic_data: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("parity-duckdb")
    run(load_config(write_config(folder, synthetic_data, areas=AREAS)))
    return _values(str(folder / "results.duckdb"))


def _assert_same(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    assert len(got) == len(expected)
    pd.testing.assert_frame_equal(got[KEYS], expected[KEYS])
    for column in ("numerator", "denominator", "suppressed"):
        assert got[column].equals(expected[column]), column
    for column in ("value", "lower", "upper"):
        assert np.allclose(got[column], expected[column], rtol=1e-12, atol=0, equal_nan=True), column
    assert got["comparison"].equals(expected["comparison"])


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_engine_and_store_match_duckdb(
    duckdb_values: pd.DataFrame, synthetic_data: Path, tmp_path: Path
) -> None:
    url = require_postgres()
    schema = f"gapwatch_parity_{uuid.uuid4().hex[:8]}"
    catalogue = load_catalogue()
    tables = sorted({indicator.source for indicator in catalogue} | {"persons"})
    with engine_for("postgres", url) as engine:
        engine.connection.raw_sql(f'CREATE SCHEMA "{schema}"').close()
        try:
            for table in tables:
                engine.connection.create_table(table, pq.read_table(synthetic_data / f"{table}.parquet"),
                                               database=schema)  # fmt: skip
            store = f"{url}#{schema}"
            config = write_config(tmp_path, synthetic_data, areas=AREAS, database=url, backend="postgres",
                                  tables={table: f"{schema}.{table}" for table in tables}, store=store)  # fmt: skip
            run(load_config(config))
            _assert_same(duckdb_values, _values(store))
        finally:
            engine.connection.raw_sql(f'DROP SCHEMA "{schema}" CASCADE').close()


@pytest.mark.spark
@pytest.mark.slow
def test_pyspark_engine_matches_duckdb(
    duckdb_values: pd.DataFrame, synthetic_data: Path, tmp_path: Path
) -> None:
    require_spark()
    config = write_config(tmp_path, synthetic_data, areas=AREAS, backend="pyspark")
    run(load_config(config))
    _assert_same(duckdb_values, _values(str(tmp_path / "results.duckdb")))
