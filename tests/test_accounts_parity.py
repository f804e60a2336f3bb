"""The Python evaluator's accounts agree with DuckDB's `<model>_account_scores` and
`<model>_scores` to the cent on the bundled ABM example (both entities, every column),
from the columnar events the python engine reads as from event records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file
from scorelang.targets.python import PythonEvaluator

from scorelang import engines
from scorelang.data import read_inputs
from scorelang.engines.rows import sort_rows

ABM = Path(__file__).resolve().parent.parent / "examples" / "abm"
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
FILES = {
    "leads": ABM / "leads.csv",
    "events": ABM / "events.csv",
    "accounts": ABM / "accounts.csv",
}


@pytest.fixture(scope="module")
def model() -> ir.Model:
    compiled = compile_file(ABM / "model.score").model
    assert compiled is not None
    return compiled


@pytest.mark.parametrize("columnar", [False, True], ids=["records", "columns"])
def test_python_agrees_with_duckdb_on_both_entities(model: ir.Model, columnar: bool) -> None:
    inputs = read_inputs(
        model, FILES["leads"], FILES["events"], accounts=FILES["accounts"], columnar=columnar
    )
    scored = PythonEvaluator(model).score_accounts(
        inputs.accounts, inputs.leads, inputs.events, AS_OF
    )
    for entity, results in ((ir.LEAD, scored.leads), (ir.ACCOUNT, scored.accounts)):
        python = sort_rows(model, [r.as_row(model, entity) for r in results], entity)
        duckdb = engines.score(model, "duckdb", as_of=AS_OF, entity=entity, **FILES)
        assert len(python) == len(duckdb) > 30
        assert python == duckdb
