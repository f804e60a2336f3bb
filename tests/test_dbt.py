"""dbt parity, executed: `scorelang dbt` writes a project for every example and the parity
edge fixture, `dbt build` runs it (models and data tests) with dbt-duckdb and dbt-postgres,
and the built scores must equal the Python evaluator's to the cent.

dbt lives in its own virtualenv (scripts/dbt-venv prints its `dbt`; scripts/test exports
it as SCORELANG_DBT). Without the variable these tests skip locally and fail in CI.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from scorelang.compiler import ir
from test_parity import AS_OF, case, differences, python_rows
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.config import DEFAULT_SOURCES, SourceMapping
from scorelang.data import load_duckdb
from scorelang.engines import duckdb as duck
from scorelang.engines import postgres as pg_engine
from scorelang.engines.rows import sort_rows, to_rows

__all__ = ["case", "python_rows"]  # test_parity's fixtures: the same cases and expected rows

HOW = "run `export SCORELANG_DBT=$(scripts/dbt-venv)` to include them"


@pytest.fixture(scope="session")
def dbt() -> str:
    executable = os.environ.get("SCORELANG_DBT")
    if executable and os.access(executable, os.X_OK):
        return executable
    reason = f"SCORELANG_DBT={executable!r} is not an executable" if executable else "unset"
    if os.environ.get("CI"):
        pytest.fail(f"dbt tests cannot run in CI: SCORELANG_DBT {reason}")
    pytest.skip(f"dbt tests skipped: SCORELANG_DBT {reason}; {HOW}")


def write_project(
    model_file: Path, out: Path, adapter: str, materialized: str, config: Path | None = None
) -> None:
    """`scorelang dbt` as a user runs it, pinned to the parity instant."""
    options = ["--adapter", adapter, "--materialized", materialized, "--as-of", AS_OF.isoformat()]
    if config is not None:
        options += ["--config", str(config)]
    result = CliRunner().invoke(app, ["dbt", str(model_file), "--out", str(out), *options])
    assert result.exit_code == 0, result.output


def build(dbt: str, project: Path, profile: dict[str, Any]) -> None:
    """`dbt build`: the models, then their data tests; a failure shows dbt's log."""
    profiles = {"scorelang_scores": {"target": "test", "outputs": {"test": profile}}}
    (project / "profiles.yml").write_text(json.dumps(profiles))
    done = subprocess.run(
        [dbt, "build", "--project-dir", str(project), "--profiles-dir", str(project)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def model_file(model: ir.Model, leads: Path) -> Path:
    files = sorted(leads.parent.glob("*.score"))
    return leads.parent / "model.score" if len(files) > 1 else files[0]


def test_dbt_build_on_duckdb_matches_python(
    dbt: str,
    case: tuple[ir.Model, Path, Path],
    python_rows: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    model, leads, events = case
    database = tmp_path / "warehouse.duckdb"
    with duck.connect(database) as con:
        load_duckdb(con, model, leads, events, DEFAULT_SOURCES)
    project = tmp_path / "project"
    write_project(model_file(model, leads), project, "duckdb", "view")
    build(dbt, project, {"type": "duckdb", "path": str(database), "schema": "main"})
    with duck.connect(database, read_only=True) as con:
        cursor = con.execute(f'SELECT * FROM main."{model.name}_scores"')
        names = [d[0] for d in cursor.description]
        rows = sort_rows(model, to_rows(model, names, cursor.fetchall()))
    assert differences(model, python_rows, rows) == []


def test_dbt_build_on_postgres_matches_python(
    dbt: str,
    case: tuple[ir.Model, Path, Path],
    python_rows: list[dict[str, Any]],
    pg_url: str,
    tmp_path: Path,
) -> None:
    model, leads, events = case
    schema = f"dbt_{uuid.uuid4().hex[:12]}"
    mapping = dataclasses.replace(SourceMapping(), schema=schema)
    with pg_engine.connect(pg_url) as pg:
        pg.execute(f'CREATE SCHEMA "{schema}"')
        pg_engine.load_postgres(pg, model, leads, events, mapping, temporary=False)
        pg.commit()
    try:
        project = tmp_path / "project"
        config = tmp_path / "scorelang.toml"
        config.write_text(f'[sources]\nschema = "{schema}"\n')
        write_project(model_file(model, leads), project, "postgres", "table", config)
        build(dbt, project, postgres_profile(pg_url, schema))
        with pg_engine.connect(pg_url) as pg:
            cursor = pg.execute(f'SELECT * FROM "{schema}"."{model.name}_scores"')
            names = [d.name for d in cursor.description or ()]
            rows = sort_rows(model, to_rows(model, names, cursor.fetchall()))
    finally:
        with psycopg.connect(pg_url, autocommit=True) as pg:
            pg.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    assert differences(model, python_rows, rows) == []


def postgres_profile(url: str, schema: str) -> dict[str, Any]:
    """dbt-postgres's profile for a libpq URL (a socket directory in `host=` works as host)."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return {
        "type": "postgres",
        "host": query.get("host", parts.hostname or "localhost"),
        "port": int(query.get("port", parts.port or 5432)),
        "user": parts.username or os.environ.get("USER", "postgres"),
        "password": parts.password or "",
        "dbname": parts.path.lstrip("/"),
        "schema": schema,
        "threads": 1,
    }


def test_dbt_refuses_a_mapping_key_no_model_declares(tmp_path: Path) -> None:
    """Like compile and apply: a [sources.columns] typo is an error, never an ignored key."""
    config = tmp_path / "scorelang.toml"
    config.write_text('[sources.columns]\njobtitle = "Job Title"\n')
    model = Path(__file__).parent.parent / "examples" / "b2b_saas" / "model.score"
    result = CliRunner().invoke(
        app, ["dbt", str(model), "--out", str(tmp_path / "project"), "--config", str(config)]
    )
    assert result.exit_code == 1
    assert "maps 'jobtitle', which is not a lead field or event property" in result.output
    assert "job_title" in result.output  # did you mean
    assert not (tmp_path / "project").exists()
