"""SQL injection and quoting: hostile text in string literals, regexes, labels, data values and
source names goes through the compiler and runs on DuckDB and a real Postgres as *data*.

Each hostile string is a lead key, a lead's name, a rule's literal and its label: the rule must
fire for exactly that lead, the key must come back byte for byte, every engine must agree, and
deploying the views must leave the source tables in place (no statement ran but ours).
Names that cannot be identifiers in every target are refused by SourceMapping with the key named.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path

import duckdb
import psycopg
import pytest
from scorelang.compiler.frontend import compile_source
from strategies import AS_OF, compile_model, differences, quote, score_everywhere, write_csv
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.config import ConfigError, SourceMapping
from scorelang.data import load_duckdb
from scorelang.engines import apply, score
from scorelang.engines.postgres import load_postgres

HOSTILE = [
    "O'Brien; DROP TABLE leads; --",
    '"); DROP TABLE events; --',
    "x' OR '1'='1",
    "/* comment */ still data */",
    "back\\slash \\' \\\\",
    "{{ model.name }} {% raw %}",
    "$$ dollar $$ $tag$ $1",
    "%s %(name)s {0} ?",
    "日本語 é ✓ \u202e reversed",
    "semi;colon;;",
    "tab\tand\nnewline",
    "'; DROP TABLE scorelang_sentinel; --",
    '"; DELETE FROM scorelang_sentinel; --',
    "'); TRUNCATE scorelang_sentinel; COMMIT; --",
]
SENTINEL_ROWS = 3
SCHEMA = """model inj "Injection"
lead { id: string key
  name: string? }
event note { text: string? }
"""


def model_source(text: str) -> str:
    literal = quote(text)
    return (
        SCHEMA
        + "score s {\n"
        + f"  when name == {literal}: +5 {literal}\n"
        + f"  when note where (text == {literal}): +1 {quote(text + ' (note)')}\n"
        + f'  when name in [{literal}, "other"] and name starts with {literal}: +10\n'
        + "}\n"
        + f"flag exact = name == {literal} and s >= 16\n"
    )


def write_files(folder: Path, text: str) -> tuple[Path, Path]:
    leads = [{"id": text, "name": text}, {"id": "near", "name": text + "x"}, {"id": "plain"}]
    events = [
        {
            "lead_id": text,
            "event_type": "note",
            "occurred_at": "2025-12-31T00:00:00Z",
            "text": text,
        },
        {
            "lead_id": "near",
            "event_type": "note",
            "occurred_at": "2025-12-31T00:00:00Z",
            "text": "x",
        },
    ]
    return (
        write_csv(folder / "leads.csv", leads, ["id", "name"]),
        write_csv(folder / "events.csv", events, ["lead_id", "event_type", "occurred_at", "text"]),
    )


def sentinel_rows(pg: psycopg.Connection) -> int:
    """Rows of a real table the hostile strings name: it must survive every case intact."""
    pg.execute("CREATE TABLE IF NOT EXISTS scorelang_sentinel (n int)")
    if pg.execute("SELECT count(*) FROM scorelang_sentinel").fetchone() == (0,):
        pg.execute("INSERT INTO scorelang_sentinel VALUES (1), (2), (3)")
    return pg.execute("SELECT count(*) FROM scorelang_sentinel").fetchone()[0]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_literals_are_data_in_every_engine(text: str, tmp_path: Path, pg_url: str) -> None:
    model = compile_model(model_source(text))
    with psycopg.connect(pg_url, autocommit=True) as pg:
        assert sentinel_rows(pg) == SENTINEL_ROWS
        rows = score_everywhere(model, *write_files(tmp_path, text), pg_url)
        assert sentinel_rows(pg) == SENTINEL_ROWS
    assert not differences(model, rows), differences(model, rows)
    by_key = {row["id"]: row for row in rows["postgres"]}
    assert set(by_key) == {text, "near", "plain"}  # the key comes back intact
    assert by_key[text]["s"] == 16 and by_key[text]["exact"] is True
    assert by_key["near"]["s"] == 0 and by_key["plain"]["s"] == 0


REGEXES = {
    r"O'Brien; DROP": "O'Brien; DROP TABLE leads; --",
    r"\$\$": "$$ dollar $$",
    r"\{\{ x \}\}": "{{ x }}",
    r"; --": "a; --",
    r"\/\* \*\/": "/* */",
    r"\\'": "back\\' slash",
    r"日本": "日本語",
}


@pytest.mark.parametrize("pattern", list(REGEXES), ids=range(len(REGEXES)))
def test_hostile_regexes_match_as_patterns(pattern: str, tmp_path: Path, pg_url: str) -> None:
    text = REGEXES[pattern]
    model = compile_model(SCHEMA + f"score s {{\n  when name matches /{pattern}/: +1\n}}\n")
    rows = score_everywhere(model, *write_files(tmp_path, text), pg_url)
    assert not differences(model, rows), differences(model, rows)
    assert {r["id"]: r["s"] for r in rows["duckdb"]} == {text: 1.0, "near": 1.0, "plain": 0.0}


def test_model_names_must_be_identifiers() -> None:
    compilation = compile_source("model O'Brien\nlead { id: string key }\n")
    assert compilation.model is None
    assert compilation.diagnostics[0].code.startswith("E1")


BAD_NAMES = ["leads; DROP TABLE x", 'a"b', "a'b", "a-b", "1abc", "", "a b", "é", "x" * 129, "a--"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=range(len(BAD_NAMES)))
@pytest.mark.parametrize("key", ["leads_table", "events_table"])
def test_invalid_table_names_are_rejected(key: str, name: str) -> None:
    with pytest.raises(ConfigError, match=rf"{key} = .* is not a valid identifier"):
        SourceMapping(**{key: name})


@pytest.mark.parametrize("name", BAD_NAMES[:3], ids=range(3))
def test_invalid_schema_names_are_rejected(name: str) -> None:
    with pytest.raises(ConfigError, match=r"schema = .* is not a valid identifier"):
        SourceMapping(schema=name)


# Column names are header text: anything printable is a quoted identifier. Only names no
# header could have are refused.
UNUSABLE_COLUMNS = ["", "   ", "a\nb", "a\x00b", "x" * 129]


@pytest.mark.parametrize("name", UNUSABLE_COLUMNS, ids=range(len(UNUSABLE_COLUMNS)))
@pytest.mark.parametrize("key", ["event_lead", "event_type", "event_time", "columns"])
def test_unusable_column_names_are_rejected(key: str, name: str) -> None:
    given = {"columns": {"name": name}} if key == "columns" else {key: name}
    label = "columns.name" if key == "columns" else key
    with pytest.raises(ConfigError, match=rf"{label} = .* is not a usable column name"):
        SourceMapping(**given)


def csv_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


HOSTILE_HEADERS = [*HOSTILE[:4], *HOSTILE[8:9], *HOSTILE[11:], *BAD_NAMES[:5], "é", "a--"]


@pytest.mark.parametrize("header", HOSTILE_HEADERS, ids=range(len(HOSTILE_HEADERS)))
def test_hostile_column_names_are_quoted_in_every_engine(
    header: str, tmp_path: Path, pg_url: str
) -> None:
    """A header holding SQL is only a name: every engine scores alike, the sentinel survives."""
    text = HOSTILE[0]
    model = compile_model(model_source(text))
    leads, events = write_files(tmp_path, text)
    leads.write_text(
        leads.read_text(encoding="utf-8").replace("id,name", f"id,{csv_quote(header)}", 1),
        encoding="utf-8",
    )
    events_text = events.read_text(encoding="utf-8").split("\n", 1)
    events.write_text(
        f"{csv_quote(header + '_lead')},event_type,occurred_at,text\n{events_text[1]}",
        encoding="utf-8",
    )
    mapping = SourceMapping(event_lead=header + "_lead", columns={"name": header})
    with psycopg.connect(pg_url, autocommit=True) as pg:
        assert sentinel_rows(pg) == SENTINEL_ROWS
        rows = {
            engine: score(
                model,
                engine,
                leads=leads,
                events=events,
                database=pg_url,
                as_of=AS_OF,
                mapping=mapping,
            )
            for engine in ("python", "duckdb", "postgres")
        }
        assert sentinel_rows(pg) == SENTINEL_ROWS
    assert not differences(model, rows), differences(model, rows)
    assert {r["id"]: r["s"] for r in rows["postgres"]} == {text: 16, "near": 0, "plain": 0}


# SQL keywords and `$` are valid identifiers here: quoting must make them work as names.
KEYWORD_MAPPING = SourceMapping(
    leads_table="select",
    events_table="order",
    event_lead="from",
    event_type="group",
    event_time="where",
    columns={"name": "drop$table", "text": "user"},
)


def keyword_files(folder: Path, text: str) -> tuple[Path, Path]:
    """The hostile data under the keyword column names."""
    leads, events = write_files(folder, text)
    renamed = {"lead_id": "from", "event_type": "group", "occurred_at": "where", "text": "user"}
    header = events.read_text(encoding="utf-8").split("\n", 1)
    events.write_text(
        ",".join(renamed[c] for c in header[0].split(",")) + "\n" + header[1], encoding="utf-8"
    )
    leads_header = leads.read_text(encoding="utf-8").split("\n", 1)
    leads.write_text("id,drop$table\n" + leads_header[1], encoding="utf-8")
    return leads, events


def test_keyword_names_work_on_duckdb_and_tables_survive(tmp_path: Path) -> None:
    text = HOSTILE[0]
    model = compile_model(model_source(text))
    database = tmp_path / "inj.duckdb"
    with duckdb.connect(str(database)) as con:
        load_duckdb(con, model, *keyword_files(tmp_path, text), KEYWORD_MAPPING)
        con.execute("CREATE TABLE leads AS SELECT range AS n FROM range(3)")  # the sentinel
    views = apply(model, str(database), mapping=KEYWORD_MAPPING)
    rows = score(model, "duckdb", database=str(database), mapping=KEYWORD_MAPPING, as_of=AS_OF)
    with duckdb.connect(str(database)) as con:
        scores = dict(con.execute(f"SELECT id, s FROM {views[-1]}").fetchall())
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        counts = [
            con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            for t in ("leads", "select", "order")
        ]
    assert scores == {text: 16, "near": 0, "plain": 0}
    assert {r["id"]: r["s"] for r in rows} == scores
    assert {"select", "order", "leads"} <= tables and counts == [3, 3, 2]


def test_keyword_names_work_on_postgres_and_tables_survive(tmp_path: Path, pg_url: str) -> None:
    text = HOSTILE[0]
    model = compile_model(model_source(text))
    schema = f"inj_{uuid.uuid4().hex[:8]}"
    mapping = dataclasses.replace(KEYWORD_MAPPING, schema=schema)
    with psycopg.connect(pg_url, autocommit=True) as pg:
        pg.execute(f'CREATE SCHEMA "{schema}"')
        try:
            load_postgres(pg, model, *keyword_files(tmp_path, text), mapping, temporary=False)
            views = apply(model, pg_url, mapping=mapping, schema=schema)
            rows = pg.execute(f"SELECT id, s FROM {views[-1]}").fetchall()
            tables = {
                t
                for (t,) in pg.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (schema,),
                ).fetchall()
            }
        finally:
            pg.execute(f'DROP SCHEMA "{schema}" CASCADE')
    assert {k: float(v) for k, v in rows} == {text: 16, "near": 0, "plain": 0}
    assert {"select", "order"} <= tables


@pytest.mark.parametrize("name", ["leads; DROP TABLE x", 'a"b', "{{ table }}", "é"])
def test_cli_refuses_a_config_with_invalid_names(name: str, tmp_path: Path) -> None:
    """scorelang.toml is user input too: one clear line, exit 1, nothing run."""
    text = HOSTILE[0]
    model = tmp_path / "inj.score"
    model.write_text(model_source(text), encoding="utf-8")
    config = tmp_path / "scorelang.toml"
    config.write_text(f"[sources]\nleads_table = {json.dumps(name)}\n", encoding="utf-8")
    leads, events = write_files(tmp_path, text)
    arguments = ["score", str(model), "--leads", str(leads), "--events", str(events)]
    result = CliRunner().invoke(app, [*arguments, "--config", str(config)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        "[sources] leads_table = " in result.output and "is not a valid identifier" in result.output
    )
