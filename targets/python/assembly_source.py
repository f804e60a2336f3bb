"""What the two generated forms of a score's assembly share (per lead in codegen's
`_PythonAssembly`, over a batch in vectorized's `NumpyAssembly`): the variables the writer
assigns for each rule (`raw_<n>`, `points_<n>`, `fired_<n>`), the stages by name, and the
conditions from the form's own expression compiler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from ...compiler import ir


class Conditions(Protocol):
    def condition(self, expr: ir.Expr) -> str: ...


C = TypeVar("C", bound=Conditions)


class SourceAssembly(Generic[C]):
    def __init__(self, index: Callable[[ir.PointsRule | ir.ResetRule], int], compiler: C):
        self.index, self.compiler = index, compiler
        self.stages: dict[str, str] = {}

    def raw(self, rule: ir.PointsRule) -> str:
        if isinstance(rule, ir.WhenRule):
            return self.when_points(rule)
        return f"raw_{self.index(rule)}"

    def when_points(self, rule: ir.WhenRule) -> str:
        """A `when` rule's points before its own max: its points where it fired, else 0."""
        raise NotImplementedError

    def fired(self, rule: ir.PointsRule | ir.ResetRule) -> str:
        return f"fired_{self.index(rule)}"

    def points(self, rule: ir.PointsRule) -> str:
        return f"points_{self.index(rule)}"

    def stage(self, name: str) -> str:
        return self.stages[name]

    def condition(self, expr: ir.Expr) -> str:
        return self.compiler.condition(expr)
