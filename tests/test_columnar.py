"""The columnar batch (targets/python/columnar.py) against the per-lead evaluator on random
models and data: every ScoreResult identical, to the last bit of every float."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, note
from scorelang.targets.python import PythonEvaluator
from scorelang.targets.python.columnar import EventColumns, batch_aggregates
from strategies import AS_OF, Generated, compile_model, generated, settings_for, write_data

from scorelang.api import load
from scorelang.data import read_columns, read_records

CI_EXAMPLES = 100
ROOT = Path(__file__).resolve().parent.parent


@settings_for(CI_EXAMPLES)
@given(case=generated())
def test_columnar_batch_equals_per_lead(case: Generated) -> None:
    note(case.source)
    model = compile_model(case.source)
    with tempfile.TemporaryDirectory(prefix="scorelang-columnar-") as folder:
        leads, events = read_records(model, *write_data(Path(folder), case.leads, case.events))
    evaluator = PythonEvaluator(model)
    keys = [lead.get(model.key) for lead in leads]
    columns = EventColumns.from_records(events, evaluator._properties)
    if evaluator._where is not None:  # no `where` reads a lead field: the batch is columnar
        assert batch_aggregates(model, evaluator._where, keys, columns, AS_OF) is not None
    columnar = evaluator.score_many(leads, columns, AS_OF)
    assert columnar == evaluator.score_many(leads, events, AS_OF)
    rows = evaluator.score_rows(leads, columns, AS_OF)
    assert _same_rows(rows, [result.as_row(model) for result in columnar])


def _same_rows(rows: list[dict], expected: list[dict]) -> bool:
    """Equal, column order and the sign of zero included (a file keeps both)."""
    return [list(r.items()) for r in rows] == [list(r.items()) for r in expected] and [
        [math.copysign(1, v) for v in r.values() if isinstance(v, float)] for r in rows
    ] == [[math.copysign(1, v) for v in r.values() if isinstance(v, float)] for r in expected]


@pytest.mark.parametrize("example", ["b2b_saas", "ecommerce", "advanced"])
def test_the_engines_columns_score_as_records_do(example: str) -> None:
    folder = ROOT / "examples" / example
    model = load(folder / "model.score").ir
    files = (folder / "leads.csv", folder / "events.csv")
    evaluator = PythonEvaluator(model)
    leads, columns = read_columns(model, *files)
    records, events = read_records(model, *files)
    assert leads == records
    expected = evaluator.score_many(records, events, AS_OF)
    assert evaluator.score_many(leads, columns, AS_OF) == expected
    rows = evaluator.score_rows(leads, columns, AS_OF)
    assert _same_rows(rows, [result.as_row(model) for result in expected])
    from_records = EventColumns.from_records(events, evaluator._properties)
    assert evaluator.score_many(leads, from_records, AS_OF) == expected


def test_records_the_columns_cannot_hold_are_refused() -> None:
    """ISO text times are the per-lead evaluator's to read (and a record without a type its
    to reject): EventColumns refuses them, and score_many reads records lead by lead."""
    model = load(ROOT / "examples" / "b2b_saas" / "model.score").ir
    records, events = read_records(
        model, *(ROOT / "examples" / "b2b_saas" / n for n in ("leads.csv", "events.csv"))
    )
    evaluator = PythonEvaluator(model)
    texts = [{**e, "occurred_at": e["occurred_at"].isoformat()} for e in events]
    with pytest.raises(TypeError):
        EventColumns.from_records(texts, evaluator._properties)
    assert evaluator.score_many(records, texts, AS_OF) == evaluator.score_many(
        records, events, AS_OF
    )
    untyped = [{k: v for k, v in events[0].items() if k != "event_type"}]
    with pytest.raises(KeyError):
        EventColumns.from_records(untyped, evaluator._properties)
    with pytest.raises(ValueError, match="event_type"):
        evaluator.score_many(records, untyped, AS_OF)
