"""England reference data: deprivation, geography, populations and code lists.

Everything here is shipped inside the package (see ``DATA_SOURCES.md`` for sources and
the Open Government Licence attribution) and returned as pandas DataFrames, except
:func:`link`, which adds deprivation and geography to an Ibis table on any backend.
"""

from gapwatch.refdata.ages import age_band, band_labels, esp2013
from gapwatch.refdata.deprivation import icb_summary, lsoa
from gapwatch.refdata.ethnicity import ethnic_categories, ethnic_groups
from gapwatch.refdata.geography import (
    area_names,
    convert_lsoa,
    icb_boundaries,
    ltla_boundaries,
    nhs_trusts,
    sub_icb_locations,
)
from gapwatch.refdata.linkage import LSOA_STATUSES, classify_lsoa, link, link_summary, linked_columns
from gapwatch.refdata.population import lsoa_weights_2011_to_2021, population

__all__ = [
    "LSOA_STATUSES",
    "age_band",
    "area_names",
    "band_labels",
    "classify_lsoa",
    "convert_lsoa",
    "esp2013",
    "ethnic_categories",
    "ethnic_groups",
    "icb_boundaries",
    "icb_summary",
    "link",
    "link_summary",
    "linked_columns",
    "lsoa",
    "lsoa_weights_2011_to_2021",
    "ltla_boundaries",
    "nhs_trusts",
    "population",
    "sub_icb_locations",
]
