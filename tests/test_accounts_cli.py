"""Accounts through the engines and `scorelang score`: an accounts file scored on Python,
DuckDB and Postgres gives the rows worked out by hand (tests/accounts_sql_fixture.py), through a CRM
export's headers too; the command prints and writes both entities and refuses what cannot
work with a clear message.

Until the front end parses `account { ... }`, the command's model is the fixture's IR (the
compiler is stubbed to return it); everything after compiling is the real command."""

from __future__ import annotations

import csv
import os
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from accounts_sql_fixture import (
    ACCOUNTS,
    AS_OF,
    EVENTS,
    EXPECTED_ACCOUNTS,
    EXPECTED_LEADS,
    LEADS,
    build_model,
)
from scorelang.compiler import frontend, ir
from typer.testing import CliRunner

from scorelang import engines
from scorelang.cli import app
from scorelang.config import load_config
from scorelang.data import DataError

MODEL = build_model()
ACCOUNT_COLUMNS = ("intent", "pipeline", "average", "best", "heat", "rank", "target")
LEAD_COLUMNS = ("engagement", "fit", "total", "mql", "boost", "final")
CRM = {"id": "Account ID", "name": "Company", "industry": "Industry (SIC)", "employees": "# Emp"}
CRM_TOML = "[sources.entities.account.columns]\n" + "".join(
    f'{field} = "{column}"\n' for field, column in CRM.items()
)


def cell(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def write(path: Path, rows: list[dict[str, Any]], header: dict[str, str] | None = None) -> Path:
    names = list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([(header or {}).get(n, n) for n in names])
        writer.writerows([cell(row[n]) for n in names] for row in rows)
    return path


def files(folder: Path, header: dict[str, str] | None = None) -> dict[str, Path]:
    return {
        "leads": write(folder / "leads.csv", LEADS),
        "events": write(folder / "events.csv", EVENTS),
        "accounts": write(folder / "accounts.csv", ACCOUNTS, header),
    }


def engine_params() -> list[Any]:
    postgres = os.environ.get("SCORELANG_PG_URL")
    skip = pytest.mark.skip(reason="SCORELANG_PG_URL is not set")
    return [
        pytest.param("python", None, id="python"),
        pytest.param("duckdb", None, id="duckdb"),
        pytest.param("postgres", postgres, id="postgres", marks=[] if postgres else [skip]),
    ]


def account_values(rows: list[dict[str, Any]]) -> dict[str, tuple]:
    return {row["id"]: tuple(row[c] for c in ACCOUNT_COLUMNS) for row in rows}


def lead_values(rows: list[dict[str, Any]]) -> dict[str, tuple]:
    return {row["id"]: tuple(row[c] for c in LEAD_COLUMNS) for row in rows}


@pytest.mark.parametrize(("engine", "database"), engine_params())
def test_engines_score_accounts_from_files(engine, database, tmp_path):
    given = files(tmp_path)
    reports = []
    leads = engines.score(
        MODEL, engine, database=database, as_of=AS_OF, on_load=reports.append, **given
    )
    accounts = engines.score(
        MODEL, engine, database=database, as_of=AS_OF, entity=ir.ACCOUNT, **given
    )
    assert lead_values(leads) == EXPECTED_LEADS
    assert account_values(accounts) == EXPECTED_ACCOUNTS
    assert list(accounts[0]) == list(MODEL.account_output_columns)
    (report,) = reports
    assert (report.accounts, report.unknown_account_leads) == (3, 1)  # l6 names ZZ


@pytest.mark.parametrize(("engine", "database"), engine_params())
def test_a_crm_export_scores_alike_through_the_mapping(engine, database, tmp_path):
    (tmp_path / "scorelang.toml").write_text(CRM_TOML)
    mapping = load_config(tmp_path / "scorelang.toml").sources
    given = files(tmp_path, CRM)
    rows = engines.score(
        MODEL, engine, database=database, as_of=AS_OF, mapping=mapping, entity=ir.ACCOUNT, **given
    )
    assert account_values(rows) == EXPECTED_ACCOUNTS
    out = tmp_path / "accounts.parquet"
    count = engines.write_scores(
        MODEL, engine, out, database=database, as_of=AS_OF, mapping=mapping, entity=ir.ACCOUNT,
        **given,
    )  # fmt: skip
    assert count == 3
    board = engines.leaderboard(
        MODEL, engine, "intent", 2, database=database, as_of=AS_OF, mapping=mapping,
        entity=ir.ACCOUNT, **given,
    )  # fmt: skip
    assert (board.leads, board.flags) == (3, {"target": 1})
    assert [row["id"] for row in board.best] == ["A1", "A2"]


def test_engine_errors_name_what_to_give(tmp_path):
    given = files(tmp_path)
    without = {"leads": given["leads"], "events": given["events"]}
    with pytest.raises(DataError, match="scores accounts: give the accounts file with --accounts"):
        engines.score(MODEL, "duckdb", as_of=AS_OF, **without)
    plain = ir.Model("plain", None, "id", MODEL.lead_fields, MODEL.event_types, (), ())
    with pytest.raises(DataError, match="model plain declares no account: it has no account"):
        engines.score(plain, "duckdb", as_of=AS_OF, entity=ir.ACCOUNT, **without)


# ---- the command --------------------------------------------------------------------------


@pytest.fixture
def account_model(monkeypatch, tmp_path) -> Path:
    """A model file whose compilation is the fixture's IR (see the module docstring)."""
    path = tmp_path / "abm.score"
    path.write_text("# the fixture's model\n")
    compiled = SimpleNamespace(model=MODEL, diagnostics=[], sources={})
    monkeypatch.setattr(frontend, "compile_file", lambda _path: compiled)
    return path


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_score_prints_the_best_leads_and_accounts(account_model, tmp_path):
    given = files(tmp_path)
    result = run(
        "score", account_model, "--leads", given["leads"], "--events", given["events"],
        "--accounts", given["accounts"], "--as-of", "2026-01-01T00:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "abm_sql: top 6 of 6 leads by final" in result.output
    assert "abm_sql: top 3 of 3 accounts by best" in result.output
    assert "6 leads scored; mql: 3" in result.output
    assert "3 accounts scored; target: 1" in result.output
    assert "1 leads name an account key absent from the accounts file" in result.output


def test_score_writes_the_accounts_file(account_model, tmp_path):
    given = files(tmp_path)
    out, account_out = tmp_path / "leads_out.csv", tmp_path / "accounts_out.csv"
    result = run(
        "score", account_model, "--leads", given["leads"], "--events", given["events"],
        "--accounts", given["accounts"], "--as-of", "2026-01-01T00:00:00Z", "--out", out,
        "--account-out", account_out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "scored 3 accounts with duckdb as of 2026-01-01T00:00:00Z" in result.output
    with account_out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(MODEL.account_output_columns)
    assert [(r["id"], r["intent"], r["heat"]) for r in rows] == [
        ("A1", "100.0", "hot"),
        ("A2", "14.0", "cold"),
        ("A3", "0.0", "cold"),
    ]


def test_score_without_the_accounts_file_says_which_flag_and_key(account_model, tmp_path):
    given = files(tmp_path)
    result = run(
        "score", account_model, "--leads", given["leads"], "--events", given["events"],
        "--as-of", "2026-01-01T00:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "give the accounts file with --accounts FILE" in result.output
    assert "[sources.entities.account]" in result.output


def test_score_refuses_a_missing_account_column_and_a_toml_typo(account_model, tmp_path):
    given = files(tmp_path, {"id": "AccountId"})
    args = ["--leads", given["leads"], "--events", given["events"], "--accounts"]
    result = run("score", account_model, *args, given["accounts"])
    assert result.exit_code == 1
    assert "missing required column 'id' for account field id" in result.output
    config = tmp_path / "typo.toml"
    config.write_text('[sources.entities.account.columns]\nindustri = "Industry"\n')
    result = run("score", account_model, *args, given["accounts"], "--config", config)
    assert result.exit_code == 1
    assert "maps 'industri', which is not an account field" in result.output
    assert "did you mean `industry`?" in result.output


def test_account_options_on_a_model_without_an_account_are_usage_errors(tmp_path):
    model = Path(__file__).resolve().parent.parent / "examples" / "b2b_saas" / "model.score"
    folder = model.parent
    result = run(
        "score", model, "--leads", folder / "leads.csv", "--events", folder / "events.csv",
        "--account-out", tmp_path / "a.csv",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "declares no account" in result.output
    accounts = write(tmp_path / "accounts.csv", ACCOUNTS)
    result = run(
        "score", model, "--leads", folder / "leads.csv", "--events", folder / "events.csv",
        "--accounts", accounts,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "model b2b_saas declares no account, so it reads no accounts file" in result.output
