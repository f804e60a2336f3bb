"""Shared fixtures.

`pg_url` is the Postgres test server (scripts/pg-test-server prints its URL; scripts/test
exports it as SCORELANG_PG_URL). In CI (env CI set) a missing or unreachable server fails the
tests that need it: parity with Postgres is a promise, never silently skipped. Locally, without
the variable, those tests skip with a message saying how to run them.
"""

from __future__ import annotations

import os

import psycopg
import pytest

HOW = "run `export SCORELANG_PG_URL=$(scripts/pg-test-server)` to include them"


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Postgres tests cannot run in CI: {reason}")
    pytest.skip(f"Postgres tests skipped: {reason}; {HOW}")


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get("SCORELANG_PG_URL")
    if not url:
        unavailable("SCORELANG_PG_URL is not set")
    try:
        with psycopg.connect(url, connect_timeout=5) as pg:
            pg.execute("SELECT 1")
    except psycopg.Error as error:
        unavailable(f"cannot connect to {url}: {str(error).strip()}")
    return url
