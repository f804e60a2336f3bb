"""The columnar batch (targets/python/columnar.py) and the generated `finish_batch` (NumPy,
targets/python/vectorized.py) against the per-lead evaluator on random models and data:
every ScoreResult identical, to the last bit of every float."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, note
from scorelang.targets.python import PythonEvaluator, vector_runtime
from scorelang.targets.python.columnar import EventColumns, Unsupported, batch_aggregates
from scorelang.targets.python.evaluator import _Batch
from scorelang.targets.python.vector_runtime import listed
from strategies import AS_OF, Generated, compile_model, generated, settings_for, write_data

from scorelang.api import load, loads
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


@settings_for(CI_EXAMPLES)
@given(case=generated())
def test_finish_batch_equals_finish_lead_by_lead(case: Generated) -> None:
    """Every random model is vectorized, and `finish_batch` gives `finish`'s tuples to the
    bit (types, the sign of zero, NaN) on the same aggregates and earlier values."""
    note(case.source)
    model = compile_model(case.source)
    with tempfile.TemporaryDirectory(prefix="scorelang-columnar-") as folder:
        leads, events = read_records(model, *write_data(Path(folder), case.leads, case.events))
    evaluator = PythonEvaluator(model)
    assert evaluator.finish_batch is not None, evaluator.source
    keys = [lead.get(model.key) for lead in leads]
    columns = EventColumns.from_records(events, evaluator._properties)
    aggregates = batch_aggregates(model, evaluator._where, keys, columns, AS_OF)
    if aggregates is None:  # a `where` reads a lead field: no columnar aggregates
        event("no columnar aggregates")
        return
    shifted = evaluator._shifted_values(leads, columns, AS_OF)
    rows = list(zip(*map(listed, aggregates), strict=True)) if aggregates else [()] * len(leads)
    expected = [
        evaluator.finish(lead, values, AS_OF, earlier)
        for lead, values, earlier in zip(leads, rows, shifted, strict=True)
    ]
    try:
        batch = evaluator.finish_batch(leads, aggregates, AS_OF, shifted)
    except Unsupported as reason:  # e.g. 10**15 * 10**15: not exact in a double
        event(f"lead by lead: {reason}")
        return
    event("vectorized")
    assert _bits(_Batch(*batch, len(leads)).per_lead()) == _bits(expected)


def test_a_model_the_arrays_cannot_score_falls_back_to_finish() -> None:
    source = (ROOT / "tests" / "fixtures" / "brief_example.score").read_text(encoding="utf-8")
    constant = source.replace("  clamp 0..100\n}", "  when 1 > 0: +1\n  clamp 0..100\n}", 1)
    model = loads(constant).ir
    evaluator = PythonEvaluator(model)
    assert evaluator.finish_batch is None
    assert "finish_batch = None  # lead by lead: a constant condition" in evaluator.source
    _scores_as_records(evaluator, ROOT / "examples" / "b2b_saas")


def test_a_batch_the_arrays_cannot_hold_falls_back_to_finish() -> None:
    """An integer beyond 2**53 compares exactly in Python, not as a double: that batch runs
    `finish` lead by lead, with the same results."""
    model = load(ROOT / "examples" / "b2b_saas" / "model.score").ir
    evaluator = PythonEvaluator(model)
    leads = [{"id": "l1", "employees": 2**60}, {"id": "l2", "employees": 200}]
    columns = [[0, 0] for _ in model.aggregates]
    with pytest.raises(Unsupported, match="2\\*\\*53"):
        evaluator.finish_batch(leads, columns, AS_OF, [(), ()])
    assert evaluator.score_many(leads, _no_events(evaluator), AS_OF) == evaluator.score_many(
        leads, [], AS_OF
    )


def test_leads_sharing_a_key_read_the_same_aggregates() -> None:
    model = load(ROOT / "examples" / "b2b_saas" / "model.score").ir
    evaluator = PythonEvaluator(model)
    folder = ROOT / "examples" / "b2b_saas"
    records, events = read_records(model, folder / "leads.csv", folder / "events.csv")
    leads = [*records[:3], *records[:2]]
    columns = EventColumns.from_records(events, evaluator._properties)
    assert evaluator.score_many(leads, columns, AS_OF) == evaluator.score_many(leads, events, AS_OF)


def test_a_value_only_some_leads_read_falls_back_to_finish() -> None:
    """`finish_batch` reads `lower(country)` for every lead; `finish` only after the count,
    so a country that is not a string fails only the batch, which then runs lead by lead."""
    source = (ROOT / "tests" / "fixtures" / "brief_example.score").read_text(encoding="utf-8")
    rule = '  when count(email_open) > 1000 and lower(country) == "fr": +1\n  clamp 0..100\n}'
    model = loads(source.replace("  clamp 0..100\n}", rule, 1)).ir
    evaluator = PythonEvaluator(model)
    leads = [{"id": "l1", "country": 5}, {"id": "l2", "country": "FR"}]
    columns = batch_aggregates(model, evaluator._where, ["l1", "l2"], _no_events(evaluator), AS_OF)
    with pytest.raises(Unsupported):
        evaluator.finish_batch(leads, columns, AS_OF, [(), ()])
    assert evaluator.score_many(leads, _no_events(evaluator), AS_OF) == evaluator.score_many(
        leads, [], AS_OF
    )


def _no_events(evaluator: PythonEvaluator) -> EventColumns:
    return EventColumns.from_records([], evaluator._properties)


def test_integer_results_are_python_ints_as_doubles() -> None:
    """`0 * -5` is the int 0 in Python, -0.0 in doubles; beyond 2**53 doubles round."""
    zero = vector_runtime.integral(np.array([0.0]) * -5)
    assert math.copysign(1, zero[0]) == 1
    with pytest.raises(Unsupported):
        vector_runtime.integral(np.array([2.0**53]))


def _scores_as_records(evaluator: PythonEvaluator, folder: Path) -> None:
    records, events = read_records(evaluator.model, folder / "leads.csv", folder / "events.csv")
    columns = EventColumns.from_records(events, evaluator._properties)
    expected = evaluator.score_many(records, events, AS_OF)
    assert evaluator.score_many(records, columns, AS_OF) == expected
    rows = evaluator.score_rows(records, columns, AS_OF)
    assert _same_rows(rows, [result.as_row(evaluator.model) for result in expected])


def _bits(value: object) -> object:
    """`value` with every float as its bits and every leaf with its type."""
    if isinstance(value, tuple | list):
        return tuple(_bits(v) for v in value)
    return (type(value).__name__, value.hex() if isinstance(value, float) else value)


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
    keys = [lead.get(model.key) for lead in leads]
    aggregates = batch_aggregates(model, evaluator._where, keys, columns, AS_OF)
    shifted = evaluator._shifted_values(leads, columns, AS_OF)
    evaluator.finish_batch(leads, aggregates, AS_OF, shifted)  # really vectorized: no fallback


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
