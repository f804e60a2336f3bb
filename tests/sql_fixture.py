"""A small deterministic data set for the SQL target's tests, with boundary cases: window
edges, events at and after as_of, sequence ties and exact gaps, missing values, odd emails,
newlines and non-ASCII letters for regexes, ties for percentile tiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from scorelang.compiler import ir

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
NOW = AS_OF.replace(tzinfo=None)  # event times are naive UTC


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def lead(id: str, **fields: Any) -> dict[str, Any]:
    base = dict.fromkeys(("email", "name", "title", "employees", "revenue", "created_at", "vip"))
    return {"id": id, **base, **fields}


def event(lead_id: str, kind: str, at: datetime, **props: Any) -> dict[str, Any]:
    return {"lead_id": lead_id, "event_type": kind, "occurred_at": at, **props}


LEADS = [
    lead(
        "l1",
        email="ann@acme.io",
        name="Dr Jackson",
        title="VP Sales",
        employees=200,
        revenue=500000.0,
        created_at=ago(days=31),
        vip=True,
    ),
    lead("l2"),
    lead(
        "l3",
        email="Bob@Mail@ACME.IO",
        name="zed",
        title="Head of x",
        employees=0,
        revenue=10.0,
        created_at=ago(days=30, hours=12),
        vip=False,
    ),
    lead(
        "l4",
        email="no-at-sign",
        name="maxson",
        title="a\nb",
        employees=1000,
        revenue=0.5,
        created_at=ago(days=40, microseconds=7),
    ),
    lead("l5", email="x@", name="", title="Abc 123", employees=101, revenue=2.0),
    lead("l6", email="Zoe@Example.com", name="Xavier", title="évp", employees=50, revenue=0.25),
    lead("l7", email="t1@acme.io", name="ann", title="head", employees=11, created_at=ago(days=1)),
    lead("l8", email="t2@acme.io", name="bob", title="head", employees=11, created_at=ago(days=1)),
]

EVENTS = [
    # l1: pricing view 2 days ago, a view exactly 7 days ago (inside `between 7d and 14d`),
    # one after as_of (does not exist), email opens in two daily periods, a sequence whose
    # gap is exactly the limit, form amounts with a missing one.
    event("l1", "page_view", ago(days=2), url="/pricing", duration=3.0),
    event("l1", "page_view", ago(days=7), url="/docs", duration=11.0),
    event("l1", "page_view", NOW + timedelta(hours=1), url="/future", duration=99.0),
    event("l1", "email_open", ago(hours=12), campaign="c1"),
    event("l1", "email_open", ago(hours=36), campaign="c1"),
    event("l1", "email_open", ago(hours=38), campaign="c2"),
    event("l1", "download", ago(days=3), asset="a"),
    event("l1", "demo", ago(days=2)),
    event("l1", "form_submit", ago(days=4), form="contact", amount=60),
    event("l1", "form_submit", ago(days=5), form="contact", amount=50),
    event("l1", "form_submit", ago(days=6), form="other", amount=None),
    # l3: download and demo at the same instant (a tie counts), an event exactly at as_of.
    event("l3", "download", ago(days=5), asset="b"),
    event("l3", "demo", ago(days=5)),
    event("l3", "page_view", NOW, url="/now", duration=None),
    # l4: demo before download (no sequence); the only activity exactly 45 days ago (outside
    # `within 45d`: the reset fires); the sequence gap 1 microsecond too long.
    event("l4", "demo", ago(days=50)),
    event("l4", "download", ago(days=48)),
    event("l4", "demo", ago(days=47, microseconds=-1)),
    event("l4", "page_view", ago(days=45), url="/pricing", duration=10.5),
    # l5: a pricing view exactly 14 days ago (outside `between 7d and 14d`), linear decay to 0.
    event("l5", "page_view", ago(days=14), url="/pricing", duration=20.0),
    event("l5", "page_view", ago(days=1, hours=11, minutes=59), url="/pricing", duration=20.0),
    event("l5", "email_open", ago(days=3), campaign="c9", url="/ignored"),
    # l6: many decayed views with microsecond times.
    *(
        event(
            "l6", "page_view", ago(days=i, microseconds=i * 37), url=f"/p{i % 3}", duration=i * 1.1
        )
        for i in range(12)
    ),
    # an event of a lead that is not in the leads table
    event("ghost", "page_view", ago(days=1), url="/pricing", duration=1.0),
]


def column_types(model: ir.Model, dialect: str) -> tuple[dict[str, ir.Type], dict[str, ir.Type]]:
    """Lead columns and event columns (the documented "wide" layout) with their IR types."""
    leads = {f.name: f.type for f in model.lead_fields}
    key_type = leads[model.key]
    events = {"lead_id": key_type, "event_type": ir.Type.STRING, "occurred_at": ir.Type.TIMESTAMP}
    for event_type in model.event_types:
        for prop in event_type.properties:
            events[prop.name] = prop.type
    return leads, events


SQL_TYPES = {
    "duckdb": {
        ir.Type.STRING: "VARCHAR",
        ir.Type.INT: "BIGINT",
        ir.Type.NUMBER: "DOUBLE",
        ir.Type.BOOL: "BOOLEAN",
        ir.Type.TIMESTAMP: "TIMESTAMP",
    },
    "postgres": {
        ir.Type.STRING: "TEXT",
        ir.Type.INT: "BIGINT",
        ir.Type.NUMBER: "DOUBLE PRECISION",
        ir.Type.BOOL: "BOOLEAN",
        ir.Type.TIMESTAMP: "TIMESTAMP",
    },
}


def table_statements(
    model: ir.Model, dialect: str, schema: str | None, leads: list[dict], events: list[dict]
):
    """CREATE TABLE and parameterised INSERT statements for the fixture (test setup only)."""
    prefix = f'"{schema}".' if schema else ""
    placeholder = "?" if dialect == "duckdb" else "%s"
    out = []
    for table, columns, rows in zip(
        ("leads", "events"), column_types(model, dialect), (leads, events), strict=True
    ):
        names = list(columns)
        ddl = ", ".join(f'"{n}" {SQL_TYPES[dialect][t]}' for n, t in columns.items())
        out.append((f'CREATE TABLE {prefix}"{table}" ({ddl})', None))
        quoted = ", ".join(f'"{n}"' for n in names)
        insert = f'INSERT INTO {prefix}"{table}" ({quoted}) VALUES ({", ".join([placeholder] * len(names))})'
        out.extend((insert, [row.get(n) for n in names]) for row in rows)
    return out


def naive_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def records_of_test_case(
    model: ir.Model, case: ir.TestCase
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A model test's lead and events as table rows (naive UTC times)."""
    lead_row = {name: naive_utc(value) for name, value in case.lead}
    key = lead_row[model.key]
    events = [
        {
            "lead_id": key,
            "event_type": e.type,
            "occurred_at": naive_utc(e.at),
            **{name: naive_utc(value) for name, value in e.properties},
        }
        for e in case.events
    ]
    return [lead_row], events


class Engine:
    """A database holding one leads and one events table, running generated SQL."""

    dialect = ""
    schema: str | None = None

    def execute(self, sql: str, params: list | None = None) -> list[tuple]:
        raise NotImplementedError

    def columns(self, sql: str) -> tuple[list[str], list[tuple]]:
        raise NotImplementedError

    def load(self, model: ir.Model, leads: list[dict], events: list[dict]) -> None:
        prefix = f'"{self.schema}".' if self.schema else ""
        for table in ("leads", "events"):
            self.execute(f'DROP TABLE IF EXISTS {prefix}"{table}"')
        for sql, params in table_statements(model, self.dialect, self.schema, leads, events):
            self.execute(sql, params)

    def rows(self, query: str) -> dict[Any, dict[str, Any]]:
        names, rows = self.columns(query)
        return {row[0]: dict(zip(names, row, strict=True)) for row in rows}


class DuckEngine(Engine):
    dialect = "duckdb"

    def __init__(self) -> None:
        import duckdb

        self.con = duckdb.connect()

    def execute(self, sql: str, params: list | None = None) -> list[tuple]:
        return (
            self.con.execute(sql, params).fetchall() if params else self.con.execute(sql).fetchall()
        )

    def columns(self, sql: str) -> tuple[list[str], list[tuple]]:
        cursor = self.con.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()


class PgEngine(Engine):
    dialect = "postgres"

    def __init__(self, url: str, schema: str) -> None:
        import psycopg

        self.con = psycopg.connect(url, autocommit=True)
        self.schema = schema
        self.con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.con.execute(f'CREATE SCHEMA "{schema}"')

    def execute(self, sql: str, params: list | None = None) -> list[tuple]:
        cursor = self.con.execute(sql, params, prepare=False)
        return cursor.fetchall() if cursor.description else []

    def columns(self, sql: str) -> tuple[list[str], list[tuple]]:
        cursor = self.con.execute(sql)
        return [d.name for d in cursor.description], cursor.fetchall()

    def close(self) -> None:
        self.con.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        self.con.close()


ZONELESS = ("DATETIME", "TIMESTAMP_NTZ")  # BigQuery's and Snowflake's date and time types


def stored_as(
    records: list[dict[str, Any]], columns: list[str], types: dict[str, str]
) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    """Records whose timestamps (naive UTC) are kept in columns of warehouse `types` (by
    column; an instant type if absent): each row's cells as JSON (a DATE as its date, a
    zone-less type as the UTC wall time, an instant with its offset), and the records the
    Python evaluator reads (a DATE is midnight UTC, as docs/data.md says)."""

    def cell(value: Any, kind: str) -> tuple[Any, Any]:
        if not isinstance(value, datetime):
            return value, value
        if kind == "DATE":
            return value.date().isoformat(), datetime.combine(value.date(), datetime.min.time())
        if kind in ZONELESS:
            return value.isoformat(), value
        return value.replace(tzinfo=UTC).isoformat(), value

    stored = [{c: cell(row.get(c), types.get(c, "")) for c in columns} for row in records]
    cells = [[pair[c][0] for c in columns] for pair in stored]
    return cells, [{c: v for c, (_, v) in pair.items()} for pair in stored]
