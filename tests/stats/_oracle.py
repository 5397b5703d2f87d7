"""Golden numbers from the PHEindicatormethods test fixtures (see tests/fixtures/phe/README.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

PHE = Path(__file__).parents[1] / "fixtures" / "phe"
DIGITS = 1e-9  # at least 9 significant digits


def oracle(name: str) -> pd.DataFrame:
    return pd.read_csv(PHE / name)
