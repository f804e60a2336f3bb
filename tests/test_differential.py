"""Random well-typed models (as .score text) and random data, scored by the Python evaluator,
DuckDB and a real Postgres at a pinned instant: every output column of every row must agree to
the cent. Counterexamples found here are kept, minimised, under tests/regressions/.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, note
from strategies import (
    Generated,
    compile_model,
    differences,
    generated,
    score_everywhere,
    settings_for,
    write_data,
)

CI_EXAMPLES = 50


@settings_for(CI_EXAMPLES)
@given(case=generated())
def test_every_engine_scores_alike(case: Generated, pg_url: str) -> None:
    note(case.source)
    model = compile_model(case.source)
    with tempfile.TemporaryDirectory(prefix="scorelang-diff-") as folder:
        leads, events = write_data(Path(folder), case.leads, case.events)
        note(leads.read_text(encoding="utf-8"))
        note(events.read_text(encoding="utf-8"))
        rows = score_everywhere(model, leads, events, pg_url)
    assert len(rows["python"]) == len(case.leads)
    assert not differences(model, rows), "\n".join(differences(model, rows))
