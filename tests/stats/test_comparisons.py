"""Both comparisons of a run's cells (``stats.compare.comparisons``), on hand-worked cells.

One method serves the unrounded values (``stats.indicators``) and the published ones
(``disclosure.published.recompare``); OHID Fingertips categories, best group by the MOVER
interval of the difference (Newcombe 1998, method 10).
"""

from __future__ import annotations

import numpy as np

from gapwatch.stats.compare import BEST_LABELS, POLARITY_CODES, comparisons


def _cells(order: np.ndarray) -> dict[str, np.ndarray]:
    # Rows: England overall 70 (68-72); ICB A overall 60 (58-62) with groups 50, 65, 66 and
    # unknown 90; ICB B overall 71 (70-72) with groups 71 (70-72) and 71 (65-77).
    rows = [
        # value, lower, upper, area, cell, overall, england, known
        (70.0, 68.0, 72.0, 0, 0, True, True, True),
        (60.0, 58.0, 62.0, 1, 1, True, False, True),
        (50.0, 48.0, 52.0, 1, 2, False, False, True),
        (65.0, 63.0, 67.0, 1, 2, False, False, True),
        (66.0, 60.0, 72.0, 1, 2, False, False, True),
        (90.0, 80.0, 99.0, 1, 2, False, False, False),
        (71.0, 70.0, 72.0, 2, 3, True, False, True),
        (71.0, 70.0, 72.0, 2, 4, False, False, True),
        (71.0, 65.0, 77.0, 2, 4, False, False, True),
    ]
    table = np.array(rows, dtype=object)[order]
    return {
        "value": table[:, 0].astype(float),
        "lower": table[:, 1].astype(float),
        "upper": table[:, 2].astype(float),
        "area": table[:, 3].astype(np.int64),
        "cell": table[:, 4].astype(np.int64),
        "is_overall": table[:, 5].astype(bool),
        "is_england": table[:, 6].astype(bool),
        "known": table[:, 7].astype(bool),
    }


EXPECTED = [
    ("not compared", "not compared"),  # England's own overall value
    ("worse", "not compared"),  # 58-62 wholly below England's 70
    ("worse", "worse"),  # 50 against A's 60; against the best (66), MOVER excludes 0
    ("better", "similar"),  # 63-67 above 60; 65 against 66 (60-72): similar
    ("similar", "best"),  # 60-72 holds 60; the best known group
    ("better", "not compared"),  # unknown: against the area, never against the best
    ("similar", "not compared"),  # 70-72 holds England's 70
    ("similar", "best"),  # equal values are both best
    ("similar", "best"),
]


def test_comparisons_in_any_row_order() -> None:
    for seed in (0, 1, 2):
        order = np.random.default_rng(seed).permutation(len(EXPECTED))
        cells = _cells(order)
        comparison, best = comparisons(
            cells["value"], cells["lower"], cells["upper"],
            np.full(len(order), POLARITY_CODES["higher_is_better"], dtype=np.int8),
            area=cells["area"], series=np.zeros(len(order), dtype=np.int64), cell=cells["cell"],
            is_overall=cells["is_overall"], is_england=cells["is_england"], known=cells["known"],
        )  # fmt: skip
        found = [(BEST_LABELS[c], BEST_LABELS[b]) for c, b in zip(comparison, best, strict=True)]
        assert found == [EXPECTED[i] for i in order]


def test_without_a_polarity_nothing_is_judged_against_the_best() -> None:
    cells = _cells(np.arange(len(EXPECTED)))
    for polarity in (POLARITY_CODES["no_judgement"], -1):
        comparison, best = comparisons(
            cells["value"], cells["lower"], cells["upper"],
            np.full(len(EXPECTED), polarity, dtype=np.int8),
            area=cells["area"], series=np.zeros(len(EXPECTED), dtype=np.int64), cell=cells["cell"],
            is_overall=cells["is_overall"], is_england=cells["is_england"], known=cells["known"],
        )  # fmt: skip
        assert not best.any()
        labels = [BEST_LABELS[c] for c in comparison]
        if polarity < 0:
            assert set(labels) == {"not compared"}
        else:
            assert labels[1:3] == ["lower", "lower"]
