"""The small expression language of the indicator catalogue.

Filters and values are written as Python-like expressions over a source table's
columns, for example ``age_group == '25-49'``, ``weeks_waited > 52``,
``assessment_date is not None and days(referral_date, assessment_date) <= 91`` or
``month(snapshot_date) in [3, 6, 9, 12]``. They are parsed once, checked against a fixed
grammar (no attribute access, no arbitrary calls) and compiled to Ibis, so the same
definition runs on DuckDB, PostgreSQL and PySpark.

Functions: ``days(start, end)`` (whole days from start to end), ``weeks(start, end)``
(days / 7), ``month(date)``, ``year(date)``, ``coalesce(a, b)``.

>>> parse("weeks_waited > 52").columns
frozenset({'weeks_waited'})
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from gapwatch.errors import ConfigError

FUNCTIONS: dict[str, int] = {"days": 2, "weeks": 2, "month": 1, "year": 1, "coalesce": 2}

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression: its text, its tree and the columns it reads."""

    text: str
    #: Not compared: the text determines it, and syntax trees compare by identity (two
    #: parses of one text, as two loads of one catalogue make, would differ).
    tree: ast.expr = field(compare=False)
    columns: frozenset[str]

    def compile(self, table: ir.Table) -> ir.Value:
        """The expression as an Ibis value over ``table``."""
        return _compile(self.tree, table)


def parse(text: str, where: str = "expression") -> Expression:
    """Parse and check an expression; ``where`` names it in error messages."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise ConfigError(f"{where}: cannot parse {text!r} ({error.msg})") from None
    columns: set[str] = set()
    _check(tree, text, where, columns)
    return Expression(text.strip(), tree, frozenset(columns))


def _check(node: ast.AST, text: str, where: str, columns: set[str]) -> None:
    def fail(problem: str) -> None:
        raise ConfigError(f"{where}: {problem} in {text!r}")

    match node:
        case ast.Name(id=name):
            columns.add(name)
        case ast.Constant(value=value):
            if not isinstance(value, str | int | float | bool | None):
                fail(f"the constant {value!r} is not allowed")
        case ast.List(elts=items) | ast.Tuple(elts=items):
            for item in items:
                if not isinstance(item, ast.Constant):
                    fail("lists may hold only constants")
        case ast.BoolOp(values=values):
            for operand in values:
                _check(operand, text, where, columns)
        case ast.UnaryOp(op=ast.Not() | ast.USub(), operand=operand):
            _check(operand, text, where, columns)
        case ast.BinOp(op=op, left=left, right=right):
            if type(op) not in _ARITHMETIC:
                fail(f"the operator {type(op).__name__} is not allowed")
            _check(left, text, where, columns)
            _check(right, text, where, columns)
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            if len(ops) != 1:
                fail("chained comparisons are not allowed; join them with 'and'")
            comparison, right = ops[0], comparators[0]
            if isinstance(comparison, ast.Is | ast.IsNot):
                if not (isinstance(right, ast.Constant) and right.value is None):
                    fail("'is' compares only with None")
            elif isinstance(comparison, ast.In | ast.NotIn):
                if not isinstance(right, ast.List | ast.Tuple):
                    fail("'in' needs a list of constants")
            elif type(comparison) not in _COMPARE:
                fail(f"the comparison {type(comparison).__name__} is not allowed")
            _check(left, text, where, columns)
            _check(right, text, where, columns)
        case ast.Call(func=ast.Name(id=name), args=args, keywords=[]):
            if name not in FUNCTIONS:
                fail(f"unknown function {name}(); use one of {', '.join(FUNCTIONS)}")
            if len(args) != FUNCTIONS[name]:
                fail(f"{name}() takes {FUNCTIONS[name]} argument(s)")
            for argument in args:
                _check(argument, text, where, columns)
        case _:
            fail(f"{type(node).__name__} is not allowed")


def _compile(node: ast.expr, table: ir.Table) -> Any:
    match node:
        case ast.Name(id=name):
            return table[name]
        case ast.Constant(value=value):
            return ibis.literal(value) if value is not None else ibis.null()
        case ast.BoolOp(op=ast.And(), values=values):
            result = _compile(values[0], table)
            for operand in values[1:]:
                result = result & _compile(operand, table)
            return result
        case ast.BoolOp(op=ast.Or(), values=values):
            result = _compile(values[0], table)
            for operand in values[1:]:
                result = result | _compile(operand, table)
            return result
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return ~_compile(operand, table)
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return -_compile(operand, table)
        case ast.BinOp(op=op, left=left, right=right):
            return _ARITHMETIC[type(op)](_compile(left, table), _compile(right, table))
        case ast.Compare(left=left, ops=[ast.Is()], comparators=[_]):
            return _compile(left, table).isnull()
        case ast.Compare(left=left, ops=[ast.IsNot()], comparators=[_]):
            return _compile(left, table).notnull()
        case ast.Compare(left=left, ops=[ast.In() | ast.NotIn() as op], comparators=[right]):
            assert isinstance(right, ast.List | ast.Tuple)
            options = [item.value for item in right.elts if isinstance(item, ast.Constant)]
            member = _compile(left, table).isin(options)
            return member if isinstance(op, ast.In) else ~member
        case ast.Compare(left=left, ops=[op], comparators=[right]):
            return _COMPARE[type(op)](_compile(left, table), _compile(right, table))
        case ast.Call(func=ast.Name(id=name), args=args):
            arguments: list[Any] = [_compile(argument, table) for argument in args]
            if name == "days":
                return arguments[1].delta(arguments[0], unit="day")
            if name == "weeks":
                return arguments[1].delta(arguments[0], unit="day").cast("float64") / 7.0
            if name == "month":
                return arguments[0].month()
            if name == "year":
                return arguments[0].year()
            return ibis.coalesce(arguments[0], arguments[1])
    raise ConfigError(f"cannot compile {ast.unparse(node)!r}")


def _kind_of(dtype: Any) -> str:
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if dtype.is_date() or dtype.is_timestamp():
        return "date"
    if dtype.is_string():
        return "text"
    return str(dtype)


def _literal_kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "text"


def _described(value: object) -> str:
    kind = _literal_kind(value)
    return f"the {'text' if kind == 'text' else kind} {value!r}"


def type_problem(expression: Expression, schema: Any, condition: bool = False) -> str | None:
    """Why ``expression`` cannot be evaluated on a table with ``schema`` (an Ibis schema), if it
    cannot: a column compared with a constant of another type, or a column that is not true/false
    used as a condition. ``condition`` says the whole expression is a filter.

    Engines reject these with their own errors (``EPIORDER == '1'`` on an integer column),
    which name neither the column's type nor the constant. Text compared with a number is
    not converted silently: ``'01' == 1`` has no single right answer.

    >>> import ibis
    >>> type_problem(parse("EPIORDER == '1'"), ibis.schema({"EPIORDER": "int64"}))
    "column 'EPIORDER' has type int64 but is compared with the text '1'"
    """

    def column_kind(node: ast.expr) -> tuple[str, str] | None:
        if isinstance(node, ast.Name) and node.id in schema:
            return node.id, _kind_of(schema[node.id])
        return None

    def visit(node: ast.expr, as_condition: bool) -> str | None:
        match node:
            case ast.Name(id=name) if as_condition:
                found = column_kind(node)
                if found and found[1] != "boolean":
                    return (
                        f"column {name!r} has type {schema[name]} but is used as true/false; "
                        f"compare it with a value (e.g. {name} == 'Y')"
                    )
            case ast.BoolOp(values=values):
                for operand in values:
                    problem = visit(operand, True)
                    if problem:
                        return problem
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return visit(operand, True)
            case ast.Compare(left=left, ops=[op], comparators=[right]) if not isinstance(
                op, ast.Is | ast.IsNot
            ):
                found = column_kind(left)
                constants: list[object] = []
                if isinstance(right, ast.Constant) and right.value is not None:
                    constants = [right.value]
                elif isinstance(right, ast.List | ast.Tuple):
                    constants = [item.value for item in right.elts if isinstance(item, ast.Constant)]
                elif isinstance(left, ast.Constant) and left.value is not None:
                    found, constants = column_kind(right), [left.value]
                if found is None:
                    return None
                column, kind = found
                for value in constants:
                    if value is None:
                        continue
                    wanted = _literal_kind(value)
                    # As the engines allow: dates with ISO text, flags with 0 and 1.
                    comparable = (wanted == kind or (kind == "date" and wanted == "text")
                                  or (kind == "boolean" and wanted == "number"))  # fmt: skip
                    if not comparable:
                        return (
                            f"column {column!r} has type {schema[column]} "
                            f"but is compared with {_described(value)}"
                        )
        return None

    return visit(expression.tree, condition)
