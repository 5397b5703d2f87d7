"""The report's fixed wording: names, phrases and the paragraphs every report prints.

Text only; nothing here reads the store. Each section module (:mod:`gapwatch.report.sections`)
takes its fixed paragraphs from here, so the words a board reads can be reviewed in one
place. Sentences that carry numbers are built in the section modules.

>>> DOMAIN_NAMES["outcome"], group_label("imd_quintile", "1")
('Outcomes', '1 (most deprived)')
"""

from __future__ import annotations

from typing import Any

from gapwatch.formats import percent

#: The four dimensions the Statement on Information on Health Inequalities asks for.
DIMENSIONS = {"imd_quintile": "Deprivation", "ethnic_group": "Ethnicity", "age_band": "Age", "sex": "Sex"}
DOMAIN_NAMES = {"access": "Access to services", "experience": "Experience of care", "outcome": "Outcomes"}
DIRECTION_WORDS = {
    "improving": "is improving",
    "worsening": "is getting worse",
    "increasing": "is increasing",
    "decreasing": "is decreasing",
    "widening": "is widening",
    "narrowing": "is narrowing",
    "reversed": "has reversed (the other end of the deprivation scale is now behind)",
    "no_significant_change": "shows no significant change",
    "too_few_periods": "has too few periods to judge a trend",
}
VARIATION_WORDS = {
    "common_cause": "common-cause variation (no signal)",
    "special_cause_improving": "special-cause improving variation",
    "special_cause_concerning": "special-cause concerning variation",
    "special_cause_high": "special-cause variation (high)",
    "special_cause_low": "special-cause variation (low)",
}
ASSURANCE_WORDS = {
    "consistently_met": "the target is consistently met",
    "hit_and_miss": "the target is hit and miss",
    "consistently_not_met": "the target is consistently not met",
}
LICENCE = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(nationalarchives.gov.uk/doc/open-government-licence/version/3/). Contains OS data © Crown copyright "
    "and database right. Source: Office for National Statistics; Ministry of Housing, Communities and Local "
    "Government."
)
#: Business case references in a table.
REFERENCE_NAMES = {"least_deprived": "Least deprived fifth", "best_group": "Best quintile"}

_GROUP_NAMES = {
    "all": "All",
    "unknown": "Not known",
    "yes": "Yes",
    "no": "No",
    "core20": "Core20",
    "rest": "Rest",
    "female": "Female",
    "male": "Male",
}


def group_label(breakdown: str, group: Any) -> str:
    """A group's name in a table row: the ends of the deprivation scale say which end they are.

    >>> group_label("imd_decile", "10"), group_label("sex", "female"), group_label("age_band", "0-4")
    ('10 (least deprived)', 'Female', '0-4')
    """
    text = str(group)
    if breakdown == "imd_quintile":
        return {"1": "1 (most deprived)", "5": "5 (least deprived)"}.get(text, text)
    if breakdown == "imd_decile":
        return {"1": "1 (most deprived)", "10": "10 (least deprived)"}.get(text, text)
    return _GROUP_NAMES.get(text, text)


# --- executive summary ---------------------------------------------------------------------

NO_GAPS = "No quintile 1-5 gap is published for this area (the quintile values are missing or suppressed)."
NO_ALERTS_AREA = "No alerts were raised for this area."
NO_ALERTS_INDICATOR = "No alerts for this indicator."
HEADLINE_ALERT = "average improving while the gap widens"
LARGEST_GAPS = "Largest gaps between the most and least deprived fifths:"

# --- indicator sections --------------------------------------------------------------------

GROUPS_CHART_CAPTION = "Points are values with their confidence intervals"
TREND_CAPTION = "The shaded band is the confidence interval."
GAP_TREND_CAPTION = (
    "Below zero the most deprived fifth has the lower value; the shaded band is the confidence "
    "interval of the gap."
)
SII_MEANING = (
    "The slope index of inequality (the modelled difference between the least and the most "
    "deprived ends of the population)"
)

# --- data quality --------------------------------------------------------------------------


def data_quality_intro(warning: float) -> str:
    """What the completeness tables are for, with the run's warning threshold (a share)."""
    return (
        "A gap can only be measured for the records whose deprivation, ethnicity, age and sex are "
        "known. These tables show how complete those fields are in each input table, so that a reader "
        "can judge how far a gap could be hidden by missing data. Records with an unknown area of "
        "residence (LSOA) cannot be given a deprivation quintile; records without a valid ethnic "
        "category fall in the 'not known' group. Shares are withheld ('suppressed') below national "
        "level where fewer than 100 records stand behind them. Fields less than "
        f"{percent(warning)} complete are flagged in the indicator notes."
    )


DIMENSION_COMPLETENESS_INTRO = (
    "Per indicator, the share of each indicator's denominator whose group is known for each of the "
    "four dimensions, in its latest period; the rest is not known or not stated."
)

# --- targets and business case -------------------------------------------------------------

TARGETS_INTRO = (
    "Gap-reduction targets declared for this area, with a straight-line trajectory from the "
    "baseline gap to the target: 'met' means the latest gap is no wider than the target, 'on track' "
    "that it is no wider than the trajectory's value now. 'Off track' means it is wider and so is "
    "the whole of its confidence interval (its margin of error); 'not clearly off track' that it is "
    "wider but its interval still reaches the trajectory, so the difference may be chance."
)
NO_TARGETS = "No gap-reduction targets are declared for this area."
BUSINESS_CASE_INTRO = (
    "What the deprivation gap costs: the events that would be avoided (or the extra people reached) "
    "in the latest period if every deprivation quintile had the rate of the least deprived fifth "
    "(or of the best quintile), valued at a unit cost (after Mackenbach & Kunst 1997). Results "
    "built on suppressed counts are withheld, not estimated from partial data."
)
NO_BUSINESS_CASE = "No business case is published for this area."

# --- methods and sources -------------------------------------------------------------------


def methods_intervals(level: str) -> str:
    """How every interval is made, at the run's confidence ``level`` ("95%")."""
    return (
        f"Every value comes with a {level} confidence interval. Proportions use the Wilson score "
        "interval (Wilson 1927); rates use Byar's approximation to the exact Poisson interval (Breslow "
        "& Day 1987); medians and means use intervals described in the indicator notes."
    )


METHODS = [
    "The gap between quintile 1 (most deprived) and quintile 5 (least deprived) is their "
    "difference, with limits by the method of variance estimates recovery (MOVER; Newcombe 1998, "
    "Zou & Donner 2008). The slope index of inequality (SII) and relative index of inequality (RII) "
    "regress the quintile values on the population's relative rank of deprivation (Low & Low 2004): "
    "the SII is the modelled difference between the least and most deprived ends of the population.",
    "Statistical process control charts follow NHS England's Making Data Count: XmR charts with "
    "process limits at the mean ± 2.66 × the average moving range, and the special-cause rules for "
    "points outside the limits, shifts, trends and two of three points near a limit. Trends are "
    "inverse-variance weighted least-squares slopes; a gap widens or narrows only where the change "
    "is statistically significant.",
    "The business case estimates the events attributable to deprivation by giving every quintile "
    "the rate of the least deprived fifth (Mackenbach & Kunst 1997), valued at published unit costs.",
]
DEPRIVATION_DEFINITION = (
    "Deprivation is the English Index of Multiple Deprivation of each person's area of residence "
    "(lower-layer super output area); quintile 1 is the most deprived fifth of areas nationally."
)
REFERENCES = [
    "Wilson EB (1927) Probable inference, the law of succession, and statistical inference. J "
    "Am Stat Assoc 22:209-212.",
    "Breslow NE, Day NE (1987) Statistical Methods in Cancer Research, vol. II (Byar's method). IARC.",
    "Newcombe RG (1998) Interval estimation for the difference between independent proportions. "
    "Stat Med 17:873-890.",
    "Zou GY, Donner A (2008) Construction of confidence limits about effect measures (MOVER). "
    "Stat Methods Med Res 17:317-334.",
    "Low A, Low A (2004) Measuring the gap: quantifying and comparing local health "
    "inequalities. J Public Health 26:388-395.",
    "NHS England (2019, updated) Making Data Count: statistical process control for NHS boards.",
    "Mackenbach JP, Kunst AE (1997) Measuring the magnitude of socio-economic inequalities in "
    "health. Soc Sci Med 44:757-771.",
]
DATA_SOURCES = (
    "Data sources: the indicators are computed from the input tables listed below, following the "
    "national definitions named. Reference data: English Indices of Deprivation 2025 and 2019 "
    "(Ministry of Housing, Communities and Local Government); LSOA to Sub-ICB location, ICB, local "
    "authority and region lookups, ICB and local authority boundaries (ONS Open Geography Portal); "
    "LSOA population estimates (ONS); Census 2021 ethnic group by LSOA (ONS); the European Standard "
    "Population 2013 (Eurostat); NHS trust list (NHS Digital Organisation Data Service); NHS ethnic "
    "categories (NHS Data Dictionary)."
)

# --- annual statement ----------------------------------------------------------------------

STATEMENT_DUTY = (
    "NHS England's Statement on Information on Health Inequalities, issued under its duty in "
    "section 13SA of the National Health Service Act 2006, sets out the information on health "
    "inequalities that NHS bodies should publish each year, and how they should describe it in "
    "their annual report."
)


def statement_scope(area_name: str, year: str | None, months: str) -> str:
    """What the annual statement holds for ``area_name`` in the financial ``year`` (``months`` in words)."""
    return (
        f"This report gives that information for {area_name} for the financial year "
        f"{year} ({months}). Each indicator is shown by the four dimensions the "
        "statement asks for, with the gap between the most and least deprived fifths (quintile 1 minus "
        "quintile 5), the slope index of inequality and the direction of their trends. Only periods "
        "within the financial year are tabulated; trend directions are estimated over every period of "
        "the run."
    )


DIMENSION_DEFINITIONS = [
    "Deprivation: quintile of the English Index of Multiple Deprivation of the area of "
    "residence (1 = most deprived).",
    "Ethnicity: ethnic group, from the NHS ethnic category.",
    "Age: age band.",
    "Sex: sex as recorded.",
]
CORE20PLUS5 = (
    "Core20PLUS5 is NHS England's approach to reducing healthcare inequalities: the most deprived "
    "20% of the national population (Core20), population groups chosen locally (PLUS), and five "
    "clinical areas for adults (maternity, severe mental illness, chronic respiratory disease, "
    "early cancer diagnosis, hypertension) and for children and young people (asthma, diabetes, "
    "epilepsy, oral health, mental health)."
)
NO_CORE20PLUS5 = "None of this run's indicators is defined against a Core20PLUS5 area."
