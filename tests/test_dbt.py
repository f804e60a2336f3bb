"""dbt parity, executed: `scorelang dbt` writes a project for every example and the parity
edge fixture, `dbt build` runs it (the models' test blocks as unit tests, the models, their
data tests) with dbt-duckdb and dbt-postgres, and the built scores must equal the Python
evaluator's to the cent. The adapters not executed here (BigQuery, Snowflake, Spark and
Databricks) have golden model SQL that must parse in their dialect; the Spark models also
run on local Spark.

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
from test_spark import spark
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.config import DEFAULT_SOURCES, SourceMapping
from scorelang.data import load_duckdb
from scorelang.engines import duckdb as duck
from scorelang.engines import postgres as pg_engine
from scorelang.engines.rows import sort_rows, to_rows

__all__ = [
    "case",
    "python_rows",
    "spark",
]  # test_parity's fixtures: the same cases and expected rows

HOW = "run `export SCORELANG_DBT=$(scripts/dbt-venv)` to include them"
# Test blocks that are dbt unit tests, per model; ecommerce's 4th expects a percentile tier
# missing (a test's one lead has no batch to rank), which dbt's one-row batch would band.
EXPRESSIBLE = {"b2b_saas": 7, "advanced": 5, "ecommerce": 3, "velocity": 4, "edge": 0}


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


def build(dbt: str, project: Path, profile: dict[str, Any], fails: bool = False) -> dict[str, str]:
    """`dbt build`: unit tests, models, data tests; a failure shows dbt's log. Returns each
    node's status (run_results.json), keyed by its unique id."""
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
    assert (done.returncode != 0) == fails, done.stdout[-6000:] + done.stderr[-2000:]
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    return {result["unique_id"]: result["status"] for result in results}


def unit_tests_passed(model: ir.Model, statuses: dict[str, str], project: Path) -> None:
    """Every unit test written ran and passed, and the written ones are the test blocks
    dbt can express (the others have a note)."""
    written = project / "models" / "unit_tests.yml"
    tests = json.loads(written.read_text())["unit_tests"] if written.exists() else []
    ran = {k: v for k, v in statuses.items() if k.startswith("unit_test.")}
    assert sorted(ran) == sorted(
        f"unit_test.scorelang_scores.{t['model']}.{t['name']}" for t in tests
    )
    assert set(ran.values()) <= {"pass"}
    assert len(tests) == EXPRESSIBLE[model.name]


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
    statuses = build(dbt, project, {"type": "duckdb", "path": str(database), "schema": "main"})
    unit_tests_passed(model, statuses, project)
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
        statuses = build(dbt, project, postgres_profile(pg_url, schema))
        unit_tests_passed(model, statuses, project)
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


EXAMPLES = Path(__file__).parent.parent / "examples"


def test_a_unit_test_that_expects_another_score_fails_the_build(dbt: str, tmp_path: Path) -> None:
    """The unit tests check the scores: one expectation changed by a cent fails `dbt build`."""
    from scorelang.compiler.frontend import compile_file

    folder = EXAMPLES / "b2b_saas"
    model = compile_file(folder / "model.score").model
    assert model is not None
    database = tmp_path / "warehouse.duckdb"
    with duck.connect(database) as con:
        load_duckdb(con, model, folder / "leads.csv", folder / "events.csv", DEFAULT_SOURCES)
    project = tmp_path / "project"
    write_project(folder / "model.score", project, "duckdb", "view")
    written = project / "models" / "unit_tests.yml"
    text = written.read_text()
    assert '"engagement": 15.91' in text
    written.write_text(text.replace('"engagement": 15.91', '"engagement": 15.92'))
    profile = {"type": "duckdb", "path": str(database), "schema": "main"}
    statuses = build(dbt, project, profile, fails=True)
    failed = [k for k, v in statuses.items() if v == "fail"]
    assert failed == [
        "unit_test.scorelang_scores.b2b_saas_scores."
        "b2b_saas_vp_at_a_saas_company_who_just_looked_at_pricing"
    ]


def test_a_test_block_dbt_cannot_express_is_named_with_the_reason(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["dbt", str(EXAMPLES / "ecommerce" / "model.score"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (
        "note: test 'A new sign-up with no history' is not a dbt unit test: `expect priority "
        "is missing` is not an output's value (a dbt unit test compares cells for equality); "
        "run it with `scorelang test`" in " ".join(result.output.split())
    )
    tests = json.loads((tmp_path / "models" / "unit_tests.yml").read_text())["unit_tests"]
    assert len(tests) == EXPRESSIBLE["ecommerce"]


def test_incremental_is_refused_with_the_reason(tmp_path: Path) -> None:
    model = EXAMPLES / "b2b_saas" / "model.score"
    arguments = ["dbt", str(model), "--out", str(tmp_path / "p"), "--materialized", "incremental"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2
    assert "needs scorelang's score history" in " ".join(result.output.replace("│", "").split())
    assert not (tmp_path / "p").exists()


# ---- the adapters not executed here: golden model SQL, parsed in its dialect ----------------

GOLDEN = Path(__file__).parent / "golden" / "dbt"
UPDATE = os.environ.get("SCORELANG_UPDATE_GOLDEN") == "1"
# BigQuery reads its sources from a dataset; the others from the profile's schema.
GOLDEN_CONFIG = {"bigquery": '[sources]\nschema = "my-project.analytics"\n'}


def project_sql(project: Path) -> str:
    """The project's SQL: the macro, then each model."""
    files = [
        *sorted((project / "macros").glob("*.sql")),
        *sorted((project / "models").glob("*.sql")),
    ]
    return "".join(f"-- {f.parent.name}/{f.name}\n{f.read_text()}\n" for f in files)


def rendered(sql: str, schema: str | None) -> str:
    """A model as dbt renders it: sources as tables, scorelang_as_of() as the current time."""
    import jinja2

    def source(_source: str, name: str) -> str:
        return f"{schema}.{name}" if schema else name

    return (
        jinja2.Environment()
        .from_string(sql)
        .render(source=source, ref=lambda name: name, scorelang_as_of=lambda: "CURRENT_TIMESTAMP")
    )


@pytest.mark.parametrize("adapter", ["bigquery", "snowflake", "spark", "databricks"])
@pytest.mark.parametrize("example", ["advanced", "b2b_saas", "ecommerce"])
def test_golden_dbt_models_parse_in_their_dialect(
    example: str, adapter: str, tmp_path: Path
) -> None:
    import sqlglot

    from scorelang.dbt import ADAPTERS

    config = tmp_path / "scorelang.toml"
    config.write_text(GOLDEN_CONFIG.get(adapter, ""))
    project = tmp_path / "project"
    model = EXAMPLES / example / "model.score"
    arguments = ["dbt", str(model), "--out", str(project), "--adapter", adapter]
    result = CliRunner().invoke(app, [*arguments, "--config", str(config)])
    assert result.exit_code == 0, result.output
    sql = project_sql(project)
    golden = GOLDEN / f"{example}.{adapter}.sql"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(sql)
    assert sql == golden.read_text(), f"rewrite with SCORELANG_UPDATE_GOLDEN=1: {golden}"
    schema = "`my-project`.analytics" if adapter == "bigquery" else None
    for path in (project / "models").glob("*.sql"):
        statements = sqlglot.parse(rendered(path.read_text(), schema), read=ADAPTERS[adapter])
        assert len(statements) == 1 and isinstance(statements[0], sqlglot.exp.Select)


def test_databricks_models_run_on_local_spark_at_the_var_instant(
    spark: Any,
    case: tuple[ir.Model, Path, Path],
    python_rows: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    """The databricks adapter's model, rendered as dbt renders it with the var
    scorelang_as_of set (the macro's own Jinja), runs on local Spark over the files read by
    the Spark engine, and scores as the Python evaluator does at that instant."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    import jinja2

    from scorelang.engines.spark_files import load_spark

    model, leads, events = case
    project = tmp_path / "project"
    result = CliRunner().invoke(
        app,
        ["dbt", str(model_file(model, leads)), "--out", str(project), "--adapter", "databricks"],
    )
    assert result.exit_code == 0, result.output
    load_spark(spark, model, leads, events, SourceMapping())
    macro = (project / "macros" / "scorelang_as_of.sql").read_text()
    sql = (project / "models" / f"{model.name}_scores.sql").read_text()
    modules = SimpleNamespace(
        pytz=SimpleNamespace(utc=UTC), datetime=SimpleNamespace(datetime=datetime)
    )
    query = (
        jinja2.Environment()
        .from_string(macro + sql)
        .render(
            source=lambda _source, name: name,
            ref=lambda name: name,
            var=lambda _name, _default: AS_OF.isoformat().replace("+00:00", "Z"),
            modules=modules,
        )
    )
    assert "CURRENT_TIMESTAMP" not in query.split("macro %}")[-1].upper()
    result = spark.sql(query.strip()).toArrow()
    records = [tuple(row.values()) for row in result.to_pylist()]
    rows = sort_rows(model, to_rows(model, result.column_names, records))
    assert differences(model, python_rows, rows) == []
