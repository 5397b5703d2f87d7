"""Jobs (:meth:`Engine.run_jobs`): statements sent to the engine's own thread, in turn."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from gapwatch.engine.backends import Engine, Job, engine_for


@pytest.fixture
def engine() -> Iterator[Engine]:
    with engine_for("duckdb") as opened:
        yield opened


def _asking(name: str, values: list[int]) -> Job[tuple[str, list[int]]]:
    answers = []
    for value in values:
        frame = yield f"SELECT {value} AS answer -- {name}"
        answers.append(int(frame["answer"].iloc[0]))
    return name, answers


def test_every_job_gets_its_own_answers_and_starts_before_any_asks_again(engine: Engine) -> None:
    jobs = [_asking("a", [1, 2, 3]), _asking("b", [10, 20]), _asking("c", [100])]
    ended: list[int] = []

    results = engine.run_jobs(jobs, finished=ended.append)

    assert results == [("a", [1, 2, 3]), ("b", [10, 20]), ("c", [100])]
    assert sorted(ended) == [0, 1, 2]
    # Each job's first statement is sent before any job's second: jobs run side by side,
    # not one after another.
    sent = [statement.rsplit("-- ", 1)[1] for statement in engine.executed]
    assert sent == ["a", "b", "c", "a", "b", "a"]


def test_a_list_of_statements_is_answered_with_a_list_of_frames(engine: Engine) -> None:
    def job() -> Job[list[int]]:
        frames = yield ["SELECT 1 AS answer", "SELECT 2 AS answer"]
        return [int(frame["answer"].iloc[0]) for frame in frames]

    assert engine.run(job()) == [1, 2]


def test_the_engine_counts_the_next_job_while_python_works_on_an_answer(engine: Engine) -> None:
    seen: list[int] = []

    def working() -> Job[None]:
        yield "SELECT 1 AS answer"
        # Still in this job, after its answer: the other job's statement is sent meanwhile.
        deadline = time.monotonic() + 20
        while len(engine.executed) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(len(engine.executed))

    def other() -> Job[None]:
        yield "SELECT 2 AS answer"

    engine.run_jobs([working(), other()])

    assert seen == [2]


def test_a_failing_statement_stops_every_job_and_leaves_the_engine_usable(engine: Engine) -> None:
    closed: list[str] = []

    def job(name: str, statement: str) -> Job[Any]:
        try:
            yield statement
            yield statement
        finally:
            closed.append(name)

    with pytest.raises(duckdb.Error, match="no_such_table"):
        engine.run_jobs([job("good", "SELECT 1 AS answer"), job("bad", "SELECT * FROM no_such_table")])

    assert sorted(closed) == ["bad", "good"]
    assert engine.query("SELECT 3 AS answer")["answer"].iloc[0] == 3
