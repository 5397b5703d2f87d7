"""Which areas' private results a signed-in reader's organisation may see: the area map.

An NHS identity provider names the reader's organisation in an ID-token claim (an ODS
organisation code such as ``QOP``, NHS Greater Manchester ICB). The area map, a YAML
file given to ``gapwatch serve --oidc-area-map``, says which areas each organisation
may see in private runs::

    claim: org_code            # the claim naming the organisation (default: org_code)
    organisations:
      QOP: [icb:E54000057]     # its own ICB (and England, which everyone sees)
      X26: all                 # every area

A reader whose organisation is not in the map is still signed in but is shown public
runs only, as an anonymous reader is. A claim holding several organisations (a list, or
codes separated by spaces or commas) gives the areas of all of them.

>>> orgs = AreaMap("org_code", {"QOP": frozenset({"icb:E54000057"}), "X26": None})
>>> orgs.access({"org_code": "QOP"}), orgs.access({"org_code": "X26"}), orgs.access({"org_code": "R0A"})
((True, frozenset({'icb:E54000057'})), (True, None), (False, None))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gapwatch.errors import ConfigError

#: An area key as the dashboard's URLs write it (``icb:E54000057``).
AREA_KEY = re.compile(r"^(england|region|icb|sub_icb|local_authority|provider):[A-Za-z0-9]{1,12}$")
DEFAULT_CLAIM = "org_code"


class AreaMapError(ConfigError):
    """An area map that cannot be read or names an area wrongly."""


@dataclass(frozen=True)
class AreaMap:
    """Organisation codes (from the ID-token claim ``claim``) and the area keys each may see.

    ``None`` in place of a set of areas means every area.
    """

    claim: str
    organisations: Mapping[str, frozenset[str] | None]

    def access(self, claims: Mapping[str, Any]) -> tuple[bool, frozenset[str] | None]:
        """(whether the reader may see private runs, the areas they are limited to or ``None``).

        An unmapped organisation gives ``(False, None)``: public runs only, which anyone may read.
        """
        value = claims.get(self.claim)
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if not isinstance(value, list):
            return False, None
        mapped = [
            self.organisations[code] for code in {str(item) for item in value} if code in self.organisations
        ]
        if not mapped:
            return False, None
        if any(areas is None for areas in mapped):
            return True, None
        return True, frozenset().union(*[areas for areas in mapped if areas is not None])


def load_area_map(path: Path) -> AreaMap:
    """Read an area map file (format in this module's docstring); errors name the file and entry."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as problem:
        raise AreaMapError(f"cannot read the area map {path}: {problem.strerror or problem}") from None
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise AreaMapError(f"{path}{where}: not valid YAML") from None
    if not isinstance(loaded, Mapping) or not isinstance(loaded.get("organisations"), Mapping):
        raise AreaMapError(f"{path}: needs an 'organisations' mapping of organisation code to areas")
    unknown = sorted(set(loaded) - {"claim", "organisations"})
    if unknown:
        raise AreaMapError(
            f"{path}: unknown key(s) {', '.join(map(str, unknown))}; use claim and organisations"
        )
    claim = loaded.get("claim", DEFAULT_CLAIM)
    if not isinstance(claim, str) or not claim:
        raise AreaMapError(f"{path}: claim must be the name of an ID-token claim, e.g. org_code")
    organisations: dict[str, frozenset[str] | None] = {}
    for code, areas in loaded["organisations"].items():
        if areas == "all":
            organisations[str(code)] = None
            continue
        if isinstance(areas, str):
            areas = [areas]
        if not isinstance(areas, list) or not areas:
            raise AreaMapError(f"{path}: organisation {code}: give a list of areas (icb:E54000057) or all")
        wrong = [str(area) for area in areas if not AREA_KEY.match(str(area))]
        if wrong:
            raise AreaMapError(
                f"{path}: organisation {code}: {', '.join(wrong)} is not an area key like icb:E54000057"
            )
        organisations[str(code)] = frozenset(str(area) for area in areas)
    return AreaMap(claim, organisations)
