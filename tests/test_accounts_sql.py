"""Accounts in SQL (compiler/plan.py's account phases, targets/sql): the `<model>_scores` and
`<model>_account_scores` views of a hand-built account model, executed on DuckDB and
Postgres, equal to the rows worked out by hand (tests/accounts_sql_fixture.py); several
instants in one query; the plan's steps; golden SQL per dialect."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from accounts_sql_fixture import (
    ACCOUNTS,
    AS_OF,
    EVENTS,
    EXPECTED_ACCOUNTS,
    EXPECTED_LEADS,
    LEADS,
    build_model,
    python_rows,
)
from scorelang.compiler import ir
from scorelang.compiler.plan import AccountLookup, Group, Join, Ranked, RollUp, Scan, build_plan
from scorelang.targets.sql import DIALECTS, render_ddl
from scorelang.targets.sql.builder import build_views, select_account_scores, select_scores
from sql_fixture import SQL_TYPES
from test_dbt import dbt

from scorelang.config import SourceMapping

GOLDEN = Path(__file__).resolve().parent / "golden" / "accounts"
UPDATE = os.environ.get("SCORELANG_UPDATE_GOLDEN") == "1"
BIGQUERY_SOURCES = SourceMapping(schema="my-project.analytics")
__all__ = ["dbt"]  # test_dbt's fixture: the dbt executable


def tables(model: ir.Model) -> dict[str, dict[str, ir.Type]]:
    """The accounts, leads and events tables' columns with their IR types."""
    assert model.account is not None
    events = {"lead_id": ir.Type.STRING, "event_type": ir.Type.STRING}
    events["occurred_at"] = ir.Type.TIMESTAMP
    for event_type in model.event_types:
        events |= {p.name: p.type for p in event_type.properties}
    return {
        "accounts": {f.name: f.type for f in model.account.fields},
        "leads": {f.name: f.type for f in model.lead_fields},
        "events": events,
    }


def load(
    execute: Any,
    dialect: str,
    model: ir.Model,
    rows: dict[str, list[dict[str, Any]]],
    schema: str | None = None,
) -> None:
    """CREATE and INSERT the three tables (test setup only)."""
    prefix = f'"{schema}".' if schema else ""
    mark = "?" if dialect == "duckdb" else "%s"
    for table, columns in tables(model).items():
        ddl = ", ".join(f'"{c}" {SQL_TYPES[dialect][t]}' for c, t in columns.items())
        execute(f'CREATE TABLE {prefix}"{table}" ({ddl})', None)
        names = ", ".join(f'"{c}"' for c in columns)
        insert = (
            f'INSERT INTO {prefix}"{table}" ({names}) VALUES ({", ".join([mark] * len(columns))})'
        )
        for row in rows[table]:
            execute(insert, [row.get(c) for c in columns])


FIXTURE = {"accounts": ACCOUNTS, "leads": LEADS, "events": EVENTS}


def lead_view(rows: list[dict[str, Any]]) -> dict[str, tuple]:
    fields = ("engagement", "fit", "total", "mql", "boost", "final")
    return {r["id"]: tuple(r[f] for f in fields) for r in rows}


def account_view(rows: list[dict[str, Any]]) -> dict[str, tuple]:
    fields = ("intent", "pipeline", "average", "best", "heat", "rank", "target")
    return {r["id"]: tuple(r[f] for f in fields) for r in rows}


def as_dicts(cursor: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def model() -> ir.Model:
    return build_model()


@pytest.fixture()
def duck(model: ir.Model) -> Iterator[Any]:
    import duckdb

    con = duckdb.connect()
    load(lambda sql, params: con.execute(sql, params), "duckdb", model, FIXTURE)
    yield con
    con.close()


def by_key(rows: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {next(iter(r.values())): r for r in rows}


def test_python_gives_the_rows_worked_out_by_hand(model: ir.Model) -> None:
    leads, accounts = python_rows(model)
    assert lead_view(list(leads.values())) == EXPECTED_LEADS
    assert account_view(list(accounts.values())) == EXPECTED_ACCOUNTS


def test_duckdb_views_equal_python_and_the_rows_worked_out_by_hand(
    duck: Any, model: ir.Model
) -> None:
    leads = as_dicts(duck.execute(select_scores(model, "duckdb", as_of=AS_OF).sql("duckdb")))
    assert lead_view(leads) == EXPECTED_LEADS
    assert list(leads[0]) == list(model.output_columns)
    query = select_account_scores(model, "duckdb", as_of=AS_OF).sql("duckdb")
    accounts = as_dicts(duck.execute(query))
    assert account_view(accounts) == EXPECTED_ACCOUNTS
    assert list(accounts[0]) == list(model.account_output_columns)
    assert (by_key(leads), by_key(accounts)) == python_rows(model)


@pytest.mark.postgres
def test_postgres_views_equal_the_rows_worked_out_by_hand(pg_url: str, model: ir.Model) -> None:
    import psycopg

    schema = f"accounts_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as pg:
        pg.execute(f'CREATE SCHEMA "{schema}"')
        try:
            load(lambda sql, p: pg.execute(sql, p), "postgres", model, FIXTURE, schema)
            mapping = SourceMapping(schema=schema)
            for select, expected in zip(
                (select_scores, select_account_scores), python_rows(model), strict=True
            ):
                query = select(model, "postgres", as_of=AS_OF, mapping=mapping).sql("postgres")
                assert by_key(as_dicts(pg.execute(query))) == expected
            # The deployable DDL creates both views.
            ddl = render_ddl(model, "postgres", as_of=AS_OF, mapping=mapping, schema=schema)
            pg.execute(ddl)
            read = pg.execute(f'SELECT * FROM "{schema}"."abm_sql_account_scores"')
            assert account_view(as_dicts(read)) == EXPECTED_ACCOUNTS
        finally:
            pg.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_one_query_evaluates_several_instants_per_account(duck: Any, model: ir.Model) -> None:
    earlier = datetime(2025, 12, 28, 12, tzinfo=AS_OF.tzinfo)
    for select in (select_scores, select_account_scores):
        both = as_dicts(duck.execute(select(model, "duckdb", as_of=[AS_OF, earlier]).sql("duckdb")))
        for instant in (AS_OF, earlier):
            alone = as_dicts(duck.execute(select(model, "duckdb", as_of=instant).sql("duckdb")))
            mine = [
                {k: v for k, v in r.items() if k != "as_of"}
                for r in both
                if r["as_of"] == instant.replace(tzinfo=None)
            ]
            key = model.key
            assert sorted(mine, key=lambda r: r[key]) == sorted(alone, key=lambda r: r[key])
    # The instants differ: fewer views a few days earlier.
    assert as_dicts(
        duck.execute(select_account_scores(model, "duckdb", as_of=earlier).sql("duckdb"))
    ) != as_dicts(duck.execute(select_account_scores(model, "duckdb", as_of=AS_OF).sql("duckdb")))


def test_the_plan_rolls_leads_up_then_looks_accounts_up(model: ir.Model) -> None:
    plan = build_plan(model)
    kinds = [(type(s).__name__, s.name, s.entity) for s in plan.steps]
    (scan,) = (s for s in plan.steps if isinstance(s, Scan))
    assert scan.accounts  # one scan of events for both entities: a distinct count per account
    groups = {s.entity: s for s in plan.steps if isinstance(s, Group)}
    assert [a.id for a in groups[ir.ACCOUNT].aggregates] == ["account_urls"]
    # account counts are their leads' counts summed: computed per lead, then rolled up
    assert [a.id for a in groups[ir.LEAD].aggregates] == [
        "views",
        "account_views",
        "account_clicks",
    ]
    (ranked,) = (s for s in plan.steps if isinstance(s, Ranked))
    (rolled,) = (s for s in plan.steps if isinstance(s, RollUp))
    (lookup,) = (s for s in plan.steps if isinstance(s, AccountLookup))
    joins = [s for s in plan.steps if isinstance(s, Join)]
    assert [j.entity for j in joins] == [ir.LEAD, ir.ACCOUNT]
    assert joins[0].account_fields == ("industry",)  # fit reads account.industry
    assert joins[1].fields == ("id", "industry")
    assert [r.func for r in rolled.rollups] == [
        "count",
        "avg",
        "count_distinct",
        "sum",
        "avg",
        "max",
    ]
    assert [r.top for r in ranked.rollups] == [2]
    assert [a.id for a in rolled.aggregates] == ["account_views", "account_clicks"]
    assert lookup.outputs == ("heat", "target")
    order = [name for _, name, _ in kinds]
    assert order.index("derived_2") < order.index(ranked.name) < order.index(rolled.name)
    assert order.index(rolled.name) < order.index("account_accounts") < order.index(lookup.name)
    assert plan.final(ir.LEAD).name == "phase2_derived_1"
    assert plan.final(ir.ACCOUNT).name == "account_derived_2"


def test_a_model_with_an_account_has_two_views(model: ir.Model) -> None:
    views = build_views(model, "duckdb", as_of=AS_OF)
    assert [v.name for v in views] == ["abm_sql_scores", "abm_sql_account_scores"]


def test_without_an_account_there_is_no_account_view(model: ir.Model) -> None:
    from dataclasses import replace

    plain = replace(model, account=None, account_link=None)
    with pytest.raises(ValueError, match="declares no account"):
        select_account_scores(plain, "duckdb")


def golden_mapping(dialect: str) -> SourceMapping:
    return BIGQUERY_SOURCES if dialect == "bigquery" else SourceMapping()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_golden_sql(model: ir.Model, dialect: str) -> None:
    sql = render_ddl(model, dialect, as_of=AS_OF, mapping=golden_mapping(dialect))
    golden = GOLDEN / f"{model.name}.{dialect}.sql"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(sql)
    assert golden.exists(), f"no golden file {golden.name}; run with SCORELANG_UPDATE_GOLDEN=1"
    assert sql == golden.read_text(), (
        f"{golden.name} differs; review, then SCORELANG_UPDATE_GOLDEN=1"
    )
    statements = sqlglot.parse(sql, read=dialect)
    assert len([s for s in statements if s is not None]) == 2


def test_dbt_writes_a_model_per_view_and_the_accounts_source(
    model: ir.Model, tmp_path: Path
) -> None:
    import json

    from scorelang.dbt import write_project

    write_project([model], tmp_path, adapter="duckdb", mapping=SourceMapping())
    models = tmp_path / "models"
    account_sql = (models / "abm_sql_account_scores.sql").read_text()
    assert '{{ source("scorelang", "accounts") }}' in account_sql
    assert (models / "abm_sql_scores.sql").exists()
    (source,) = json.loads((models / "sources.yml").read_text())["sources"]
    assert [t["name"] for t in source["tables"]] == ["leads", "events", "accounts"]
    described = json.loads((models / "schema.yml").read_text())["models"]
    assert [m["name"] for m in described] == ["abm_sql_scores", "abm_sql_account_scores"]
    assert [c["name"] for c in described[1]["columns"]] == list(model.account_output_columns)
    assert [c["name"] for c in described[0]["columns"]] == list(model.output_columns)


def test_each_step_renders_as_its_own_view(duck: Any, model: ir.Model) -> None:
    """One view per step, in plan order: the final lead and account steps give the views'
    rows (a dbt model or a columnar executor per step reads them so)."""
    from scorelang.targets.sql.builder import select_step, step_relations

    relations = dict(step_relations(model, "duckdb", as_of=AS_OF))
    for step in relations:
        name, select = select_step(model, "duckdb", step, as_of=AS_OF)
        duck.execute(f'CREATE VIEW "{name}" AS {select.sql(dialect="duckdb")}')
    plan = build_plan(model, [AS_OF])
    leads, accounts = python_rows(model)
    scores = [c for c in model.output_columns if c in {*model.score_names, "mql"}]
    read = duck.execute(f'SELECT * FROM "{relations[plan.final(ir.LEAD).name]}"')
    assert {r[model.key]: tuple(r[c] for c in scores) for r in as_dicts(read)} == {
        k: tuple(r[c] for c in scores) for k, r in leads.items()
    }
    names = ("intent", "pipeline", "average", "best", "heat", "rank", "target")
    read = duck.execute(f'SELECT * FROM "{relations[plan.final(ir.ACCOUNT).name]}"')
    assert {r["id"]: tuple(r[c] for c in names) for r in as_dicts(read)} == {
        k: tuple(r[c] for c in names) for k, r in accounts.items()
    }


def test_the_account_key_reads_as_a_field_from_both_entities(duck: Any, model: ir.Model) -> None:
    """`id == "A1"` in an account score is the account's key; `account.id` from a lead, its
    account's (missing without one)."""
    from dataclasses import replace

    string = ir.Type.STRING
    own = ir.Compare("==", ir.AccountField("id", string), ir.Literal("A1", string))
    theirs = ir.Compare("==", ir.AccountField("id", string), ir.Literal("A2", string))
    keyed = replace(
        model,
        scores=(
            *model.scores,
            ir.Score("own", None, (ir.WhenRule("own__r1", "own", own, 3),), entity=ir.ACCOUNT),
            ir.Score("theirs", None, (ir.WhenRule("theirs__r1", "theirs", theirs, 4),)),
        ),
    )
    leads, accounts = python_rows(keyed)
    assert [k for k, r in accounts.items() if r["own"]] == ["A1"]
    assert [k for k, r in leads.items() if r["theirs"]] == ["l4"]
    for select, expected in zip(
        (select_scores, select_account_scores), (leads, accounts), strict=True
    ):
        query = select(keyed, "duckdb", as_of=AS_OF).sql("duckdb")
        assert by_key(as_dicts(duck.execute(query))) == expected


def test_dbt_build_of_the_abm_example_matches_python(dbt: str, tmp_path: Path) -> None:
    """`scorelang dbt` on examples/abm, `dbt build` with dbt-duckdb (its lead test block a
    unit test, given an empty accounts table; the account blocks noted): both built views
    equal the Python evaluator's rows."""
    from scorelang.compiler.frontend import compile_file
    from test_dbt import build, write_project

    from scorelang.config import load_config
    from scorelang.data import load_duckdb
    from scorelang.engines import duckdb as duck
    from scorelang.engines import score

    folder = Path(__file__).resolve().parent.parent / "examples" / "abm"
    files = {n: folder / f"{n}.csv" for n in ("leads", "events", "accounts")}
    model = compile_file(folder / "model.score").model
    assert model is not None
    mapping = load_config(folder / "scorelang.toml").sources
    database = tmp_path / "warehouse.duckdb"
    with duck.connect(database) as con:
        load_duckdb(
            con, model, files["leads"], files["events"], mapping, accounts=files["accounts"]
        )
    project = tmp_path / "project"
    write_project(folder / "model.score", project, "duckdb", "view", folder / "scorelang.toml")
    statuses = build(dbt, project, {"type": "duckdb", "path": str(database), "schema": "main"})
    assert [s for k, s in statuses.items() if k.startswith("unit_test.")] == ["pass"]
    with duck.connect(database, read_only=True) as con:
        for entity, view in ((ir.LEAD, "abm_scores"), (ir.ACCOUNT, "abm_account_scores")):
            built = by_key(as_dicts(con.execute(f'SELECT * FROM main."{view}"')))
            expected = score(model, "python", as_of=AS_OF, mapping=mapping, entity=entity, **files)
            assert built == by_key(expected), view
