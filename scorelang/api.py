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
    from .targets.python.accounts import AccountScores
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
        as_of: datetime | str | None = None,
    ) -> ScoreResult:
        """Score one lead; percentile tiers need a batch and are None here.

        Records are checked and typed as the loader reads files (strings as CSV cells); a
        missing required field, an unknown key or an unreadable value is a ValueError."""
        from .validate import check_events, check_leads

        (record,) = check_leads(self.ir, [lead])
        return self.evaluator.score(record, check_events(self.ir, events, False), as_of)

    def score_many(
        self,
        leads: Iterable[Mapping[str, Any]],
        events: Iterable[Mapping[str, Any]] = (),
        as_of: datetime | str | None = None,
    ) -> list[ScoreResult]:
        """Score a batch (events matched by `lead_id`), records checked as in `score`. For a
        model with an account, `score_accounts` scores the leads with their accounts; here no
        lead has one."""
        from .validate import check_events, check_leads

        records = check_leads(self.ir, leads)
        return self.evaluator.score_many(records, check_events(self.ir, events, True), as_of)

    def score_accounts(
        self,
        accounts: Iterable[Mapping[str, Any]],
        leads: Iterable[Mapping[str, Any]],
        events: Iterable[Mapping[str, Any]] = (),
        as_of: datetime | str | None = None,
    ) -> AccountScores:
        """Score a model with an account: each account over its leads (matched by the lead's
        link field) and each lead, which may read its account's outputs. Records are checked
        as in `score`. `.leads` and `.accounts` hold one ScoreResult each, in the given
        order; `result.as_row(model.ir, "account")` is a row of `<model>_account_scores`."""
        from .validate import check_events, check_leads

        leads_checked = check_leads(self.ir, leads)
        accounts_checked = check_leads(self.ir, accounts, ir.ACCOUNT)
        return self.evaluator.score_accounts(
            accounts_checked, leads_checked, check_events(self.ir, events, True), as_of
        )

    def explain(
        self,
        lead: Mapping[str, Any],
        events: Iterable[Mapping[str, Any]] = (),
        as_of: datetime | str | None = None,
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
