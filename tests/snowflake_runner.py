"""Run Snowflake SQL on the fakesnow emulator and print the result rows as JSON.

Executed by the fakesnow virtualenv's python (scripts/snowflake-emulator), never imported by
the test suite: fakesnow pins a sqlglot and a duckdb that cannot live beside the project's.
So this file imports neither scorelang nor anything the project installs, only the standard
library, fakesnow and the Snowflake connector it patches.

Request (JSON on stdin):
    {"tables": [{"name": "leads", "columns": [["id", "NUMBER(38, 0)"], ...],
                 "rows": [[1, ...], ...]}, ...],
     "statements": ["CREATE OR REPLACE VIEW ...", ...],
     "query": "SELECT ..."}
Values of TIMESTAMP_* columns are ISO 8601 strings (with an offset but for TIMESTAMP_NTZ), of
DATE columns ISO dates; the rest are JSON values.
Tables are created with plain unquoted DDL, as users write it (`CREATE TABLE leads (id ...)`:
Snowflake stores LEADS.ID), unless the request says "quoted": true (tables created with
quoted, exact-case names). Names are plain identifiers: the caller checks them.

Response (JSON on stdout): {"columns": [...], "rows": [[...], ...]} where a Decimal is
{"decimal": "1.50"} (the caller converts it as it would a real driver's Decimal), or
{"error": "...", "sql": "..."} when a statement fails, with exit status 1.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import fakesnow
import pandas
import snowflake.connector
import snowflake.connector.pandas_tools


def spelled(name: str, quoted: bool) -> str:
    """As written in the user's DDL: bare (stored upper-case), or quoted (case kept)."""
    return '"' + name.replace('"', '""') + '"' if quoted else name


def typed(value: Any, column_type: str) -> Any:
    """Python values of the column's type (timestamps and dates travel as ISO text)."""
    if value is not None and column_type.upper().startswith("TIMESTAMP"):
        return datetime.fromisoformat(value)
    if value is not None and column_type.upper() == "DATE":
        return date.fromisoformat(value)
    return value


def load(con: Any, table: dict[str, Any], quoted: bool) -> None:
    """CREATE TABLE, then the connector's bulk load (write_pandas, which fakesnow patches):
    row INSERTs work too but fakesnow rewrites each statement's tree some 70 times, ~6 s for
    2,000 events."""
    columns: list[tuple[str, str]] = [(name, kind) for name, kind in table["columns"]]
    definition = ", ".join(f"{spelled(name, quoted)} {kind}" for name, kind in columns)
    con.cursor().execute(f"CREATE OR REPLACE TABLE {spelled(table['name'], quoted)} ({definition})")
    frame = pandas.DataFrame(
        {
            name: pandas.Series([typed(row[i], kind) for row in table["rows"]], dtype=object)
            for i, (name, kind) in enumerate(columns)
        }
    )
    if table["rows"]:
        # Looked up at call time: fakesnow.patch() replaces the module's attribute.
        snowflake.connector.pandas_tools.write_pandas(
            con, frame, table["name"], quote_identifiers=quoted
        )


def encode(value: Any) -> Any:
    """JSON has no decimal: tagged, so the caller can convert it as it would a driver's."""
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    return value


def run(request: dict[str, Any]) -> dict[str, Any]:
    with (
        fakesnow.patch(),
        snowflake.connector.connect(database="SCORELANG", schema="PUBLIC") as con,
    ):
        sql = ""
        try:
            for table in request["tables"]:
                sql = f"load {table['name']}"
                load(con, table, request.get("quoted", False))
            for sql in request["statements"]:
                con.cursor().execute(sql)
            sql = request["query"]
            cursor = con.cursor()
            cursor.execute(sql)
        except Exception as error:
            return {"error": f"{type(error).__name__}: {error}", "sql": sql}
        columns = [d[0] for d in cursor.description]
        rows = [[encode(v) for v in row] for row in cursor.fetchall()]
        return {"columns": columns, "rows": rows}


def main() -> int:
    response = run(json.load(sys.stdin))
    json.dump(response, sys.stdout)
    return 1 if "error" in response else 0


if __name__ == "__main__":
    sys.exit(main())
