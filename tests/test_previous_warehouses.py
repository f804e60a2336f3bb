"""A model written with `previous` and `change` (tests/test_previous.py's, on the advanced
example) on the warehouses tested through emulators (BigQuery on ZetaSQL, Snowflake on
fakesnow) and on local Spark: the same rows as Python, to the cent, at the deployable view's
one instant."""

from __future__ import annotations

from typing import Any

import pytest
from test_bigquery_zetasql import BIGQUERY_TYPES, ZetaSQL, execute, placed, zetasql
from test_parity import AS_OF, differences
from test_previous import advanced, files
from test_snowflake_emulator import emulate, fakesnow_python, source_tables
from test_spark import spark

from scorelang.config import DEFAULT_SOURCES
from scorelang.engines import score

__all__ = ["fakesnow_python", "spark", "zetasql"]  # the emulators' session fixtures


@pytest.fixture(scope="module")
def model() -> Any:
    return advanced()


@pytest.fixture(scope="module")
def expected(model: Any) -> list[dict[str, Any]]:
    return score(model, "python", as_of=AS_OF, **files())


def test_bigquery_matches_python(
    zetasql: ZetaSQL, model: Any, expected: list[dict[str, Any]]
) -> None:
    tables = source_tables(model, *files().values(), DEFAULT_SOURCES, BIGQUERY_TYPES)
    assert differences(model, expected, execute(zetasql, model, placed(tables))) == []


def test_snowflake_matches_python(
    fakesnow_python: str, model: Any, expected: list[dict[str, Any]]
) -> None:
    tables = source_tables(model, *files().values(), DEFAULT_SOURCES)
    rows = emulate(fakesnow_python, model, tables, DEFAULT_SOURCES)
    assert differences(model, expected, rows) == []


def test_spark_matches_python(spark: Any, model: Any, expected: list[dict[str, Any]]) -> None:
    rows = score(model, "spark", as_of=AS_OF, **files())
    assert differences(model, expected, rows) == []
