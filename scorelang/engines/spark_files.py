"""Read and validate lead and event files in Spark, with the shared loader's rules.

`scorelang.data` loads files into DuckDB for every other engine; `score --engine spark`
reads them here instead, so the data goes from the file to Spark with no copy. The rules are
the same (docs/data.md) and so are the messages: the CSV structure check (`csvfiles`), a
missing column named with the origin of its name (`columns.absent_column`), values that are
not valid or out of range, missing required values, duplicate keys, with example rows; rows
of undeclared types and of unknown leads dropped, counted and refused under `strict`.

Where Spark's own parsing is looser than DuckDB's, a guard on the text makes it refuse what
DuckDB refuses (Java's `1d`, `0x1p3`, a timestamp of only a year, padded booleans), so a
value either reads as the same typed value in both or is an error. Numbers with `_` digit
separators, which DuckDB reads, are refused here. Bytes that are not in the configured
encoding would become U+FFFD in Spark: the file is decoded once in Python first.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlglot import exp

from ..columns import check_mapping
from ..compiler import ir
from ..config import SourceMapping
from ..csvfiles import FileStructureError, check_header, not_encoded
from ..data import (
    EXAMPLES,
    Check,
    Column,
    DataError,
    LoadReport,
    account_columns,
    announce,
    check_accounts_file,
    column_problems,
    counting,
    event_columns,
    in_range,
    is_parquet,
    lead_columns,
    strict_error,
)
from ..eventtypes import resembles
from ..targets.sql.names import column as col
from ..targets.sql.names import ident

DIALECT = "spark"
ROW = "_scorelang_row"  # the raw views' row order (monotonically_increasing_id)
SPARK_TYPES = {
    ir.Type.STRING: "STRING",
    ir.Type.INT: "BIGINT",
    ir.Type.NUMBER: "DOUBLE",
    ir.Type.BOOL: "BOOLEAN",
    ir.Type.TIMESTAMP: "TIMESTAMP",
}
CHARSETS = {"utf-8": "UTF-8", "utf-16": "UTF-16", "latin-1": "ISO-8859-1"}
# Text DuckDB reads as a number: decimal digits, optional fraction and exponent, or the
# non-finite words (refused later as not finite); Java also reads `1d`, `1.5f`, `0x1p3`.
NUMBER_TEXT = (
    r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$|^\s*[+-]?(?i)(nan|inf|infinity)\s*$"
)
# DuckDB reads a timestamp only from a full date (Spark also from `2025` or `2025-01`),
# after leading blanks, and a date alone without trailing blanks.
TIMESTAMP_TEXT = r"^\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(T|\s+[0-9]|$)"
PADDED = r"^\s|\s$"  # DuckDB refuses a padded boolean; Spark trims it
TEXT_TYPES = ("string", "varchar", "char")
TIME_TYPES = ("timestamp", "timestamp_ntz", "date")
CHUNK = 1 << 20


@dataclass(frozen=True)
class RawFile:
    """A file as a temporary view: column `_cN` is the Nth of the file, whatever its name
    (Spark resolves names ignoring case and refuses some characters)."""

    path: Path
    view: str
    names: tuple[str, ...]  # the header (or Parquet) names, in file order
    types: tuple[str, ...]  # Spark's type of each column, `string` for a CSV
    csv: bool

    def value(self, source: str) -> exp.Expression:
        """The file's value of a column; an empty CSV cell (quoted or not) is missing."""
        raw = col(f"_c{self.names.index(source)}")
        return exp.Nullif(this=raw, expression=exp.Literal.string("")) if self.csv else raw

    def type_of(self, source: str) -> str:
        """Spark's name of the column's type, without parameters (`decimal`, `string`)."""
        return self.types[self.names.index(source)].split("(")[0]

    def textual(self, source: str) -> bool:
        return self.type_of(source) in TEXT_TYPES

    def table(self) -> exp.Table:
        return exp.table_(ident(self.view))


def failures() -> tuple[type[Exception], ...]:
    """What Spark raises when a query fails: its own errors, or a JVM error passed through
    (py4j is absent with Spark Connect's client alone)."""
    from pyspark.errors import PySparkException

    try:
        from py4j.protocol import Py4JJavaError
    except ImportError:
        return (PySparkException,)
    return PySparkException, Py4JJavaError


def reason(error: Exception) -> str:
    """The first line of what went wrong: for a JVM error, its innermost cause (a malformed
    CSV record, say), not the call that failed."""
    cause = getattr(error, "java_exception", None)
    while cause is not None and cause.getCause() is not None:
        cause = cause.getCause()
    text = str(cause.getMessage() if cause is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def run(spark: Any, query: exp.Expression, path: Path | None = None) -> list[tuple[Any, ...]]:
    """The rows of a query; Spark's failure to read `path` becomes a DataError naming it."""
    try:
        return [tuple(row) for row in spark.sql(query.sql(dialect=DIALECT)).collect()]
    except failures() as error:
        where = f"{path}: cannot be read" if path else "Spark cannot read the files"
        raise DataError(f"{where}: {reason(error)}") from error


def check_encoding(path: Path, mapping: SourceMapping) -> None:
    """The whole file decoded in the configured encoding, in chunks; the first byte that is
    not is an error naming its line, as DuckDB's reader reports it."""
    encoding = mapping.encoding.lower()
    decoder = codecs.getincrementaldecoder("utf-8-sig" if encoding == "utf-8" else encoding)()
    lines = 1
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line = lines + chunk.count(b"\n", 0, error.start)
                raise DataError(not_encoded(path, mapping, f"line {line}")) from None
            lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise DataError(not_encoded(path, mapping, f"line {lines}")) from None


def open_raw(spark: Any, path: Path, view: str, mapping: SourceMapping) -> RawFile:
    """The file as Spark reads it (CSV as text, RFC 4180, records may span lines), as a
    temporary view numbered in file order; the CSV structure checked first."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    csv = not is_parquet(path)
    try:
        if csv:
            names = check_header(path, mapping)
            check_encoding(path, mapping)
            positional = ", ".join(f"_c{i} STRING" for i in range(len(names)))
            frame = (
                spark.read.schema(positional)
                .option("header", True)
                .option("enforceSchema", True)
                .option("sep", mapping.delimiter)
                .option("quote", '"')
                .option("escape", '"')
                .option("encoding", CHARSETS[mapping.encoding.lower()])
                .option("multiLine", True)
                .option("mode", "FAILFAST")
                .csv(str(path))
            )
        else:
            frame = spark.read.parquet(str(path))
            names = list(frame.columns)
            frame = frame.toDF(*(f"_c{i}" for i in range(len(names))))
    except FileStructureError as error:
        raise DataError(str(error)) from None
    except failures() as error:
        raise DataError(f"{path}: cannot be read: {reason(error)}") from error
    from pyspark.sql.functions import monotonically_increasing_id

    frame.withColumn(ROW, monotonically_increasing_id()).createOrReplaceTempView(view)
    types = tuple("string" if csv else field.dataType.simpleString() for field in frame.schema)
    return RawFile(path, view, tuple(names), types, csv)


def matches(value: exp.Expression, pattern: str) -> exp.Expression:
    return exp.RegexpLike(this=value, expression=exp.Literal.string(pattern))


def try_cast(value: exp.Expression, type_: ir.Type) -> exp.Expression:
    """TRY_CAST: NULL for a value that does not read (sqlglot writes Spark's ANSI CAST
    unless the node is `safe`)."""
    to = exp.DataType.build(SPARK_TYPES[type_], dialect=DIALECT)
    return exp.TryCast(this=value, to=to, safe=True)


def number(value: exp.Expression) -> exp.Expression:
    return try_cast(value, ir.Type.NUMBER)


def is_valid(raw: RawFile, source: str, type_: ir.Type) -> exp.Expression:
    """True when a present value reads as `type_` as DuckDB reads it (data.is_valid)."""
    value, text = raw.value(source), raw.textual(source)
    if type_ is ir.Type.STRING:
        return exp.true()
    if type_ in (ir.Type.INT, ir.Type.NUMBER):
        parsed = number(value)
        finite = exp.and_(
            exp.Not(this=exp.func("isnan", parsed)),
            exp.NEQ(
                this=exp.Abs(this=parsed.copy()),
                expression=exp.cast(exp.Literal.string("Infinity"), "DOUBLE"),
            ),
        )
        tests = [matches(value.copy(), NUMBER_TEXT)] if text else []
        tests.append(finite)
        if type_ is ir.Type.INT:  # whole, and within BIGINT like DuckDB's cast
            tests.append(exp.EQ(this=parsed.copy(), expression=exp.Floor(this=parsed.copy())))
            tests.append(
                exp.LT(this=exp.Abs(this=parsed.copy()), expression=exp.Literal.number("9.2e18"))
            )
        test = exp.and_(*tests)
    elif type_ is ir.Type.BOOL or raw.type_of(source) in (*TEXT_TYPES, *TIME_TYPES):
        parsed = try_cast(value, type_)
        test = exp.Not(this=exp.Is(this=parsed, expression=exp.null()))
        if text:
            guard = (
                matches(value.copy(), TIMESTAMP_TEXT)
                if type_ is ir.Type.TIMESTAMP
                else exp.Not(this=matches(value.copy(), PADDED))
            )
            test = exp.and_(guard, test)
    else:  # a number is not an instant (Spark would read epoch seconds)
        test = exp.false()
    return exp.func("coalesce", test, exp.false())


def typed(raw: RawFile, column: Column, present: bool) -> exp.Expression:
    """The column cast to the model's type (an int through DOUBLE: `3.0` is 3 in DuckDB)."""
    if not present:
        value: exp.Expression = exp.cast(exp.null(), SPARK_TYPES[column.type])
    elif column.type is ir.Type.INT:
        value = exp.cast(number(raw.value(column.source)), "BIGINT")
    else:
        value = try_cast(raw.value(column.source), column.type)
    return exp.alias_(value, ident(column.source))


def column_checks(raw: RawFile, column: Column, type_column: str) -> list[Check]:
    """data.column_checks with Spark's expressions (the range test is DuckDB's as SQL)."""
    value = raw.value(column.source)
    present = exp.Not(this=exp.Is(this=value, expression=exp.null()))
    valid = is_valid(raw, column.source, column.type)
    checks = [Check(column, "invalid", exp.and_(present, exp.Not(this=valid)))]
    if column.type in (ir.Type.INT, ir.Type.NUMBER):
        sized = in_range(value.copy(), column.type)
        for cast in sized.find_all(exp.TryCast):
            cast.set("safe", True)
        wild = exp.and_(valid.copy(), exp.Not(this=sized))
        checks.append(Check(column, "range", exp.and_(present.copy(), wild)))
    type_present = type_column in raw.names
    if column.not_null_types == () or (column.not_null_types and not type_present):
        return checks
    missing: exp.Expression = exp.Is(this=value.copy(), expression=exp.null())
    if column.not_null_types:
        options = [exp.Literal.string(t) for t in column.not_null_types]
        missing = exp.and_(missing, exp.In(this=raw.value(type_column), expressions=options))
    checks.append(Check(column, "missing", missing))
    return checks


def examples(spark: Any, raw: RawFile, where: exp.Expression, value: exp.Expression) -> str:
    """`row N: 'value'` for the first rows matching `where`, numbered in file order."""
    first = run(
        spark,
        exp.select(col(ROW), exp.cast(value, "STRING"))
        .from_(raw.table())
        .where(where)
        .order_by(col(ROW))
        .limit(EXAMPLES),
        raw.path,
    )
    before = [
        exp.Filter(
            this=exp.Count(this=exp.Star()),
            expression=exp.Where(this=exp.LTE(this=col(ROW), expression=exp.convert(row))),
        )
        for row, _text in first
    ]
    (numbers,) = run(spark, exp.select(*before).from_(raw.table()), raw.path)
    return ", ".join(
        f"row {n}" + (f": {text!r}" if text is not None else "")
        for n, (_row, text) in zip(numbers, first, strict=True)
    )


def check_columns(
    spark: Any,
    raw: RawFile,
    columns: list[Column],
    mapping: SourceMapping,
    kind: str,
    extra: tuple[exp.Expression, ...] = (),
) -> tuple[list[str], list[int]]:
    """data.check_columns in Spark: every problem counted in one scan, examples looked up
    only for the rules some rows break; the scan also counts the rows matching `extra`."""
    present = list(raw.names)
    checks = [
        check
        for column in columns
        if column.source in present
        for check in column_checks(raw, column, mapping.event_type)
    ]
    counted = counting(checks, extra)
    counts = list(run(spark, exp.select(*counted).from_(raw.table()), raw.path)[0])
    problems = column_problems(
        columns,
        present,
        checks,
        counts,
        mapping,
        kind,
        lambda check, column: examples(spark, raw, check.where, raw.value(column.source)),
    )
    return [f"{raw.path}: {p}" for p in problems], counts[len(checks) :]


def typed_view(
    spark: Any, raw: RawFile, columns: list[Column], name: str, where: exp.Expression | None
) -> None:
    """The typed columns as the temporary view `name`, keeping the rows matching `where`
    (an expression over the typed columns)."""
    query = exp.select(*(typed(raw, c, c.source in raw.names) for c in columns)).from_(raw.table())
    if where is not None:
        query = exp.select("*").from_(query.subquery("typed")).where(where)
    view = exp.Create(
        this=exp.table_(ident(name)),
        kind="VIEW",
        replace=True,
        expression=query,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
    run(spark, view, raw.path)


def duplicate_keys(spark: Any, leads: str, key: str, path: Path) -> tuple[int, str]:
    counted = exp.Count(this=exp.Star())
    duplicates = (
        exp.select(exp.alias_(col(key), "k"), exp.alias_(counted, "n"))
        .from_(exp.table_(ident(leads)))
        .group_by(col(key))
        .having(exp.GT(this=counted.copy(), expression=exp.Literal.number(1)))
    )
    total = exp.Window(this=exp.Count(this=exp.Star()), over="OVER")
    query = (
        exp.select(exp.cast(exp.column("k"), "STRING"), exp.column("n"), total)
        .from_(duplicates.subquery("d"))
        .order_by(exp.column("k"))
        .limit(EXAMPLES)
    )
    rows = run(spark, query, path)
    shown = ", ".join(f"{k!r} ({n} rows)" for k, n, _total in rows)
    return (rows[0][2] if rows else 0), shown


def undeclared_types(
    spark: Any, model: ir.Model, raw: RawFile, declared: exp.Expression, type_column: str
) -> tuple[tuple[str, int, str | None], ...]:
    value, count = raw.value(type_column), exp.Count(this=exp.Star())
    query = (
        exp.select(exp.alias_(value, "t"), exp.alias_(count, "n"))
        .from_(raw.table())
        .where(exp.Not(this=declared.copy()))
        .group_by(value.copy())
        .order_by(exp.Ordered(this=exp.column("n"), desc=True), exp.column("t"))
    )
    names = [t.name for t in model.event_types]
    return tuple((name, n, resembles(name, names)) for name, n in run(spark, query, raw.path))


def load_spark(
    spark: Any,
    model: ir.Model,
    leads: Path,
    events: Path,
    mapping: SourceMapping,
    accounts: Path | None = None,
) -> LoadReport:
    """Temporary views named by the mapping's tables (no schema), typed and validated as
    `data.load_duckdb` makes its tables, read from the files in place (the accounts too, for
    a model with an account)."""
    check_mapping(model, mapping)
    accounts = check_accounts_file(model, accounts, mapping)
    lead_cols, event_cols = lead_columns(model, mapping), event_columns(model, mapping)
    account_cols = account_columns(model, mapping)
    raw_leads = open_raw(spark, leads, "_scorelang_raw_leads", mapping)
    problems, _ = check_columns(spark, raw_leads, lead_cols, mapping, "lead")
    raw_accounts = None
    if accounts is not None:
        raw_accounts = open_raw(spark, accounts, "_scorelang_raw_accounts", mapping)
        problems += check_columns(spark, raw_accounts, account_cols, mapping, "account")[0]
    raw_events = open_raw(spark, events, "_scorelang_raw_events", mapping)
    type_names = [exp.Literal.string(t.name) for t in model.event_types]
    has_type = mapping.event_type in raw_events.names
    declared: exp.Expression = (
        exp.In(this=raw_events.value(mapping.event_type), expressions=type_names)
        if has_type and type_names
        else exp.false()
    )
    declared = exp.func("coalesce", declared, exp.false())
    tally = (exp.true(), exp.Not(this=declared.copy())) if has_type else ()
    event_problems, tallied = check_columns(spark, raw_events, event_cols, mapping, "event", tally)
    problems += event_problems
    if problems:
        raise DataError("\n".join(problems))
    total, undeclared = tallied
    types = (
        undeclared_types(spark, model, raw_events, declared, mapping.event_type)
        if undeclared
        else ()
    )
    key = mapping.column(model.key)
    typed_view(spark, raw_leads, lead_cols, mapping.leads_table, None)
    count, shown = duplicate_keys(spark, mapping.leads_table, key, leads)
    if count:
        raise DataError(f"{leads}: {count} duplicate lead keys in column {key!r}, e.g. {shown}")
    account_count, unlinked = None, 0
    if accounts is not None and raw_accounts is not None:
        account_count, unlinked = load_accounts(
            spark, model, accounts, raw_accounts, account_cols, mapping
        )
    keep = exp.and_(
        exp.In(this=col(mapping.event_type), expressions=type_names) if type_names else exp.false(),
        exp.In(
            this=col(mapping.event_lead),
            query=exp.select(col(key)).from_(exp.table_(ident(mapping.leads_table))).subquery(),
        ),
    )
    typed_view(spark, raw_events, event_cols, mapping.events_table, keep)
    count_rows = exp.select(exp.Count(this=exp.Star()))
    (lead_count,) = run(spark, count_rows.from_(exp.table_(ident(mapping.leads_table))))[0]
    (kept,) = run(spark, count_rows.copy().from_(exp.table_(ident(mapping.events_table))))[0]
    unknown = total - undeclared - kept
    if mapping.strict and (undeclared or unknown or unlinked):
        raise DataError(strict_error(events, undeclared, unknown, types, unlinked, leads))
    absent = [c.name for c in lead_cols if c.source not in raw_leads.names]
    absent += [c.name for c in event_cols if c.source not in raw_events.names]
    if raw_accounts is not None:
        absent += [c.name for c in account_cols if c.source not in raw_accounts.names]
    report = LoadReport(
        lead_count, kept, unknown, undeclared, tuple(absent), types, account_count, unlinked
    )
    announce(report)
    return report


def load_accounts(
    spark: Any,
    model: ir.Model,
    path: Path,
    raw: RawFile,
    columns: list[Column],
    mapping: SourceMapping,
) -> tuple[int, int]:
    """The typed accounts view beside the leads view (as `data.load_accounts` makes its
    table); returns how many accounts, and how many leads name an account key no account
    has."""
    assert model.account is not None
    name = mapping.entity(ir.ACCOUNT).table
    typed_view(spark, raw, columns, name, None)
    key = mapping.entity_column(ir.ACCOUNT, model.account.key)
    count, shown = duplicate_keys(spark, name, key, path)
    if count:
        raise DataError(f"{path}: {count} duplicate account keys in column {key!r}, e.g. {shown}")
    count_rows = exp.select(exp.Count(this=exp.Star()))
    (total,) = run(spark, count_rows.from_(exp.table_(ident(name))))[0]
    if model.account_link is None:
        return total, 0
    link = col(mapping.column(model.account_link))
    known = exp.In(this=link, query=exp.select(col(key)).from_(exp.table_(ident(name))).subquery())
    unlinked = exp.and_(
        exp.Not(this=exp.Is(this=link.copy(), expression=exp.null())), exp.Not(this=known)
    )
    query = count_rows.copy().from_(exp.table_(ident(mapping.leads_table))).where(unlinked)
    (linked,) = run(spark, query)[0]
    return total, linked
