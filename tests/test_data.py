"""Loading lead and event files: typed values, validation errors, dropped rows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from scorelang.compiler import ir

from scorelang.config import SourceMapping
from scorelang.data import DataError, load_duckdb, read_records

T = ir.Type
MODEL = ir.Model(
    name="m",
    description=None,
    key="id",
    lead_fields=(
        ir.FieldType("id", T.STRING),
        ir.FieldType("employees", T.INT, optional=True),
        ir.FieldType("revenue", T.NUMBER, optional=True),
        ir.FieldType("active", T.BOOL, optional=True),
        ir.FieldType("created_at", T.TIMESTAMP, optional=True),
    ),
    event_types=(
        ir.EventType("page_view", (ir.FieldType("url", T.STRING),)),
        ir.EventType(
            "download",
            (
                ir.FieldType("url", T.STRING, optional=True),
                ir.FieldType("size", T.INT, optional=True),
            ),
        ),
    ),
    aggregates=(),
    scores=(),
)
LEADS = """id,employees,revenue,active,created_at
a,12,2.5,true,2026-01-01T10:00:00+02:00
b,,,,
c,-3,1e3,false,2025-12-31 23:30
d,"",,1,2026-01-01
"""
EVENTS = """lead_id,event_type,occurred_at,url,size
a,page_view,2025-12-30T10:00:00Z,/pricing,
a,download,2025-12-30 10:00:00,,4
zz,page_view,2025-12-30,/x,
a,webinar,2025-12-30,/x,
c,page_view,2025-12-29T08:00:00-05:00,/ünïcødé,
"""


def write(folder: Path, leads: str = LEADS, events: str = EVENTS) -> tuple[Path, Path]:
    (folder / "leads.csv").write_text(leads, encoding="utf-8")
    (folder / "events.csv").write_text(events, encoding="utf-8")
    return folder / "leads.csv", folder / "events.csv"


def load_error(folder: Path, leads: str = LEADS, events: str = EVENTS) -> str:
    with pytest.raises(DataError) as caught:
        load_duckdb(duckdb.connect(), MODEL, *write(folder, leads, events))
    return str(caught.value)


def test_records_have_model_types_and_utc_times(tmp_path: Path) -> None:
    leads, events = read_records(MODEL, *write(tmp_path))
    assert leads == [
        {
            "id": "a",
            "employees": 12,
            "revenue": 2.5,
            "active": True,
            "created_at": datetime(2026, 1, 1, 8, tzinfo=UTC),
        },
        {"id": "b", "employees": None, "revenue": None, "active": None, "created_at": None},
        {
            "id": "c",
            "employees": -3,
            "revenue": 1000.0,
            "active": False,
            "created_at": datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
        },
        {
            "id": "d",
            "employees": None,
            "revenue": None,
            "active": True,
            "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        },
    ]
    assert events == [
        {
            "lead_id": "a",
            "event_type": "page_view",
            "occurred_at": datetime(2025, 12, 30, 10, tzinfo=UTC),
            "url": "/pricing",
        },
        {
            "lead_id": "a",
            "event_type": "download",
            "occurred_at": datetime(2025, 12, 30, 10, tzinfo=UTC),
            "url": None,
            "size": 4,
        },
        {
            "lead_id": "c",
            "event_type": "page_view",
            "occurred_at": datetime(2025, 12, 29, 13, tzinfo=UTC),
            "url": "/ünïcødé",
        },
    ]


def test_report_counts_dropped_events(tmp_path: Path) -> None:
    con = duckdb.connect()
    report = load_duckdb(con, MODEL, *write(tmp_path))
    assert (
        report.leads,
        report.events,
        report.unknown_lead_events,
        report.undeclared_type_events,
    ) == (4, 3, 1, 1)
    assert (
        report.summary()
        == "4 leads, 3 events (ignored: 1 event of unknown leads, 1 event of undeclared types: "
        "'webinar' (1))"
    )
    assert con.execute('SELECT count(*) FROM "events"').fetchone() == (3,)


def test_event_types_are_an_enum_of_the_declared_ones(tmp_path: Path) -> None:
    """The kept events' type compares as a small integer; it still reads back as text, and a
    literal the model does not declare is simply unequal."""
    con = duckdb.connect()
    load_duckdb(con, MODEL, *write(tmp_path))
    declared = ", ".join(f"'{t.name}'" for t in MODEL.event_types)
    assert con.execute(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'events' AND column_name = 'event_type'"
    ).fetchone() == (f"ENUM({declared})",)
    assert con.execute(
        "SELECT event_type, event_type = 'page_view', event_type = 'webinar' "
        'FROM "events" ORDER BY rowid'
    ).fetchall() == [
        ("page_view", True, False),
        ("download", False, False),
        ("page_view", True, False),
    ]


def test_parquet_gives_the_same_records_as_csv(tmp_path: Path) -> None:
    leads_csv, events_csv = write(tmp_path)
    con = duckdb.connect()
    load_duckdb(con, MODEL, leads_csv, events_csv)
    con.execute("SET TimeZone = 'UTC'")
    con.table("leads").write_parquet(str(tmp_path / "leads.parquet"))
    con.table("events").write_parquet(str(tmp_path / "events.parquet"))
    from_parquet = read_records(MODEL, tmp_path / "leads.parquet", tmp_path / "events.parquet")
    assert from_parquet == read_records(MODEL, leads_csv, events_csv)


def as_parquet(csv: Path) -> Path:
    """The CSV file as Parquet, typed as DuckDB reads it."""
    path = csv.with_suffix(".parquet")
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}')) TO '{path}' (FORMAT parquet)")
    return path


def relation_kinds(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall()
    return dict(rows)


def loaded_events(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        'SELECT lead_id, CAST(event_type AS VARCHAR), occurred_at FROM "events"'
    ).fetchall()


@pytest.mark.parametrize("unknown_lead", [False, True])
def test_scoring_reads_a_parquet_file_in_place_when_every_event_is_kept(
    tmp_path: Path, unknown_lead: bool
) -> None:
    """For the scores query a Parquet file is a typed view, read in place, unless some of
    its events belong to no lead: those must be dropped, so the events are copied. Either
    way the rows and the counts are those of the same data loaded from CSV."""
    events = EVENTS if unknown_lead else EVENTS.replace("zz,page_view,2025-12-30,/x,\n", "")
    leads_csv, events_csv = write(tmp_path, events=events)
    reports, rows = [], []
    for leads, events_file in (
        (leads_csv, events_csv),
        (as_parquet(leads_csv), as_parquet(events_csv)),
    ):
        con = duckdb.connect()
        reports.append(load_duckdb(con, MODEL, leads, events_file, scored_only=True))
        rows.append(loaded_events(con))
        kinds = relation_kinds(con)
    assert reports[0] == reports[1]
    assert rows[0] == rows[1]
    assert reports[1].unknown_lead_events == (1 if unknown_lead else 0)
    assert reports[1].undeclared_type_events == 1
    assert kinds["leads"] == "VIEW"
    assert kinds["events"] == ("BASE TABLE" if unknown_lead else "VIEW")


def test_mapping_renames_tables_columns_and_schema(tmp_path: Path) -> None:
    leads = LEADS.replace("id,employees", "lead_key,employees")
    events = EVENTS.replace("lead_id,event_type,occurred_at,url", "who,kind,at,page")
    mapping = SourceMapping(
        leads_table="people",
        events_table="activity_log",
        schema="crm",
        event_lead="who",
        event_type="kind",
        event_time="at",
        columns={"id": "lead_key", "url": "page"},
    )
    con = duckdb.connect()
    report = load_duckdb(con, MODEL, *write(tmp_path, leads, events), mapping)
    assert report.events == 3
    assert con.execute('SELECT "lead_key" FROM "crm"."people" ORDER BY 1').fetchall() == [
        ("a",),
        ("b",),
        ("c",),
        ("d",),
    ]
    assert con.execute(
        'SELECT "page" FROM "crm"."activity_log" WHERE "kind" = \'page_view\' ORDER BY 1'
    ).fetchall() == [
        ("/pricing",),
        ("/ünïcødé",),
    ]
    plain = tmp_path / "plain"
    plain.mkdir()
    assert read_records(
        MODEL, tmp_path / "leads.csv", tmp_path / "events.csv", mapping
    ) == read_records(MODEL, *write(plain))


def test_integer_lead_keys_type_event_lead_ids(tmp_path: Path) -> None:
    model = ir.Model(
        name="m",
        description=None,
        key="id",
        lead_fields=(ir.FieldType("id", T.INT),),
        event_types=(ir.EventType("ping", ()),),
        aggregates=(),
        scores=(),
    )
    leads, events = write(
        tmp_path,
        "id\n7\n8\n",
        "lead_id,event_type,occurred_at\n7,ping,2026-01-01\n9,ping,2026-01-01\n",
    )
    lead_records, event_records = read_records(model, leads, events)
    assert lead_records == [{"id": 7}, {"id": 8}]
    assert event_records == [
        {"lead_id": 7, "event_type": "ping", "occurred_at": datetime(2026, 1, 1, tzinfo=UTC)}
    ]


def test_missing_required_column(tmp_path: Path) -> None:
    message = load_error(tmp_path, events=EVENTS.replace(",url,", ",link,"))
    assert "events.csv: missing required column 'url'" in message
    assert "(the file has: 'lead_id', 'event_type', 'occurred_at', 'link', 'size')" in message


def test_absent_optional_columns_are_missing_values_when_allowed(tmp_path: Path) -> None:
    reports = []
    leads, events = read_records(
        MODEL,
        *write(tmp_path, "id\nx\n", "lead_id,event_type,occurred_at,url\nx,download,2026-01-01,\n"),
        SourceMapping(allow_missing_columns=True),
        reports.append,
    )
    assert reports[0].missing_columns == ("employees", "revenue", "active", "created_at", "size")
    assert "read as missing on every row: employees, revenue" in reports[0].summary()
    assert leads == [
        {"id": "x", "employees": None, "revenue": None, "active": None, "created_at": None}
    ]
    assert events[0]["size"] is None


def test_unreadable_values_name_column_rows_and_values(tmp_path: Path) -> None:
    leads = "id,employees,revenue,active\na,3.5,abc,maybe\nb,2,inf,\nc,x,,\nd,y,,\ne,z,,\n"
    message = load_error(tmp_path, leads=leads)
    assert (
        "leads.csv: column 'employees': 4 values are not a valid int, e.g. row 1: '3.5', row 3: 'x', row 4: 'y'"
        in message
    )
    assert (
        "column 'revenue': 2 values are not a valid number, e.g. row 1: 'abc', row 2: 'inf'"
        in message
    )
    assert "column 'active': 1 values are not a valid bool, e.g. row 1: 'maybe'" in message


def test_unparsable_timestamps(tmp_path: Path) -> None:
    events = "lead_id,event_type,occurred_at,url\na,page_view,yesterday,/p\na,page_view,2026-13-01,/p\na,page_view,2026-01-01,/p\n"
    message = load_error(tmp_path, events=events)
    assert (
        "events.csv: column 'occurred_at': 2 values are not a valid timestamp, e.g. row 1: 'yesterday', row 2: '2026-13-01'"
        in message
    )


def test_missing_required_values(tmp_path: Path) -> None:
    leads = "id,employees\na,1\n,2\n"
    events = "lead_id,event_type,occurred_at,url\na,page_view,,/p\na,page_view,2026-01-01,\na,download,2026-01-01,\n"
    message = load_error(tmp_path, leads, events)
    assert "leads.csv: column 'id': 1 missing values in a required field, e.g. row 2" in message
    assert (
        "events.csv: column 'occurred_at': 1 missing values in a required field, e.g. row 1"
        in message
    )
    # `url` is required for page_view only: the download row without one is fine.
    assert (
        "events.csv: column 'url': 1 missing values in a required field, e.g. row 2\n"
        in message + "\n"
    )


def test_duplicate_lead_keys(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        leads="id,employees,revenue,active,created_at\n" + "".join(f"{k},,,,\n" for k in "abacba"),
    )
    assert (
        message
        == f"{tmp_path / 'leads.csv'}: 2 duplicate lead keys in column 'id', e.g. 'a' (3 rows), 'b' (2 rows)"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.csv: file not found"):
        read_records(MODEL, tmp_path / "nope.csv", tmp_path / "events.csv")
