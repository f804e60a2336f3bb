"""`scorelang score`: the table of best leads, files written, engines, and clean errors."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import typer
from scorelang.compiler.frontend import compile_file
from typer.testing import CliRunner

from scorelang import engines
from scorelang.cli import app
from scorelang.cli.score import top_reasons

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "b2b_saas"
MODEL, LEADS, EVENTS = EXAMPLE / "model.score", EXAMPLE / "leads.csv", EXAMPLE / "events.csv"
AS_OF = "2026-01-01T00:00:00Z"
runner = CliRunner()


def score(*args: str | Path, files: bool = True):
    argv = ["score", str(MODEL)]
    if files:
        argv += ["--leads", str(LEADS), "--events", str(EVENTS)]
    return runner.invoke(app, [*argv, *map(str, args)], terminal_width=200)


@pytest.fixture(scope="module")
def model():
    return compile_file(MODEL).model


@pytest.fixture(scope="module")
def expected(model):
    """The rows every engine agrees on, ranked best total first."""
    rows = engines.score(
        model, "python", leads=LEADS, events=EVENTS, as_of=datetime(2026, 1, 1, tzinfo=UTC)
    )
    return sorted(rows, key=lambda row: -row["total"])


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_the_table_shows_the_best_leads_with_their_reasons(engine, expected, model):
    result = score("--as-of", AS_OF, "--engine", engine, "--top", "3")
    assert result.exit_code == 0, result.output
    assert "b2b_saas: top 3 of 150 leads by total" in result.output
    assert f"as of {AS_OF}, {engine}" in result.output
    best = expected[0]
    assert best["id"] in result.output and f"{best['total']:.2f}" in result.output
    assert top_reasons(model, best)[0] in result.output
    shown = [row["id"] for row in expected if row["id"] in result.output]
    assert shown == [row["id"] for row in expected[:3]]
    mqls = sum(1 for row in expected if row["mql"])
    assert f"150 leads scored; mql: {mqls}" in result.output


def test_a_narrow_terminal_lists_reasons_under_the_table(expected, model):
    result = runner.invoke(
        app,
        ["score", str(MODEL), "--leads", str(LEADS), "--events", str(EVENTS), "--as-of", AS_OF],
        terminal_width=70,
    )
    assert result.exit_code == 0, result.output
    for row in expected[:10]:
        flags = ["mql"] if row["mql"] else []
        line = " ".join([row["id"], *flags, " · ".join(top_reasons(model, row))])
        assert line in result.output.replace("\n", " ")
    assert "top reasons" not in result.output


def test_ranking_by_another_score(expected):
    result = score("--as-of", AS_OF, "--top", "1", "--by", "fit")
    assert result.exit_code == 0, result.output
    best_fit = max(expected, key=lambda row: row["fit"])["fit"]
    assert "top 1 of 150 leads by fit" in result.output
    assert f"{best_fit:.2f}" in result.output


def test_csv_output_holds_every_column_of_every_lead(tmp_path, expected, model):
    out = tmp_path / "scores.csv"
    result = score("--as-of", AS_OF, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"scored 150 leads with duckdb as of {AS_OF}: wrote {out}" in result.output.replace(
        "\n", ""
    )
    rows = read_csv(out)
    assert list(rows[0]) == list(model.output_columns)
    by_id = {row["id"]: row for row in rows}
    for want in expected:
        got = by_id[want["id"]]
        assert float(got["total"]) == want["total"]
        assert got["stage"] == want["stage"]
        assert got["mql"] == ("true" if want["mql"] else "false")
        assert (
            got["engagement__dormant_for_180_days"]
            == str(want["engagement__dormant_for_180_days"]).lower()
        )


def test_parquet_output_is_typed(tmp_path, expected, model):
    out = tmp_path / "scores.parquet"
    result = score("--as-of", AS_OF, "--out", out, "--engine", "python")
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column_names == list(model.output_columns)
    assert str(table.schema.field("total").type) == "double"
    assert str(table.schema.field("mql").type) == "bool"
    rows = sorted(table.to_pylist(), key=lambda row: row["id"])
    assert rows == sorted(expected, key=lambda row: row["id"])


def test_as_of_moves_the_point_in_time(tmp_path):
    """A year later every lead has been quiet for 180 days: engagement resets to 0."""
    out = tmp_path / "later.csv"
    result = score("--as-of", "2027-01-01T00:00:00Z", "--out", out)
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert {row["engagement"] for row in rows} == {"0.0"}
    assert all(row["engagement__dormant_for_180_days"] == "true" for row in rows)


def test_scoring_the_tables_of_a_duckdb_file(tmp_path):
    """Without files, --database names a DuckDB file whose `leads` and `events` are scored."""
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("SET TimeZone = 'UTC'")
        for name, path in (("leads", LEADS), ("events", EVENTS)):
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv(?)", [str(path)])
    from_files, from_tables = tmp_path / "files.csv", tmp_path / "tables.csv"
    assert score("--as-of", AS_OF, "--out", from_files).exit_code == 0
    result = score("--as-of", AS_OF, "--database", database, "--out", from_tables, files=False)
    assert result.exit_code == 0, result.output
    assert read_csv(from_tables) == read_csv(from_files)
    table = score("--as-of", AS_OF, "--database", database, "--top", "3", files=False)
    assert table.exit_code == 0, table.output  # ranked in a temporary table: read-only is fine
    assert "top 3 of 150 leads by total" in table.output


def test_a_missing_duckdb_file_exits_1(tmp_path):
    result = score("--database", tmp_path / "nope.duckdb", files=False)
    assert result.exit_code == 1
    assert "no such DuckDB database file" in result.output


@pytest.mark.postgres
def test_postgres_engine_writes_the_same_scores(tmp_path, pg_url):
    duck, pg = tmp_path / "duck.csv", tmp_path / "pg.csv"
    assert score("--as-of", AS_OF, "--out", duck).exit_code == 0
    result = score("--as-of", AS_OF, "--out", pg, "--engine", "postgres", "--database", pg_url)
    assert result.exit_code == 0, result.output
    assert read_csv(pg) == read_csv(duck)


# ---- errors ---------------------------------------------------------------------------------


def test_a_model_with_errors_exits_1_with_the_diagnostic(tmp_path):
    bad = tmp_path / "bad.score"
    bad.write_text('model m\nlead { id: string key }\nscore s { when industri == "x": +1 }\n')
    result = runner.invoke(app, ["score", str(bad), "--leads", str(LEADS), "--events", str(EVENTS)])
    assert result.exit_code == 1
    assert "industri" in result.output and "^" in result.output


def test_only_one_of_the_two_files_exits_1():
    result = runner.invoke(app, ["score", str(MODEL), "--leads", str(LEADS)])
    assert result.exit_code == 1
    assert "error:" in result.output and "events" in result.output


def test_data_that_does_not_fit_the_model_exits_1(tmp_path):
    leads = tmp_path / "leads.csv"
    leads.write_text("id,email\nL1,a@b.io\n")
    result = runner.invoke(
        app, ["score", str(MODEL), "--leads", str(leads), "--events", str(EVENTS)]
    )
    assert result.exit_code == 1
    assert "error:" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "yesterday"], "not an ISO 8601 time"),
        (["--out", "scores.txt"], "write a .csv or a .parquet file"),
        (["--by", "nope"], "no score named 'nope'"),
        (["--engine", "oracle"], "oracle"),
        (["--top", "0"], "--top"),
    ],
)
def test_usage_errors_exit_2(args, message):
    result = score(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_missing_model_file_exits_2(tmp_path):
    result = runner.invoke(app, ["score", str(tmp_path / "nope.score")])
    assert result.exit_code == 2


# ---- top reasons ----------------------------------------------------------------------------


def test_top_reasons_put_a_reset_first_then_the_largest_points(model):
    row = dict.fromkeys(model.output_columns, 0.0)
    row |= {
        "fit__target_industry": 20.0,
        "fit__free_email_address": -20.0,
        "engagement__contact_form": 50.0,
        "engagement__page_views": 0.95,
        "engagement__dormant_for_180_days": True,
    }
    assert top_reasons(model, row, 4) == [
        "Dormant for 180 days: reset engagement",
        "Contact form +50",
        "Target industry +20",
        "Free email address -20",
    ]


# ---- docs/cli.md ----------------------------------------------------------------------------


def test_the_cli_reference_documents_every_command_and_option():
    doc = (EXAMPLE.parent.parent / "docs" / "cli.md").read_text()
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", doc, re.S | re.M))
    group = typer.main.get_command(app)
    assert set(sections) >= set(group.commands)
    for name, command in group.commands.items():
        options = {o for p in command.params for o in p.opts if o.startswith("-")} - {"--help"}
        missing = {
            o for o in options if f"`{o}`" not in sections[name] and f"{o} " not in sections[name]
        }
        assert not missing, f"docs/cli.md, {name}: {sorted(missing)}"


def test_help_shows_each_command_summary_as_written() -> None:
    """Docstrings wrap at the source's line length; --help joins their lines (a wide
    terminal shows each summary on one line) and keeps what is between angle brackets
    (markdown mode: `rich` mode broke the summaries mid-sentence)."""
    wide = {"COLUMNS": "400"}
    lines = [
        " ".join(line.split())
        for line in runner.invoke(app, ["--help"], env=wide).output.splitlines()
    ]
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        summary = " ".join(command.help.split("\n\n")[0].split()).replace("`", "")
        assert any(summary in line for line in lines), name
    compile_help = runner.invoke(app, ["compile", "--help"], env=wide).output
    assert "<model>.<target>.sql" in compile_help
