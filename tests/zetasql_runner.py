"""Run BigQuery SQL on ZetaSQL's reference evaluator and answer with the result rows as JSON.

ZetaSQL is the SQL front end of BigQuery: its analyzer resolves names, functions and types
against a catalog, in BigQuery's external product mode, and its reference evaluator executes
the analyzed query over in-memory tables. The PyPI package `zetasql` runs a WebAssembly build
of it; start-up takes ~30 s, so this runner serves many requests, one JSON line each.

Executed by the zetasql virtualenv's python (scripts/bigquery-emulator), never imported by
the test suite: it imports neither scorelang nor anything the project installs.

Request (one JSON line on stdin):
    {"tables": [{"path": ["analytics", "leads"], "columns": [["id", "STRING"], ...],
                 "rows": [["a", ...], ...]}, ...],
     "analyze": ["CREATE OR REPLACE VIEW `analytics`.`m_scores` AS ...", ...],
     "query": "SELECT ...", "time_zone": "UTC"}
The statements of "analyze" are analyzed (names, functions, types resolved), not executed:
they see each table at its path (`dataset.table` or `project.dataset.table`). The "query" is
executed: the local service gives contents only to top-level tables, so it reads each table
by its last name alone. "time_zone" (optional) is the default time zone, which casts of DATE
and DATETIME to TIMESTAMP read: ZetaSQL's own default is America/Los_Angeles, BigQuery's UTC.
Column types: STRING, INT64, FLOAT64, BOOL, TIMESTAMP (values: ISO 8601 text with an offset),
DATE, DATETIME (ISO text). FLOAT64 cells may also be "NaN", "Infinity", "-Infinity".

Response (one JSON line on stdout): {"columns": [...], "rows": [[...], ...]} where a NUMERIC
is {"decimal": "1.50"} (as a real driver's Decimal), a TIMESTAMP ISO text in UTC, a
non-finite FLOAT64 {"float": "nan"}; or {"error": "..."} when the analyzer or the evaluator
refuses a statement, with its "sql". The first line written, before any request is read, is {"ready": true}.
"""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from google.protobuf import timestamp_pb2
from zetasql.api import Analyzer, PreparedQuery
from zetasql.types import (
    AnalyzerOptions,
    LanguageOptions,
    SimpleCatalog,
    SimpleColumn,
    SimpleTable,
    TableContent,
    TableData,
    Type,
    TypeKind,
    Value,
    ZetaSQLBuiltinFunctionOptions,
)
from zetasql.types.proto_model import ProductMode

TYPES = {
    "STRING": TypeKind.TYPE_STRING,
    "INT64": TypeKind.TYPE_INT64,
    "FLOAT64": TypeKind.TYPE_DOUBLE,
    "BOOL": TypeKind.TYPE_BOOL,
    "TIMESTAMP": TypeKind.TYPE_TIMESTAMP,
    "DATE": TypeKind.TYPE_DATE,
    "DATETIME": TypeKind.TYPE_DATETIME,
}
NUMERIC_SCALE = Decimal(10) ** 9  # NUMERIC travels as the integer value * 10^9
EPOCH_DAY = date(1970, 1, 1)


def language() -> LanguageOptions:
    """Every released feature, in BigQuery's external mode (FLOAT64, not DOUBLE; no
    internal-only types or functions)."""
    options = LanguageOptions.maximum_features()
    options.product_mode = ProductMode.PRODUCT_EXTERNAL
    return options


def cell(value: Any, kind: str) -> Value:
    if value is None:
        return Value()
    if kind == "STRING":
        return Value(string_value=value)
    if kind == "INT64":
        return Value(int64_value=value)
    if kind == "FLOAT64":
        return Value(double_value=float(value))
    if kind == "BOOL":
        return Value(bool_value=value)
    if kind == "DATE":
        return Value(date_value=(date.fromisoformat(value) - EPOCH_DAY).days)
    if kind == "DATETIME":
        return Value(datetime_value=civil(datetime.fromisoformat(value)))
    if kind == "TIMESTAMP":
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None))
        return Value(timestamp_value=stamp)
    raise ValueError(f"unsupported column type {kind}")


def civil(value: datetime) -> Value.Datetime:
    """A zone-less date and time in ZetaSQL's bit-packed form (year, month, day, hour,
    minute, second in 14, 4, 5, 5, 6, 6 bits) and nanoseconds."""
    seconds = value.year << 26 | value.month << 22 | value.day << 17
    seconds |= value.hour << 12 | value.minute << 6 | value.second
    return Value.Datetime(bit_field_datetime_seconds=seconds, nanos=value.microsecond * 1000)


def catalog(tables: list[dict[str, Any]], options: LanguageOptions) -> SimpleCatalog:
    """Each table by its last name and at its path (`project.dataset.table`: nested
    catalogs), with the builtin functions."""
    root = SimpleCatalog(
        name="root",
        builtin_function_options=ZetaSQLBuiltinFunctionOptions(language_options=options),
    )
    for table in tables:
        *catalogs, name = table["path"]
        columns = [
            SimpleColumn(name=column, type=Type(type_kind=TYPES[kind]))
            for column, kind in table["columns"]
        ]
        root.table.append(SimpleTable(name=name, column=columns))
        where = root
        for part in catalogs:
            found = next((c for c in where.catalog if c.name == part), None)
            if found is None:
                found = SimpleCatalog(name=part)
                where.catalog.append(found)
            where = found
        if where is not root:
            where.table.append(SimpleTable(name=name, column=columns))
    return root


def content(table: dict[str, Any]) -> TableContent:
    kinds = [kind for _name, kind in table["columns"]]
    rows = [
        TableData.Row(cell=[cell(v, k) for v, k in zip(row, kinds, strict=True)])
        for row in table["rows"]
    ]
    return TableContent(table_data=TableData(row=rows))


def decoded(value: Any) -> Any:
    """A result cell as JSON: NUMERIC as tagged decimal text, TIMESTAMP as ISO text."""
    proto = value.to_proto() if hasattr(value, "to_proto") else value
    field = proto.WhichOneof("value")
    if field is None:
        return None
    raw = getattr(proto, field)
    if field == "numeric_value":
        scaled = int.from_bytes(raw, "little", signed=True)
        return {"decimal": str(Decimal(scaled) / NUMERIC_SCALE)}
    if field == "double_value" and not math.isfinite(raw):
        return {"float": str(raw)}
    if field == "timestamp_value":
        return raw.ToDatetime().replace(tzinfo=UTC).isoformat()
    if field == "date_value":
        return date.fromordinal(EPOCH_DAY.toordinal() + raw).isoformat()
    if field in ("string_value", "int64_value", "bool_value", "double_value"):
        return raw
    raise ValueError(f"unsupported result type {field}")


def run(request: dict[str, Any], options: LanguageOptions) -> dict[str, Any]:
    tables = request["tables"]
    analyzer_options = AnalyzerOptions(language_options=options)
    if "time_zone" in request:
        analyzer_options.default_timezone = request["time_zone"]
    statement = ""
    try:
        analyzer = Analyzer(analyzer_options, catalog(tables, options))
        for statement in request.get("analyze", []):
            analyzer.analyze_statement(statement)
        statement = request["query"]
        query = (
            PreparedQuery.builder()
            .set_sql(request["query"])
            .set_analyzer_options(analyzer_options)
            .set_catalog(catalog(tables, options))
            .set_table_content({t["path"][-1]: content(t) for t in tables})
            .prepare()
        )
        with query:
            response = query.execute()
            columns = [column.name for column in query.columns]
    except Exception as error:  # the analyzer's or evaluator's refusal, reported to the test
        return {"error": f"{type(error).__name__}: {error}", "sql": statement}
    table = response.content.table_data  # absent when the result has no row
    rows = [] if table is None else [[decoded(v) for v in row.cell] for row in table.row]
    return {"columns": columns, "rows": rows}


def main() -> int:
    options = language()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        print(json.dumps(run(json.loads(line), options)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
