"""Runs a model's `test` blocks with the Python evaluator.

Expectations are conditions over the outputs; they are compiled by the evaluator's own
expression compiler (one meaning for every operator), and a failure reports the expected
value next to the actual one: `expect engagement == 15.91` that fails shows 15.91 and the
lead's engagement. Score comparisons are exact on the rounded values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .compiler import ir
from .compiler.ast import NO_SPAN, Span
from .records import EVENT_LEAD, EVENT_TIME, EVENT_TYPE
from .results import ScoreResult
from .targets.python import PythonEvaluator
from .targets.python.codegen import runtime_import
from .targets.python.expressions import Constants, ExpressionCompiler

_OUTPUTS = {
    ir.ScoreRef: "scores",
    ir.TierRef: "tiers",
    ir.MatrixRef: "matrices",
    ir.FlagRef: "flags",
}
_MIRRORED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True)
class Failure:
    """One unmet expectation: the lead's `actual` value should have been `op expected`
    (`== 15.91`, `>= 70`; `== True`/`== False` for a bare condition or a `not`)."""

    text: str
    expected: object
    actual: object
    span: Span
    op: str = "=="


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest class

    name: str
    passed: bool
    failures: list[Failure]
    span: Span = NO_SPAN


def run_tests(model: ir.Model, evaluator: PythonEvaluator | None = None) -> list[TestOutcome]:
    """Every test of `model`, in source order."""
    evaluator = evaluator or PythonEvaluator(model)
    return [_run(case, evaluator, model.key) for case in model.tests]


def _run(case: ir.TestCase, evaluator: PythonEvaluator, key: str) -> TestOutcome:
    """A lead test scores its lead alone; an account test scores its account over its leads
    (each expectation then reads the account's result or one lead's)."""
    try:
        if case.account is None:
            lead = dict(case.lead)
            result = evaluator.score(lead, _events(lead.get(key), case.events), case.as_of)
            results = {(ir.LEAD, None): result}
        else:
            results = _account_results(case, evaluator, key)
    except ValueError as error:
        failure = Failure(f"the test's lead could not be scored: {error}", None, None, case.span)
        return TestOutcome(case.name, False, [failure], case.span)
    failures = [
        f for f in (_check(e, results[_subject(e)]) for e in case.expectations) if f is not None
    ]
    return TestOutcome(case.name, not failures, failures, case.span)


def _events(lead_key: object, events: tuple[ir.TestEvent, ...]) -> list[dict[str, Any]]:
    return [
        {EVENT_LEAD: lead_key, EVENT_TYPE: e.type, EVENT_TIME: e.at, **dict(e.properties)}
        for e in events
    ]


def _account_results(
    case: ir.TestCase, evaluator: PythonEvaluator, key: str
) -> dict[tuple[str, str | None], ScoreResult]:
    """The account's result, each lead's under its key as text, and the only lead's under
    None too (keyed as `_subject` reads them)."""
    leads = [dict(lead.record) for lead in case.leads]
    events = [e for lead in case.leads for e in _events(dict(lead.record).get(key), lead.events)]
    scored = evaluator.score_accounts([dict(case.account or ())], leads, events, case.as_of)
    results = {(ir.ACCOUNT, None): scored.accounts[0]}
    results |= {(ir.LEAD, str(r.key)): r for r in scored.leads}
    if len(scored.leads) == 1:
        results[ir.LEAD, None] = scored.leads[0]
    return results


def _subject(expectation: ir.Expectation) -> tuple[str, str | None]:
    return (expectation.entity, expectation.lead)


def _check(expectation: ir.Expectation, result: ScoreResult) -> Failure | None:
    check = compile_output_expression(expectation.condition, condition=True)
    if check(result):
        return None
    op, expected, subject = _expected(expectation.condition)
    actual = compile_output_expression(subject)(result)
    return Failure(expectation.text, expected, actual, expectation.span, op)


def _expected(condition: ir.Expr) -> tuple[str, object, ir.Expr]:
    """What the expectation wanted (operator, value), and the sub-expression to show."""
    match condition:
        case ir.Compare(op=op, left=subject, right=ir.Literal(value=value)):
            return op, value, subject
        case ir.Compare(op=op, left=ir.Literal(value=value), right=subject):
            return _MIRRORED[op], value, subject
        case ir.Not(operand=operand):
            return "==", False, operand
    return "==", True, condition


def compile_output_expression(
    expr: ir.Expr, condition: bool = False
) -> Callable[[ScoreResult], Any]:
    """A function of a ScoreResult computing `expr` over its outputs (scores, tiers, matrices,
    flags); `condition` gives a bool with the missing-value semantics of predicates."""

    def resolve(node: ir.Expr) -> str:
        for kind, outputs in _OUTPUTS.items():
            if isinstance(node, kind):
                return f"r.{outputs}[{node.name!r}]"  # type: ignore[attr-defined]
        raise ValueError(f"a test expectation cannot read {type(node).__name__}")

    constants = Constants()
    compiler = ExpressionCompiler(resolve, constants, as_of="r.as_of")
    code = compiler.condition(expr) if condition else compiler.value(expr)
    namespace: dict[str, Any] = {}
    exec("\n".join([runtime_import(), *constants.lines()]), namespace)
    return eval(compile(f"lambda r: {code}", "<scorelang expectation>", "eval"), namespace)
