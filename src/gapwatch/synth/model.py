"""How likely each outcome is: the planted gradients, area effects and stories.

For every outcome, log-odds = logit(national level) + deprivation effect × d + ethnic
group effect + ICB effect + story, where d runs from +1 (IMD quintile 1, most deprived)
to -1 (quintile 5). National levels are published figures where known (cited beside
each); gradients are chosen to resemble published quintile gaps.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from gapwatch.synth.people import GROUPS, QUINTILES

STORIES = ("average_up_gap_wider", "gap_closing", "none")
#: Log-odds change over the whole window for the quintiles a story moves.
STORY_EFFECT = 1.2
#: Share of the deprivation gradient a ``gap_closing`` story removes over the window.
CLOSING_SHARE = 0.75


@dataclass(frozen=True)
class Outcome:
    """One planted outcome: the indicator it feeds and how its probability is made."""

    indicator_id: str
    level: float
    deprivation: float
    ethnicity: dict[str, float] = field(default_factory=dict)
    higher_is_better: bool = True
    story: bool = False
    icb_spread: float = 0.15


def _stable_normal(seed: int, *names: str) -> float:
    generator = np.random.default_rng([seed, zlib.crc32(":".join(names).encode())])
    return float(generator.standard_normal())


def icb_effect(outcome: Outcome, icb_codes: np.ndarray, seed: int) -> np.ndarray:
    """A fixed log-odds shift per ICB and outcome, the same in every chunk."""
    unique, inverse = np.unique(icb_codes.astype(str), return_inverse=True)
    shifts = np.array([_stable_normal(seed, outcome.indicator_id, code) for code in unique])
    return (shifts * outcome.icb_spread)[inverse]


def story_of(indicator_id: str, icb_code: str, seed: int) -> str:
    """The story planted in an ICB-indicator pair: a third of ICBs each, fixed by the seed."""
    draw = zlib.crc32(f"{seed}:story:{indicator_id}:{icb_code}".encode()) % 3
    return STORIES[draw]


def story_effect(outcome: Outcome, icb_codes: np.ndarray, quintile: np.ndarray, progress: np.ndarray | float,
                 seed: int) -> np.ndarray:  # fmt: skip
    """Log-odds added by the planted story at ``progress`` (0 to 1) through the window.

    ``average_up_gap_wider``: the least deprived improve most (quintile 5 by the full
    effect, quintile 1 not at all), so the average improves while the gap widens.
    ``gap_closing``: every quintile moves towards quintile 5's level until, at the end of
    the window, CLOSING_SHARE of its deprivation gradient is gone; the gap narrows
    without crossing zero (a larger effect would leave quintile 1 ahead, a new gap).
    ``none``: nothing changes.
    """
    if not outcome.story:
        return np.zeros(icb_codes.size)
    unique, inverse = np.unique(icb_codes.astype(str), return_inverse=True)
    stories = np.array([story_of(outcome.indicator_id, code, seed) for code in unique])[inverse]
    least_deprived_weight = (quintile - 1) / 4
    direction = 1.0 if outcome.higher_is_better else -1.0
    widening = direction * STORY_EFFECT * least_deprived_weight
    # Quintile q's deprivation term is coefficient × (3 - q) / 2; removing the share of its
    # distance from quintile 5's term, coefficient × (3 - q) / 2 + coefficient, closes the gap.
    closing = -CLOSING_SHARE * outcome.deprivation * ((3 - quintile) / 2 + 1)
    effect = np.select(
        [stories == "average_up_gap_wider", stories == "gap_closing"], [widening, closing], 0.0
    )
    return effect * np.asarray(progress)


def probability(
    outcome: Outcome,
    quintile: np.ndarray,
    ethnic_group: np.ndarray,
    icb_codes: np.ndarray,
    progress: np.ndarray | float,
    seed: int,
    extra: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Probability of the outcome for each row (the truth the pipeline should recover)."""
    deprivation = (3 - quintile) / 2
    ethnic = np.zeros(quintile.size)
    for group, shift in outcome.ethnicity.items():
        ethnic = np.where(ethnic_group == group, shift, ethnic)
    log_odds = (
        special.logit(outcome.level)
        + outcome.deprivation * deprivation
        + ethnic
        + icb_effect(outcome, icb_codes, seed)
        + story_effect(outcome, icb_codes, quintile, progress, seed)
        + extra
    )
    result: np.ndarray = special.expit(log_odds)
    return result


def cells(icb_codes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ICB code, IMD quintile and ethnic group of every cell, ICB by ICB (``People.cell``)."""
    icbs = np.repeat(np.asarray(icb_codes, dtype=str), QUINTILES * len(GROUPS))
    quintile = np.tile(np.repeat(np.arange(1, QUINTILES + 1), len(GROUPS)), len(icb_codes))
    group = np.tile(np.asarray(GROUPS), QUINTILES * len(icb_codes))
    return icbs, quintile, group


def log_odds_table(outcome: Outcome, icb_codes: list[str], progress: np.ndarray, seed: int) -> np.ndarray:
    """The log-odds of :func:`probability` for every month and cell, shape (months, cells).

    ``progress`` holds each month's time through the window; cells number ICB (position in
    ``icb_codes``) × IMD quintile (1 to 5) × ethnic group (position in ``GROUPS``), the
    ``cell`` of :class:`gapwatch.synth.people.People`.
    """
    icbs, quintile, group = cells(icb_codes)
    fixed = special.logit(outcome.level) + outcome.deprivation * (3 - quintile) / 2
    fixed = fixed + np.array([outcome.ethnicity.get(name, 0.0) for name in group])
    fixed = fixed + icb_effect(outcome, icbs, seed)
    story = story_effect(outcome, icbs, quintile, 1.0, seed)
    table: np.ndarray = fixed[None, :] + story[None, :] * np.asarray(progress, dtype=np.float64)[:, None]
    return table


SCREENING_ETHNICITY = {"Asian": -0.3, "Black": -0.2, "Other": -0.3, "Mixed": -0.1}
IMMUNISATION_ETHNICITY = {"Black": -0.45, "Other": -0.3, "Mixed": -0.15}

OUTCOMES: dict[str, Outcome] = {
    outcome.indicator_id: outcome
    for outcome in [
        # NHS Digital, Cervical Screening Programme 2023-24: coverage 65.8% (25-49), 74.4% (50-64).
        Outcome("cervical_screening_25_49", 0.658, -0.30, SCREENING_ETHNICITY, story=True),
        Outcome("cervical_screening_50_64", 0.744, -0.30, SCREENING_ETHNICITY, story=True),
        # UKHSA COVER 2023-24: MMR1 at 24 months 88.9%, MMR2 at 5 years 83.9%.
        Outcome("mmr1_age_2", 0.889, -0.35, IMMUNISATION_ETHNICITY),
        Outcome("mmr2_age_5", 0.839, -0.40, IMMUNISATION_ETHNICITY),
        # NHS England, learning disability annual health checks 2023-24: 75.9% of those on registers.
        Outcome("ld_health_checks", 0.759, -0.10),
        # NHS England, SMI physical health checks (all six) 2023-24: about 61%.
        Outcome("smi_health_checks", 0.61, -0.20, {"Black": -0.2}),
        # QOF 2023-24: about 68% of people with hypertension treated to target.
        Outcome("hypertension_treated_to_target", 0.68, -0.20, {"Black": -0.15}, story=True),
        # QOF 2023-24 COPD influenza immunisation: about 78%.
        Outcome("copd_flu_vaccination", 0.78, -0.25),
        Outcome("smoking_cessation_referral", 0.45, 0.05),
        # Asthma UK / NRAD: 10-15% of children with asthma over-use relievers; worse with deprivation.
        Outcome("cyp_asthma_reliever_overuse", 0.12, 0.35, higher_is_better=False),
        # NPDA 2022-23: about 90% of CYP with diabetes had HbA1c checked.
        Outcome("cyp_diabetes_hba1c_checks", 0.90, -0.25),
        # Epilepsy12 2023: about 75% had access to an epilepsy specialist nurse.
        Outcome("cyp_epilepsy_specialist_nurse", 0.75, -0.15),
        # OHID, hospital tooth extractions: about 0.4% of under-10s a year, 3-4x in the most deprived.
        Outcome("cyp_tooth_extractions_under_10", 0.004, 0.65, higher_is_better=False),
        # NHS England MHSDS: about 5% of under-18s in contact with services over 12 months.
        Outcome("cyp_mental_health_access", 0.05, 0.10),
        # Cancer Registration Statistics 2021: about 58% of staged cancers diagnosed at stage 1-2.
        Outcome("cancer_early_stage", 0.58, -0.20),
        # Share of discharged mental-health spells with a delay: about 15%.
        Outcome("mh_spells_delayed", 0.15, 0.20, higher_is_better=False),
    ]
}
