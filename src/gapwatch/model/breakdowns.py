"""Names of the population groups and areas that results are broken down by.

A breakdown is one grouping column (``imd_quintile``) or an intersection of two written
``a:b`` (``imd_quintile:ethnic_group``, whose groups read ``1:Asian``). Every record falls
in exactly one group of each breakdown; records whose field is missing or invalid fall in
the group ``unknown``, so nothing is dropped without being counted.

>>> breakdown_columns("imd_quintile:ethnic_group")
('imd_quintile', 'ethnic_group')
"""

from __future__ import annotations

from gapwatch.errors import ConfigError

BREAKDOWNS: dict[str, str] = {
    "overall": "everyone (group 'all')",
    "imd_quintile": "IMD quintile of the LSOA of residence, 1 = most deprived",
    "imd_decile": "IMD decile, 1 = most deprived",
    "core20": "Core20 (the most deprived 20% of LSOAs nationally) vs rest",
    "ethnic_group": "ONS high-level ethnic group (White, Mixed, Asian, Black, Other)",
    "ethnic_category": "NHS Data Dictionary ethnic category code",
    "age_band": "age in 10-year bands (0-9 … 90+)",
    "sex": "Person Stated Gender Code: male, female",
    "learning_disability": "on the learning-disability register: yes, no",
    "autism": "autism recorded: yes, no",
    "serious_mental_illness": "on the serious-mental-illness register: yes, no",
}

DEFAULT_BREAKDOWNS: tuple[str, ...] = (
    "overall",
    "imd_quintile",
    "imd_decile",
    "core20",
    "ethnic_group",
    "ethnic_category",
    "age_band",
    "sex",
    "learning_disability",
    "autism",
    "serious_mental_illness",
    "imd_quintile:ethnic_group",
)

AREA_TYPES: dict[str, str] = {
    "england": "England",
    "region": "NHS England region (ONS region of residence)",
    "icb": "integrated care board of residence",
    "sub_icb": "sub-ICB location of residence",
    "local_authority": "lower-tier local authority of residence",
    "provider": "submitting organisation: NHS trust or GP practice",
}

UNKNOWN = "unknown"
OVERALL_GROUP = "all"


def breakdown_columns(name: str) -> tuple[str, ...]:
    """The grouping columns of a breakdown (none for ``overall``)."""
    check_breakdown(name)
    if name == "overall":
        return ()
    return tuple(name.split(":"))


def check_breakdown(name: str) -> str:
    """Raise a ConfigError unless ``name`` is a known breakdown or an intersection of two."""
    parts = name.split(":")
    if len(parts) > 2 or any(part not in BREAKDOWNS or part == "overall" for part in parts):
        if name == "overall":
            return name
        raise ConfigError(
            f"breakdown {name!r} is not known; choose from {', '.join(BREAKDOWNS)} "
            "or an intersection of two such as imd_quintile:ethnic_group"
        )
    if len(parts) == 2 and parts[0] == parts[1]:
        raise ConfigError(f"breakdown {name!r} intersects a breakdown with itself")
    return name


def check_area_type(name: str) -> str:
    if name not in AREA_TYPES:
        raise ConfigError(f"area type {name!r} is not known; choose from {', '.join(AREA_TYPES)}")
    return name
