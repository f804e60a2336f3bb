"""The test runner (`scorelang.testing`) and the `scorelang test` command."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_source
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.testing import Failure, run_tests

# The complete example of the language brief, with its test block.
EXAMPLE = (Path(__file__).parent / "fixtures" / "brief_example.score").read_text(encoding="utf-8")

FAILING = """
test "wrong on purpose" {
  lead { id: "l2", email: "x@gmail.com", created_at: -1d }
  events {
    page_view { url: "/pricing" } at -2d
  }
  expect engagement == 15.9
  expect engagement == 15.91
  expect total >= 70
  expect 70 <= total
  expect mql
  expect not (fit == 0)
  expect tier stage == "decision"
}
"""


def _model(source: str) -> ir.Model:
    compilation = compile_source(source, "model.score")
    assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
    return compilation.model


def test_the_language_example_test_passes() -> None:
    [outcome] = run_tests(_model(EXAMPLE))
    assert outcome.name == "VP at a SaaS company who just looked at pricing"
    assert (outcome.passed, outcome.failures) == (True, [])


def test_failures_report_expected_and_actual_values() -> None:
    _, outcome = run_tests(_model(EXAMPLE + FAILING))
    assert not outcome.passed
    # fit: free email -20, clamped to 0; engagement 15.91; total 0.6 * 15.91 = 9.546 -> 9.55
    assert [(f.text, f.op, f.expected, f.actual) for f in outcome.failures] == [
        ("engagement == 15.9", "==", 15.9, 15.91),  # exact on the rounded value
        ("total >= 70", ">=", 70, 9.55),
        ("70 <= total", ">=", 70, 9.55),
        ("mql", "==", True, False),
        ("not (fit == 0)", "==", False, True),
        ('tier stage == "decision"', "==", "decision", "awareness"),
    ]
    assert [f.span.line for f in outcome.failures] == [76, 78, 79, 80, 81, 82]


def test_test_as_of_and_absolute_times() -> None:
    source = (
        EXAMPLE
        + """
test "scored at its own as_of" {
  lead { id: "l3", email: "a@acme.io", created_at: -400d }
  events {
    page_view { url: "/pricing" } at "2025-05-30T00:00:00Z"
  }
  as_of "2025-06-01T00:00:00Z"
  expect engagement == 15.91
}
"""
    )
    _, outcome = run_tests(_model(source))
    assert outcome.passed, outcome.failures


def _hand_test(events: tuple[ir.TestEvent, ...], *expectations: ir.Expectation) -> ir.Model:
    views = ir.Count("views", ir.EventFilter(("view",)))
    rule = ir.EachRule("s__r1", "each view", ir.AggregateRef("views", ir.Type.INT), 1.5)
    case = ir.TestCase("t", (("id", "x"),), events, datetime(2026, 1, 1, tzinfo=UTC), expectations)
    return ir.Model(
        "m",
        None,
        "id",
        (ir.FieldType("id", ir.Type.STRING),),
        (ir.EventType("view", ()),),
        (views,),
        (ir.Score("s", None, (rule,)),),
        flags=(ir.Flag("busy", ir.Compare(">", ir.ScoreRef("s"), ir.Literal(2, ir.Type.INT))),),
        tests=(case,),
    )


def test_expectations_follow_the_missing_value_semantics() -> None:
    at = datetime(2025, 12, 31, tzinfo=UTC)
    busy = ir.FlagRef("busy")
    model = _hand_test(
        (ir.TestEvent("view", at, ()), ir.TestEvent("view", at, ())),
        ir.Expectation(
            ir.Compare("==", ir.ScoreRef("s"), ir.Literal(3.0, ir.Type.NUMBER)), "s == 3"
        ),
        ir.Expectation(busy, "busy"),
        ir.Expectation(
            ir.And((busy, ir.Not(ir.Compare("<", ir.ScoreRef("s"), ir.Literal(3, ir.Type.INT))))),
            "x",
        ),
    )
    [outcome] = run_tests(model)
    assert outcome.passed, outcome.failures


def test_a_test_whose_lead_cannot_be_scored_fails_with_the_reason() -> None:
    broken = ir.TestEvent("view", None, ())  # type: ignore[arg-type]
    [outcome] = run_tests(_hand_test((broken,)))
    assert not outcome.passed
    [failure] = outcome.failures
    assert isinstance(failure, Failure) and "occurred_at" in failure.text


# ---- the command ----------------------------------------------------------------------------


def test_cli_prints_passes_failures_and_a_summary(tmp_path: Path) -> None:
    passing, failing = tmp_path / "ok.score", tmp_path / "bad.score"
    passing.write_text(EXAMPLE)
    failing.write_text(EXAMPLE + FAILING)
    result = CliRunner().invoke(app, ["test", str(passing)])
    assert result.exit_code == 0, result.output
    assert "✓ VP at a SaaS company who just looked at pricing" in result.output
    assert "1 passed, 0 failed" in result.output
    result = CliRunner().invoke(app, ["test", str(passing), str(failing)])
    assert result.exit_code == 1
    assert "✗ wrong on purpose" in result.output
    assert (
        "expect engagement == 15.9" not in result.output
    )  # the expectation text, without `expect`
    assert "engagement == 15.9\n        expected 15.9\n        actual   15.91" in result.output
    assert "expected >= 70" in result.output
    assert 'expected "decision"\n        actual   "awareness"' in result.output
    assert "expected false\n        actual   true" in result.output
    assert f"at {failing}:76:3" in result.output
    assert "2 passed, 1 failed" in result.output


def test_cli_renders_compile_errors_and_fails(tmp_path: Path) -> None:
    broken = tmp_path / "broken.score"
    broken.write_text(EXAMPLE.replace("when industry == ", "when industri == "))
    result = CliRunner().invoke(app, ["test", str(broken)])
    assert result.exit_code == 1
    assert "error[E" in result.output and "industri" in result.output and "^" in result.output
    assert "0 passed, 0 failed, 1 file with compile errors" in result.output
