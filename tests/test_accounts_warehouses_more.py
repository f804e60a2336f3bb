"""Accounts on BigQuery (ZetaSQL) and Snowflake (fakesnow) beyond the hand-built fixture:
the bundled example (examples/abm) and random account models (tests/strategies_accounts.py),
both views equal to the Python evaluator's rows, cell by cell, to the cent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from accounts_sql_fixture import python_rows
from hypothesis import given, note
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file
from strategies import AS_OF, comparable, compile_model, settings_for
from strategies_accounts import GeneratedAccounts, generated_accounts
from test_accounts_sql_differential import differences, naive
from test_accounts_sql_warehouses import bigquery_views, snowflake_views
from test_bigquery_zetasql import ZetaSQL, zetasql
from test_snowflake_emulator import fakesnow_python

from scorelang.data import read_inputs
from scorelang.engines import score

__all__ = ["fakesnow_python", "zetasql"]  # the emulators' session fixtures

ABM = Path(__file__).resolve().parent.parent / "examples" / "abm"
FILES = {name: ABM / f"{name}.csv" for name in ("leads", "events", "accounts")}
RANDOM_CI_EXAMPLES = 10
ENTITIES = (ir.LEAD, ir.ACCOUNT)


@pytest.fixture(scope="module")
def abm() -> ir.Model:
    model = compile_file(ABM / "model.score").model
    assert model is not None and model.account is not None
    return model


@pytest.fixture(scope="module")
def abm_rows(abm: ir.Model) -> dict[str, list[dict[str, Any]]]:
    """The example's three files, parsed and validated as every engine reads them."""
    records = read_inputs(abm, FILES["leads"], FILES["events"], accounts=FILES["accounts"])
    assert records.accounts is not None
    tables = {"leads": records.leads, "events": records.events, "accounts": records.accounts}
    return {name: naive(rows) for name, rows in tables.items()}


@pytest.fixture(scope="module")
def abm_python(abm: ir.Model) -> list[dict[Any, dict[str, Any]]]:
    """The Python engine's rows of each entity, by key, rounded to the cent."""
    return [keyed(score(abm, "python", as_of=AS_OF, entity=entity, **FILES)) for entity in ENTITIES]


def keyed(rows: list[dict[str, Any]] | dict[Any, dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    """Rows by key (their first column), floats rounded as scores are, NUMERIC decimals read
    as the doubles the views' scores are."""
    rows = list(rows.values()) if isinstance(rows, dict) else rows
    return {
        next(iter(r.values())): {k: comparable(as_float(v)) for k, v in r.items()} for r in rows
    }


def as_float(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def mismatches(
    expected: list[dict[Any, dict[str, Any]]], found: list[dict[Any, dict[str, Any]]], engine: str
) -> list[str]:
    return [
        line
        for want, got in zip(expected, found, strict=True)
        for line in differences(want, keyed(got), engine)
    ]


def test_the_example_on_bigquery_equals_python(
    zetasql: ZetaSQL, abm: ir.Model, abm_rows: dict, abm_python: list
) -> None:
    assert [len(rows) for rows in abm_python] == [150, 37]
    found = bigquery_views(zetasql, abm, abm_rows, AS_OF)
    assert mismatches(abm_python, found, "bigquery") == []


def test_the_example_on_snowflake_equals_python(
    fakesnow_python: str, abm: ir.Model, abm_rows: dict, abm_python: list
) -> None:
    found = snowflake_views(fakesnow_python, abm, abm_rows, AS_OF)
    assert mismatches(abm_python, found, "snowflake") == []


@settings_for(RANDOM_CI_EXAMPLES)
@given(case=generated_accounts())
def test_random_account_models_on_bigquery_equal_python(
    zetasql: ZetaSQL, case: GeneratedAccounts
) -> None:
    """test_accounts_sql_differential's random models and data, on ZetaSQL: a bounded number
    in CI, more with SCORELANG_HYPOTHESIS_EXAMPLES."""
    note(case.source)
    note(repr((case.accounts, case.leads, case.events)))
    model = compile_model(case.source)
    rows = {"accounts": naive(case.accounts), "leads": naive(case.leads)}
    rows["events"] = naive(case.events)
    expected = python_rows(model, rows["accounts"], rows["leads"], rows["events"], AS_OF)
    found = bigquery_views(zetasql, model, rows, AS_OF)
    assert mismatches([keyed(e) for e in expected], found, "bigquery") == []
