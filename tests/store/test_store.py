"""The results store publishes each run atomically and shows readers only published runs."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest

from gapwatch.errors import StoreError
from gapwatch.store import SCHEMA, DuckDBStore, open_store
from tests.conftest import require_postgres


def _tables(rows: int) -> dict[str, pd.DataFrame]:
    values = pd.DataFrame({
        "indicator_id": "x", "period_start": pd.Timestamp("2024-04-01").date(),
        "period_end": pd.Timestamp("2024-06-30").date(), "area_type": "icb", "area_code": [f"E{i}" for i in range(rows)],
        "breakdown": "overall", "group": "all", "numerator": 10.0, "denominator": 20.0, "value": 50.0,
        "lower": float("nan"), "upper": 60.0, "comparison": "similar", "comparison_best": "not compared",
        "suppressed": False, "note": "",
    })  # fmt: skip
    return {"indicator_values": values}


@pytest.mark.parametrize("backend", ["duckdb", "postgres"])
def test_publish_then_read_round_trips_and_missing_values_are_null(backend: str, tmp_path: Path) -> None:
    location = (
        str(tmp_path / "r.duckdb")
        if backend == "duckdb"
        else f"{require_postgres()}#t_{uuid.uuid4().hex[:8]}"
    )
    store = open_store(location)
    try:
        store.publish({"run_id": "run-1", "finished_at": pd.Timestamp("2024-07-01")}, _tables(3))
        values = store.read("indicator_values")
        assert len(values) == 3
        assert values["lower"].isna().all()
        assert (values["value"] == 50).all()
        assert store.latest_run() == "run-1"
        with pytest.raises(StoreError, match="not a published run"):
            store.read("indicator_values", "run-2")
        with pytest.raises(StoreError, match="no result table 'secrets'"):
            store.read("secrets")
    finally:
        if backend == "postgres":
            store._execute(f'DROP SCHEMA "{location.split("#")[1]}" CASCADE')
        store.close()


class _FailingStore(DuckDBStore):
    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        super()._insert(table, frame)
        if table == "indicator_values":
            raise OSError("disk full")


def test_a_failed_publish_leaves_the_last_good_run_intact(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "r.duckdb"))
    store.publish({"run_id": "good", "finished_at": pd.Timestamp("2024-07-01")}, _tables(2))
    store.close()
    failing = _FailingStore(tmp_path / "r.duckdb")
    with pytest.raises(StoreError, match="publishing run bad failed, nothing was published: disk full"):
        failing.publish({"run_id": "bad", "finished_at": pd.Timestamp("2024-08-01")}, _tables(5))
    failing.close()
    store = open_store(str(tmp_path / "r.duckdb"))
    try:
        assert list(store.runs()["run_id"]) == ["good"]
        everything = store.query("SELECT run_id, count(*) AS n FROM indicator_values GROUP BY run_id")
        assert everything.to_dict("records") == [{"run_id": "good", "n": 2}]
    finally:
        store.close()


def test_schema_document_lists_every_column() -> None:
    document = (Path(__file__).parents[2] / "docs" / "results-schema.md").read_text()
    for table, columns in SCHEMA.items():
        assert f"## `{table}`" in document, table
        for column, _ in columns:
            assert f"| `{column}` |" in document, f"{table}.{column}"


class _FailingMonitorStore(DuckDBStore):
    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        super()._insert(table, frame)
        if table == "spc":
            raise OSError("disk full")


def _alert(message: str) -> pd.DataFrame:
    return pd.DataFrame({"indicator_id": ["x"], "area_type": "icb", "area_code": "E1", "breakdown": "imd_quintile",
                         "rule": "cant_see_gap", "severity": "medium", "message": message, "evidence": "{}"})  # fmt: skip


@pytest.mark.parametrize("backend", ["duckdb", "postgres"])
def test_monitor_tables_are_swapped_whole_for_a_published_run(backend: str, tmp_path: Path) -> None:
    location = (
        str(tmp_path / "r.duckdb")
        if backend == "duckdb"
        else f"{require_postgres()}#t_{uuid.uuid4().hex[:8]}"
    )
    store = open_store(location)
    try:
        store.publish({"run_id": "run-1", "finished_at": pd.Timestamp("2024-07-01")}, _tables(1))
        store.replace_monitor("run-1", {"alerts": _alert("first")})
        store.replace_monitor("run-1", {"alerts": pd.concat([_alert("second"), _alert("third")])})
        assert sorted(store.read("alerts", "run-1")["message"]) == ["second", "third"]
        with pytest.raises(StoreError, match="run run-9 is not a published run"):
            store.replace_monitor("run-9", {"alerts": _alert("x")})
        with pytest.raises(StoreError, match="unknown monitor table"):
            store.replace_monitor("run-1", {"indicator_values": _alert("x")})
    finally:
        if backend == "postgres":
            store._execute(f'DROP SCHEMA "{location.split("#")[1]}" CASCADE')
        store.close()


def test_a_failed_monitor_write_keeps_the_previous_tables(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "r.duckdb"))
    store.publish({"run_id": "run-1", "finished_at": pd.Timestamp("2024-07-01")}, _tables(1))
    store.replace_monitor("run-1", {"alerts": _alert("kept")})
    store.close()
    failing = _FailingMonitorStore(tmp_path / "r.duckdb")
    chart = pd.DataFrame({"indicator_id": ["x"], "series": "value", "value": 1.0})
    with pytest.raises(StoreError, match="the previous ones are kept: disk full"):
        failing.replace_monitor("run-1", {"alerts": _alert("lost"), "spc": chart})
    failing.close()
    store = open_store(str(tmp_path / "r.duckdb"))
    try:
        assert store.read("alerts", "run-1")["message"].tolist() == ["kept"]
        assert store.read("spc", "run-1").empty
    finally:
        store.close()


def test_a_read_only_postgres_store_refuses_writes(tmp_path: Path) -> None:
    location = f"{require_postgres()}#t_{uuid.uuid4().hex[:8]}"
    writer = open_store(location)
    try:
        writer.publish({"run_id": "run-1", "finished_at": pd.Timestamp("2024-07-01")}, _tables(2))
        reader = open_store(location, read_only=True)
        try:
            assert len(reader.read("indicator_values")) == 2
            with pytest.raises(StoreError, match="read-only"):
                reader.publish({"run_id": "run-2", "finished_at": pd.Timestamp("2024-08-01")}, _tables(1))
        finally:
            reader.close()
        assert list(writer.runs()["run_id"]) == ["run-1"]
    finally:
        writer._execute(f'DROP SCHEMA "{location.split("#")[1]}" CASCADE')
        writer.close()
