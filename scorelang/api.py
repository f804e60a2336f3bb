"""The public Python API: load a model, score leads, run its tests, compile it to SQL.

Everything the CLI does goes through here or through the modules named below, so each command
is usable from Python too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .compiler import ir
from .compiler.diagnostics import CompileError, Diagnostic, has_errors
from .compiler.frontend import Compilation, compile_file, compile_source

if TYPE_CHECKING:
    from .config import SourceMapping
    from .explain import Explanation
    from .results import ScoreResult
    from .targets.python import PythonEvaluator
    from .testing import TestOutcome


class ScoringModel:
    """A checked model, ready to score leads in-process or to compile to SQL."""

    def __init__(self, compilation: Compilation):
        if compilation.model is None or has_errors(compilation.diagnostics):
            raise CompileError(compilation.diagnostics)
        self.compilation = compilation
        self.ir: ir.Model = compilation.model

    @property
    def name(self) -> str:
        return self.ir.name

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Warnings and notes found while checking (errors prevent loading)."""
        return self.compilation.diagnostics

    @cached_property
    def evaluator(self) -> PythonEvaluator:
        from .targets.python import PythonEvaluator

        return PythonEvaluator(self.ir)

    @property
    def python_source(self) -> str:
        """The generated evaluator, for the curious and for debugging."""
        return self.evaluator.source

    def score(
        self,
        lead: Mapping[str, Any],
        events: Iterable[Mapping[str, Any]] = (),
        as_of: datetime | None = None,
    ) -> ScoreResult:
        """Score one lead; percentile tiers need a batch and are None here."""
        return self.evaluator.score(lead, events, as_of)

    def score_many(
        self,
        leads: Iterable[Mapping[str, Any]],
        events: Iterable[Mapping[str, Any]] = (),
        as_of: datetime | None = None,
    ) -> list[ScoreResult]:
        return self.evaluator.score_many(leads, events, as_of)

    def explain(
        self,
        lead: Mapping[str, Any],
        events: Iterable[Mapping[str, Any]] = (),
        as_of: datetime | None = None,
    ) -> Explanation:
        """Why one lead scores what it does: rules, caps, tiers, flags, nearest thresholds."""
        from .explain import explain_result

        return explain_result(self.ir, self.score(lead, events, as_of))

    def run_tests(self) -> list[TestOutcome]:
        from .testing import run_tests

        return run_tests(self.ir)

    def sql(
        self,
        dialect: str = "duckdb",
        as_of: datetime | None = None,
        mapping: SourceMapping | None = None,
    ) -> str:
        """Deployable DDL for the model's views in one dialect."""
        from .config import SourceMapping
        from .targets.sql import render_ddl

        return render_ddl(self.ir, dialect, as_of=as_of, mapping=mapping or SourceMapping())


def load(path: str | Path) -> ScoringModel:
    """Compile a `.score` file (and its imports); raises CompileError on any error."""
    return ScoringModel(compile_file(path))


def loads(source: str, path: str = "<string>") -> ScoringModel:
    """Compile model source text; raises CompileError on any error."""
    return ScoringModel(compile_source(source, path))
