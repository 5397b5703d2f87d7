"""What an engine works out once per session and keeps: the typed state of :class:`Engine`.

A run links each source's distinct LSOA codes once, classifies each distinct code once
whichever source holds it, and compiles each source's prepared expression (linking and
codes) to SQL once; every scan, population count and completeness count after that reads
what is kept here. The state lives on the engine (``engine.session``), so a second
:func:`gapwatch.engine.counts.count` on the same engine reuses it.

>>> session = Session()
>>> session.linked_sources(2021)
[]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis.expr.types as ir
import pandas as pd


@dataclass(frozen=True)
class LinkedCodes:
    """One source's LSOA codes as linked (:mod:`gapwatch.engine.linking`).

    ``table`` is the engine table of distinct raw codes with their place codes (shared by
    the sources linked together); ``summary`` is the source's rows by ``lsoa_status``, as
    :func:`gapwatch.refdata.link_summary` gives them (columns ``lsoa_status``, ``rows``,
    ``share``).
    """

    table: ir.Table
    summary: pd.DataFrame


@dataclass
class Session:
    """The state an engine keeps between statements of one session."""

    #: Each (source, LSOA vintage) linked, in the order linked.
    lsoa_codes: dict[tuple[str, int], LinkedCodes] = field(default_factory=dict)
    #: ``lsoa_status`` and place code of every raw LSOA code classified so far, by vintage
    #: (indexed by the raw code).
    classified: dict[int, pd.DataFrame] = field(default_factory=dict)
    #: Each source's prepared expression, as a placeholder compiled once
    #: (:meth:`gapwatch.engine.backends.Engine.define`), by (source, vintage, ethnic grouping).
    prepared: dict[tuple[str, int, str], ir.Table] = field(default_factory=dict)

    def linked_sources(self, vintage: int) -> list[str]:
        """The sources whose codes are linked for ``vintage``, in the order linked."""
        return [source for source, year in self.lsoa_codes if year == vintage]
