"""The project's promise: the same model and data give the same rows in every engine.

Each example model (examples/*/: a .score file with leads.csv and events.csv) and the edge-case
fixture (tests/fixtures/parity_edge: boundaries, ties, rounding, missing values, unicode) is
scored by the Python evaluator, DuckDB and a real Postgres at a pinned instant, and every
column of every row must be identical. Floats are compared exactly after `round_score`
(the 2-decimal rounding every score already went through), so a decayed rule's points may
differ only in binary noise below a cent.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file

from scorelang.engines import arrow_schema, leaderboard, rows, score, write_scores

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
EDGE = ROOT / "tests" / "fixtures" / "parity_edge"


def cases() -> list[Path]:
    """Folders holding one .score model with its leads.csv and events.csv. A model with an
    account (a folder with accounts.csv) is compared on both entities, on every engine, by
    tests/test_accounts_cli.py."""
    folders = [
        f
        for f in sorted((ROOT / "examples").glob("*"))
        if (f / "leads.csv").exists() and not (f / "accounts.csv").exists()
    ]
    return [*folders, EDGE]


def model_file(folder: Path) -> Path:
    """The folder's only .score file, or `model.score` when it has several (imports)."""
    files = sorted(folder.glob("*.score"))
    return folder / "model.score" if len(files) > 1 else files[0]


@pytest.fixture(scope="module", params=cases(), ids=lambda folder: folder.name)
def case(request: pytest.FixtureRequest) -> tuple[ir.Model, Path, Path]:
    folder: Path = request.param
    compilation = compile_file(model_file(folder))
    assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
    return compilation.model, folder / "leads.csv", folder / "events.csv"


@pytest.fixture(scope="module")
def python_rows(case: tuple[ir.Model, Path, Path]) -> list[dict[str, Any]]:
    model, leads, events = case
    rows = score(model, "python", leads=leads, events=events, as_of=AS_OF)
    assert rows, "the parity data should have leads"
    return rows


def comparable(value: Any) -> Any:
    return ir.round_score(value) if isinstance(value, float) else value


def differences(
    model: ir.Model, expected: list[dict[str, Any]], actual: list[dict[str, Any]]
) -> list[str]:
    """Every cell that differs, as `key.column: python=... engine=...`."""
    if [r[model.key] for r in expected] != [r[model.key] for r in actual]:
        return [
            f"different leads: {[r[model.key] for r in expected]} vs {[r[model.key] for r in actual]}"
        ]
    found = []
    for want, got in zip(expected, actual, strict=True):
        assert list(got) == list(model.output_columns)
        for column in model.output_columns:
            a, b = comparable(want[column]), comparable(got[column])
            if a != b or type(a) is not type(b):
                found.append(
                    f"{want[model.key]}.{column}: python={want[column]!r} engine={got[column]!r}"
                )
    return found


def test_duckdb_matches_python(
    case: tuple[ir.Model, Path, Path], python_rows: list[dict[str, Any]]
) -> None:
    model, leads, events = case
    rows = score(model, "duckdb", leads=leads, events=events, as_of=AS_OF)
    assert differences(model, python_rows, rows) == []


def test_postgres_matches_python(
    case: tuple[ir.Model, Path, Path], python_rows: list[dict[str, Any]], pg_url: str
) -> None:
    model, leads, events = case
    rows = score(model, "postgres", leads=leads, events=events, database=pg_url, as_of=AS_OF)
    assert differences(model, python_rows, rows) == []


def test_edge_fixture_exercises_its_cases() -> None:
    """Guards the fixture itself: if a rule stops firing anywhere, parity proves less."""
    compilation = compile_file(model_file(EDGE))
    assert compilation.model is not None
    model = compilation.model
    rows = {
        r["id"]: r
        for r in score(
            model, "python", leads=EDGE / "leads.csv", events=EDGE / "events.csv", as_of=AS_OF
        )
    }
    fired = {
        column
        for row in rows.values()
        for column in model.output_columns[1:]
        if row[column] not in (0.0, False, None)
    }
    silent = [rule.id for s in model.scores for rule in s.rules if rule.id not in fired]
    assert silent == []
    assert len({row["leaders"] for row in rows.values()}) == 3


@pytest.mark.parametrize("engine", ["python", "duckdb", "postgres"])
def test_written_files_hold_the_same_rows(
    case: tuple[ir.Model, Path, Path],
    python_rows: list[dict[str, Any]],
    engine: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """`score --out`: the engine writes the file itself, typed and in lead-key order."""
    model, leads, events = case
    database = request.getfixturevalue("pg_url") if engine == "postgres" else None
    for out in (tmp_path / "scores.parquet", tmp_path / "scores.csv"):
        count = write_scores(
            model, engine, out, leads=leads, events=events, database=database, as_of=AS_OF
        )
        assert count == len(python_rows)
    table = pq.read_table(tmp_path / "scores.parquet")
    types = [(field.name, field.type) for field in arrow_schema(model)]
    assert [(field.name, field.type) for field in table.schema] == types
    assert differences(model, python_rows, table.to_pylist()) == []
    with (tmp_path / "scores.csv").open(newline="") as handle:
        header, *lines = csv.reader(handle)
    assert header == list(model.output_columns)
    assert [line[0] for line in lines] == [str(row[model.key]) for row in python_rows]


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_the_leaderboard_ranks_and_counts_as_python_does(
    case: tuple[ir.Model, Path, Path],
    python_rows: list[dict[str, Any]],
    engine: str,
    request: pytest.FixtureRequest,
) -> None:
    """The SQL engines rank and count; ties in key order and missing scores last."""
    model, leads, events = case
    database = request.getfixturevalue("pg_url") if engine == "postgres" else None
    for by in (*model.score_names, None):
        got = leaderboard(
            model, engine, by, 7, leads=leads, events=events, database=database, as_of=AS_OF
        )
        want = rows.leaderboard(model, python_rows, by, 7)
        assert (got.leads, got.flags) == (want.leads, want.flags)
        assert differences(model, want.best, got.best) == []
