"""Bad input data gets a clear error naming the file, column and example rows — or, where
docs/data.md documents it, a behaviour with a count of rows affected. Never a traceback:
checked through scorelang.data, every engine, and the `scorelang score` CLI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from strategies import AS_OF, compile_model
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.config import SourceMapping
from scorelang.data import DataError, LoadReport, load_duckdb, read_records
from scorelang.engines import score

SOURCE = """model bad "Bad data"
lead { id: string key
  employees: int
  revenue: number?
  signed_up: timestamp? }
event visit { url: string, secs: number? }
event mail { }
score s {
  when employees > 10: +1
  each visit within 1h: +1
}
"""
MODEL = compile_model(SOURCE)
LEADS = "id,employees,revenue,signed_up\nl1,20,1.5,2025-01-01\n"
EVENTS = "lead_id,event_type,occurred_at,url,secs\nl1,visit,2025-12-31T23:30:00Z,/a,\n"


@dataclass(frozen=True)
class Bad:
    leads: str
    events: str
    messages: tuple[str, ...]  # each must appear in the error


ERRORS = {
    "missing required column": Bad(
        "id,revenue\nl1,2\n", EVENTS, ("leads.csv: missing required column 'employees'",)
    ),
    "wrong types": Bad(
        "id,employees,revenue\nl1,3.5,x\nl2,abc,NaN\nl3,4,inf\n",
        EVENTS,
        (
            "column 'employees': 2 values are not a valid int, e.g. row 1: '3.5', row 2: 'abc'",
            "column 'revenue': 3 values are not a valid number, e.g. row 1: 'x', row 2: 'NaN'",
        ),
    ),
    "unparsable lead timestamps": Bad(
        "id,employees,signed_up\nl1,3,yesterday\nl2,3,2026-13-01\n",
        EVENTS,
        ("column 'signed_up': 2 values are not a valid timestamp, e.g. row 1: 'yesterday'",),
    ),
    "unparsable and missing event times": Bad(
        LEADS,
        "lead_id,event_type,occurred_at,url\nl1,visit,,/a\nl1,visit,soon,/b\n",
        (
            "events.csv: column 'occurred_at': 1 values are not a valid timestamp, e.g. row 2: 'soon'",
            "column 'occurred_at': 1 missing values in a required field, e.g. row 1",
        ),
    ),
    "duplicate lead keys": Bad(
        "id,employees,revenue,signed_up\nl1,1,,\nl1,2,,\nl2,3,,\nl2,3,,\nl2,3,,\n",
        EVENTS,
        ("2 duplicate lead keys in column 'id', e.g. 'l1' (2 rows), 'l2' (3 rows)",),
    ),
    "missing required value": Bad(
        "id,employees\nl1,\n", EVENTS, ("column 'employees': 1 missing values in a required",)
    ),
    "missing lead key": Bad("id,employees\n,1\n", EVENTS, ("column 'id': 1 missing values",)),
    "missing required property": Bad(
        LEADS,
        "lead_id,event_type,occurred_at,url\nl1,visit,2025-12-31,\nl1,mail,2025-12-31,\n",
        ("column 'url': 1 missing values in a required field, e.g. row 1",),  # mail has no url
    ),
    "numbers out of range": Bad(
        "id,employees,revenue\nl1,9007199254740993,1e300\nl2,3,5e-324\nl3,4,1e15\n",
        EVENTS,
        (
            "column 'employees': 1 values are out of range (at most 1e+15 in absolute value), "
            "e.g. row 1: '9007199254740993'",
            "column 'revenue': 2 values are out of range",
        ),
    ),
    "empty leads file": Bad("", EVENTS, ("leads.csv: cannot be read",)),
    "empty events file": Bad(LEADS, "", ("events.csv: cannot be read",)),
}


def write(folder: Path, leads: str, events: str) -> tuple[Path, Path]:
    (folder / "leads.csv").write_text(leads, encoding="utf-8")
    (folder / "events.csv").write_text(events, encoding="utf-8")
    return folder / "leads.csv", folder / "events.csv"


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_files_are_clear_errors(case: str, tmp_path: Path) -> None:
    bad = ERRORS[case]
    with pytest.raises(DataError) as raised:
        load_duckdb(
            duckdb.connect(), MODEL, *write(tmp_path, bad.leads, bad.events), SourceMapping()
        )
    for message in bad.messages:
        assert message in str(raised.value)


@pytest.mark.parametrize("engine", ["python", "duckdb", "postgres"])
@pytest.mark.parametrize("case", ["wrong types", "duplicate lead keys"])
def test_every_engine_refuses_bad_files_alike(
    case: str, engine: str, tmp_path: Path, pg_url: str
) -> None:
    bad = ERRORS[case]
    leads, events = write(tmp_path, bad.leads, bad.events)
    with pytest.raises(DataError, match=bad.messages[0].split(",")[0]):
        score(MODEL, engine, leads=leads, events=events, database=pg_url, as_of=AS_OF)


@pytest.mark.parametrize("case", list(ERRORS))
def test_cli_prints_the_error_without_a_traceback(case: str, tmp_path: Path) -> None:
    bad = ERRORS[case]
    leads, events = write(tmp_path, bad.leads, bad.events)
    model = tmp_path / "bad.score"
    model.write_text(SOURCE, encoding="utf-8")
    arguments = ["score", str(model), "--leads", str(leads), "--events", str(events)]
    result = CliRunner().invoke(app, [*arguments, "--as-of", "2026-01-01T00:00:00Z"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    output = " ".join(result.output.split())  # Rich may wrap long lines
    assert "Traceback" not in output and "error:" in output
    assert bad.messages[0].split(",")[0] in output


DROPPED = (
    "lead_id,event_type,occurred_at,url,secs\n"
    "l1,visit,2025-12-31T23:30:00Z,/a,\n"
    "zz,visit,2025-12-31T23:30:00Z,/a,\n"  # unknown lead
    "zz,mail,2025-12-31T23:30:00Z,,\n"  # unknown lead
    "l1,click,2025-12-31T23:30:00Z,/a,\n"  # undeclared type
    "l1,Visit,2025-12-31T23:30:00Z,/a,\n"  # undeclared: types are case-sensitive
    "zz,click,2025-12-31T23:30:00Z,/a,\n"  # undeclared type of an unknown lead
)


def test_unknown_leads_and_undeclared_types_are_dropped_and_counted(tmp_path: Path) -> None:
    report = load_duckdb(duckdb.connect(), MODEL, *write(tmp_path, LEADS, DROPPED), SourceMapping())
    assert report == LoadReport(
        leads=1,
        events=1,
        unknown_lead_events=2,
        undeclared_type_events=3,
        undeclared_types=(("click", 2, None), ("Visit", 1, "visit")),
    )
    assert report.summary() == (
        "1 lead, 1 event (ignored: 2 events of unknown leads, 3 events of undeclared types: "
        "'click' (2), 'Visit' (1) looks like visit)"
    )


@pytest.mark.parametrize("engine", ["python", "duckdb", "postgres"])
def test_dropped_events_do_not_score(engine: str, tmp_path: Path, pg_url: str) -> None:
    leads, events = write(tmp_path, LEADS, DROPPED)
    rows = score(MODEL, engine, leads=leads, events=events, database=pg_url, as_of=AS_OF)
    assert rows == [{"id": "l1", "s": 2.0, "s__r1": 1.0, "s__r2": 1.0}]


MIXED_ZONES = (
    "lead_id,event_type,occurred_at,url,secs\n"
    "l1,visit,2025-12-31 23:30,/naive,\n"  # no zone: UTC
    "l1,visit,2026-01-01T00:30:00+01:00,/aware,\n"  # 23:30 UTC
    "l1,visit,2025-12-31T22:59:59Z,/old,\n"  # outside `within 1h`
    "l1,visit,2025-12-31,/date,\n"  # midnight UTC
)


def test_naive_and_aware_timestamps_are_the_same_instants(tmp_path: Path) -> None:
    _leads, events = read_records(MODEL, *write(tmp_path, LEADS, MIXED_ZONES))
    times = {e["url"]: e["occurred_at"].isoformat() for e in events}
    assert times == {
        "/naive": "2025-12-31T23:30:00+00:00",
        "/aware": "2025-12-31T23:30:00+00:00",
        "/old": "2025-12-31T22:59:59+00:00",
        "/date": "2025-12-31T00:00:00+00:00",
    }


@pytest.mark.parametrize("engine", ["python", "duckdb", "postgres"])
def test_mixed_zones_score_alike(engine: str, tmp_path: Path, pg_url: str) -> None:
    leads, events = write(tmp_path, LEADS, MIXED_ZONES)
    rows = score(MODEL, engine, leads=leads, events=events, database=pg_url, as_of=AS_OF)
    assert rows[0]["s__r2"] == 2.0  # the naive and the aware 23:30, not 22:59:59


def test_header_only_files_mean_no_leads(tmp_path: Path) -> None:
    leads, events = write(tmp_path, "id,employees,revenue,signed_up\n", EVENTS)
    report = load_duckdb(duckdb.connect(), MODEL, leads, events, SourceMapping())
    assert report == LoadReport(leads=0, events=0, unknown_lead_events=1, undeclared_type_events=0)


def test_cli_reports_dropped_events(tmp_path: Path) -> None:
    """The LoadReport's counts reach the user: a note on stderr, the scores on stdout."""
    leads, events = write(tmp_path, LEADS, DROPPED)
    model = tmp_path / "bad.score"
    model.write_text(SOURCE, encoding="utf-8")
    for engine in ("duckdb", "python"):
        arguments = ["score", str(model), "--leads", str(leads), "--events", str(events)]
        result = CliRunner().invoke(
            app, [*arguments, "--as-of", "2026-01-01T00:00:00Z", "--engine", engine]
        )
        assert result.exit_code == 0, result.output
        output = " ".join(result.output.split())
        assert (
            "note: read 1 lead, 1 event (ignored: 2 events of unknown leads, "
            "3 events of undeclared types: 'click' (2), 'Visit' (1) looks like visit)" in output
        )


def test_cli_says_nothing_when_nothing_is_dropped(tmp_path: Path) -> None:
    leads, events = write(tmp_path, LEADS, EVENTS)
    model = tmp_path / "bad.score"
    model.write_text(SOURCE, encoding="utf-8")
    arguments = ["score", str(model), "--leads", str(leads), "--events", str(events)]
    result = CliRunner().invoke(app, [*arguments, "--as-of", "2026-01-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "note:" not in result.output and "1 lead scored" in result.output


# ---- Parquet: typed files go through the same checks -------------------------------------


def parquet(folder: Path, name: str, select: str) -> Path:
    """A Parquet file written by DuckDB from a SELECT (so column types are exact)."""
    path = folder / name
    with duckdb.connect() as con:
        con.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    return path


PARQUET_EVENTS = (
    "SELECT 'l1' AS lead_id, 'visit' AS event_type, "
    "TIMESTAMPTZ '2025-12-31 23:30:00+00' AS occurred_at, '/a' AS url, NULL::DOUBLE AS secs"
)
PARQUET_ERRORS = {
    "missing required column": (
        "SELECT 'l1' AS id, 1.5 AS revenue",
        PARQUET_EVENTS,
        "leads.parquet: missing required column 'employees'",
    ),
    "wrong type": (
        "SELECT * FROM (VALUES ('l1', 'many'), ('l2', '2.5')) t(id, employees)",
        PARQUET_EVENTS,
        "column 'employees': 2 values are not a valid int, e.g. row 1: 'many', row 2: '2.5'",
    ),
    "double in an int column": (
        "SELECT 'l1' AS id, 2.5::DOUBLE AS employees",
        PARQUET_EVENTS,
        "column 'employees': 1 values are not a valid int, e.g. row 1: '2.5'",
    ),
    "non-finite number": (
        "SELECT 'l1' AS id, 3 AS employees, 'NaN'::DOUBLE AS revenue",
        PARQUET_EVENTS,
        "column 'revenue': 1 values are not a valid number",
    ),
    "unparsable timestamp": (
        "SELECT 'l1' AS id, 3 AS employees, 'yesterday' AS signed_up",
        PARQUET_EVENTS,
        "column 'signed_up': 1 values are not a valid timestamp, e.g. row 1: 'yesterday'",
    ),
    "duplicate lead keys": (
        "SELECT *, NULL::DOUBLE AS revenue, NULL::TIMESTAMP AS signed_up "
        "FROM (VALUES ('l1', 1), ('l1', 2)) t(id, employees)",
        PARQUET_EVENTS,
        "1 duplicate lead keys in column 'id', e.g. 'l1' (2 rows)",
    ),
    "missing event time": (
        "SELECT 'l1' AS id, 3 AS employees",
        "SELECT 'l1' AS lead_id, 'visit' AS event_type, NULL::TIMESTAMP AS occurred_at, "
        "'/a' AS url",
        "column 'occurred_at': 1 missing values in a required field, e.g. row 1",
    ),
}


@pytest.mark.parametrize("case", list(PARQUET_ERRORS))
def test_bad_parquet_files_are_clear_errors(case: str, tmp_path: Path) -> None:
    leads_sql, events_sql, message = PARQUET_ERRORS[case]
    leads = parquet(tmp_path, "leads.parquet", leads_sql)
    events = parquet(tmp_path, "events.parquet", events_sql)
    with pytest.raises(DataError) as raised:
        load_duckdb(duckdb.connect(), MODEL, leads, events, SourceMapping())
    assert message in str(raised.value)
    model = tmp_path / "bad.score"
    model.write_text(SOURCE, encoding="utf-8")
    arguments = ["score", str(model), "--leads", str(leads), "--events", str(events)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert message.split(",")[0] in " ".join(result.output.split())


@pytest.mark.parametrize("engine", ["python", "duckdb", "postgres"])
def test_parquet_zone_less_and_aware_times_are_the_same_instants(
    engine: str, tmp_path: Path, pg_url: str
) -> None:
    """A zone-less Parquet TIMESTAMP is UTC; a TIMESTAMPTZ keeps its instant."""
    leads = parquet(
        tmp_path,
        "leads.parquet",
        "SELECT 'l1' AS id, 20 AS employees, NULL::DOUBLE AS revenue, NULL::DATE AS signed_up",
    )
    events = parquet(
        tmp_path,
        "events.parquet",
        "SELECT * FROM (VALUES "
        "('l1', 'visit', TIMESTAMP '2025-12-31 23:30:00', '/naive'), "
        "('l1', 'visit', TIMESTAMP '2025-12-31 22:59:59', '/old'), "
        "('zz', 'visit', TIMESTAMP '2025-12-31 23:59:00', '/unknown lead'), "
        "('l1', 'click', TIMESTAMP '2025-12-31 23:59:00', '/undeclared')"
        ") t(lead_id, event_type, occurred_at, url), (SELECT NULL::DOUBLE AS secs)",
    )
    aware = parquet(
        tmp_path,
        "aware.parquet",
        "SELECT 'l1' AS lead_id, 'visit' AS event_type, "
        "TIMESTAMPTZ '2026-01-01 00:30:00+01' AS occurred_at, '/aware' AS url, NULL AS secs",
    )
    seen: list[LoadReport] = []
    for file in (events, aware):
        rows = score(
            MODEL,
            engine,
            leads=leads,
            events=file,
            database=pg_url,
            as_of=AS_OF,
            on_load=seen.append,
        )
        assert rows[0]["s__r2"] == 1.0  # 23:30 UTC either way; 22:59:59 is outside 1h
    assert seen[0] == LoadReport(
        leads=1,
        events=2,
        unknown_lead_events=1,
        undeclared_type_events=1,
        undeclared_types=(("click", 1, None),),
    )


# ---- columns and mappings: an absent column or a mapping typo is never all-missing --------


def config(folder: Path, text: str) -> Path:
    path = folder / "scorelang.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cli_score(folder: Path, leads: Path, events: Path, *options: str) -> tuple[int, str]:
    model = folder / "bad.score"
    model.write_text(SOURCE, encoding="utf-8")
    arguments = ["score", str(model), "--leads", str(leads), "--events", str(events)]
    result = CliRunner().invoke(app, [*arguments, "--as-of", "2026-01-01", *options])
    assert "Traceback" not in result.output
    return result.exit_code, " ".join(result.output.split())


def test_an_absent_nullable_column_is_an_error_naming_field_column_and_origin(
    tmp_path: Path,
) -> None:
    leads, events = write(tmp_path, "id,employees,signed_up\nl1,20,\n", EVENTS)
    with pytest.raises(DataError) as raised:
        load_duckdb(duckdb.connect(), MODEL, leads, events, SourceMapping())
    message = str(raised.value)
    assert "leads.csv: missing column 'revenue' for lead field revenue" in message
    assert "column name from the default" in message
    assert "add 'revenue' to allow_missing_columns" in message
    code, output = cli_score(tmp_path, leads, events)
    assert code == 1 and "missing column 'revenue' for lead field revenue" in output


def test_an_absent_optional_property_column_is_an_error(tmp_path: Path) -> None:
    leads, events = write(tmp_path, LEADS, "lead_id,event_type,occurred_at,url\n")
    with pytest.raises(DataError, match="missing column 'secs' for event property secs"):
        load_duckdb(duckdb.connect(), MODEL, leads, events, SourceMapping())


def test_a_mapping_typo_names_the_config_file(tmp_path: Path) -> None:
    leads, events = write(tmp_path, LEADS, EVENTS)
    path = config(tmp_path, '[sources.columns]\nrevenue = "Revenue"\n')
    code, output = cli_score(tmp_path, leads, events, "--config", str(path))
    assert code == 1
    assert "missing column 'Revenue' for lead field revenue" in output
    assert f"column name from [sources.columns] in {path}" in output
    assert "did you mean `revenue`?" in output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[sources.columns]\nrevenu = "x"\n',
            "maps 'revenu', which is not a lead field or event property of model bad; did you mean `revenue`?",
        ),
        ('[sources.columns]\noccurred_at = "ts"\n', "set by event_time under [sources]"),
        (
            "[sources]\nallow_missing_columns = ['employees']\n",
            "'employees', which is a required field",
        ),
    ],
)
def test_mapping_keys_the_model_does_not_have_are_errors(
    tmp_path: Path, text: str, message: str
) -> None:
    leads, events = write(tmp_path, LEADS, EVENTS)
    code, output = cli_score(tmp_path, leads, events, "--config", str(config(tmp_path, text)))
    assert code == 1 and message in output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[sources]\nleads_tabel = "x"\n',
            "unknown key(s) in [sources]: 'leads_tabel'; did you mean `leads_table`?",
        ),
        ("[source]\n", "unknown section(s) [source]; did you mean `sources`?"),
        ("[sources]\nstrict = 'yes'\n", "strict = 'yes' is not a boolean"),
        ("[sources]\nallow_missing_columns = 3\n", "allow_missing_columns = 3"),
    ],
)
def test_unknown_config_keys_suggest_the_known_one(tmp_path: Path, text: str, message: str) -> None:
    from scorelang.config import ConfigError, load_config

    with pytest.raises(ConfigError) as raised:
        load_config(config(tmp_path, text))
    assert message in str(raised.value)


@pytest.mark.parametrize("allow", ["true", '["revenue", "secs"]'])
def test_allowed_absent_columns_read_as_missing_and_the_run_says_so(
    tmp_path: Path, allow: str
) -> None:
    leads, events = write(
        tmp_path, "id,employees,signed_up\nl1,20,\n", "lead_id,event_type,occurred_at,url\n"
    )
    path = config(tmp_path, f"[sources]\nallow_missing_columns = {allow}\n")
    code, output = cli_score(tmp_path, leads, events, "--config", str(path))
    assert code == 0
    assert (
        "note: read 1 lead, 0 events; no column, read as missing on every row: revenue, secs"
        in output
    )


# Header text a CRM export really has: spaces, punctuation, non-ASCII, even quotes and SQL.
CRM_HEADERS = {
    "id": "Contact ID",
    "employees": "Employees (#)",
    "revenue": "Chiffre d'affaires €",
    "signed_up": 'Signed "up"; DROP TABLE leads; --',
    "url": "Page URL",
    "secs": "Time on page (s)",
}


CRM_ROWS = (LEADS + "l2,5,,2025-06-01\n", EVENTS + "l2,visit,2025-12-31T23:50:00Z,/b,3\n")


def crm_files(folder: Path) -> tuple[Path, Path, Path]:
    """LEADS and EVENTS with CRM headers, and the scorelang.toml that maps them."""
    import csv

    def rename(text: str, name: str, structural: dict[str, str]) -> Path:
        rows = list(csv.reader(text.splitlines()))
        header = [structural.get(c, CRM_HEADERS.get(c, c)) for c in rows[0]]
        path = folder / name
        with path.open("w", newline="", encoding="utf-8") as file:
            csv.writer(file).writerows([header, *rows[1:]])
        return path

    structural = {"lead_id": "Contact", "event_type": "Activity Type", "occurred_at": "Date/Time"}
    leads = rename(CRM_ROWS[0], "crm_leads.csv", {})
    events = rename(CRM_ROWS[1], "crm_events.csv", structural)
    keys = dict(zip(("event_lead", "event_type", "event_time"), structural.values(), strict=True))
    lines = ["[sources]", *map(toml_pair, keys.items()), "[sources.columns]"]
    lines += map(toml_pair, CRM_HEADERS.items())
    return leads, events, config(folder, "\n".join(lines) + "\n")


def toml_pair(item: tuple[str, str]) -> str:
    """`key = "value"`: a JSON string is a TOML basic string, quotes escaped alike."""
    return f"{item[0]} = {json.dumps(item[1], ensure_ascii=False)}"


@pytest.mark.parametrize("engine", ["python", "duckdb", "postgres"])
def test_any_header_text_can_be_mapped(engine: str, tmp_path: Path, pg_url: str) -> None:
    from scorelang.config import load_config

    (tmp_path / "plain").mkdir()
    plain_leads, plain_events = write(tmp_path / "plain", *CRM_ROWS)
    plain = score(
        MODEL, engine, leads=plain_leads, events=plain_events, database=pg_url, as_of=AS_OF
    )
    leads, events, path = crm_files(tmp_path)
    mapping = load_config(path).sources
    assert mapping.column("signed_up") == 'Signed "up"; DROP TABLE leads; --'
    mapped = score(
        MODEL, engine, leads=leads, events=events, database=pg_url, as_of=AS_OF, mapping=mapping
    )
    assert mapped == plain and len(mapped) == 2


def test_mapped_header_text_stays_quoted_in_deployed_views(tmp_path: Path) -> None:
    """The views read columns named with quotes and SQL text, and nothing is injected."""
    from scorelang.config import load_config
    from scorelang.engines import apply

    leads, events, path = crm_files(tmp_path)
    mapping = load_config(path).sources
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        load_duckdb(con, MODEL, leads, events, mapping)
    views = apply(MODEL, str(database), mapping=mapping)
    with duckdb.connect(str(database)) as con:
        rows = con.execute(f"SELECT count(*) FROM {views[0]}").fetchall()
        tables = {
            t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    assert rows == [(2,)] and {"leads", "events"} <= tables


@pytest.mark.parametrize("command", ["compile", "apply"])
def test_deploying_commands_refuse_a_mapping_typo(command: str, tmp_path: Path) -> None:
    model = tmp_path / "bad.score"
    model.write_text(SOURCE, encoding="utf-8")
    path = config(tmp_path, '[sources.columns]\nemployes = "staff"\n')
    target = ["--database", str(tmp_path / "w.duckdb")] if command == "apply" else ["-t", "duckdb"]
    result = CliRunner().invoke(app, [command, str(model), "--config", str(path), *target])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "did you mean `employees`?" in result.output


# ---- the structure of files --------------------------------------------------------------


@pytest.mark.parametrize(
    ("leads", "events", "message"),
    [
        (
            "contact,employees,revenue,signed_up\nl1,20,,\n",
            EVENTS,
            "leads.csv: missing required column 'id' for lead field id",
        ),
        (
            LEADS,
            "lead,event_type,occurred_at,url,secs\nl1,visit,2025-12-31,/a,\n",
            "events.csv: missing required column 'lead_id' for the events' lead_id (column name "
            "from the default; set event_lead under [sources]",
        ),
        (
            LEADS,
            "lead_id,type,occurred_at,url,secs\nl1,visit,2025-12-31,/a,\n",
            "missing required column 'event_type' for the events' event_type",
        ),
        (
            LEADS,
            "lead_id,event_type,timestamp,url,secs\nl1,visit,2025-12-31,/a,\n",
            "missing required column 'occurred_at' for the events' occurred_at (column name from "
            "the default; set event_time under [sources] in scorelang.toml to rename it) (the "
            "file has: 'lead_id', 'event_type', 'timestamp', 'url', 'secs')",
        ),
        (LEADS, "url\n/a\n", "missing required column 'occurred_at'"),
    ],
)
def test_a_missing_structural_column_is_named(
    leads: str, events: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(DataError) as raised:
        load_duckdb(duckdb.connect(), MODEL, *write(tmp_path, leads, events), SourceMapping())
    assert message in " ".join(str(raised.value).split())


@pytest.mark.parametrize(
    ("leads", "message"),
    [
        (
            "id,employees,revenue,employees,signed_up\nl1,2,,3,\n",
            "leads.csv: duplicate column names in the header: 'employees' (2 times)",
        ),
        ("", "leads.csv: cannot be read: the file is empty (no header row)"),
        ("\n\n", "leads.csv: cannot be read: the file is empty (no header row)"),
        (
            LEADS.replace(",", ";"),
            "leads.csv: the header is a single column 'id;employees;revenue;signed_up': the file "
            "looks semicolon-separated (';'), not comma-separated; set delimiter = ';' under [sources]",
        ),
        (LEADS.replace(",", "\t"), "the file looks tab-separated ('\\t')"),
    ],
)
def test_bad_file_structure_is_named(leads: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(DataError) as raised:
        load_duckdb(duckdb.connect(), MODEL, *write(tmp_path, leads, EVENTS), SourceMapping())
    assert message in str(raised.value)
    model = tmp_path / "bad.score"
    model.write_text(SOURCE, encoding="utf-8")
    code, output = cli_score(tmp_path, tmp_path / "leads.csv", tmp_path / "events.csv")
    assert code == 1 and message.split("csv: ")[-1] in output


LATIN = "id,employees,revenue,signed_up\nl1,20,1.5,2025-01-01\nl2,30,,\n"
LATIN_EVENTS = EVENTS + "l2,visit,2025-12-31T23:40:00Z,/café,\n"


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_another_encoding_is_named_and_readable_when_configured(
    encoding: str, tmp_path: Path
) -> None:
    leads, events = write(tmp_path, LATIN, "")
    events.write_bytes(LATIN_EVENTS.encode(encoding))
    with pytest.raises(DataError) as raised:
        load_duckdb(duckdb.connect(), MODEL, leads, events, SourceMapping())
    assert "events.csv: is not UTF-8-encoded text" in str(raised.value)
    assert "set encoding = 'latin-1' (or 'utf-16') under [sources]" in str(raised.value)
    leads.write_bytes(LATIN.encode(encoding))
    records = read_records(MODEL, leads, events, SourceMapping(encoding=encoding))
    assert [e["url"] for e in records[1]] == ["/a", "/café"]


def test_a_configured_delimiter_reads_the_file(tmp_path: Path) -> None:
    leads, events = write(tmp_path, LEADS.replace(",", ";"), EVENTS.replace(",", ";"))
    path = config(tmp_path, '[sources]\ndelimiter = ";"\n')
    code, output = cli_score(tmp_path, leads, events, "--config", str(path))
    assert code == 0 and "1 lead scored" in output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[sources]\nencoding = "cp1252"\n',
            "encoding = 'cp1252' is not supported: use one of utf-8, utf-16, latin-1",
        ),
        ('[sources]\ndelimiter = ";;"\n', "delimiter = ';;': give one character"),
    ],
)
def test_file_options_are_checked(tmp_path: Path, text: str, message: str) -> None:
    from scorelang.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=message):
        load_config(config(tmp_path, text))


# ---- dropped rows are visible ------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelled", "declared"),
    [("Page View", "visit"), ("VISIT", "visit"), ("visits", "visit"), ("Mail", "mail")],
)
def test_an_undeclared_type_is_named_with_the_type_it_resembles(
    spelled: str, declared: str, tmp_path: Path
) -> None:
    events = EVENTS + f"l1,{spelled},2025-12-31T23:40:00Z,/b,\n" * 3
    report = load_duckdb(duckdb.connect(), MODEL, *write(tmp_path, LEADS, events), SourceMapping())
    expected = None if spelled == "Page View" else declared
    assert report.undeclared_types == ((spelled, 3, expected),)
    assert f"{spelled!r} (3)" + (f" looks like {declared}" if expected else "") in report.summary()


def test_strict_makes_every_dropped_row_an_error(tmp_path: Path) -> None:
    files = write(tmp_path, LEADS, DROPPED)
    with pytest.raises(DataError) as raised:
        load_duckdb(duckdb.connect(), MODEL, *files, SourceMapping(strict=True))
    assert str(raised.value) == (
        f"{files[1]}: strict mode: rows would be dropped: 3 events of undeclared types: "
        "'click' (2), 'Visit' (1) looks like visit; 2 events of leads absent from the leads "
        "file (declare the types, fix the data, or run without --strict / strict = true)"
    )
    clean = write(tmp_path, LEADS, EVENTS)
    assert load_duckdb(duckdb.connect(), MODEL, *clean, SourceMapping(strict=True)).dropped == 0
