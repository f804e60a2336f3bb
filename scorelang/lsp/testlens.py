"""`test` blocks run in the editor: a code lens on each test with pass or fail, and an inlay
hint after each unmet `expect` with the actual value (scorelang.testing does the running)."""

from __future__ import annotations

from lsprotocol import types

from ..compiler import ir
from ..testing import Failure, TestOutcome, run_tests
from .convert import to_range

RUN_COMMAND = "scorelang.runTests"


def outcomes(model: ir.Model | None) -> list[TestOutcome]:
    """The model's tests run; none while the model has errors."""
    return run_tests(model) if model is not None and model.tests else []


def code_lenses(results: list[TestOutcome], uri: str) -> list[types.CodeLens]:
    return [
        types.CodeLens(
            range=to_range(outcome.span),
            command=types.Command(title=_title(outcome), command=RUN_COMMAND, arguments=[uri]),
        )
        for outcome in results
    ]


def _title(outcome: TestOutcome) -> str:
    if outcome.passed:
        return "✓ test passed"
    first = outcome.failures[0]
    more = f" (+{len(outcome.failures) - 1} more)" if len(outcome.failures) > 1 else ""
    return f"✗ test failed: {first.text}: {expected_actual(first)}{more}"


def expected_actual(failure: Failure) -> str:
    return f"expected {failure.op} {_show(failure.expected)}, actual {_show(failure.actual)}"


def _show(value: object) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return f"{value:g}" if isinstance(value, float) else str(value)


def inlay_hints(results: list[TestOutcome], path: str) -> list[types.InlayHint]:
    return [
        types.InlayHint(
            position=to_range(failure.span).end,
            label=f"✗ {expected_actual(failure)}",
            padding_left=True,
        )
        for outcome in results
        for failure in outcome.failures
        if failure.span.file == path
    ]


def as_json(results: list[TestOutcome]) -> list[dict[str, object]]:
    """The outcomes for the `scorelang.runTests` command's answer."""
    return [
        {
            "name": outcome.name,
            "passed": outcome.passed,
            "failures": [
                {"expect": f.text, "expected": _show(f.expected), "actual": _show(f.actual)}
                for f in outcome.failures
            ],
        }
        for outcome in results
    ]
