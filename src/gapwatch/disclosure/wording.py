"""What a run's disclosure control covers, in plain English, for page footers and reports.

>>> describe({"disclosure_policy": "nhs-digital", "disclosure_threshold": 7, "disclosure_rounding": 5,
...           "config": '{"disclosure": {"control_national": true}}'})[:59]
"Policy 'nhs-digital': counts from 1 to 7 are suppressed and"
>>> describe({"disclosure_policy": "none"})[:52]
'Not disclosure-controlled: not for publication. No d'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

NOT_FOR_PUBLICATION = "Not disclosure-controlled: not for publication."


def publication_warning(policy: str | None, private: bool) -> str | None:
    """The banner a private run carries on every page and on a report's first page, or ``None``.

    A run is private when it was published without disclosure control (policy ``none``)
    or marked ``private: true`` (management information); either way it is not for
    publication, and the banner says which.

    >>> publication_warning("none", True)
    'Not for publication: this run is private and not disclosure-controlled. Small counts are shown exactly.'
    >>> publication_warning("nhs-digital", True)[:46], publication_warning("nhs-digital", False)
    ('Not for publication: this run is private (mana', None)
    """
    if not private:
        return None
    if str(policy or "none") == "none":
        return (
            "Not for publication: this run is private and not disclosure-controlled. "
            "Small counts are shown exactly."
        )
    return (
        "Not for publication: this run is private (management information), "
        "although its cells are disclosure-controlled."
    )


def national_controlled(run: Mapping[str, Any]) -> bool:
    """Whether the run controlled England-level cells (runs made before the setting existed did not)."""
    config = run.get("config") or {}
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            return False
    disclosure = config.get("disclosure") or {} if isinstance(config, Mapping) else {}
    return bool(disclosure.get("control_national", False))


def describe(run: Mapping[str, Any]) -> str:
    """One paragraph saying which policy was applied, at which levels, and what it leaves out."""
    policy = str(run.get("disclosure_policy") or "none")
    threshold, rounding = run.get("disclosure_threshold"), run.get("disclosure_rounding")
    if policy == "none":
        return (
            f"{NOT_FOR_PUBLICATION} No disclosure control was applied to this run (policy 'none'): "
            "counts are exact and small counts are shown."
        )
    where = (
        "at every level, England included"
        if national_controlled(run)
        else "below national level only (England figures are published exactly, not controlled)"
    )
    if policy == "nhs-digital":
        text = (
            f"Policy 'nhs-digital': counts from 1 to {threshold} are suppressed and other counts rounded "
            f"to a multiple of {rounding}, {where}; further cells are suppressed where subtracting "
            "published totals and parts would pin a suppressed count to one number"
        )
    else:
        text = (
            f"Policy '{policy}': counts from 1 to {threshold} are suppressed, {where}, and further cells "
            "are withheld where they would let a suppressed count be worked out; other counts are exact"
        )
    return text + ". Values built on a suppressed count are withheld and shown as 'suppressed'."
