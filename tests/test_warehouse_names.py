"""Names as each warehouse resolves them, checked on the emitted SQL itself: fakesnow runs on
DuckDB and ignores identifier case, so only the text shows that Snowflake output is written
as users write their DDL; BigQuery refuses a view whose sources lack a dataset.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file
from scorelang.targets.sql import UnsupportedConstruct, render_ddl
from scorelang.targets.sql.names import unquoted_ok
from sqlglot import exp
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.config import ConfigError, SourceMapping

ROOT = Path(__file__).resolve().parent.parent
B2B = ROOT / "examples" / "b2b_saas" / "model.score"
runner = CliRunner()


def model_of(path: Path) -> ir.Model:
    model = compile_file(path).model
    assert model is not None
    return model


def identifiers(sql: str, dialect: str) -> list[exp.Identifier]:
    return [i for s in sqlglot.parse(sql, read=dialect) for i in s.find_all(exp.Identifier)]


def test_snowflake_writes_plain_names_bare() -> None:
    sql = render_ddl(model_of(B2B), "snowflake", mapping=SourceMapping(schema="raw"))
    assert "CREATE OR REPLACE VIEW b2b_saas_scores AS" in sql
    assert "FROM raw.events AS e" in sql and "FROM raw.leads AS l" in sql
    assert "e.occurred_at" in sql
    assert '"' not in sql  # every name in this model is plain


def test_snowflake_quotes_reserved_and_unusual_names() -> None:
    mapping = SourceMapping(event_type="select", events_table="events$2024")
    sql = render_ddl(model_of(B2B), "snowflake", mapping=mapping)
    assert 'e."select" AS event_type' in sql
    assert "FROM events$2024 AS e" in sql
    assert not unquoted_ok("order") and not unquoted_ok("lead-id") and unquoted_ok("Fit$1")


def test_snowflake_exact_case_quotes_every_name() -> None:
    sql = render_ddl(model_of(B2B), "snowflake", mapping=SourceMapping(snowflake_exact_case=True))
    assert all(i.quoted for i in identifiers(sql, "snowflake"))
    assert 'FROM "events" AS "e"' in sql


def test_snowflake_outputs_differing_only_by_case_are_refused(tmp_path: Path) -> None:
    """Bare, `Fit` and `fit` are one column in Snowflake; exact case keeps them apart."""
    copy = tmp_path / "cased.score"
    copy.write_text(
        "model cased\n"
        "lead { id: string key  employees: int? }\n"
        "score Fit { when employees > 10: +1 }\n"
        "score fit { when employees > 100: +1 }\n"
    )
    compilation = compile_file(copy)
    assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
    with pytest.raises(UnsupportedConstruct) as refused:
        render_ddl(compilation.model, "snowflake")
    assert "same name ignoring case" in str(refused.value.diagnostic)
    render_ddl(compilation.model, "snowflake", mapping=SourceMapping(snowflake_exact_case=True))


def test_config_switch_must_be_a_boolean() -> None:
    with pytest.raises(ConfigError, match="snowflake_exact_case"):
        SourceMapping(snowflake_exact_case="yes")  # type: ignore[arg-type]


def test_bigquery_without_a_dataset_is_an_error_naming_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"schema = .*\[sources\].*--source-schema"):
        render_ddl(model_of(B2B), "bigquery")


def test_bigquery_views_qualify_every_source_and_view() -> None:
    sql = render_ddl(model_of(B2B), "bigquery", mapping=SourceMapping(schema="proj-1.raw"))
    tables = [t for s in sqlglot.parse(sql, read="bigquery") for t in s.find_all(exp.Table)]
    named = {t.name for t in tables if t.name in ("leads", "events", "b2b_saas_scores")}
    assert named == {"leads", "events", "b2b_saas_scores"}
    for table in tables:
        if table.name in named:
            assert (table.catalog, table.db) == ("proj-1", "raw"), table.sql("bigquery")
    # --schema places the views; the sources keep their dataset.
    placed = render_ddl(
        model_of(B2B), "bigquery", mapping=SourceMapping(schema="raw"), schema="scoring"
    )
    assert "CREATE OR REPLACE VIEW `scoring`.`b2b_saas_scores`" in placed
    assert "FROM `raw`.`events`" in placed


def test_cli_compile_bigquery_names_the_missing_dataset() -> None:
    result = runner.invoke(app, ["compile", str(B2B), "--target", "bigquery"])
    assert result.exit_code == 1
    assert "--source-schema" in result.output and "Traceback" not in result.output
    result = runner.invoke(
        app, ["compile", str(B2B), "--target", "bigquery", "--source-schema", "proj.raw"]
    )
    assert result.exit_code == 0, result.output
    assert "FROM `proj`.`raw`.`leads`" in result.output


def test_cli_apply_bigquery_names_the_missing_dataset() -> None:
    result = runner.invoke(app, ["apply", str(B2B), "--database", "bigquery://proj"])
    assert result.exit_code == 1
    assert "--source-schema" in result.output and "Traceback" not in result.output
