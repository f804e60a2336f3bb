"""ScoreResult: explanations (`top_reasons`) and the row shape shared with the SQL targets."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from scorelang.compiler.frontend import compile_source
from scorelang.targets.python import PythonEvaluator

from scorelang.results import ScoreResult

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = """
model shop

lead {
  id: string key
  country: string?
  vip: bool?
}

event view { url: string }
event order { amount: number }

score interest {
  when country == "DE": +5 "Ships to Germany"
  each view within 30d: +2 max 6
  when order within 30d: +10
  when order where amount > 100: -3
  when country == "XX": reset
}

score value = interest * 2

tier band from interest {
  hot >= 15
  cold
}

flag ready = interest >= 15
"""


def _result(lead: dict, events: list[dict]) -> ScoreResult:
    compilation = compile_source(MODEL, "shop.score")
    assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
    return PythonEvaluator(compilation.model).score(lead, events, AS_OF)


def _event(kind: str, days: float, **props: object) -> dict[str, object]:
    return {
        "lead_id": "a",
        "event_type": kind,
        "occurred_at": AS_OF - timedelta(days=days),
        **props,
    }


def test_top_reasons_orders_by_absolute_points_then_source_order() -> None:
    events = [_event("view", d) for d in (1, 2, 3, 4)] + [_event("order", 2, amount=150)]
    result = _result({"id": "a", "country": "DE"}, events)
    assert result.scores == {"interest": 18.0, "value": 36.0}
    reasons = result.top_reasons("interest", n=10)
    assert [(r.label, r.points) for r in reasons] == [
        ("when order within 30d: +10", 10.0),
        ("each view within 30d: +2 max 6", 6.0),
        ("Ships to Germany", 5.0),
        ("when order where amount > 100: -3", -3.0),
    ]
    assert reasons[1].raw_points == 8.0
    assert [r.label for r in result.top_reasons("interest")] == [r.label for r in reasons[:3]]


def test_a_fired_reset_is_the_first_reason() -> None:
    result = _result({"id": "a", "country": "XX"}, [_event("order", 1, amount=5)])
    assert result.scores["interest"] == 0
    first, second = result.top_reasons("interest", n=2)
    assert (first.is_reset, first.fired, first.label) == (True, True, 'when country == "XX": reset')
    assert second.points == 10.0
    with pytest.raises(KeyError, match="value"):
        result.top_reasons("value")  # a composite has no rules


def test_as_row_has_exactly_the_output_columns() -> None:
    compilation = compile_source(MODEL, "shop.score")
    assert compilation.model is not None
    model = compilation.model
    result = PythonEvaluator(model).score({"id": "a", "country": "XX"}, [_event("view", 1)], AS_OF)
    row = result.as_row(model)
    assert tuple(row) == model.output_columns
    assert row["id"] == "a"
    assert (row["interest"], row["value"], row["band"], row["ready"]) == (0.0, 0.0, "cold", False)
    rule_columns = [c for c in model.output_columns if c.startswith("interest__")]
    assert [row[c] for c in rule_columns] == [0.0, 2.0, 0.0, 0.0, True]


def test_results_are_immutable_and_carry_score_details() -> None:
    result = _result({"id": "a"}, [])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.key = "b"  # type: ignore[misc]
    detail = result.details["interest"]
    assert (detail.name, detail.rules_total, detail.after_groups, detail.reset, detail.value) == (
        "interest",
        0.0,
        0.0,
        False,
        0.0,
    )
    assert result.as_of == AS_OF
