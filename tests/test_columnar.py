"""The columnar batch (targets/python/columnar.py) against the per-lead evaluator on random
models and data: every ScoreResult identical, to the last bit of every float."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, note
from scorelang.targets.python import PythonEvaluator
from scorelang.targets.python.columnar import EventColumns, batch_aggregates
from strategies import AS_OF, Generated, compile_model, generated, settings_for, write_data

from scorelang.data import read_records

CI_EXAMPLES = 100


@settings_for(CI_EXAMPLES)
@given(case=generated())
def test_columnar_batch_equals_per_lead(case: Generated) -> None:
    note(case.source)
    model = compile_model(case.source)
    with tempfile.TemporaryDirectory(prefix="scorelang-columnar-") as folder:
        leads, events = read_records(model, *write_data(Path(folder), case.leads, case.events))
    evaluator = PythonEvaluator(model)
    keys = [lead.get(model.key) for lead in leads]
    if evaluator._where is not None:  # no `where` reads a lead field: the batch is columnar
        columns = EventColumns.from_records(events, evaluator._properties)
        assert batch_aggregates(model, evaluator._where, keys, columns, AS_OF) is not None
    columnar = evaluator.score_many(leads, events, AS_OF, columnar=True)
    assert columnar == evaluator.score_many(leads, events, AS_OF, columnar=False)
