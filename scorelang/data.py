"""Load lead and event files (CSV or Parquet) into typed, validated DuckDB tables.

Every engine reads input files through here, so Python, DuckDB and Postgres see exactly the
same typed values: DuckDB parses the text once, and the Python engine's records and the
Postgres scratch tables are copied from those typed tables.

Conventions (docs/data.md): an empty CSV cell (quoted or not) is a missing value; a
timestamp without a zone is UTC, one with an offset is converted to UTC; `NaN`/`inf` are
not numbers; an int column rejects `3.5`. Rows whose event type the model does not declare,
and events of leads absent from the leads file, are dropped and counted in the LoadReport;
so are leads whose account key names no row of the accounts file (a model with an account:
they are scored without one). Anything else wrong (missing column, unreadable value, missing
required value, duplicate lead or account key) is a DataError naming the file, the column
and example rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from sqlglot import exp

from .columns import absent_column, account_fields, check_mapping
from .compiler import ir
from .config import SourceMapping, schema_parts
from .csvfiles import FileStructureError, check_header, csv_source, decoding_error
from .eventtypes import describe, resembles
from .records import model_ir
from .targets.sql.names import column as col
from .targets.sql.names import ident
from .targets.sql.relations import qualified_table
from .wording import counted

if TYPE_CHECKING:
    import pyarrow as pa

    from .api import ScoringModel
    from .targets.python.columnar import EventColumns, Factor

DIALECT = "duckdb"
EXAMPLES = 3  # example rows quoted per problem
# Numbers in data are 0 or of magnitude in [MIN_MAGNITUDE, MAX_MAGNITUDE]. Beyond that the
# engines part ways: ints above 2**53 lose digits as doubles, Python overflows to inf where
# Postgres raises, and Postgres raises on underflow (5e-324 / 3) where the others give 0.
MAX_MAGNITUDE = 1e15
MIN_MAGNITUDE = 1e-15

SQL_TYPES = {
    ir.Type.STRING: "VARCHAR",
    ir.Type.INT: "BIGINT",
    ir.Type.NUMBER: "DOUBLE",
    ir.Type.BOOL: "BOOLEAN",
    ir.Type.TIMESTAMP: "TIMESTAMPTZ",
}


class DataError(Exception):
    """Input data that cannot be scored as given; the message explains what and where."""


@dataclass(frozen=True)
class LoadReport:
    leads: int
    events: int  # events kept: declared type, known lead
    unknown_lead_events: int  # dropped: lead key not in the leads file
    undeclared_type_events: int  # dropped: event type not declared by the model
    # Nullable fields/properties without a column, read as all-missing (allow_missing_columns).
    missing_columns: tuple[str, ...] = ()
    # Each undeclared event type: (type, events, the declared type it resembles or None).
    undeclared_types: tuple[tuple[str, int, str | None], ...] = ()
    accounts: int | None = None  # rows of the accounts file (None: the model has no account)
    # Leads whose account key names no row of the accounts file: scored without an account.
    unknown_account_leads: int = 0

    @property
    def dropped(self) -> int:
        return self.unknown_lead_events + self.undeclared_type_events

    def summary(self) -> str:
        text = f"{counted(self.leads, 'lead')}, {counted(self.events, 'event')}"
        if self.accounts is not None:
            text += f", {counted(self.accounts, 'account')}"
        dropped = [
            f"{counted(self.unknown_lead_events, 'event')} of unknown leads"
            if self.unknown_lead_events
            else "",
            f"{counted(self.undeclared_type_events, 'event')} of undeclared types"
            + (f": {describe(self.undeclared_types)}" if self.undeclared_types else "")
            if self.undeclared_type_events
            else "",
        ]
        dropped = [d for d in dropped if d]
        text = f"{text} (ignored: {', '.join(dropped)})" if dropped else text
        if self.missing_columns:
            text += f"; no column, read as missing on every row: {', '.join(self.missing_columns)}"
        if self.unknown_account_leads:
            text += (
                f"; {unlinked_leads(self.unknown_account_leads)} an account key absent from "
                "the accounts file (scored without an account)"
            )
        return text

    @property
    def noteworthy(self) -> bool:
        """Whether a run should mention this load: rows dropped, columns read as missing, or
        leads whose account is not in the accounts file."""
        return bool(self.dropped or self.missing_columns or self.unknown_account_leads)


def unlinked_leads(count: int, leads: Path | None = None) -> str:
    """`1 lead names` / `3 leads of leads.csv name`: the start of the unlinked-leads note."""
    where = f" of {leads}" if leads is not None else ""
    return f"{counted(count, 'lead')}{where} {'names' if count == 1 else 'name'}"


# Who hears of every load in this context (the CLI's note on dropped rows), however deep
# in a command the files are read.
_watchers: ContextVar[tuple[Callable[[LoadReport], None], ...]] = ContextVar(
    "scorelang_load_watchers", default=()
)


@contextmanager
def watch_loads(watcher: Callable[[LoadReport], None]) -> Iterator[None]:
    """Call `watcher` with the LoadReport of every file load inside the block."""
    token = _watchers.set((*_watchers.get(), watcher))
    try:
        yield
    finally:
        _watchers.reset(token)


@dataclass(frozen=True)
class Column:
    """One typed column to load: `name` in the model, `source` in the file and the table."""

    name: str
    source: str
    type: ir.Type
    required: bool  # the column must exist in the file
    # Rows where a missing value is an error: always (None) or only for these event types.
    not_null_types: tuple[str, ...] | None = ()


def entity_columns(model: ir.Model, entity: str, mapping: SourceMapping) -> list[Column]:
    """One column per field of the entity (the lead's, or the account's)."""
    return [
        Column(
            f.name,
            mapping.entity_column(entity, f.name),
            f.type,
            not f.optional,
            None if not f.optional else (),
        )
        for f in model.entity(entity).fields
    ]


def lead_columns(model: ir.Model, mapping: SourceMapping) -> list[Column]:
    return entity_columns(model, ir.LEAD, mapping)


def account_columns(model: ir.Model, mapping: SourceMapping) -> list[Column]:
    """The account's columns; none for a model without an account."""
    return entity_columns(model, ir.ACCOUNT, mapping) if account_fields(model) else []


def event_columns(model: ir.Model, mapping: SourceMapping) -> list[Column]:
    """The fixed event columns, then one per property name ("wide" events)."""
    key_type = next(f.type for f in model.lead_fields if f.name == model.key)
    columns = [
        Column("lead_id", mapping.event_lead, key_type, True, None),
        Column("event_type", mapping.event_type, ir.Type.STRING, True, None),
        Column("occurred_at", mapping.event_time, ir.Type.TIMESTAMP, True, None),
    ]
    props: dict[str, list[tuple[str, ir.FieldType]]] = {}
    for event_type in model.event_types:
        for prop in event_type.properties:
            props.setdefault(prop.name, []).append((event_type.name, prop))
    for name, declared in props.items():
        strict = tuple(t for t, p in declared if not p.optional)
        columns.append(
            Column(name, mapping.column(name), declared[0][1].type, bool(strict), strict)
        )
    return columns


def scored_event_columns(model: ir.Model, mapping: SourceMapping) -> list[Column]:
    """The event columns scoring reads: lead, type, time and the properties some aggregate
    reads. The typed events table holds only these (the others are validated, not kept)."""
    read = set(ir.properties_read(model.aggregates))
    every = event_columns(model, mapping)
    return every[:3] + [c for c in every[3:] if c.name in read]


def table(name: str | None, schema: str | None = None) -> exp.Table:
    """A quoted table name (None: the schema itself); `schema` may be `catalog.schema`."""
    return qualified_table(name, schema_parts(schema) if schema else ())


def create_schema(schema: str, dialect: str) -> str:
    return exp.Create(this=table(None, schema), kind="SCHEMA", exists=True).sql(dialect=dialect)


def run(con: duckdb.DuckDBPyConnection, query: exp.Expression) -> list[tuple[Any, ...]]:
    return con.execute(query.sql(dialect=DIALECT)).fetchall()


def try_cast(value: exp.Expression, type_: ir.Type) -> exp.Expression:
    return exp.TryCast(this=value, to=exp.DataType.build(SQL_TYPES[type_], dialect=DIALECT))


def is_valid(value: exp.Expression, type_: ir.Type) -> exp.Expression:
    """True when a present value reads as `type_`; ints must be whole, numbers finite."""
    parsed = try_cast(value, type_)
    if type_ is ir.Type.INT:
        test: exp.Expression = exp.EQ(this=try_cast(value, ir.Type.NUMBER), expression=parsed)
    elif type_ is ir.Type.NUMBER:
        test = exp.func("isfinite", parsed)
    else:
        test = exp.Not(this=exp.Is(this=parsed, expression=exp.null()))
    return exp.func("coalesce", test, exp.false())


def in_range(value: exp.Expression, type_: ir.Type) -> exp.Expression:
    """True when a valid numeric value is within the range every engine computes alike."""
    size = exp.Abs(this=try_cast(value, ir.Type.NUMBER))
    test: exp.Expression = exp.LTE(this=size, expression=exp.Literal.number(MAX_MAGNITUDE))
    if type_ is ir.Type.NUMBER:
        small = exp.or_(
            exp.EQ(this=size.copy(), expression=exp.Literal.number(0)),
            exp.GTE(this=size.copy(), expression=exp.Literal.number(MIN_MAGNITUDE)),
        )
        test = exp.and_(test, small)
    return exp.func("coalesce", test, exp.false())


@contextmanager
def read_errors(path: Path, mapping: SourceMapping) -> Iterator[None]:
    """DuckDB's and the header check's errors as DataErrors naming the file."""
    try:
        yield
    except FileStructureError as error:
        raise DataError(str(error)) from None
    except duckdb.Error as error:
        raise DataError(
            str(decoding_error(path, mapping, error) or "")
            or f"{path}: cannot be read: {str(error).splitlines()[0]}"
        ) from error


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def file_source(path: Path, mapping: SourceMapping) -> exp.Expression:
    """The table function reading the file: Parquet typed, CSV as text (see csvfiles)."""
    if is_parquet(path):
        return exp.func("read_parquet", exp.Literal.string(str(path)))
    return csv_source(path, mapping)


def relation(
    con: duckdb.DuckDBPyConnection, path: Path, mapping: SourceMapping
) -> duckdb.DuckDBPyRelation:
    """The file as DuckDB reads it, not read yet; its header checked first for a CSV."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    with read_errors(path, mapping):
        if not is_parquet(path):
            check_header(path, mapping)
        return con.sql(exp.select("*").from_(file_source(path, mapping)).sql(DIALECT))


def read_raw(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, mapping: SourceMapping
) -> list[str]:
    """Copy a file as-is (CSV as text) into a temp table, keeping file order in rowid."""
    rows = relation(con, path, mapping)
    with read_errors(path, mapping):
        rows.create(name)
    return list(rows.columns)


def open_raw(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, mapping: SourceMapping
) -> dict[str, str]:
    """A temporary view of the file as-is (CSV as text), read in place each time: no copy.
    Opening it as a relation first reports its errors; returns its columns and their types
    (DuckDB's names: VARCHAR for every CSV column, the stored type for Parquet)."""
    rows = relation(con, path, mapping)
    columns = {name: str(type_) for name, type_ in zip(rows.columns, rows.types, strict=True)}
    source = file_source(path, mapping)
    view = exp.Create(
        this=table(name),
        kind="VIEW",
        replace=True,
        expression=exp.select("*").from_(source),
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
    with read_errors(path, mapping):
        con.execute(view.sql(dialect=DIALECT))
    return columns


def examples(
    con: duckdb.DuckDBPyConnection, raw: exp.Table, where: exp.Expression, value: str
) -> str:
    """A few rows matching `where` as `row N: 'value'` (1-based data rows, the header not
    counted) or `row N` for missing values. Only asked for when some rows match: the file
    is then copied once into a table, whose rowid numbers its rows in file order."""
    copy = table(f"{raw.name}_copy")
    create = exp.Create(
        this=copy,
        kind="TABLE",
        exists=True,
        expression=exp.select("*").from_(raw),
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
    con.execute(create.sql(dialect=DIALECT))
    query = (
        exp.select(exp.column("rowid"), exp.cast(col(value), "VARCHAR"))
        .from_(copy)
        .where(where)
        .order_by(exp.column("rowid"))
        .limit(EXAMPLES)
    )
    return ", ".join(
        f"row {rowid + 1}" + (f": {text!r}" if text is not None else "")
        for rowid, text in run(con, query)
    )


@dataclass(frozen=True)
class Check:
    """Rows of a column that break one rule, and what to say about them."""

    column: Column
    kind: str  # invalid, range or missing
    where: exp.Expression


def column_checks(column: Column, type_column: str, in_file: dict[str, str]) -> list[Check]:
    """The checks of a column the file has. A value stored with the model's type (any CSV
    text for a string, a Parquet column of that type) is valid, but for a number, which
    must also be finite: that check is not run."""
    value = col(column.source)
    present = exp.Not(this=exp.Is(this=value, expression=exp.null()))
    checks = []
    stored = in_file[column.source] == SQL_TYPES[column.type]
    if not stored or column.type is ir.Type.NUMBER:
        invalid = exp.and_(present, exp.Not(this=is_valid(value, column.type)))
        checks.append(Check(column, "invalid", invalid))
    if column.type in (ir.Type.INT, ir.Type.NUMBER):
        wild = exp.Not(this=in_range(value, column.type))
        checks.append(Check(column, "range", exp.and_(present.copy(), wild)))
    # Without the event type column, the missing event type column is the problem.
    if column.not_null_types == () or (column.not_null_types and type_column not in in_file):
        return checks
    missing: exp.Expression = exp.Is(this=value.copy(), expression=exp.null())
    if column.not_null_types:
        options = [exp.Literal.string(t) for t in column.not_null_types]
        missing = exp.and_(missing, exp.In(this=col(type_column), expressions=options))
    checks.append(Check(column, "missing", missing))
    return checks


def problem(check: Check, count: int, shown: str) -> str:
    source, type_ = check.column.source, check.column.type
    if check.kind == "invalid":
        return f"column {source!r}: {count} values are not a valid {type_.value}, e.g. {shown}"
    if check.kind == "range":
        limits = f"at most {MAX_MAGNITUDE:g} in absolute value" + (
            f", and 0 or at least {MIN_MAGNITUDE:g}" if type_ is ir.Type.NUMBER else ""
        )
        return f"column {source!r}: {count} values are out of range ({limits}), e.g. {shown}"
    return f"column {source!r}: {count} missing values in a required field, e.g. {shown}"


def check_columns(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    raw: exp.Table,
    present: dict[str, str],
    columns: list[Column],
    mapping: SourceMapping,
    kind: str,
    extra: tuple[exp.Expression, ...] = (),
) -> tuple[list[str], list[int]]:
    """Every problem with the file's columns, as messages (empty when the file is usable),
    counted in one scan of the file's rows; example rows are looked up only for a rule some
    rows break. The scan also counts the rows matching each of `extra`. `kind` is "lead",
    "event" or "account"."""
    type_column = mapping.event_type
    checks = [
        check
        for column in columns
        if column.source in present
        for check in column_checks(column, type_column, present)
    ]
    counted = counting(checks, extra)
    with read_errors(path, mapping):
        counts = list(run(con, exp.select(*counted).from_(raw))[0]) if counted else []

    def shown(check: Check, column: Column) -> list:
        with read_errors(path, mapping):
            return examples(con, raw, check.where, column.source)

    problems = column_problems(columns, list(present), checks, counts, mapping, kind, shown)
    return [f"{path}: {p}" for p in problems], counts[len(checks) :]


def counting(checks: list[Check], extra: tuple[exp.Expression, ...]) -> list[exp.Expression]:
    """The aggregates of the one validation scan: rows breaking each check, then rows
    matching each of `extra`."""
    return [
        exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=where))
        for where in (*(c.where for c in checks), *extra)
    ]


def column_problems(
    columns: list[Column],
    present: list[str],
    checks: list[Check],
    counts: list[int],
    mapping: SourceMapping,
    kind: str,
    shown: Callable[[Check, Column], list],
) -> list[str]:
    """The messages for a file's columns from the scan's counts (`counting` order): absent
    columns, then per column each broken check with example rows from `shown`, which an
    engine runs only for a check some rows break."""
    broken = dict(zip(checks, counts[: len(checks)], strict=True))
    problems = []
    for column in columns:
        if column.source not in present:
            if column.required or not mapping.allows_missing(column.name):
                problems.append(
                    absent_column(
                        mapping, column.name, column.source, column.required, kind, present
                    )
                )
            continue
        invalid = False
        for check in (c for c in checks if c.column is column and broken[c]):
            if check.kind == "range" and invalid:
                continue  # values that are not numbers have no range
            invalid |= check.kind == "invalid"
            problems.append(problem(check, broken[check], shown(check, column)))
    return problems


def typed_select(
    source: exp.Expression, columns: list[Column], present: dict[str, str]
) -> exp.Select:
    """The file's columns cast to the model's types; absent optional columns are NULL."""
    selected = []
    for column in columns:
        value = col(column.source) if column.source in present else exp.null()
        cast = exp.cast(value, exp.DataType.build(SQL_TYPES[column.type], dialect=DIALECT))
        selected.append(exp.alias_(cast, ident(column.source)))
    return exp.select(*selected).from_(source)


def duplicate_keys(con: duckdb.DuckDBPyConnection, rows: exp.Table, key: str) -> tuple[int, str]:
    query = (
        exp.select(exp.cast(col(key), "VARCHAR"), exp.Count(this=exp.Star()))
        .from_(rows)
        .group_by(col(key))
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
        .order_by(col(key))
    )
    rows = run(con, query)
    return len(rows), ", ".join(f"{k!r} ({n} rows)" for k, n in rows[:EXAMPLES])


def load_duckdb(
    con: duckdb.DuckDBPyConnection,
    model: ir.Model | ScoringModel,
    leads: str | Path,
    events: str | Path,
    mapping: SourceMapping | None = None,
    progress: Callable[[str], None] | None = None,
    scored_only: bool = False,
    accounts: str | Path | None = None,
) -> LoadReport:
    """Create the mapping's leads and events tables in `con` from two files, validated, and
    for a model with an account its accounts table from `accounts` (required then).

    `progress` (optional) is told each step, for a spinner on large files. With
    `scored_only`, the events table has only the `scored_event_columns` (for the scores
    query: at 1M leads, less than half the table to write, hold and read), and Parquet files
    are read in place where they can be (`typed_table`, `read_in_place`).
    """
    model, mapping = model_ir(model), mapping or SourceMapping()
    check_mapping(model, mapping)
    accounts = check_accounts_file(model, accounts, mapping)
    say = progress or (lambda _step: None)
    con.execute("SET TimeZone = 'UTC'")  # zone-less timestamps are UTC
    leads, events = Path(leads), Path(events)
    lead_cols, event_cols = lead_columns(model, mapping), event_columns(model, mapping)
    account_cols = account_columns(model, mapping)
    raw_leads, raw_events = table("_scorelang_raw_leads"), table("_scorelang_raw_events")
    raw_accounts = table("_scorelang_raw_accounts")
    say(f"reading {leads}")
    present_leads = open_raw(con, leads, raw_leads.name, mapping)
    problems, _ = check_columns(con, leads, raw_leads, present_leads, lead_cols, mapping, "lead")
    present_accounts: dict[str, str] = {}
    if accounts is not None:
        say(f"reading {accounts}")
        present_accounts = open_raw(con, accounts, raw_accounts.name, mapping)
        problems += check_columns(
            con, accounts, raw_accounts, present_accounts, account_cols, mapping, "account"
        )[0]
    say(f"reading {events}")
    present_events = open_raw(con, events, raw_events.name, mapping)
    say("validating")
    type_names = [exp.Literal.string(t.name) for t in model.event_types]
    declared = exp.In(this=col(mapping.event_type), expressions=type_names)
    # The same scan counts the events, and those of undeclared types (dropped below).
    tally = (exp.true(), exp.Not(this=declared)) if mapping.event_type in present_events else ()
    event_problems, tallied = check_columns(
        con, events, raw_events, present_events, event_cols, mapping, "event", tally
    )
    problems += event_problems
    if problems:
        raise DataError("\n".join(problems))
    total, undeclared = tallied
    types = (
        undeclared_types(con, model, raw_events, declared, mapping.event_type) if undeclared else ()
    )

    if mapping.schema:
        con.execute(create_schema(mapping.schema, DIALECT))
    leads_table = table(mapping.leads_table, mapping.schema)
    events_table = table(mapping.events_table, mapping.schema)
    key = mapping.column(model.key)
    say("building typed tables")
    in_place = scored_only and is_parquet(leads)
    typed_table(con, leads, leads_table, raw_leads, lead_cols, present_leads, mapping, in_place)
    count, shown = duplicate_keys(con, leads_table, key)
    if count:
        raise DataError(f"{leads}: {count} duplicate lead keys in column {key!r}, e.g. {shown}")
    account_count, unlinked = None, 0
    if accounts is not None:
        account_count, unlinked = load_accounts(
            con, model, accounts, raw_accounts, account_cols, present_accounts, mapping
        )

    known = exp.In(
        this=col(mapping.event_lead), query=exp.select(col(key)).from_(leads_table).subquery()
    )
    scored = scored_event_columns(model, mapping) if scored_only else event_cols
    typed_events = typed_select(raw_events, event_cols, present_events).subquery("typed")
    keep = exp.and_(declared, known)
    with read_errors(events, mapping):
        # A Parquet file is read in place when every declared event has a known lead.
        kept_events = (
            count_where(con, typed_events, keep) if scored_only and is_parquet(events) else None
        )
        if kept_events == total - undeclared:
            where = declared if undeclared else None
            read_in_place(con, events, events_table, scored, present_events, mapping, where)
        else:
            copy_events(con, events_table, typed_events, scored, mapping, type_names, keep)
            if kept_events is None:
                kept_events = count_where(con, events_table)
    for raw in (raw_leads, raw_events, *([raw_accounts] if accounts is not None else [])):
        con.execute(exp.Drop(tables=[raw], kind="VIEW").sql(dialect=DIALECT))
    lead_count = count_where(con, leads_table)
    unknown = total - undeclared - kept_events
    if mapping.strict and (undeclared or unknown or unlinked):
        raise DataError(strict_error(events, undeclared, unknown, types, unlinked, leads))
    absent = [c.name for c in lead_cols if c.source not in present_leads]
    absent += [c.name for c in event_cols if c.source not in present_events]
    absent += [c.name for c in account_cols if c.source not in present_accounts]
    report = LoadReport(
        lead_count, kept_events, unknown, undeclared, tuple(absent), types, account_count, unlinked
    )
    announce(report)
    return report


def read_in_place(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    target: exp.Table,
    scored: list[Column],
    present: dict[str, str],
    mapping: SourceMapping,
    where: exp.Expression | None,
) -> None:
    """The Parquet events file as a typed view for the scores query, when every event it
    keeps has a known lead. Parquet is typed and columnar: the query's two scans of the
    events read it faster than a copy into a table is made. The lead filter is what a view
    cannot carry cheaply (a semi-join in both scans), so another file is copied. One SELECT
    over the file, no subquery: DuckDB then pushes the query's filters into the scan."""
    keep = typed_select(file_source(path, mapping), scored, present)
    create(con, target, "VIEW", keep if where is None else keep.where(where))


def copy_events(
    con: duckdb.DuckDBPyConnection,
    target: exp.Table,
    typed: exp.Subquery,
    scored: list[Column],
    mapping: SourceMapping,
    type_names: list[exp.Literal],
    where: exp.Expression,
) -> None:
    """The kept events typed into a table. Only declared types are kept, so the type can be
    an ENUM of them: the scores query compares it with literals several times per event, as
    integers instead of strings."""
    kinds = exp.DataType(this=exp.DataType.Type.ENUM, expressions=[n.copy() for n in type_names])
    kept = [
        exp.alias_(exp.cast(col(c.source), kinds), ident(c.source))
        if c.source == mapping.event_type and type_names
        else col(c.source)
        for c in scored
    ]
    create(con, target, "TABLE", exp.select(*kept).from_(typed).where(where))


def create(con: duckdb.DuckDBPyConnection, target: exp.Table, kind: str, query: exp.Query) -> None:
    statement = exp.Create(this=target, kind=kind, replace=True, expression=query)
    con.execute(statement.sql(DIALECT))


def count_where(
    con: duckdb.DuckDBPyConnection, source: exp.Expression, where: exp.Expression | None = None
) -> int:
    query = exp.select(exp.Count(this=exp.Star())).from_(source)
    return run(con, query if where is None else query.where(where))[0][0]


def check_accounts_file(
    model: ir.Model, accounts: str | Path | None, mapping: SourceMapping
) -> Path | None:
    """The accounts file as a Path: required for a model with an account, refused without."""
    if model.account is None:
        if accounts is not None:
            raise DataError(
                f"{accounts}: model {model.name} declares no account, so it reads no accounts "
                "file; leave out --accounts, or declare `account { ... }` in the model"
            )
        return None
    if accounts is None:
        raise DataError(accounts_missing(model, mapping))
    return Path(accounts)


def accounts_missing(model: ir.Model, mapping: SourceMapping) -> str:
    """What to give when a model with an account is scored without its accounts."""
    return (
        f"model {model.name} scores accounts: give the accounts file with --accounts FILE "
        "(accounts= in Python) beside the leads and events files; reading tables from a "
        f"database, the accounts table is {mapping.entity(ir.ACCOUNT).table!r}, named by "
        "`table` under [sources.entities.account] in scorelang.toml"
    )


def typed_table(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    target: exp.Table,
    raw: exp.Table,
    columns: list[Column],
    present: dict[str, str],
    mapping: SourceMapping,
    in_place: bool = False,
) -> None:
    """The file's rows typed into `target`: a table, or `in_place` a view reading the file
    (Parquet: typed and columnar, read again faster than copied). No ORDER BY: DuckDB keeps
    insertion order (file order) when a query has none."""
    source = file_source(path, mapping) if in_place else raw
    with read_errors(path, mapping):
        create(con, target, "VIEW" if in_place else "TABLE", typed_select(source, columns, present))


def load_accounts(
    con: duckdb.DuckDBPyConnection,
    model: ir.Model,
    path: Path,
    raw: exp.Table,
    columns: list[Column],
    present: dict[str, str],
    mapping: SourceMapping,
) -> tuple[int, int]:
    """The typed accounts table, beside the leads table; returns how many accounts, and how
    many leads name an account key that no account has (they are scored without one)."""
    assert model.account is not None
    accounts = table(mapping.entity(ir.ACCOUNT).table, mapping.schema)
    typed_table(con, path, accounts, raw, columns, present, mapping)
    key = mapping.entity_column(ir.ACCOUNT, model.account.key)
    count, shown = duplicate_keys(con, accounts, key)
    if count:
        raise DataError(f"{path}: {count} duplicate account keys in column {key!r}, e.g. {shown}")
    total = count_where(con, accounts)
    if model.account_link is None:
        return total, 0
    link = col(mapping.column(model.account_link))
    known = exp.In(this=link, query=exp.select(col(key)).from_(accounts).subquery())
    unlinked = exp.and_(
        exp.Not(this=exp.Is(this=link.copy(), expression=exp.null())), exp.Not(this=known)
    )
    return total, count_where(con, table(mapping.leads_table, mapping.schema), unlinked)


def announce(report: LoadReport) -> None:
    """Tell the watchers of this context (watch_loads) of a load, whichever engine read it."""
    for watcher in _watchers.get():
        watcher(report)


def undeclared_types(
    con: duckdb.DuckDBPyConnection,
    model: ir.Model,
    events: exp.Table,
    declared: exp.Expression,
    type_column: str,
) -> tuple[tuple[str, int, str | None], ...]:
    """Each undeclared event type with its count, most frequent first, and what it resembles."""
    count = exp.Count(this=exp.Star())
    query = (
        exp.select(col(type_column), count)
        .from_(events)
        .where(exp.Not(this=declared.copy()))
        .group_by(col(type_column))
        .order_by(exp.Ordered(this=count.copy(), desc=True), col(type_column))
    )
    names = [t.name for t in model.event_types]
    return tuple((name, n, resembles(name, names)) for name, n in run(con, query))


def strict_error(
    events: Path,
    undeclared: int,
    unknown: int,
    types: tuple[tuple[str, int, str | None], ...],
    unlinked: int = 0,
    leads: Path | None = None,
) -> str:
    """Strict mode: every dropped row, and every lead whose account is absent, is an error,
    for CI and scheduled runs."""
    problems = []
    if undeclared:
        problems.append(f"{counted(undeclared, 'event')} of undeclared types: {describe(types)}")
    if unknown:
        problems.append(f"{counted(unknown, 'event')} of leads absent from the leads file")
    if unlinked:
        problems.append(
            f"{unlinked_leads(unlinked, leads)} an account key absent from the accounts file"
        )
    dropped = bool(undeclared or unknown)
    what = "rows would be dropped" if dropped else "leads would be scored without their account"
    return (
        f"{events if dropped else leads}: strict mode: {what}: {'; '.join(problems)} "
        "(declare the types, fix the data, or run without --strict / strict = true)"
    )


def python_value(value: Any) -> Any:
    """DuckDB gives zone-less UTC datetimes (see `fetch_select`); make them aware."""
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) else value


def fetch_select(columns: list[Column], source: exp.Table) -> exp.Select:
    """Timestamps come back as UTC wall time (TIMESTAMP): DuckDB needs pytz for TIMESTAMPTZ.
    Rows come in file order without an ORDER BY (a sort of every event): the tables are
    filled in file order and DuckDB keeps insertion order (`preserve_insertion_order`)."""
    selected = [
        exp.cast(col(c.source), "TIMESTAMP") if c.type is ir.Type.TIMESTAMP else col(c.source)
        for c in columns
    ]
    return exp.select(*selected).from_(source)


@dataclass(frozen=True)
class Records:
    """What the Python engine scores, typed as the SQL engines read it: lead records, the
    events (records, or columns for the columnar batch) and, for a model with an account,
    account records (field names as keys)."""

    leads: list[dict[str, Any]]
    events: list[dict[str, Any]] | EventColumns
    accounts: list[dict[str, Any]] | None = None  # None: the model has no account


def read_inputs(
    model: ir.Model | ScoringModel,
    leads: str | Path,
    events: str | Path,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
    *,
    accounts: str | Path | None = None,
    columnar: bool = False,
) -> Records:
    """Leads, events and accounts (required for a model with an account) as Python values,
    parsed and validated exactly as for the SQL engines. `on_load` receives the LoadReport
    (rows kept and dropped). With `columnar`, the events are columns in file order with only
    the properties the model reads: no Python record per event."""
    model, mapping = model_ir(model), mapping or SourceMapping()
    with _loaded(model, leads, events, mapping, on_load, columnar, accounts) as con:
        records = _entity_records(con, model, ir.LEAD, mapping)
        account_records = (
            _entity_records(con, model, ir.ACCOUNT, mapping) if model.account is not None else None
        )
        if columnar:
            return Records(records, _event_columns(con, model, mapping), account_records)
        declared = {
            t.name: {"lead_id", "event_type", "occurred_at", *(p.name for p in t.properties)}
            for t in model.event_types
        }
        event_cols = event_columns(model, mapping)
        event_rows = run(con, fetch_select(event_cols, table(mapping.events_table, mapping.schema)))
        event_records = []
        for row in event_rows:
            record = {c.name: python_value(v) for c, v in zip(event_cols, row, strict=True)}
            keep = declared[record["event_type"]]
            event_records.append({k: v for k, v in record.items() if k in keep})
    return Records(records, event_records, account_records)


def read_records(
    model: ir.Model | ScoringModel,
    leads: str | Path,
    events: str | Path,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Leads and events as Python records (field and property names as keys) for the
    Python engine (`read_inputs`; a model with an account needs that, with its accounts)."""
    inputs = read_inputs(model, leads, events, mapping, on_load)
    assert isinstance(inputs.events, list)
    return inputs.leads, inputs.events


def read_columns(
    model: ir.Model | ScoringModel,
    leads: str | Path,
    events: str | Path,
    mapping: SourceMapping | None = None,
    on_load: Callable[[LoadReport], None] | None = None,
) -> tuple[list[dict[str, Any]], EventColumns]:
    """`read_records` with the events as columns (in the same order, with only the properties
    the model reads) for the columnar batch: no Python record per event."""
    inputs = read_inputs(model, leads, events, mapping, on_load, columnar=True)
    assert not isinstance(inputs.events, list)
    return inputs.leads, inputs.events


def _event_columns(
    con: duckdb.DuckDBPyConnection, model: ir.Model, mapping: SourceMapping
) -> EventColumns:
    """The loaded events as columns: lead, type, time, and the properties the model reads."""
    from .targets.python.columnar import EventColumns

    columns = scored_event_columns(model, mapping)  # lead, type, time, the properties
    query = fetch_select(columns, table(mapping.events_table, mapping.schema))
    query.expressions[2] = exp.Anonymous(this="epoch_us", expressions=[query.expressions[2]])
    relation = con.sql(query.sql(dialect=DIALECT))
    # to_arrow_table since duckdb 1.4; fetch_arrow_table (deprecated in 2.0) before it
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    lead_ids, types, micros, *values = fetch().columns
    properties = {
        c.name: _factor(column, python_value if c.type is ir.Type.TIMESTAMP else None)
        for c, column in zip(columns[3:], values, strict=True)
    }
    return EventColumns(_factor(lead_ids), _factor(types), micros.to_numpy(), properties)


def _factor(column: pa.ChunkedArray, convert: Callable[[Any], Any] | None = None) -> Factor:
    """Arrow's dictionary encoding, a missing value (None) among the distinct values (an
    ENUM column comes encoded already; event types are never missing)."""
    import pyarrow.compute as pc

    from .targets.python.columnar import Factor

    encoded = pc.dictionary_encode(column.combine_chunks(), null_encoding="encode")
    values = encoded.dictionary.to_pylist()
    return Factor(encoded.indices.to_numpy(), [convert(v) for v in values] if convert else values)


@contextmanager
def _loaded(
    model: ir.Model,
    leads: str | Path,
    events: str | Path,
    mapping: SourceMapping,
    on_load: Callable[[LoadReport], None] | None,
    scored_only: bool = False,
    accounts: str | Path | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection holding the loaded, validated tables."""
    from .engines.duckdb import connect  # bounded memory; engines import this module

    con = connect()
    try:
        report = load_duckdb(
            con, model, leads, events, mapping, scored_only=scored_only, accounts=accounts
        )
        if on_load is not None:
            on_load(report)
        yield con
    finally:
        con.close()


def _entity_records(
    con: duckdb.DuckDBPyConnection, model: ir.Model, entity: str, mapping: SourceMapping
) -> list[dict[str, Any]]:
    """The loaded rows of the entity's table as records, in file order."""
    columns = entity_columns(model, entity, mapping)
    source = table(mapping.entity(entity).table, mapping.schema)
    return [
        {c.name: python_value(v) for c, v in zip(columns, row, strict=True)}
        for row in run(con, fetch_select(columns, source))
    ]
