"""`apply` to BigQuery and Snowflake through their own connectors, when installed.

The connectors are optional dependencies: without them the user is told what to install.
URLs: `bigquery://PROJECT`, `snowflake://USER:PASSWORD@ACCOUNT/DATABASE?warehouse=W&role=R`
and `databricks://token:ACCESS_TOKEN@HOST/HTTP_PATH` (a Databricks SQL warehouse).
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..data import DataError

PACKAGES = {
    "bigquery": ("google.cloud.bigquery", "google-cloud-bigquery"),
    "snowflake": ("snowflake.connector", "snowflake-connector-python"),
    "databricks": ("databricks.sql", "databricks-sql-connector"),
}


def connector(dialect: str) -> Any:
    module, package = PACKAGES[dialect]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DataError(
            f"{dialect}:// needs the {package} package: pip install {package}"
        ) from None


def execute(dialect: str, url: str, statements: list[str]) -> None:
    """Run statements in order on the warehouse named by `url`."""
    client = connector(dialect)
    parts = urlsplit(url)
    if dialect == "bigquery":
        bigquery = client.Client(project=parts.hostname)
        for sql in statements:
            bigquery.query(sql).result()
        return
    if dialect == "databricks":
        with (
            client.connect(
                server_hostname=parts.hostname,
                http_path=parts.path,
                access_token=unquote(parts.password or ""),
            ) as con,
            con.cursor() as cursor,
        ):
            for sql in statements:
                cursor.execute(sql)
        return
    options = dict(parse_qsl(parts.query))
    with client.connect(
        account=parts.hostname,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=parts.path.strip("/") or None,
        **options,
    ) as con:
        cursor = con.cursor()
        for sql in statements:
            cursor.execute(sql)
