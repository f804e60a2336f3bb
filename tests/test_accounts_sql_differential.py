"""Random account models and data (tests/strategies_accounts.py) scored by the Python
evaluator and by both views on DuckDB and a real Postgres at a pinned instant: every
column of every lead and every account row must agree to the cent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from accounts_sql_fixture import python_rows
from hypothesis import given, note
from scorelang.compiler import ir
from scorelang.targets.sql.builder import select_account_scores, select_scores
from strategies import AS_OF, comparable, compile_model, settings_for
from strategies_accounts import GeneratedAccounts, generated_accounts
from test_accounts_sql import as_dicts, load

from scorelang.config import SourceMapping

CI_EXAMPLES = 40
SELECTS = (select_scores, select_account_scores)


def naive(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Times as naive UTC, as the SQL tables store them."""
    return [
        {
            k: v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v
            for k, v in row.items()
        }
        for row in rows
    ]


def keyed(rows: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {next(iter(r.values())): {k: comparable(v) for k, v in r.items()} for r in rows}


def differences(
    expected: dict[Any, dict[str, Any]], actual: dict[Any, dict[str, Any]], engine: str
) -> list[str]:
    if set(expected) != set(actual):
        return [f"{engine}: keys {sorted(map(str, actual))} != {sorted(map(str, expected))}"]
    return [
        f"{key}.{column}: python={want!r} {engine}={actual[key][column]!r}"
        for key, row in expected.items()
        for column, want in row.items()
        if want != actual[key][column] or type(want) is not type(actual[key][column])
    ]


@settings_for(CI_EXAMPLES)
@given(case=generated_accounts())
def test_every_engine_scores_accounts_alike(case: GeneratedAccounts, pg_url: str) -> None:
    import duckdb
    import psycopg

    note(case.source)
    note(repr((case.accounts, case.leads, case.events)))
    model = compile_model(case.source)
    rows = {"accounts": naive(case.accounts), "leads": naive(case.leads)}
    rows["events"] = naive(case.events)
    expected = [
        {k: {c: comparable(v) for c, v in r.items()} for k, r in entity.items()}
        for entity in python_rows(model, rows["accounts"], rows["leads"], rows["events"], AS_OF)
    ]
    assert model.account is not None and len(expected[1]) == len(case.accounts)
    found: list[str] = []
    duck = duckdb.connect()
    load(lambda sql, params: duck.execute(sql, params), "duckdb", model, rows)
    for select, want in zip(SELECTS, expected, strict=True):
        query = select(model, "duckdb", as_of=AS_OF).sql("duckdb")
        found += differences(want, keyed(as_dicts(duck.execute(query))), "duckdb")
    schema = f"fuzz_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as pg:
        pg.execute(f'CREATE SCHEMA "{schema}"')
        try:
            load(lambda sql, p: pg.execute(sql, p), "postgres", model, rows, schema)
            mapping = SourceMapping(schema=schema)
            for select, want in zip(SELECTS, expected, strict=True):
                query = select(model, "postgres", as_of=AS_OF, mapping=mapping).sql("postgres")
                found += differences(want, keyed(as_dicts(pg.execute(query))), "postgres")
        finally:
            pg.execute(f'DROP SCHEMA "{schema}" CASCADE')
    assert not found, "\n".join(found)


def test_the_generator_covers_every_roll_up() -> None:
    """Over a few examples, every roll-up and both lead phases show up."""
    from hypothesis import settings

    seen: set[str] = set()

    @settings(max_examples=60, database=None)
    @given(case=generated_accounts())
    def collect(case: GeneratedAccounts) -> None:
        model = compile_model(case.source)
        for node in ir.subexpressions((model.scores, model.composites)):
            if isinstance(node, ir.Rollup):
                seen.add(node.func + ("_top" if node.top else ""))
        if any(s.name == "near" for s in model.scores):
            seen.add("second lead phase")

    collect()
    assert {"sum", "max", "avg", "avg_top", "count", "count_distinct"} <= seen
    assert "second lead phase" in seen
