"""How the report and the shared formatting are put together (issue 19).

The renderer (HTML, PDF, workbook) reads a built :class:`~gapwatch.report.Report` only, so
it never imports the builder, the context or a section; and England's area code is
written once, in :mod:`gapwatch.codes`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import gapwatch

PACKAGE = Path(gapwatch.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_renderers_do_not_import_the_builder_the_context_or_a_section() -> None:
    building = ("gapwatch.report.build", "gapwatch.report.context", "gapwatch.report.sections")
    for name in ("render.py", "workbook.py", "model.py"):
        imported = _imports(PACKAGE / "report" / name)
        assert not [module for module in imported if module.startswith(building)], name


def test_each_section_is_a_module_and_none_imports_the_builder() -> None:
    sections = sorted(path.stem for path in (PACKAGE / "report" / "sections").glob("*.py"))
    assert {"summary", "data_quality", "targets", "business_case", "methods", "core20plus5"} <= set(sections)
    for name in sections:
        assert "gapwatch.report.build" not in _imports(PACKAGE / "report" / "sections" / f"{name}.py"), name


def _code_strings(tree: ast.AST) -> list[ast.Constant]:
    """String constants in code, leaving out docstrings (their examples may show codes)."""
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_the_england_code_is_written_once() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{name}:{node.lineno}" for node in _code_strings(tree) if "E92000001" in node.value]
    assert found == ["codes.py:10"]
