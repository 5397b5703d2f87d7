"""Generate a synthetic England: people, service records and the truth, chunk by chunk.

Work runs in two steps, each shared out over worker processes. First the people of each
chunk are drawn and kept in a temporary folder; then each producer of tables (persons,
cervical screening, the elective waiting list, …) reads the chunks in order and writes
its own Parquet files. Every chunk has its own random stream per step and producer
(``SeedSequence(seed, spawn_key=(chunk, producer))``), so the files are the same whichever
process made them and however many there were.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd

from gapwatch import refdata
from gapwatch.errors import InputError
from gapwatch.synth import faults, services, truth
from gapwatch.synth.calendar import Window, birth_months
from gapwatch.synth.columns import TableWriter
from gapwatch.synth.people import Geography, People, geography, make_people

CHUNK = 500_000
#: Below this many people, starting worker processes takes longer than it saves.
PARALLEL_FROM = 500_000
PEOPLE_STREAM = "people"
#: Rows each producer writes per person (about), to start the biggest first and so
#: finish together.
PRODUCER_ROWS = {
    "elective_waiting_list": 5.4, "cervical_screening": 3.2, "cyp_mental_health": 2.4,
    "hypertension_register": 1.7, "persons": 1.3, "cyp_oral_health": 1.2, "smoking_status": 1.2,
    "copd_register": 0.24, "cyp_asthma": 0.16, "autism": 0.15, "smi_health_checks": 0.1,
    "childhood_immunisation": 0.06, "ld_health_checks": 0.05,
}  # fmt: skip


@dataclass(frozen=True)
class SynthSummary:
    """What a run wrote: rows per table, the seconds spent on each, and where.

    ``seconds`` is the time the process that made a table spent on it (drawing its rows
    and writing them), so rows / seconds is that table's own rate even when tables were
    made side by side.
    """

    out: Path
    rows: dict[str, int]
    seconds: dict[str, float]


@dataclass(frozen=True)
class _Plan:
    """Everything a worker needs; kept in a file each worker reads once."""

    seed: int
    out: Path
    people_folder: Path
    chunks: list[tuple[int, int]]  # (first person's position, how many people)
    geography: Geography
    lsoa_codes: faults.LsoaCodes
    poor_practice: np.ndarray
    poor_trust: np.ndarray
    setting: services.Setting


@dataclass(frozen=True)
class _Produced:
    rows: dict[str, int]
    seconds: dict[str, float]
    truth: truth.TruthAccumulator


# The plan this process last read, by its file.
_plans: dict[Path, _Plan] = {}


def _plan_in(path: Path) -> _Plan:
    if path not in _plans:
        _plans.clear()
        _plans[path] = pickle.loads(path.read_bytes())
    return _plans[path]


def _ready() -> None:
    """Nothing: a first task that makes a worker start (and import this module) early."""


def _stream(seed: int, chunk: int, name: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(chunk, zlib.crc32(name.encode()))))


def _people_path(plan: _Plan, number: int) -> Path:
    return plan.people_folder / f"people-{number:05d}"


def _draw_people(plan_file: Path, number: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw chunk ``number``'s people and keep them; return the practices and trusts used."""
    plan = _plan_in(plan_file)
    first, count = plan.chunks[number]
    rng = _stream(plan.seed, number, PEOPLE_STREAM)
    attributes = make_people(plan.geography, count, rng)
    birth = birth_months(attributes["age"].astype(np.int32), rng).astype(np.int32)
    recorded = faults.record(
        attributes["true_lsoa"], attributes["true_category"], plan.poor_practice[attributes["practice"]],
        plan.poor_trust[attributes["trust"]], plan.lsoa_codes, rng,
    )  # fmt: skip
    people = People(first_id=first + 1, birth=birth, **attributes, **recorded)
    people.save(_people_path(plan, number))
    geo = plan.geography
    return (
        np.flatnonzero(np.bincount(people.practice, minlength=geo.practice_codes.size)),
        np.flatnonzero(np.bincount(people.trust, minlength=geo.trust_codes.size)),
    )


def _produce(plan_file: Path, name: str) -> _Produced:
    """Run one producer over every chunk in order, writing its tables."""
    plan = _plan_in(plan_file)
    producer = services.PRODUCERS[name]
    writers: dict[str, TableWriter] = {}
    seconds: dict[str, float] = {}
    accumulator = truth.TruthAccumulator(plan.setting.window, plan.setting.icb_codes)
    for number in range(len(plan.chunks)):
        clock = time.perf_counter()
        people = People.load(_people_path(plan, number))
        for table, frame, truths in producer(people, plan.setting, _stream(plan.seed, number, name)):
            if table not in writers:
                writers[table] = TableWriter(plan.out / f"{table}.parquet")
            writers[table].add(frame)
            accumulator.add(truths)
            now = time.perf_counter()
            seconds[table] = seconds.get(table, 0.0) + now - clock
            clock = now
    for table, writer in writers.items():
        clock = time.perf_counter()
        writer.close()
        seconds[table] += time.perf_counter() - clock
    return _Produced({table: writer.rows for table, writer in writers.items()}, seconds, accumulator)


def default_workers(persons: int) -> int:
    """One process per available core for big runs, none besides this one for small ones."""
    if persons < PARALLEL_FROM:
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def check_arguments(
    persons: int, out: Path, icb_codes: list[str] | None, overwrite: bool
) -> list[str] | None:
    if persons < 1:
        raise InputError(f"--persons {persons}: give at least 1 person")
    known = set(refdata.lsoa(2021).icb_code) | set(refdata.lsoa(2021).icb_code_nhs)
    unknown = [code for code in icb_codes or [] if code not in known]
    if unknown:
        raise InputError(
            f"--icb: unknown ICB code(s) {', '.join(unknown)}; "
            "use 2024 ONS codes (E54…) or NHS codes (e.g. QOP)"
        )
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(f"--out {out}: the folder is not empty; pass --overwrite to replace its contents")
    if not icb_codes:
        return None
    lookup = refdata.lsoa(2021).drop_duplicates("icb_code").set_index("icb_code_nhs").icb_code.to_dict()
    return sorted({lookup.get(code, code) for code in icb_codes})


def generate(
    persons: int,
    seed: int,
    out: Path,
    icb_codes: list[str] | None = None,
    start: str = "2023-04",
    months: int = 36,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SynthSummary:
    """Write synthetic patient-level tables, ``truth.parquet`` and ``truth.json`` under ``out``.

    The same arguments give byte-identical files. ``progress(done, total)`` is called
    after each piece of work: each chunk of people drawn, then each producer's tables
    written. Runs of ``PARALLEL_FROM`` people or more use one worker process per
    available core; those are fresh interpreters, so a script calling this needs an
    ``if __name__ == "__main__":`` guard.
    """
    return generate_with_workers(
        persons, seed, out, icb_codes, start, months, overwrite, progress, default_workers(persons)
    )


def generate_with_workers(
    persons: int,
    seed: int,
    out: Path,
    icb_codes: list[str] | None,
    start: str,
    months: int,
    overwrite: bool,
    progress: Callable[[int, int], None] | None,
    workers: int,
) -> SynthSummary:
    """:func:`generate` with ``workers`` processes (1: all in this one); the files do not change."""
    out = Path(out)
    chosen = check_arguments(persons, out, icb_codes, overwrite)
    window = Window(start, months)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gapwatch-synth-")))
        pool: ProcessPoolExecutor | None = None
        if workers > 1:
            # Fresh interpreters ("spawn"), safe whatever threads this process runs; a worker
            # that dies breaks the pool with an error rather than leaving it waiting. They
            # start now, to import while this process reads the reference data.
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            # On an error, producers not yet started are dropped rather than run to the end.
            stack.callback(pool.shutdown, wait=True, cancel_futures=True)
            for _ in range(workers):
                pool.submit(_ready)
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.parquet"):
            old.unlink()
        geo = geography(chosen)
        lsoa_codes = faults.lsoa_codes(geo.lsoa_codes)
        chunks = [(first, min(CHUNK, persons - first)) for first in range(0, persons, CHUNK)]
        plan = _Plan(
            seed=seed, out=out, people_folder=folder / "people", chunks=chunks, geography=geo,
            lsoa_codes=lsoa_codes,
            poor_practice=faults.poor_recorder(geo.practice_codes, seed),
            poor_trust=faults.poor_recorder(geo.trust_codes, seed),
            setting=services.make_setting(window, seed, geo.icb_codes, lsoa_codes.codes, geo.practice_codes,
                                     geo.trust_codes),
        )  # fmt: skip
        plan_file = folder / "plan.pickle"
        plan_file.write_bytes(pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL))
        stack.callback(_plans.clear)
        try:
            result = _run(plan, plan_file, pool, progress)
        except BrokenProcessPool as error:
            raise RuntimeError(
                "a synthetic-data worker process stopped before finishing: out of memory, or a script "
                'that calls generate() without an `if __name__ == "__main__":` guard'
            ) from error
    rows, seconds, accumulator, organisations = result
    about = truth.parameters(seed, persons, geo.icb_codes, window)
    about["stories"] = truth.stories(geo.icb_codes, seed)
    about["tables"] = rows
    truth.write(out, accumulator, about, organisations)
    return SynthSummary(out, rows, seconds)


def _run(
    plan: _Plan,
    plan_file: Path,
    pool: ProcessPoolExecutor | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[dict[str, int], dict[str, float], truth.TruthAccumulator, pd.DataFrame]:
    """Draw the people, then run every producer, in ``pool`` or (without one) here."""
    chunks = range(len(plan.chunks))
    names = sorted(services.PRODUCERS, key=lambda name: (-PRODUCER_ROWS.get(name, 0.0), name))
    total = len(chunks) + len(names)
    done = 0
    practices, trusts = [], []
    rows: dict[str, int] = {}
    seconds: dict[str, float] = {}
    accumulator = truth.TruthAccumulator(plan.setting.window, plan.setting.icb_codes)

    def advance() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    if pool is None:
        drawn: Iterable[tuple[np.ndarray, np.ndarray]] = (
            _draw_people(plan_file, number) for number in chunks
        )
    else:
        drawn = pool.map(_draw_people, repeat(plan_file), chunks)
    for used_practices, used_trusts in drawn:
        practices.append(used_practices)
        trusts.append(used_trusts)
        advance()
    if pool is None:
        produced: Iterable[_Produced] = (_produce(plan_file, name) for name in names)
    else:
        # Submitted biggest first, so the last to finish are small.
        produced = (
            future.result()
            for future in as_completed([pool.submit(_produce, plan_file, name) for name in names])
        )
    for result in produced:
        rows.update(result.rows)
        seconds.update(result.seconds)
        accumulator.merge(result.truth)
        advance()
    organisations = _organisations(
        plan.geography, np.concatenate(practices), np.concatenate(trusts), plan.seed
    )
    return dict(sorted(rows.items())), dict(sorted(seconds.items())), accumulator, organisations


def _organisations(geo: Geography, practices: np.ndarray, trusts: np.ndarray, seed: int) -> pd.DataFrame:
    """Each practice and trust people are registered with, and its planted unrecorded rate."""
    parts = []
    for kind, all_codes, used in (("gp", geo.practice_codes, practices), ("trust", geo.trust_codes, trusts)):
        codes = np.sort(all_codes[np.unique(used)])
        parts.append(pd.DataFrame({
            "kind": kind, "organisation_code": codes,
            "ethnicity_unrecorded_rate": faults.unrecorded_rate(codes, seed),
        }))  # fmt: skip
    return pd.concat(parts, ignore_index=True).sort_values(["kind", "organisation_code"], ignore_index=True)
