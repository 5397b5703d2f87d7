"""Generate a synthetic England: people, service records and the truth, chunk by chunk."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gapwatch import refdata
from gapwatch.errors import InputError
from gapwatch.synth import faults, services, truth
from gapwatch.synth.calendar import Window, birth_months
from gapwatch.synth.people import geography, make_people

CHUNK = 250_000
ROW_GROUP = 500_000
PERSON_COLUMNS = [
    "person_id", "gp_practice_code", "lsoa_code", "sex", "date_of_birth", "ethnic_category",
    "learning_disability", "autism", "serious_mental_illness", "homeless", "provider_code",
]  # fmt: skip


@dataclass(frozen=True)
class SynthSummary:
    """What a run wrote: rows per table, the seconds spent on each, and where."""

    out: Path
    rows: dict[str, int]
    seconds: dict[str, float]


class _Writers:
    """One Parquet file per table; chunks become row groups, so output is deterministic."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, name: str, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        # Dates are calendar days: stored as dates, not timestamps.
        for index, field in enumerate(table.schema):
            if pa.types.is_timestamp(field.type):
                table = table.set_column(index, field.name, table.column(index).cast(pa.date32()))
        if name not in self.writers:
            self.writers[name] = pq.ParquetWriter(
                self.out / f"{name}.parquet", table.schema, compression="zstd"
            )
        else:
            table = table.cast(self.writers[name].schema)
        self.writers[name].write_table(table, row_group_size=ROW_GROUP)
        self.rows[name] = self.rows.get(name, 0) + len(frame)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def _one(producer: Callable[[services.Chunk], services.Table], chunk: services.Chunk) -> list[services.Table]:
    return [producer(chunk)]


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
    after each chunk of people.
    """
    out = Path(out)
    chosen = check_arguments(persons, out, icb_codes, overwrite)
    window = Window(start, months)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.parquet"):
        old.unlink()
    geo = geography(chosen)
    chunks = [(first, min(CHUNK, persons - first)) for first in range(0, persons, CHUNK)]
    seeds = np.random.SeedSequence(seed).spawn(len(chunks))
    writers = _Writers(out)
    accumulator = truth.TruthAccumulator(window)
    organisations: list[pd.DataFrame] = []
    seconds: dict[str, float] = {}
    try:
        for number, ((first, count), chunk_seed) in enumerate(zip(chunks, seeds, strict=True)):
            rng = np.random.default_rng(chunk_seed)
            people = faults.record(make_people(geo, count, first + 1, rng), seed, rng)
            birth = birth_months(people.age.to_numpy(), rng)
            chunk = services.Chunk(people, birth, window, seed, rng)
            writers.write("persons", _persons(people, birth, window))
            producers: list[Callable[[], Iterable[services.Table]]] = [
                partial(services.cohort_tables, chunk),
                partial(_one, services.elective_waiting_list, chunk),
                partial(services.autism, chunk),
                partial(_one, services.mental_health_spells, chunk),
                partial(_one, services.cancer_diagnoses, chunk),
            ]
            for producer in producers:
                clock = time.perf_counter()
                for name, frame, truths in producer():
                    writers.write(name, frame)
                    accumulator.add(people, truths)
                    now = time.perf_counter()
                    seconds[name] = seconds.get(name, 0.0) + now - clock
                    clock = now
            organisations.append(_organisations(people, seed))
            if progress:
                progress(number + 1, len(chunks))
    finally:
        writers.close()
    icbs = sorted(geo.lsoa.icb_code.unique())
    about = truth.parameters(seed, persons, icbs, window)
    about["stories"] = truth.stories(icbs, seed)
    about["tables"] = writers.rows
    truth.write(out, accumulator, about, pd.concat(organisations).drop_duplicates().sort_values(
        ["kind", "organisation_code"], ignore_index=True))  # fmt: skip
    return SynthSummary(out, dict(writers.rows), seconds)


def _persons(people: pd.DataFrame, birth: np.ndarray, window: Window) -> pd.DataFrame:
    frame = people.rename(columns={"gp_ethnic_category": "ethnic_category"})
    frame = frame.assign(date_of_birth=window.month_start(-birth))
    return frame[PERSON_COLUMNS]


def _organisations(people: pd.DataFrame, seed: int) -> pd.DataFrame:
    parts = []
    for kind, column in (("gp", "gp_practice_code"), ("trust", "provider_code")):
        codes = np.unique(people[column].to_numpy().astype(str))
        parts.append(pd.DataFrame({
            "kind": kind, "organisation_code": codes,
            "ethnicity_unrecorded_rate": faults.unrecorded_rate(codes, seed),
        }))  # fmt: skip
    return pd.concat(parts, ignore_index=True)
