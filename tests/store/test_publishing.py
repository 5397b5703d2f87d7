"""Publishing survives faults: kills at every stage, readers in use, writers side by side."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from gapwatch.store import MONITOR_COMPLETE, READABLE_TABLES, open_store
from tests.conftest import require_postgres
from tests.store.processes import KILL, run_to_the_end, run_until, small_config


def _location(backend: str, folder: Path) -> str:
    if backend == "duckdb":
        return str(folder / "results.duckdb")
    return f"{require_postgres()}#t_{uuid.uuid4().hex[:8]}"


def _drop(location: str) -> None:
    if location.startswith("postgresql://"):
        store = open_store(location)
        try:
            store._execute(f'DROP SCHEMA IF EXISTS "{location.split("#")[1]}" CASCADE')
        finally:
            store.close()


def _rows_by_run(location: str) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    store = open_store(location, read_only=True)
    try:
        runs = store.runs()
        rows: dict[str, dict[str, int]] = {}
        for table in READABLE_TABLES:
            counts = store.query(f"SELECT run_id, count(*) AS n FROM {store.table(table)} GROUP BY run_id")
            for run_id, n in zip(counts["run_id"], counts["n"], strict=True):
                rows.setdefault(str(run_id), {})[table] = int(n)
        return runs, rows
    finally:
        store.close()


# Moments a run can be killed at: before the store is touched (counting), while its
# tables are written, while its monitor computes and writes, at the instant of
# publishing, and just after it.
MOMENTS = ["count", "publish", "publish:written", "monitor", "monitor:written", "publish:commit", "published"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["duckdb", "postgres"])
def test_a_kill_at_any_stage_leaves_the_store_readable_and_every_run_whole(
    backend: str, synthetic_data: Path, tmp_path: Path
) -> None:
    location = _location(backend, tmp_path)
    config = small_config(tmp_path, synthetic_data, location)
    try:
        status, error = run_to_the_end(["run", str(config)])
        assert status == 0, error
        runs, rows = _rows_by_run(location)
        (good,) = runs["run_id"]
        whole = rows[good]
        # The same data make the same tables: every published run must have all of them
        # (input_notes but for clean inputs, which have nothing to note).
        assert set(whole) == set(READABLE_TABLES) - {"input_notes"}
        for moment in MOMENTS:
            status, error, reached = run_until(["run", str(config)], moment, KILL)
            assert reached, f"never reached {moment}: {error}"
            assert status == -KILL
            runs, rows = _rows_by_run(location)
            assert good in set(runs["run_id"])
            # No orphan rows, and no run without its monitor tables.
            assert set(rows) == set(runs["run_id"]), moment
            for run_id in runs["run_id"]:
                assert rows[run_id] == whole, (moment, run_id)
            assert set(runs["monitor"]) == {MONITOR_COMPLETE}
            expected = 2 if moment == "published" else 1
            assert len(runs) == expected, moment
        if backend == "duckdb":
            # A later writer clears what killed ones left beside the file.
            status, error = run_to_the_end(["run", str(config)])
            assert status == 0, error
            assert sorted(path.name for path in tmp_path.glob(".results.duckdb*")) == []
    finally:
        _drop(location)


_READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from gapwatch.store import open_store
    location, stop, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    seen, errors, reads = set(), [], 0
    held = open_store(location, read_only=True) if mode == "hold" else None
    first = None if held is None else len(held.read("indicator_values"))
    print("ready", flush=True)
    while not stop.exists():
        try:
            if held is not None:
                assert len(held.read("indicator_values")) == first
            else:
                store = open_store(location, read_only=True)
                try:
                    run = store.latest_run()
                    seen.add(run)
                    store.read("indicator_values", run)
                    store.read("alerts", run)
                finally:
                    store.close()
            reads += 1
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
    print(json.dumps({"seen": sorted(map(str, seen)), "errors": errors[:5], "reads": reads}), flush=True)
    """
)


def _values(rows: int) -> dict[str, pd.DataFrame]:
    values = pd.DataFrame({
        "indicator_id": "x", "period_start": pd.Timestamp("2024-04-01").date(),
        "period_end": pd.Timestamp("2024-06-30").date(), "area_type": "icb",
        "area_code": [f"E{i}" for i in range(rows)], "breakdown": "overall", "group": "all",
        "numerator": 10.0, "denominator": 20.0, "value": 50.0,
    })  # fmt: skip
    return {"indicator_values": values}


def test_duckdb_readers_in_other_processes_and_a_writer_never_stop_one_another(tmp_path: Path) -> None:
    location = str(tmp_path / "results.duckdb")
    store = open_store(location)
    store.publish({"run_id": "run-0", "finished_at": pd.Timestamp("2024-07-01")}, _values(20_000))
    store.close()
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", _READER, location, str(stop), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("hold", "poll", "poll", "poll")
    ]
    try:
        for reader in readers:
            assert reader.stdout is not None
            assert reader.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        # Four dashboards' worth of readers have the file open, one all along: publishing
        # (run and monitor together) goes ahead regardless.
        for number in range(1, 4):
            writer = open_store(location)
            try:
                run_id = f"run-{number}"
                with writer.writing():
                    writer.publish({"run_id": run_id, "finished_at": pd.Timestamp(f"2024-0{5 + number}-01")},
                                   _values(20_000))  # fmt: skip
                    alert = pd.DataFrame({"indicator_id": ["x"], "rule": ["cant_see_gap"], "message": ["m"]})
                    writer.replace_monitor(run_id, {"alerts": alert})
            finally:
                writer.close()
            time.sleep(0.3)
    finally:
        stop.touch()
        outcomes = [reader.communicate(timeout=60) for reader in readers]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outcomes]
    for report, (_, error) in zip(reports, outcomes, strict=True):
        assert report["errors"] == [], error
        assert report["reads"] > 0
    # Pollers saw new runs as they were published (and only whole ones: each read its alerts).
    assert any(len(report["seen"]) > 1 for report in reports[1:])
    check = open_store(location, read_only=True)
    try:
        assert sorted(check.runs()["run_id"]) == ["run-0", "run-1", "run-2", "run-3"]
    finally:
        check.close()


def test_a_reader_opened_before_a_publish_keeps_its_snapshot_and_a_new_one_sees_the_run(
    tmp_path: Path,
) -> None:
    location = str(tmp_path / "results.duckdb")
    store = open_store(location)
    store.publish({"run_id": "old", "finished_at": pd.Timestamp("2024-07-01")}, _values(3))
    before = open_store(location, read_only=True)
    try:
        store.publish({"run_id": "new", "finished_at": pd.Timestamp("2024-08-01")}, _values(5))
        # The same process: a fresh reader must not be handed the replaced file.
        after = open_store(location, read_only=True)
        try:
            assert after.latest_run() == "new"
            assert len(after.read("indicator_values")) == 5
        finally:
            after.close()
        assert before.latest_run() == "old"
        assert store.latest_run() == "new"
    finally:
        before.close()
        store.close()


def test_a_store_from_before_the_monitor_column_is_completed_by_the_next_writer(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "results.duckdb"
    connection = duckdb.connect(str(path))
    connection.execute("CREATE TABLE runs (run_id TEXT, status TEXT, finished_at TIMESTAMP)")
    connection.execute("INSERT INTO runs VALUES ('legacy', 'published', '2024-01-01')")
    connection.close()
    reader = open_store(str(path), read_only=True)
    try:
        assert list(reader.runs()["run_id"]) == ["legacy"]
    finally:
        reader.close()
    writer = open_store(str(path))
    try:
        runs = writer.runs()
        assert list(runs["run_id"]) == ["legacy"]
        assert runs["monitor"].isna().all()
        assert writer.schema_complete()
    finally:
        writer.close()


_CREATOR = textwrap.dedent(
    """
    import sys, time
    from gapwatch.store import open_store
    location, start = sys.argv[1], float(sys.argv[2])
    time.sleep(max(0.0, start - time.time()))
    open_store(location).close()
    """
)


@pytest.mark.postgres
def test_processes_creating_a_new_postgres_schema_at_once_all_succeed() -> None:
    location = f"{require_postgres()}#t_{uuid.uuid4().hex[:8]}"
    start = time.time() + 3.0
    creators = [
        subprocess.Popen(
            [sys.executable, "-c", _CREATOR, location, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        outcomes = [(creator.wait(timeout=120), creator.communicate()[1]) for creator in creators]
        for status, error in outcomes:
            assert status == 0, error
    finally:
        _drop(location)


@pytest.mark.postgres
def test_postgres_readers_filter_through_indexes_led_by_the_run() -> None:
    location = f"{require_postgres()}#t_{uuid.uuid4().hex[:8]}"
    store = open_store(location)
    try:
        for number in (1, 2):
            values = _values(30_000)["indicator_values"]
            values["area_code"] = [f"E{i % 300}" for i in range(len(values))]
            values["indicator_id"] = [f"i{i // 300}" for i in range(len(values))]
            store.publish({"run_id": f"run-{number}", "finished_at": pd.Timestamp(f"2024-0{number}-01")},
                          {"indicator_values": values})  # fmt: skip
        store._execute(f"ANALYZE {store.table('indicator_values')}")
        plan = store.query(
            f"EXPLAIN SELECT * FROM {store.table('indicator_values')} WHERE run_id = 'run-2' "
            "AND area_type = 'icb' AND area_code = 'E7' AND breakdown = 'overall'"
        )
        text = "\n".join(plan.iloc[:, 0])
        assert "indicator_values_read_1" in text, text
        assert "Seq Scan" not in text, text
    finally:
        _drop(location)
        store.close()


_PUBLISHER = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from gapwatch.store import open_store
    location, runs = sys.argv[1], int(sys.argv[2])
    values = pd.DataFrame({"indicator_id": "x", "area_type": "icb", "area_code": [f"E{i}" for i in range(50_000)],
                           "breakdown": "overall", "group": "all", "value": 1.0})
    for number in range(1, runs + 1):
        store = open_store(location)
        try:
            with store.writing():
                store.publish({"run_id": f"run-{number}", "finished_at": pd.Timestamp(2024, 1, number)},
                              {"indicator_values": values})
                store.replace_monitor(f"run-{number}", {"alerts": pd.DataFrame({"indicator_id": ["x"]})})
        finally:
            store.close()
    """
)


def test_the_dashboard_answers_every_request_while_runs_publish(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from gapwatch.web.app import create_app

    location = str(tmp_path / "results.duckdb")
    store = open_store(location)
    store.publish({"run_id": "run-0", "finished_at": pd.Timestamp("2023-12-01")}, _values(10))
    store.close()
    client = TestClient(create_app(location))
    publisher = subprocess.Popen(
        [sys.executable, "-c", _PUBLISHER, location, "3"], stderr=subprocess.PIPE, text=True
    )
    statuses: list[int] = []
    seen: set[int] = set()
    while publisher.poll() is None or not statuses:
        response = client.get("/api/runs")
        statuses.append(response.status_code)
        if response.status_code == 200:
            seen.add(len(response.json()))
    _, error = publisher.communicate()
    assert publisher.returncode == 0, error
    assert set(statuses) == {200}, [status for status in statuses if status != 200][:5]
    time.sleep(2.5)  # the dashboard looks for a new run every two seconds (its page cache)
    assert len(client.get("/api/runs").json()) == 4
    assert len(statuses) > 10


def test_a_duckdb_publish_keeps_the_permissions_of_the_store_file(tmp_path: Path) -> None:
    location = tmp_path / "results.duckdb"
    store = open_store(str(location))
    location.chmod(0o640)
    store.publish({"run_id": "run-1", "finished_at": pd.Timestamp("2024-07-01")}, _values(3))
    store.close()
    assert location.stat().st_mode & 0o777 == 0o640
