"""Everything a lint rule may look at: the file's AST, the checked model, the configuration,
and (only with `--data`) the sample leads scored by the model."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from .. import ast, ir
from ..ast import walk  # the rules walk declarations with it
from .bounds import Bounds, score_bounds
from .config import LintConfig


@dataclass(frozen=True)
class LintContext:
    module: ast.Module  # the file being linted; findings point into it
    model: ir.Model
    config: LintConfig = dataclasses.field(default_factory=LintConfig)
    modules: Mapping[str, ast.Module] = dataclasses.field(default_factory=dict)  # every file read
    sample: Sequence[Mapping[str, object]] | None = None  # scored rows, keyed by output columns

    @cached_property
    def bounds(self) -> dict[str, Bounds]:
        return score_bounds(self.model)

    @property
    def scores(self) -> Iterator[ast.ScoreDecl]:
        return (d for d in self.module.decls if isinstance(d, ast.ScoreDecl))

    @cached_property
    def event_types(self) -> frozenset[str]:
        return frozenset(t.name for t in self.model.event_types)

    def ir_score(self, name: str) -> ir.Score | None:
        return next((s for s in self.model.scores if s.name == name), None)


def flat_rules(rules: Sequence[ast.Rule]) -> Iterator[ast.WhenRule | ast.EachRule | ast.ClampRule]:
    """A score's rules with groups opened."""
    for rule in rules:
        if isinstance(rule, ast.GroupRule):
            yield from flat_rules(rule.rules)
        else:
            yield rule


def event_names(expr: ast.Expr, event_types: frozenset[str]) -> set[str]:
    """The event types an expression reads (`visited` reads page views, `activity` all)."""
    names: set[str] = set()
    for node in walk(expr):
        if isinstance(node, ast.Name) and node.name in event_types:
            names.add(node.name)
        elif isinstance(node, ast.Visited):
            names.add("page_view")
        elif isinstance(node, ast.Activity):
            names.update(event_types)
    return names
