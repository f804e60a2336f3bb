"""The Python evaluator's accounts agree with DuckDB's `<model>_account_scores` and
`<model>_scores` to the cent on the bundled ABM example (both entities, every column),
from the columnar events the python engine reads as from event records; and the example's
account test blocks score alike on DuckDB and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file
from scorelang.targets.python import PythonEvaluator

from scorelang import engines
from scorelang.data import read_inputs
from scorelang.datagen import account_columns, csv_sink, event_columns, lead_columns
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


def _write(path: Path, columns: tuple[str, ...], rows: list[dict]) -> Path:
    with csv_sink(path, columns) as sink:
        sink(rows)
    return path


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_the_examples_test_blocks_score_alike_on_the_engines(
    model: ir.Model, engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Each test block of the example, as files (an account test's account and leads; a lead
    test's lead beside an empty accounts file), gives the SQL engine's two views the Python
    evaluator's rows (the blocks themselves pass: tests/test_examples.py)."""
    database = request.getfixturevalue("pg_url") if engine == "postgres" else None
    assert any(case.account is not None for case in model.tests)
    for n, case in enumerate(model.tests):
        accounts = [] if case.account is None else [dict(case.account)]
        blocks = [(case.lead, case.events)] if case.account is None else []
        blocks += [(lead.record, lead.events) for lead in case.leads]
        leads = [dict(record) for record, _ in blocks]
        events = [
            {"lead_id": dict(record)[model.key], "event_type": e.type, "occurred_at": e.at}
            | dict(e.properties)
            for record, own in blocks
            for e in own
        ]
        files = {
            "accounts": _write(tmp_path / f"a{n}.csv", account_columns(model), accounts),
            "leads": _write(tmp_path / f"l{n}.csv", lead_columns(model), leads),
            "events": _write(tmp_path / f"e{n}.csv", event_columns(model), events),
        }
        scored = PythonEvaluator(model).score_accounts(accounts, leads, events, case.as_of)
        for entity, results in ((ir.LEAD, scored.leads), (ir.ACCOUNT, scored.accounts)):
            python = sort_rows(model, [r.as_row(model, entity) for r in results], entity)
            sql = engines.score(
                model, engine, as_of=case.as_of, entity=entity, database=database, **files
            )
            assert sql == python, (case.name, entity)
