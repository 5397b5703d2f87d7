"""Service records for one chunk of people: every table the catalogue reads.

Each producer yields the table's rows (as recorded, with faults) and the truth rows (the
generating probability of each row's outcome with the person's true quintile, ethnic
group and ICB), which :mod:`gapwatch.synth.truth` sums up. A producer draws only from
its own random stream, so any table can be made by any process, in any order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy import special

from gapwatch.synth import faults
from gapwatch.synth.calendar import Window, age_at
from gapwatch.synth.columns import Column, Table, codes
from gapwatch.synth.model import OUTCOMES, Outcome, cells, icb_effect, log_odds_table
from gapwatch.synth.people import People

GP_KIND = "gp"
TRUST_KIND = "trust"
SEXES = pa.array(["1", "2"])  # Person Stated Gender Code: male, female
AGE_GROUPS = pa.array(["25-49", "50-64"])
COHORTS = pa.array(["age_2", "age_5"])
TREATMENT_FUNCTIONS = pa.array(["100", "101", "110", "120", "130", "300", "330", "502"])
CANCER_SITES = pa.array(["breast", "prostate", "lung", "colorectal", "other"])
STAGES = pa.array(["1", "2", "3", "4", "X"])


@dataclass(frozen=True)
class Setting:
    """What the tables of every chunk share: the window, the seed and the vocabularies.

    ``log_odds`` holds each planted outcome's log-odds by month and cell
    (:func:`gapwatch.synth.model.log_odds_table`), ``probabilities`` the same as
    probabilities.
    """

    window: Window
    seed: int
    icb_codes: list[str]
    lsoa_codes: pa.Array  # as recorded: true codes, then faulty ones (faults.LsoaCodes)
    practice_codes: pa.Array
    trust_codes: pa.Array
    categories: pa.Array  # ethnic categories as recorded (faults.RECORDED_CATEGORIES)
    month_start: np.ndarray  # datetime64[D] per month of the window
    month_end: np.ndarray
    log_odds: dict[str, np.ndarray]
    probabilities: dict[str, np.ndarray]


def make_setting(
    window: Window,
    seed: int,
    icb_codes: list[str],
    lsoa_codes: np.ndarray,
    practice_codes: np.ndarray,
    trust_codes: np.ndarray,
) -> Setting:
    months = np.arange(window.months)
    progress = window.progress(months)
    log_odds = {key: log_odds_table(outcome, icb_codes, progress, seed) for key, outcome in OUTCOMES.items()}
    return Setting(
        window=window,
        seed=seed,
        icb_codes=icb_codes,
        lsoa_codes=pa.array(lsoa_codes, type=pa.string()),
        practice_codes=pa.array(practice_codes, type=pa.string()),
        trust_codes=pa.array(trust_codes, type=pa.string()),
        categories=pa.array(faults.RECORDED_CATEGORIES, type=pa.string()),
        month_start=window.month_start(months),
        month_end=window.month_end(months),
        log_odds=log_odds,
        probabilities={key: special.expit(table) for key, table in log_odds.items()},
    )


@dataclass
class TruthRows:
    """Probabilities to sum for the truth file, one per generated outcome."""

    indicator_id: str
    period_index: np.ndarray  # month index of the period's end
    cell: np.ndarray  # the person's ICB × quintile × ethnic group cell (People.cell)
    probability: np.ndarray


Output = tuple[str, Table, list[TruthRows]]
Producer = Callable[[People, Setting, np.random.Generator], Iterator[Output]]


def _standard(
    people: People, setting: Setting, rows: np.ndarray, month: np.ndarray, kind: str, rng: np.random.Generator
) -> dict[str, Column]:
    if kind == GP_KIND:
        organisation = {"gp_practice_code": codes(people.practice[rows], setting.practice_codes)}
        ethnicity = people.gp_category
    else:
        organisation = {"provider_code": codes(people.trust[rows], setting.trust_codes)}
        ethnicity = people.trust_category
    return {
        "person_id": people.person_id(rows),
        **organisation,
        "lsoa_code": codes(people.lsoa[rows], setting.lsoa_codes),
        "sex": codes(people.female[rows], SEXES),
        "age": age_at(people.birth[rows], month).astype(np.int16),
        "ethnic_category": codes(ethnicity[rows], setting.categories),
        "learning_disability": people.learning_disability[rows],
        "autism": people.autism[rows],
        "serious_mental_illness": people.serious_mental_illness[rows],
        "received_date": faults.received_dates(setting.month_end[month], rng),
    }


def _table(first: tuple[str, Column], standard: dict[str, Column], **own: Column) -> Table:
    """Standard columns with the table's date second and its own columns last."""
    items = list(standard.items())
    return Table(dict([items[0], first, *items[1:], *own.items()]))


def _snapshots(people: People, window: Window, eligible: Callable[[np.ndarray], np.ndarray]
               ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(rows, month) for every person eligible at every quarter-end snapshot."""
    all_rows, all_months = [], []
    for month in window.quarter_ends():
        rows = np.flatnonzero(eligible(age_at(people.birth, month)))
        all_rows.append(rows)
        all_months.append(np.full(rows.size, month, dtype=np.int32))
    return np.concatenate(all_rows), np.concatenate(all_months)


def _monthly_events(
    rng: np.random.Generator, monthly: np.ndarray, months: int
) -> tuple[np.ndarray, np.ndarray]:
    """People with an event in each month (probability ``monthly``), and the month index."""
    rows_list, month_list = [], []
    chance = monthly.astype(np.float32)
    for month_index in range(months):
        # Single-precision draws are twice as fast and fine for probabilities above 1e-6.
        rows = np.flatnonzero(rng.random(monthly.size, dtype=np.float32) < chance)
        rows_list.append(rows)
        month_list.append(np.full(rows.size, month_index, dtype=np.int32))
    return np.concatenate(rows_list), np.concatenate(month_list)


def _rare_events(
    rng: np.random.Generator, monthly: np.ndarray, months: int, growth: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`_monthly_events`, for rare events, drawing about as many numbers as events.

    Candidates are the successes of a Bernoulli process at the highest chance over the
    grid of months × people, reached by geometric steps; each candidate is kept with its
    own chance over the highest, which leaves every cell its own chance.
    """
    factor = np.ones(months) if growth is None else np.asarray(growth, dtype=np.float64)
    top = float(monthly.max(initial=0.0) * factor.max(initial=0.0))
    size = months * monthly.size
    if top <= 0 or size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    expected = size * top
    positions = np.cumsum(rng.geometric(top, int(expected + 10 * np.sqrt(expected) + 100))) - 1
    while positions[-1] < size:
        more = np.cumsum(rng.geometric(top, int(expected / 10 + 100))) + positions[-1]
        positions = np.concatenate([positions, more])
    month, rows = np.divmod(positions[positions < size], monthly.size)
    keep = rng.random(rows.size) < monthly[rows] * factor[month] / top
    return rows[keep], month[keep].astype(np.int32)


def _cohort(
    people: People,
    setting: Setting,
    rng: np.random.Generator,
    table: str,
    eligible: Callable[[np.ndarray], np.ndarray],
    column: str,
    indicator: str,
) -> Output:
    """A quarterly snapshot table with one planted outcome, drawn with its model's probability."""
    rows, month = _snapshots(people, setting.window, eligible)
    cell = people.cell[rows]
    probability = setting.probabilities[indicator][month, cell]
    standard = _standard(people, setting, rows, month, GP_KIND, rng)
    values = rng.random(rows.size) < probability
    frame = _table(("snapshot_date", setting.month_end[month]), standard, **{column: values})
    return table, frame, [TruthRows(indicator, month, cell, probability)]


def persons(people: People, setting: Setting, rng: np.random.Generator) -> Iterator[Output]:
    """The registered population, one row per person."""
    rows = np.arange(len(people))
    first = np.datetime64(str(setting.window.first), "M")
    yield "persons", Table({
        "person_id": people.person_id(rows),
        "gp_practice_code": codes(people.practice, setting.practice_codes),
        "lsoa_code": codes(people.lsoa, setting.lsoa_codes),
        "sex": codes(people.female, SEXES),
        "date_of_birth": (first - people.birth.astype("timedelta64[M]")).astype("datetime64[D]"),
        "ethnic_category": codes(people.gp_category, setting.categories),
        "learning_disability": people.learning_disability,
        "autism": people.autism,
        "serious_mental_illness": people.serious_mental_illness,
        "homeless": people.homeless,
        "provider_code": codes(people.trust, setting.trust_codes),
    }), []  # fmt: skip


def cervical_screening(people: People, setting: Setting, rng: np.random.Generator) -> Iterator[Output]:
    """Women aged 25-64 at each quarter end, screened within the standard interval or not."""
    female = people.female
    rows, month = _snapshots(people, setting.window, lambda ages: female & (ages >= 25) & (ages <= 64))
    cell = people.cell[rows]
    younger = age_at(people.birth[rows], month) <= 49
    probability = np.where(
        younger,
        setting.probabilities["cervical_screening_25_49"][month, cell],
        setting.probabilities["cervical_screening_50_64"][month, cell],
    )
    standard = _standard(people, setting, rows, month, GP_KIND, rng)
    screened = rng.random(rows.size) < probability
    frame = _table(("snapshot_date", setting.month_end[month]), standard,
                   age_group=codes(~younger, AGE_GROUPS), screened_within_standard=screened)  # fmt: skip
    truths = [
        TruthRows(indicator, month[mask], cell[mask], probability[mask])
        for indicator, mask in (("cervical_screening_25_49", younger), ("cervical_screening_50_64", ~younger))
    ]
    yield "cervical_screening", frame, truths


def childhood_immunisation(people: People, setting: Setting, rng: np.random.Generator) -> Iterator[Output]:
    """Children reaching their 2nd or 5th birthday in the quarter (COVER cohorts)."""
    rows_list, month_list, cohort_list = [], [], []
    for month in setting.window.quarter_ends():
        months_old = people.birth + month
        for position, years in enumerate((2, 5)):
            rows = np.flatnonzero((months_old >= 12 * years) & (months_old < 12 * years + 3))
            rows_list.append(rows)
            month_list.append(np.full(rows.size, month, dtype=np.int32))
            cohort_list.append(np.full(rows.size, position, dtype=np.int8))
    rows, month, cohort = np.concatenate(rows_list), np.concatenate(month_list), np.concatenate(cohort_list)
    cell = people.cell[rows]
    first_probability = setting.probabilities["mmr1_age_2"][month, cell]
    second_probability = setting.probabilities["mmr2_age_5"][month, cell]
    standard = _standard(people, setting, rows, month, GP_KIND, rng)
    first = rng.random(rows.size) < first_probability
    second = rng.random(rows.size) < second_probability
    at_five = cohort == 1
    # The second dose is due by five; at two it is not yet counted.
    frame = _table(("snapshot_date", setting.month_end[month]), standard,
                   cohort=codes(cohort, COHORTS), mmr1=first, mmr2=second & at_five)  # fmt: skip
    truths = [
        TruthRows("mmr1_age_2", month[~at_five], cell[~at_five], first_probability[~at_five]),
        TruthRows("mmr2_age_5", month[at_five], cell[at_five], second_probability[at_five]),
    ]
    yield "childhood_immunisation", frame, truths


def _register(
    table: str, condition: Callable[[People], np.ndarray], eligible_ages: Callable[[np.ndarray], np.ndarray],
    column: str, indicator: str,
) -> Producer:  # fmt: skip
    """A quarterly snapshot of a GP register: people with the condition at eligible ages."""

    def produce(people: People, setting: Setting, rng: np.random.Generator) -> Iterator[Output]:
        held = condition(people)
        yield _cohort(people, setting, rng, table, lambda ages: held & eligible_ages(ages), column, indicator)

    produce.__doc__ = f"Quarterly snapshots of {table}."
    return produce


def _everyone(people: People) -> np.ndarray:
    return np.ones(len(people), dtype=bool)


REGISTERS: dict[str, Producer] = {
    "ld_health_checks": _register("ld_health_checks", lambda people: people.learning_disability,
                                  lambda ages: ages >= 14, "health_check_12m", "ld_health_checks"),
    "smi_health_checks": _register("smi_health_checks", lambda people: people.serious_mental_illness,
                                   lambda ages: ages >= 18, "all_six_checks_12m", "smi_health_checks"),
    "hypertension_register": _register("hypertension_register", lambda people: people.hypertension,
                                       lambda ages: ages >= 18, "bp_to_target",
                                       "hypertension_treated_to_target"),
    "copd_register": _register("copd_register", lambda people: people.copd, lambda ages: ages >= 0,
                               "flu_vaccinated", "copd_flu_vaccination"),
    "smoking_status": _register("smoking_status", lambda people: people.smoker, lambda ages: ages >= 15,
                                "cessation_referral", "smoking_cessation_referral"),
    "cyp_asthma": _register("cyp_asthma", lambda people: people.asthma, lambda ages: ages <= 17,
                            "reliever_overuse", "cyp_asthma_reliever_overuse"),
    "cyp_diabetes": _register("cyp_diabetes", lambda people: people.diabetes, lambda ages: ages <= 17,
                              "hba1c_checks_complete", "cyp_diabetes_hba1c_checks"),
    "cyp_epilepsy": _register("cyp_epilepsy", lambda people: people.epilepsy, lambda ages: ages <= 17,
                              "specialist_nurse_access", "cyp_epilepsy_specialist_nurse"),
    "cyp_oral_health": _register("cyp_oral_health", _everyone, lambda ages: ages <= 9,
                                 "tooth_extraction_12m", "cyp_tooth_extractions_under_10"),
    "cyp_mental_health": _register("cyp_mental_health", _everyone, lambda ages: ages <= 17,
                                   "mh_contact_12m", "cyp_mental_health_access"),
}  # fmt: skip


def _per_cell(outcome: Outcome, setting: Setting, deprivation_effect: float, base: float) -> np.ndarray:
    """``base`` + ``deprivation_effect`` × d + the outcome's ICB shift, for every cell."""
    icbs, quintile, _ = cells(setting.icb_codes)
    shift = icb_effect(outcome, icbs, setting.seed)
    result: np.ndarray = base + deprivation_effect * (3 - quintile) / 2 + shift
    return result


def elective_waiting_list(people: People, setting: Setting, rng: np.random.Generator) -> Iterator[Output]:
    """Monthly snapshots of open referral-to-treatment pathways (about 13% of people).

    NHS England RTT statistics 2024: 7.6 million pathways for 57 million people; median
    wait about 14 weeks, with longer waits in deprived areas. Each snapshot is drawn
    afresh (pathways are not followed from month to month).
    """
    on_list = np.clip(0.05 + 0.0025 * people.age, 0.02, 0.30)
    rows, month = _monthly_events(rng, on_list, setting.window.months)
    waiting = Outcome("elective_over_18_weeks", 0.4, 0.0, icb_spread=0.1)
    cell_mean_weeks = 19.0 * np.exp(_per_cell(waiting, setting, 0.12, 0.0))
    cell = people.cell[rows]
    mean_weeks = cell_mean_weeks[cell]
    standard = _standard(people, setting, rows, month, TRUST_KIND, rng)
    weeks = np.floor(rng.standard_exponential(rows.size) * mean_weeks).astype(np.int32)
    snapshot = setting.month_end[month]
    frame = _table(
        ("snapshot_date", snapshot), standard,
        treatment_function_code=codes(rng.integers(0, len(TREATMENT_FUNCTIONS), rows.size),
                                      TREATMENT_FUNCTIONS),
        rtt_clock_start_date=snapshot - (weeks * 7).astype("timedelta64[D]"),
        weeks_waited=weeks,
    )  # fmt: skip
    # Truth at quarter ends, the snapshots the catalogue reports.
    quarter_end = month % 3 == 2
    truths = [TruthRows("elective_over_18_weeks", month[quarter_end], cell[quarter_end],
                        np.exp(-18.0 / mean_weeks[quarter_end]))]  # fmt: skip
    yield "elective_waiting_list", frame, truths


def _months_since_start(dates: np.ndarray, window: Window) -> np.ndarray:
    first = np.datetime64(str(window.first), "M")
    result: np.ndarray = (dates.astype("datetime64[M]") - first).astype(np.int64)
    return result


def autism(people: People, setting: Setting, rng: np.random.Generator) -> Iterator[Output]:
    """Referrals for autism assessment, and the monthly waiting list they make.

    NHS England autism statistics 2024: about 200,000 open referrals, most waiting more
    than 13 weeks; waits modelled as log-normal with median 30 weeks, longer in deprived
    areas, and referral rates rising through the window (a growing backlog).
    """
    window = setting.window
    monthly = np.where((people.age >= 3) & (people.age <= 17), 0.0012, 0.0002)
    growth = 1 + 0.5 * window.progress(np.arange(window.months))
    rows, month = _rare_events(rng, monthly, window.months, growth)
    referral = setting.month_start[month] + rng.integers(0, 28, rows.size).astype("timedelta64[D]")
    reference = Outcome("autism_assessed_within_13_weeks", 0.3, 0.0, icb_spread=0.15)
    cell = people.cell[rows]
    mu = _per_cell(reference, setting, 0.15, float(np.log(30.0)))[cell]
    wait_weeks = np.exp(mu + 0.8 * rng.standard_normal(rows.size))
    assessment = referral + np.round(wait_weeks * 7).astype("timedelta64[D]")
    end = setting.month_end[-1]
    assessed = assessment <= end
    standard = _standard(people, setting, rows, month, TRUST_KIND, rng)
    frame = _table(("referral_date", referral), standard,
                   assessment_date=np.where(assessed, assessment, np.datetime64("NaT")))  # fmt: skip
    frame = frame.take(faults.duplicated(people.person_id(rows), rng))
    # Truth: assessed within 13 weeks, attributed to the month the assessment happened.
    within = special.ndtr((np.log(13.0) - mu) / 0.8)
    assessment_month = _months_since_start(assessment[assessed], window)
    yield (
        "autism_referrals",
        frame,
        [TruthRows("autism_assessed_within_13_weeks", assessment_month, cell[assessed], within[assessed])],
    )

    # The waiting list at each month end: referred on or before it and not yet assessed.
    waiting_list, snapshot_list = [], []
    for month_index in range(window.months):
        month_end = setting.month_end[month_index]
        waiting = np.flatnonzero((referral <= month_end) & (assessment > month_end))
        waiting_list.append(waiting)
        snapshot_list.append(np.full(waiting.size, month_index, dtype=np.int32))
    index, snapshot_month = np.concatenate(waiting_list), np.concatenate(snapshot_list)
    snapshot = setting.month_end[snapshot_month]
    standard = _standard(people, setting, rows[index], snapshot_month, TRUST_KIND, rng)
    weeks_waited = ((snapshot - referral[index]).astype(np.int64) // 7).astype(np.int32)
    frame = _table(("snapshot_date", snapshot), standard, referral_date=referral[index],
                   weeks_waited=weeks_waited)  # fmt: skip
    yield "autism_waiting_list", frame, []


def mental_health_spells(people: People, setting: Setting, rng: np.random.Generator) -> Iterator[Output]:
    """Mental-health inpatient spells with clinically-ready-for-discharge dates.

    Admissions mostly of people with serious mental illness; length of stay log-normal
    (median 30 days); about 15% of discharges delayed (NHS England discharge delay
    collection 2024), more for deprived and homeless people; 8% placed out of area, 85%
    of those inappropriately.
    """
    window = setting.window
    monthly = np.where(people.serious_mental_illness, 0.004, 0.00006)
    rows, month = _rare_events(rng, monthly, window.months)
    admission = setting.month_start[month] + rng.integers(0, 28, rows.size).astype("timedelta64[D]")
    ready = admission + np.maximum(
        1, np.round(np.exp(np.log(30) + 0.7 * rng.standard_normal(rows.size)))
    ).astype("timedelta64[D]")
    extra = 0.8 * people.homeless[rows]
    ready_month = np.clip(_months_since_start(ready, window), 0, window.months - 1)
    cell = people.cell[rows]
    delayed_probability = special.expit(setting.log_odds["mh_spells_delayed"][ready_month, cell] + extra)
    delayed = rng.random(rows.size) < delayed_probability
    delay_days = np.where(delayed, rng.geometric(1 / 20, rows.size), 0)
    discharge = ready + delay_days.astype("timedelta64[D]")
    end = setting.month_end[-1]
    discharged = discharge <= end
    out_of_area = rng.random(rows.size) < 0.08
    standard = _standard(people, setting, rows, month, TRUST_KIND, rng)
    frame = _table(
        ("admission_date", admission), standard,
        clinically_ready_for_discharge_date=np.where(ready <= end, ready, np.datetime64("NaT")),
        discharge_date=np.where(discharged, discharge, np.datetime64("NaT")),
        delayed_days=np.where(discharged, delay_days, 0).astype(np.int32),
        occupied_bed_days=np.where(discharged, (discharge - admission).astype(np.int64), 0).astype(np.int32),
        out_of_area=out_of_area,
        inappropriate_out_of_area=out_of_area & (rng.random(rows.size) < 0.85),
    )  # fmt: skip
    frame = frame.take(faults.duplicated(people.person_id(rows), rng))
    discharge_month = _months_since_start(discharge[discharged], window)
    yield (
        "mh_inpatient_spells",
        frame,
        [TruthRows("mh_spells_delayed", discharge_month, cell[discharged], delayed_probability[discharged])],
    )


def cancer_diagnoses(people: People, setting: Setting, rng: np.random.Generator) -> Iterator[Output]:
    """New cancer diagnoses with stage (about 6 per 1,000 people a year, rising with age).

    Stage 1-2 ("early") for about 58% of staged cancers (NDRS 2021), less in deprived
    areas; 8% have no recorded stage (``X``).
    """
    window = setting.window
    age = people.age
    monthly = 0.0005 * np.exp((age - 65) / 15) / (1 + np.exp((age - 65) / 15)) * 2
    rows, month = _rare_events(rng, monthly, window.months)
    cell = people.cell[rows]
    probability = setting.probabilities["cancer_early_stage"][month, cell]
    early = rng.random(rows.size) < probability
    unknown = rng.random(rows.size) < 0.08
    # Stages 1 to 4 are positions 0 to 3 of STAGES, X is position 4.
    stage = np.where(early, 0, 2) + rng.integers(0, 2, rows.size)
    standard = _standard(people, setting, rows, month, TRUST_KIND, rng)
    diagnosis = setting.month_start[month] + rng.integers(0, 28, rows.size).astype("timedelta64[D]")
    frame = _table(
        ("diagnosis_date", diagnosis), standard,
        cancer_site=codes(rng.integers(0, len(CANCER_SITES), rows.size), CANCER_SITES),
        stage_at_diagnosis=codes(np.where(unknown, 4, stage), STAGES),
    )  # fmt: skip
    staged = ~unknown
    yield (
        "cancer_diagnoses",
        frame,
        [TruthRows("cancer_early_stage", month[staged], cell[staged], probability[staged])],
    )


#: Every producer by name; the tables each writes are named in TABLES.
PRODUCERS: dict[str, Producer] = {
    "persons": persons,
    "cervical_screening": cervical_screening,
    "childhood_immunisation": childhood_immunisation,
    **REGISTERS,
    "elective_waiting_list": elective_waiting_list,
    "autism": autism,
    "mh_inpatient_spells": mental_health_spells,
    "cancer_diagnoses": cancer_diagnoses,
}
