"""Statistics for health-inequality indicators: pure, vectorised, no I/O.

Each method family has its own module; every function names its published method and
reference. Arguments broadcast; DataFrames may be pandas or Polars and results come
back as the same kind.
"""

from gapwatch.stats.compare import compare
from gapwatch.stats.funnels import funnel_limits, funnel_plot, funnel_plots
from gapwatch.stats.gaps import gap, mover_difference
from gapwatch.stats.heat import heat_measures
from gapwatch.stats.intervals import byars, exact_poisson, poisson_limits, wilson, z_value
from gapwatch.stats.means import mean
from gapwatch.stats.medians import median_from_counts, percentile_from_counts
from gapwatch.stats.proportions import proportion
from gapwatch.stats.rates import rate
from gapwatch.stats.sii import regression_weights, sii
from gapwatch.stats.spc import XmrResult, xmr
from gapwatch.stats.standardisation import ESP2013, dsr, isr, smr

__all__ = [
    "ESP2013",
    "XmrResult",
    "byars",
    "compare",
    "dsr",
    "exact_poisson",
    "funnel_limits",
    "funnel_plot",
    "funnel_plots",
    "gap",
    "heat_measures",
    "isr",
    "mean",
    "median_from_counts",
    "mover_difference",
    "percentile_from_counts",
    "poisson_limits",
    "proportion",
    "rate",
    "regression_weights",
    "sii",
    "smr",
    "wilson",
    "xmr",
    "z_value",
]
