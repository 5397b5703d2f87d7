"""Service records for one chunk of people: every table the catalogue reads.

Each function returns the table's rows (as recorded, with faults) and the truth rows
(the generating probability of each row's outcome with the person's true quintile,
ethnic group and ICB), which :mod:`gapwatch.synth.truth` sums up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from gapwatch.synth import faults
from gapwatch.synth.calendar import Window, age_at
from gapwatch.synth.model import OUTCOMES, Outcome, icb_effect, probability

GP_KIND = "gp"
TRUST_KIND = "trust"


@dataclass
class Chunk:
    """One chunk of people with everything the tables need."""

    people: pd.DataFrame
    birth: np.ndarray  # months before the window's first month when each was born
    window: Window
    seed: int
    rng: np.random.Generator


@dataclass
class TruthRows:
    """Probabilities to sum for the truth file, one per generated outcome."""

    indicator_id: str
    period_index: np.ndarray  # month index of the period's end
    rows: np.ndarray  # people positions
    probability: np.ndarray


Table = tuple[str, pd.DataFrame, list[TruthRows]]


def _standard(chunk: Chunk, rows: np.ndarray, month: np.ndarray, kind: str) -> pd.DataFrame:
    people = chunk.people
    period_end = chunk.window.month_end(month)
    organisation = "gp_practice_code" if kind == GP_KIND else "provider_code"
    ethnicity = "gp_ethnic_category" if kind == GP_KIND else "trust_ethnic_category"
    return pd.DataFrame(
        {
            "person_id": people.person_id.to_numpy()[rows],
            organisation: people[organisation].to_numpy()[rows],
            "lsoa_code": people.lsoa_code.to_numpy()[rows],
            "sex": people.sex.to_numpy()[rows],
            "age": age_at(chunk.birth[rows], month).astype(np.int16),
            "ethnic_category": people[ethnicity].to_numpy()[rows],
            "learning_disability": people.learning_disability.to_numpy()[rows],
            "autism": people.autism.to_numpy()[rows],
            "serious_mental_illness": people.serious_mental_illness.to_numpy()[rows],
            "received_date": faults.received_dates(period_end, chunk.rng),
        }
    )


def _draw(
    chunk: Chunk, outcome: Outcome, rows: np.ndarray, month: np.ndarray
) -> tuple[np.ndarray, TruthRows]:
    people = chunk.people
    p = probability(
        outcome,
        people.imd_quintile.to_numpy()[rows],
        people.true_ethnic_group.to_numpy()[rows],
        people.icb_code.to_numpy()[rows],
        chunk.window.progress(month),
        chunk.seed,
    )
    return chunk.rng.random(rows.size) < p, TruthRows(outcome.indicator_id, month, rows, p)


def _snapshots(chunk: Chunk, eligible: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, month) for every person eligible at every quarter-end snapshot."""
    all_rows, all_months = [], []
    for month in chunk.window.quarter_ends():
        ages = age_at(chunk.birth, month)
        rows = np.flatnonzero(eligible(ages))
        all_rows.append(rows)
        all_months.append(np.full(rows.size, month))
    return np.concatenate(all_rows), np.concatenate(all_months)


def _cohort(
    chunk: Chunk,
    table: str,
    eligible: Callable[[np.ndarray], np.ndarray],
    outcomes: dict[str, str],
    extra: Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]] | None = None,
    select: Callable[[pd.DataFrame], dict[str, np.ndarray]] | None = None,
) -> Table:
    rows, month = _snapshots(chunk, eligible)
    frame = _standard(chunk, rows, month, GP_KIND)
    frame.insert(1, "snapshot_date", chunk.window.month_end(month))
    truths = []
    columns = extra(rows, month) if extra else {}
    for name, values in columns.items():
        frame[name] = values
    for column, indicator in outcomes.items():
        mask = select(frame)[indicator] if select else np.ones(len(frame), dtype=bool)
        values, truth = _draw(chunk, OUTCOMES[indicator], rows[mask], month[mask])
        full = np.zeros(len(frame), dtype=bool)
        full[mask] = values
        frame[column] = full
        truths.append(truth)
    return table, frame, truths


def registers(chunk: Chunk) -> dict[str, np.ndarray]:
    """Long-term conditions held on GP registers, drawn once per person."""
    people, rng = chunk.people, chunk.rng
    age = people.age.to_numpy()
    deprivation = (3 - people.imd_quintile.to_numpy()) / 2
    size = age.size
    return {
        # QOF 2023-24 prevalence: hypertension 14.8% of all ages, mostly over 50.
        "hypertension": rng.random(size) < special.expit((age - 62) / 9 + 0.15 * deprivation) * 0.6,
        # COPD 1.9% of all ages, from 35, strongly graded by deprivation.
        "copd": (age >= 35) & (rng.random(size) < special.expit((age - 70) / 10 + 0.5 * deprivation) * 0.12),
        # Adult smoking 11.9% (ONS 2023), 20% in the most deprived tenth.
        "smoker": (age >= 15) & (rng.random(size) < special.expit(-2.0 + 0.45 * deprivation)),
        # About 9% of children and young people have asthma; diabetes 0.25%; epilepsy 0.5%.
        "asthma": (age >= 5) & (age <= 17) & (rng.random(size) < 0.09 * np.exp(0.15 * deprivation)),
        "diabetes": (age <= 17) & (rng.random(size) < 0.0025),
        "epilepsy": (age <= 17) & (rng.random(size) < 0.005 * np.exp(0.1 * deprivation)),
    }


def cohort_tables(chunk: Chunk) -> Iterator[Table]:
    """Quarterly snapshot cohorts held in primary care."""
    people = chunk.people
    female = people.sex.to_numpy() == "2"
    conditions = registers(chunk)

    def cervical_extra(rows: np.ndarray, month: np.ndarray) -> dict[str, np.ndarray]:
        ages = age_at(chunk.birth[rows], month)
        return {"age_group": np.where(ages <= 49, "25-49", "50-64")}

    def cervical_select(frame: pd.DataFrame) -> dict[str, np.ndarray]:
        younger = (frame.age_group == "25-49").to_numpy()
        return {"cervical_screening_25_49": younger, "cervical_screening_50_64": ~younger}

    rows, month = _snapshots(chunk, lambda ages: female & (ages >= 25) & (ages <= 64))
    frame = _standard(chunk, rows, month, GP_KIND)
    frame.insert(1, "snapshot_date", chunk.window.month_end(month))
    frame["age_group"] = cervical_extra(rows, month)["age_group"]
    screened = np.zeros(len(frame), dtype=bool)
    truths = []
    for indicator, mask in cervical_select(frame).items():
        values, truth = _draw(chunk, OUTCOMES[indicator], rows[mask], month[mask])
        screened[mask] = values
        truths.append(truth)
    frame["screened_within_standard"] = screened
    yield "cervical_screening", frame, truths

    # Children reaching their 2nd or 5th birthday in the quarter (COVER cohorts).
    frames, truths = [], []
    for month in chunk.window.quarter_ends():
        months_old = chunk.birth + month
        for years, name in ((2, "age_2"), (5, "age_5")):
            rows = np.flatnonzero((months_old >= 12 * years) & (months_old < 12 * years + 3))
            month_array = np.full(rows.size, month)
            part = _standard(chunk, rows, month_array, GP_KIND)
            part.insert(1, "snapshot_date", chunk.window.month_end(month_array))
            part["cohort"] = name
            first, truth_first = _draw(chunk, OUTCOMES["mmr1_age_2"], rows, month_array)
            second, truth_second = _draw(chunk, OUTCOMES["mmr2_age_5"], rows, month_array)
            part["mmr1"] = first
            # The second dose is due by five; at two it is not yet counted.
            part["mmr2"] = second if years == 5 else np.zeros(rows.size, dtype=bool)
            frames.append(part)
            truths.append(truth_first if years == 2 else truth_second)
    yield "childhood_immunisation", pd.concat(frames, ignore_index=True), truths

    register_tables = [
        ("ld_health_checks", lambda ages: people.learning_disability.to_numpy() & (ages >= 14),
         {"health_check_12m": "ld_health_checks"}),
        ("smi_health_checks", lambda ages: people.serious_mental_illness.to_numpy() & (ages >= 18),
         {"all_six_checks_12m": "smi_health_checks"}),
        ("hypertension_register", lambda ages: conditions["hypertension"] & (ages >= 18),
         {"bp_to_target": "hypertension_treated_to_target"}),
        ("copd_register", lambda ages: conditions["copd"], {"flu_vaccinated": "copd_flu_vaccination"}),
        ("smoking_status", lambda ages: conditions["smoker"] & (ages >= 15),
         {"cessation_referral": "smoking_cessation_referral"}),
        ("cyp_asthma", lambda ages: conditions["asthma"] & (ages <= 17),
         {"reliever_overuse": "cyp_asthma_reliever_overuse"}),
        ("cyp_diabetes", lambda ages: conditions["diabetes"] & (ages <= 17),
         {"hba1c_checks_complete": "cyp_diabetes_hba1c_checks"}),
        ("cyp_epilepsy", lambda ages: conditions["epilepsy"] & (ages <= 17),
         {"specialist_nurse_access": "cyp_epilepsy_specialist_nurse"}),
        ("cyp_oral_health", lambda ages: ages <= 9,
         {"tooth_extraction_12m": "cyp_tooth_extractions_under_10"}),
        ("cyp_mental_health", lambda ages: ages <= 17, {"mh_contact_12m": "cyp_mental_health_access"}),
    ]  # fmt: skip
    for table, eligible, outcomes in register_tables:
        yield _cohort(chunk, table, eligible, outcomes)


def elective_waiting_list(chunk: Chunk) -> Table:
    """Monthly snapshots of open referral-to-treatment pathways (about 13% of people).

    NHS England RTT statistics 2024: 7.6 million pathways for 57 million people; median
    wait about 14 weeks, with longer waits in deprived areas. Each snapshot is drawn
    afresh (pathways are not followed from month to month).
    """
    people, rng = chunk.people, chunk.rng
    deprivation = (3 - people.imd_quintile.to_numpy()) / 2
    age = people.age.to_numpy()
    on_list = np.clip(0.05 + 0.0025 * age, 0.02, 0.30)
    rows_list, months = [], []
    for month_index in range(chunk.window.months):
        rows = np.flatnonzero(rng.random(len(people)) < on_list)
        rows_list.append(rows)
        months.append(np.full(rows.size, month_index))
    rows, month = np.concatenate(rows_list), np.concatenate(months)
    frame = _standard(chunk, rows, month, TRUST_KIND)
    snapshot = chunk.window.month_end(month)
    waiting = Outcome("elective_over_18_weeks", 0.4, 0.0, icb_spread=0.1)
    mean_weeks = 19.0 * np.exp(
        0.12 * deprivation[rows] + icb_effect(waiting, people.icb_code.to_numpy()[rows], chunk.seed)
    )
    weeks = np.floor(rng.exponential(mean_weeks)).astype(np.int32)
    frame.insert(1, "snapshot_date", snapshot)
    frame["treatment_function_code"] = rng.choice(
        ["100", "101", "110", "120", "130", "300", "330", "502"], rows.size
    )
    frame["rtt_clock_start_date"] = snapshot - (weeks * 7).astype("timedelta64[D]")
    frame["weeks_waited"] = weeks
    # Truth at quarter ends, the snapshots the catalogue reports.
    quarter_end = month % 3 == 2
    truths = [TruthRows("elective_over_18_weeks", month[quarter_end], rows[quarter_end],
                        np.exp(-18.0 / mean_weeks[quarter_end]))]  # fmt: skip
    return "elective_waiting_list", frame, truths


def autism(chunk: Chunk) -> Iterator[Table]:
    """Referrals for autism assessment, and the monthly waiting list they make.

    NHS England autism statistics 2024: about 200,000 open referrals, most waiting more
    than 13 weeks; waits modelled as log-normal with median 30 weeks, longer in deprived
    areas, and referral rates rising through the window (a growing backlog).
    """
    people, rng, window = chunk.people, chunk.rng, chunk.window
    deprivation = (3 - people.imd_quintile.to_numpy()) / 2
    age = people.age.to_numpy()
    monthly = np.where((age >= 3) & (age <= 17), 0.0012, 0.0002)
    rows_list, months = [], []
    for month_index in range(window.months):
        growth = 1 + 0.5 * window.progress(month_index)
        rows = np.flatnonzero(rng.random(len(people)) < monthly * growth)
        rows_list.append(rows)
        months.append(np.full(rows.size, month_index))
    rows, month = np.concatenate(rows_list), np.concatenate(months)
    referral = window.month_start(month) + rng.integers(0, 28, rows.size).astype("timedelta64[D]")
    reference = Outcome("autism_assessed_within_13_weeks", 0.3, 0.0, icb_spread=0.15)
    mu = (
        np.log(30.0)
        + 0.15 * deprivation[rows]
        + icb_effect(reference, people.icb_code.to_numpy()[rows], chunk.seed)
    )
    wait_weeks = np.exp(mu + 0.8 * rng.standard_normal(rows.size))
    assessment = referral + np.round(wait_weeks * 7).astype("timedelta64[D]")
    end = window.month_end(window.months - 1)
    assessed = assessment <= end
    frame = _standard(chunk, rows, month, TRUST_KIND)
    frame.insert(1, "referral_date", referral)
    frame["assessment_date"] = np.where(assessed, assessment, np.datetime64("NaT"))
    frame = faults.duplicate(frame, rng)
    # Truth: assessed within 13 weeks, attributed to the month the assessment happened.
    assessment_month = ((assessment.astype("datetime64[M]") - np.datetime64(str(window.first), "M"))
                        .astype(np.int64))  # fmt: skip
    within = stats.norm.cdf((np.log(13.0) - mu) / 0.8)
    truths = [
        TruthRows(
            "autism_assessed_within_13_weeks", assessment_month[assessed], rows[assessed], within[assessed]
        )
    ]
    yield "autism_referrals", frame, truths

    # The waiting list at each month end: referred on or before it and not yet assessed.
    snapshots = []
    for snapshot_month in range(window.months):
        snapshot = window.month_end(snapshot_month)
        waiting = (referral <= snapshot) & (assessment > snapshot)
        index = np.flatnonzero(waiting)
        part = _standard(chunk, rows[index], np.full(index.size, snapshot_month), TRUST_KIND)
        part.insert(1, "snapshot_date", np.full(index.size, snapshot))
        part["referral_date"] = referral[index]
        part["weeks_waited"] = ((snapshot - referral[index]).astype(np.int64) // 7).astype(np.int32)
        snapshots.append(part)
    yield "autism_waiting_list", pd.concat(snapshots, ignore_index=True), []


def _monthly_events(
    rng: np.random.Generator, monthly: np.ndarray, months: int
) -> tuple[np.ndarray, np.ndarray]:
    """People with an event in each month (probability ``monthly`` each), and the month index."""
    rows_list, month_list = [], []
    for month_index in range(months):
        rows = np.flatnonzero(rng.random(monthly.size) < monthly)
        rows_list.append(rows)
        month_list.append(np.full(rows.size, month_index))
    return np.concatenate(rows_list), np.concatenate(month_list)


def mental_health_spells(chunk: Chunk) -> Table:
    """Mental-health inpatient spells with clinically-ready-for-discharge dates.

    Admissions mostly of people with serious mental illness; length of stay log-normal
    (median 30 days); about 15% of discharges delayed (NHS England discharge delay
    collection 2024), more for deprived and homeless people; 8% placed out of area, 85%
    of those inappropriately.
    """
    people, rng, window = chunk.people, chunk.rng, chunk.window
    monthly = np.where(people.serious_mental_illness.to_numpy(), 0.004, 0.00006)
    rows, month = _monthly_events(rng, monthly, window.months)
    admission = window.month_start(month) + rng.integers(0, 28, rows.size).astype("timedelta64[D]")
    ready = admission + np.maximum(
        1, np.round(np.exp(np.log(30) + 0.7 * rng.standard_normal(rows.size)))
    ).astype("timedelta64[D]")
    extra = 0.8 * people.homeless.to_numpy()[rows]
    ready_month = (ready.astype("datetime64[M]") - np.datetime64(str(window.first), "M")).astype(np.int64)
    delayed_probability = probability(
        OUTCOMES["mh_spells_delayed"],
        people.imd_quintile.to_numpy()[rows],
        people.true_ethnic_group.to_numpy()[rows],
        people.icb_code.to_numpy()[rows],
        window.progress(np.clip(ready_month, 0, window.months - 1)),
        chunk.seed,
        extra,
    )
    delayed = rng.random(rows.size) < delayed_probability
    delay_days = np.where(delayed, rng.geometric(1 / 20, rows.size), 0)
    discharge = ready + delay_days.astype("timedelta64[D]")
    end = window.month_end(window.months - 1)
    discharged = discharge <= end
    frame = _standard(chunk, rows, month, TRUST_KIND)
    frame.insert(1, "admission_date", admission)
    frame["clinically_ready_for_discharge_date"] = np.where(ready <= end, ready, np.datetime64("NaT"))
    frame["discharge_date"] = np.where(discharged, discharge, np.datetime64("NaT"))
    frame["delayed_days"] = np.where(discharged, delay_days, 0).astype(np.int32)
    frame["occupied_bed_days"] = np.where(discharged, (discharge - admission).astype(np.int64), 0).astype(
        np.int32
    )
    out_of_area = rng.random(rows.size) < 0.08
    frame["out_of_area"] = out_of_area
    frame["inappropriate_out_of_area"] = out_of_area & (rng.random(rows.size) < 0.85)
    frame = faults.duplicate(frame, rng)
    discharge_month = (discharge.astype("datetime64[M]") - np.datetime64(str(window.first), "M")).astype(
        np.int64
    )
    truths = [TruthRows("mh_spells_delayed", discharge_month[discharged], rows[discharged],
                        delayed_probability[discharged])]  # fmt: skip
    return "mh_inpatient_spells", frame, truths


def cancer_diagnoses(chunk: Chunk) -> Table:
    """New cancer diagnoses with stage (about 6 per 1,000 people a year, rising with age).

    Stage 1-2 ("early") for about 58% of staged cancers (NDRS 2021), less in deprived
    areas; 8% have no recorded stage (``X``).
    """
    people, rng, window = chunk.people, chunk.rng, chunk.window
    age = people.age.to_numpy()
    monthly = 0.0005 * np.exp((age - 65) / 15) / (1 + np.exp((age - 65) / 15)) * 2
    rows, month = _monthly_events(rng, monthly, window.months)
    early, truth = _draw(chunk, OUTCOMES["cancer_early_stage"], rows, month)
    unknown = rng.random(rows.size) < 0.08
    stage = np.where(early, rng.choice(["1", "2"], rows.size), rng.choice(["3", "4"], rows.size))
    frame = _standard(chunk, rows, month, TRUST_KIND)
    frame.insert(
        1,
        "diagnosis_date",
        window.month_start(month) + rng.integers(0, 28, rows.size).astype("timedelta64[D]"),
    )
    frame["cancer_site"] = rng.choice(["breast", "prostate", "lung", "colorectal", "other"], rows.size)
    frame["stage_at_diagnosis"] = np.where(unknown, "X", stage)
    truth.rows, truth.period_index, truth.probability = (
        rows[~unknown],
        month[~unknown],
        truth.probability[~unknown],
    )
    return "cancer_diagnoses", frame, [truth]
