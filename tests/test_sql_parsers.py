"""Every golden BigQuery and Snowflake file parses with two parsers that are not sqlglot:
sqlfluff (its own grammar of each dialect) and sqloxide (sqlparser-rs). sqlglot writes and
reads back the same SQL, so its parse-back (test_sql_golden) cannot catch a construct it
alone accepts.

A construct one of them cannot parse is changed, or listed in EXCEPTIONS with the reason
(none is needed today).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqloxide
from sqlfluff.core import FluffConfig, Linter

GOLDEN = Path(__file__).resolve().parent / "golden"
FILES = sorted(
    path for dialect in ("bigquery", "snowflake") for path in GOLDEN.glob(f"*.{dialect}.sql")
)
# (file name, parser) -> why that parser cannot read it.
EXCEPTIONS: dict[tuple[str, str], str] = {}


def dialect_of(path: Path) -> str:
    return path.suffixes[-2].lstrip(".")


def expect(path: Path, parser: str, request: pytest.FixtureRequest) -> None:
    reason = EXCEPTIONS.get((path.name, parser))
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def test_every_warehouse_golden_file_is_checked() -> None:
    assert {dialect_of(p) for p in FILES} == {"bigquery", "snowflake"}
    assert len(FILES) >= 8


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_sqloxide_parses(path: Path, request: pytest.FixtureRequest) -> None:
    expect(path, "sqloxide", request)
    statements = sqloxide.parse_sql(path.read_text(), dialect=dialect_of(path))
    assert len(statements) == path.read_text().count("CREATE OR REPLACE VIEW")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_sqlfluff_parses(path: Path, request: pytest.FixtureRequest) -> None:
    expect(path, "sqlfluff", request)
    linter = Linter(config=FluffConfig(overrides={"dialect": dialect_of(path)}))
    parsed = linter.parse_string(path.read_text())
    assert [v.desc() for v in parsed.violations] == []
    assert parsed.tree is not None
    unparsable = [s.raw[:200] for s in parsed.tree.recursive_crawl("unparsable")]
    assert unparsable == []
    views = list(parsed.tree.recursive_crawl("create_view_statement"))
    assert len(views) == path.read_text().count("CREATE OR REPLACE VIEW")
