"""Engines: scoring files and existing tables with DuckDB and Postgres, deploying views,
and the errors a user can meet on the way (cross-engine agreement at scale: test_parity.py)."""

from __future__ import annotations

import dataclasses
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg import sql
from scorelang.compiler import ir
from typer.testing import CliRunner, Result

from scorelang import engines
from scorelang.cli import app
from scorelang.config import SourceMapping
from scorelang.data import DataError, load_duckdb
from scorelang.engines.postgres import load_postgres

T = ir.Type
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
RECENT = ir.Count("recent_visits", ir.EventFilter(("visit",), window=ir.Window(0, 7 * 86400)))
MODEL = ir.Model(
    name="mini",
    description=None,
    key="id",
    lead_fields=(ir.FieldType("id", T.STRING), ir.FieldType("industry", T.STRING, optional=True)),
    event_types=(ir.EventType("visit", (ir.FieldType("url", T.STRING),)),),
    aggregates=(RECENT,),
    scores=(
        ir.Score(
            "fit",
            None,
            (
                ir.WhenRule(
                    "fit__saas",
                    "saas",
                    ir.Compare(
                        "==", ir.LeadField("industry", T.STRING), ir.Literal("saas", T.STRING)
                    ),
                    10.0,
                ),
            ),
            resets=(
                ir.ResetRule(
                    "fit__spam",
                    "spam",
                    ir.Compare(
                        "==", ir.LeadField("industry", T.STRING), ir.Literal("spam", T.STRING)
                    ),
                ),
            ),
        ),
        ir.Score(
            "engagement",
            None,
            (
                ir.EachRule(
                    "engagement__visits",
                    "visits",
                    ir.AggregateRef("recent_visits", T.INT),
                    1.5,
                    cap=3.0,
                ),
            ),
        ),
    ),
    tiers=(ir.Tier("stage", "fit", (("good", 10.0), ("meh", None))),),
    flags=(ir.Flag("hot", ir.Compare(">=", ir.ScoreRef("engagement"), ir.Literal(3, T.INT))),),
)
EXPECTED = [
    {
        "id": "a",
        "fit": 10.0,
        "engagement": 3.0,
        "stage": "good",
        "hot": True,
        "fit__saas": 10.0,
        "fit__spam": False,
        "engagement__visits": 3.0,
    },
    {
        "id": "b",
        "fit": 0.0,
        "engagement": 1.5,
        "stage": "meh",
        "hot": False,
        "fit__saas": 0.0,
        "fit__spam": False,
        "engagement__visits": 1.5,
    },
    {
        "id": "c",
        "fit": 0.0,
        "engagement": 0.0,
        "stage": "meh",
        "hot": False,
        "fit__saas": 0.0,
        "fit__spam": True,
        "engagement__visits": 0.0,
    },
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    # Leads out of key order: every engine returns rows sorted by key.
    (tmp_path / "leads.csv").write_text("id,industry\nc,spam\na,saas\nb,\n")
    (tmp_path / "events.csv").write_text(
        "lead_id,event_type,occurred_at,url\n"
        + "".join(f"a,visit,2025-12-3{d}T00:00:00Z,/p\n" for d in range(2))
        + "a,visit,2025-12-29T00:00:00Z,/p\nb,visit,2025-12-31T00:00:00Z,/p\nb,visit,2025-12-01T00:00:00Z,/old\n"
    )
    return tmp_path / "leads.csv", tmp_path / "events.csv"


def empty_database(folder: Path) -> str:
    path = folder / "empty.duckdb"
    duckdb.connect(str(path)).close()
    return str(path)


def mistyped_database(folder: Path) -> str:
    """Tables whose `industry` is an integer: the model compares it with strings."""
    path = folder / "mistyped.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE leads (id VARCHAR, industry INTEGER)")
        con.execute("INSERT INTO leads VALUES ('a', 1)")
        con.execute(
            "CREATE TABLE events (lead_id VARCHAR, event_type VARCHAR, occurred_at TIMESTAMP, url VARCHAR)"
        )
    return str(path)


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    """A fresh schema, dropped afterwards."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(pg_url) as pg:
        pg.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_engines_score_files_into_typed_sorted_rows(engine: str, files: tuple[Path, Path]) -> None:
    leads, events = files
    rows = engines.score(MODEL, engine, leads=leads, events=events, as_of=AS_OF)
    assert rows == EXPECTED
    assert [list(row) for row in rows] == [list(MODEL.output_columns)] * 3
    assert all(type(row["fit"]) is float and type(row["hot"]) is bool for row in rows)


@pytest.mark.parametrize("engine", ["python", "duckdb", "postgres"])
def test_engines_score_parquet_files_read_in_place(
    engine: str, files: tuple[Path, Path], request: pytest.FixtureRequest
) -> None:
    """Parquet files whose every event is kept are read in place (data.read_in_place), not
    copied: the same rows as from CSV."""
    parquet = []
    for csv in files:
        parquet.append(csv.with_suffix(".parquet"))
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}')) TO '{parquet[-1]}' (FORMAT parquet)")
    database = request.getfixturevalue("pg_url") if engine == "postgres" else None
    rows = engines.score(
        MODEL, engine, leads=parquet[0], events=parquet[1], database=database, as_of=AS_OF
    )
    assert rows == EXPECTED


def test_duckdb_scores_existing_tables_in_a_database_file(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    database = tmp_path / "crm.duckdb"
    mapping = SourceMapping(leads_table="people", schema="raw")
    with duckdb.connect(str(database)) as con:
        load_duckdb(con, MODEL, *files, mapping)
    assert (
        engines.score(MODEL, "duckdb", database=str(database), as_of=AS_OF, mapping=mapping)
        == EXPECTED
    )


def test_apply_creates_views_in_a_duckdb_file(files: tuple[Path, Path], tmp_path: Path) -> None:
    database = tmp_path / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        load_duckdb(con, MODEL, *files)
    names = engines.apply(MODEL, str(database), schema="scoring")
    assert names[-1] == '"scoring"."mini_scores"'
    with duckdb.connect(str(database)) as con:
        cursor = con.execute('SELECT * FROM "scoring"."mini_scores" ORDER BY 1')
        assert tuple(d[0] for d in cursor.description) == MODEL.output_columns
        assert [row[0] for row in cursor.fetchall()] == ["a", "b", "c"]


@pytest.mark.parametrize("zoned", [True, False], ids=["zoned", "naive"])
def test_apply_reads_the_event_time_type_for_instant_bounds(
    files: tuple[Path, Path], tmp_path: Path, zoned: bool
) -> None:
    """The deployed view is for "now": knowing the time column's type from the database, it
    bounds windows by now in that type; a scorelang.toml that says otherwise is an error."""
    database = tmp_path / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        load_duckdb(con, MODEL, *files)
        if not zoned:
            con.execute('ALTER TABLE "events" ALTER COLUMN "occurred_at" TYPE TIMESTAMP')
    engines.apply(MODEL, str(database))
    with duckdb.connect(str(database)) as con:
        (view,) = con.execute(
            "SELECT sql FROM duckdb_views() WHERE view_name = 'mini_scores'"
        ).fetchone()
    assert "event_time > (CURRENT_TIMESTAMP - to_microseconds(604800000000))" in view.replace(
        "timezone('UTC', CURRENT_TIMESTAMP)", "CURRENT_TIMESTAMP"
    )
    assert ("timezone('UTC', CURRENT_TIMESTAMP)" in view) is not zoned
    kind = "with" if zoned else "without"
    with pytest.raises(DataError, match=f"events.occurred_at is a timestamp {kind} time zone"):
        engines.apply(MODEL, str(database), mapping=SourceMapping(event_time_zoned=not zoned))


def test_postgres_scores_files(files: tuple[Path, Path], pg_url: str) -> None:
    assert (
        engines.score(
            MODEL, "postgres", leads=files[0], events=files[1], database=pg_url, as_of=AS_OF
        )
        == EXPECTED
    )


def test_postgres_scores_existing_tables_and_apply_creates_views(
    files: tuple[Path, Path], pg_url: str, pg_schema: str
) -> None:
    mapping = SourceMapping(schema=pg_schema, events_table="web_events")
    with psycopg.connect(pg_url) as pg:
        pg.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(pg_schema)))
        load_postgres(pg, MODEL, *files, mapping, temporary=False)
    assert (
        engines.score(MODEL, "postgres", database=pg_url, as_of=AS_OF, mapping=mapping) == EXPECTED
    )

    names = engines.apply(MODEL, pg_url, mapping=mapping, schema=pg_schema)
    assert names[-1] == f'"{pg_schema}"."mini_scores"'
    with psycopg.connect(pg_url) as pg:
        rows = pg.execute(
            f'SELECT "id", "fit", "stage" FROM "{pg_schema}"."mini_scores" ORDER BY 1'
        ).fetchall()
        (view,) = pg.execute(
            "SELECT pg_get_viewdef(%s::regclass)", [f'"{pg_schema}"."mini_scores"']
        ).fetchone()
    assert [(key, float(fit), stage) for key, fit, stage in rows] == [
        ("a", 10.0, "good"),
        ("b", 0.0, "meh"),
        ("c", 0.0, "meh"),
    ]
    # The loaded time column is zoned: the view's windows are instants before its now.
    assert "event_time > ( SELECT (CURRENT_TIMESTAMP - '168:00:00'::interval))" in " ".join(
        view.split()
    )
    with pytest.raises(DataError, match="is a timestamp with time zone in the database"):
        engines.apply(MODEL, pg_url, mapping=dataclasses.replace(mapping, event_time_zoned=False))
    # No tables to read the type from: CREATE VIEW says what is missing.
    with pytest.raises(DataError, match=r"cannot create the views: relation .* does not exist"):
        engines.apply(MODEL, pg_url, mapping=SourceMapping(schema=pg_schema, events_table="none"))


def test_postgres_connection_errors_are_data_errors(files: tuple[Path, Path]) -> None:
    with pytest.raises(DataError, match="cannot connect to Postgres"):
        engines.score(
            MODEL,
            "postgres",
            leads=files[0],
            events=files[1],
            database="postgresql://nobody@/x?host=/nonexistent",
        )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda f: engines.score(MODEL, "oracle", leads=f[0], events=f[1]),
            "unknown engine 'oracle'",
        ),
        (lambda f: engines.score(MODEL, "python"), "the python engine scores files"),
        (
            lambda f: engines.score(MODEL, "duckdb", leads=f[0]),
            "give both a leads file and an events file",
        ),
        (
            lambda f: engines.score(MODEL, "duckdb", database=str(f[0].parent / "none.duckdb")),
            "no such DuckDB database file",
        ),
        (
            lambda f: engines.score(MODEL, "duckdb", database=empty_database(f[0].parent)),
            "source tables do not match",
        ),
        (
            lambda f: engines.score(MODEL, "duckdb", database=mistyped_database(f[0].parent)),
            "the scores query failed in DuckDB",
        ),
        (lambda f: engines.apply(MODEL, "mysql://db/x"), "unsupported database"),
    ],
)
def test_engine_errors(
    call: Callable[[tuple[Path, Path]], object], message: str, files: tuple[Path, Path]
) -> None:
    with pytest.raises(DataError, match=message):
        call(files)


@pytest.mark.parametrize(
    ("scheme", "package"),
    [("bigquery", "google-cloud-bigquery"), ("snowflake", "snowflake-connector-python")],
)
def test_apply_names_the_connector_to_install(
    scheme: str, package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = {"bigquery": "google.cloud.bigquery", "snowflake": "snowflake.connector"}[scheme]
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed (importing fails)
    with pytest.raises(DataError, match=f"needs the {package} package: pip install {package}"):
        engines.apply(MODEL, f"{scheme}://project/dataset", mapping=SourceMapping(schema="raw"))


def apply_cli(model: Path, database: Path) -> Result:
    """`scorelang apply` with the default mapping, whatever scorelang.toml the cwd has."""
    config = model.parent / "scorelang.toml"
    config.write_text("[sources]\n")
    return CliRunner().invoke(
        app, ["apply", str(model), "--database", str(database), "--config", str(config)]
    )


def test_cli_apply_reports_errors_without_traceback(tmp_path: Path) -> None:
    model = tmp_path / "m.score"
    model.write_text(
        "model m\nlead { id: string key }\nevent ping { }\nscore s { when ping: +1 }\n"
    )
    database = tmp_path / "empty.duckdb"
    result = apply_cli(model, database)
    assert result.exit_code == 1
    assert "error:" in result.output and "cannot create the views" in result.output
    assert "Traceback" not in result.output


def test_cli_apply_creates_views(files: tuple[Path, Path], tmp_path: Path) -> None:
    model = tmp_path / "m.score"
    model.write_text(
        "model m\nlead { id: string key }\nevent visit { url: string }\nscore s { when visit: +1 }\n"
    )
    database = tmp_path / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        load_duckdb(con, MODEL, *files)
    result = apply_cli(model, database)
    assert result.exit_code == 0, result.output
    assert 'created view "m_scores"' in result.output


def test_duckdb_runs_with_bounded_memory_and_a_spill_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scorelang.engines.duckdb import connect

    def settings() -> tuple[str, str]:
        with connect() as con:
            query = "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
            return con.execute(query).fetchone()

    limit, folder = settings()
    assert limit == "953.6 MiB" and "scorelang-spill-" in folder  # 1GB by default
    assert settings()[1] != folder  # a folder of its own per connection
    monkeypatch.setenv("SCORELANG_DUCKDB_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("SCORELANG_DUCKDB_SPILL_DIRECTORY", str(tmp_path))
    assert settings() == ("286.1 MiB", str(tmp_path))
    monkeypatch.setenv("SCORELANG_DUCKDB_MEMORY_LIMIT", "lots")
    with pytest.raises(DataError, match=r"SCORELANG_DUCKDB_MEMORY_LIMIT='lots': .*Memory"):
        connect()


def test_loading_into_a_database_file_leaves_only_the_two_tables(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    """The files are read in place through temporary views, dropped after the load."""
    database = tmp_path / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        load_duckdb(con, MODEL, *files)
    with duckdb.connect(str(database)) as con:
        names = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    assert sorted(names) == [("events",), ("leads",)]
