"""Synthetic England: patient-level records with planted, documented inequalities.

``generate`` writes one Parquet file per table (see ``docs/synthetic-data.md``) and a
truth file naming the expected value of every planted indicator and the stories a
monitor should find.
"""

from gapwatch.synth.generate import SynthSummary, generate
from gapwatch.synth.model import OUTCOMES, STORIES

__all__ = ["OUTCOMES", "STORIES", "SynthSummary", "generate"]
