"""The engine is layered inside: its modules import one another in one direction only."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import gapwatch.engine

ENGINE = Path(gapwatch.engine.__file__).parent


def _imports(path: Path) -> list[ast.ImportFrom]:
    """Every ``from gapwatch... import`` of a module, those inside functions included."""
    tree = ast.parse(path.read_text())
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gapwatch")
    ]


def test_engine_modules_import_each_other_without_a_circle_or_private_names() -> None:
    graph: dict[str, set[str]] = {}
    private = []
    for path in sorted(ENGINE.glob("*.py")):
        needs = set()
        for node in _imports(path):
            module = str(node.module)
            if module == "gapwatch.engine":
                needs |= {alias.name for alias in node.names}
            elif module.startswith("gapwatch.engine."):
                needs.add(module.rsplit(".", 1)[1])
            private += [
                f"{path.name}: {module}.{alias.name}" for alias in node.names if alias.name.startswith("_")
            ]
        graph[path.stem] = needs
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError on a circle
    assert not private
    # Completeness is a client of the lower modules; the scans that carry it call it.
    assert order.index("completeness") < order.index("jobs") < order.index("counts")
    assert "counts" not in graph["completeness"]
