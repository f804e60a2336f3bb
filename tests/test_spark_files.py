"""`score --engine spark` reads CSV and Parquet through Spark (engines/spark_files) with the
shared loader's rules: every bad file of test_bad_data gets the very message DuckDB's loader
gives, dropped rows are counted alike, and a CRM-shaped export (its own header text, a
missing column, a mapping typo, a quoted line break, a byte-order mark) scores as DuckDB
scores it, or fails with DuckDB's words.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb
import pytest
from strategies import AS_OF
from test_bad_data import (
    DROPPED,
    ERRORS,
    EVENTS,
    LEADS,
    MIXED_ZONES,
    MODEL,
    PARQUET_ERRORS,
    SOURCE,
    cli_score,
    config,
    crm_files,
    parquet,
    write,
)
from test_spark import spark
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.config import SourceMapping, load_config
from scorelang.data import DataError, LoadReport, load_duckdb
from scorelang.engines import score
from scorelang.engines.spark_files import load_spark

__all__ = ["spark"]


def errors(spark: Any, leads: Path, events: Path, mapping: SourceMapping) -> tuple[str, str]:
    """The DuckDB loader's error and the Spark loader's, for the same files."""
    with pytest.raises(DataError) as by_duckdb:
        load_duckdb(duckdb.connect(), MODEL, leads, events, mapping)
    with pytest.raises(DataError) as by_spark:
        load_spark(spark, MODEL, leads, events, mapping)
    return str(by_duckdb.value), str(by_spark.value)


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_csv_files_get_duckdbs_message(spark: Any, case: str, tmp_path: Path) -> None:
    bad = ERRORS[case]
    expected, actual = errors(spark, *write(tmp_path, bad.leads, bad.events), SourceMapping())
    assert actual == expected


@pytest.mark.parametrize("case", list(PARQUET_ERRORS))
def test_bad_parquet_files_get_duckdbs_message(spark: Any, case: str, tmp_path: Path) -> None:
    leads_sql, events_sql, message = PARQUET_ERRORS[case]
    leads = parquet(tmp_path, "leads.parquet", leads_sql)
    events = parquet(tmp_path, "events.parquet", events_sql)
    expected, actual = errors(spark, leads, events, SourceMapping())
    # A typed value is quoted as each engine prints it: DuckDB 'nan', Spark 'NaN'.
    assert message in actual and actual.lower() == expected.lower()


# Values Spark's casts read and DuckDB's do not: each must be refused as DuckDB refuses it.
LOOSER_IN_SPARK = [
    ("id,employees,revenue\nl1,3,1d\nl2,4,0x1p3\nl3,5,1.5f\n", "revenue"),
    ("id,employees,signed_up\nl1,3,2025\nl2,3,2025-01\nl3,3,2025-01-02 \n", "signed_up"),
    ("id,employees,revenue\nl1,3.0e0,2\nl2,Infinity,2\n", "employees"),
]


@pytest.mark.parametrize(("leads", "column"), LOOSER_IN_SPARK)
def test_what_spark_reads_and_duckdb_does_not_is_refused_alike(
    spark: Any, leads: str, column: str, tmp_path: Path
) -> None:
    expected, actual = errors(spark, *write(tmp_path, leads, EVENTS), SourceMapping())
    assert f"column {column!r}" in actual and actual == expected


STRUCTURE = [
    ("id,employees,revenue,employees,signed_up\nl1,2,,3,\n", EVENTS),  # duplicate header
    (LEADS.replace(",", ";"), EVENTS),  # another delimiter
    (LEADS, "lead,event_type,occurred_at,url,secs\nl1,visit,2025-12-31,/a,\n"),  # renamed
    (LEADS, "url\n/a\n"),  # no structural column
]


@pytest.mark.parametrize(("leads", "events"), STRUCTURE)
def test_bad_structure_is_refused(spark: Any, leads: str, events: str, tmp_path: Path) -> None:
    expected, actual = errors(spark, *write(tmp_path, leads, events), SourceMapping())
    assert actual.split(": ")[0] == expected.split(": ")[0]  # the same file is named
    if "cannot be read" not in expected:  # DuckDB's own reader words differ from Spark's
        assert actual == expected


def test_a_malformed_record_is_named(spark: Any, tmp_path: Path) -> None:
    """DuckDB's sniffer reads `l1,1,extra` as a header-less file; Spark names the record."""
    leads, events = write(tmp_path, "id,employees,revenue,signed_up\nl1,1,,,extra\n", EVENTS)
    with pytest.raises(DataError) as raised:
        load_spark(spark, MODEL, leads, events, SourceMapping())
    assert str(raised.value) == (
        f"{leads}: cannot be read: [MALFORMED_CSV_RECORD] Malformed CSV record: l1,1,,,extra "
        "SQLSTATE: KD000"
    )


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_another_encoding_is_named_and_read_when_configured(
    spark: Any, encoding: str, tmp_path: Path
) -> None:
    leads, events = write(tmp_path, LEADS, "")
    events.write_bytes((EVENTS + "l1,visit,2025-12-31T23:40:00Z,/café,\n").encode(encoding))
    expected, actual = errors(spark, leads, events, SourceMapping())
    assert "events.csv: is not UTF-8-encoded text (" in actual and actual == expected
    leads.write_bytes(LEADS.encode(encoding))
    mapping = SourceMapping(encoding=encoding)
    rows = score(MODEL, "spark", leads=leads, events=events, as_of=AS_OF, mapping=mapping)
    assert rows == score(MODEL, "duckdb", leads=leads, events=events, as_of=AS_OF, mapping=mapping)
    assert rows[0]["s__r2"] == 2.0


def test_dropped_rows_are_counted_alike_and_strict_refuses_them(spark: Any, tmp_path: Path) -> None:
    leads, events = write(tmp_path, LEADS, DROPPED)
    report = load_spark(spark, MODEL, leads, events, SourceMapping())
    assert report == load_duckdb(duckdb.connect(), MODEL, leads, events, SourceMapping())
    assert report == LoadReport(1, 1, 2, 3, (), (("click", 2, None), ("Visit", 1, "visit")))
    expected, actual = errors(spark, leads, events, SourceMapping(strict=True))
    assert actual == expected
    rows = score(MODEL, "spark", leads=leads, events=events, as_of=AS_OF)
    assert rows == [{"id": "l1", "s": 2.0, "s__r1": 1.0, "s__r2": 1.0}]


def test_zones_and_header_only_files_read_alike(spark: Any, tmp_path: Path) -> None:
    leads, events = write(tmp_path, LEADS, MIXED_ZONES)
    assert score(MODEL, "spark", leads=leads, events=events, as_of=AS_OF)[0]["s__r2"] == 2.0
    leads, events = write(tmp_path, "id,employees,revenue,signed_up\n", EVENTS)
    assert load_spark(spark, MODEL, leads, events, SourceMapping()) == LoadReport(0, 0, 1, 0)


def test_a_crm_export_scores_as_duckdb_scores_it(spark: Any, tmp_path: Path) -> None:
    """Header text with spaces, quotes and SQL, mapped by scorelang.toml; a quoted line break
    in a cell and a byte-order mark; then the same export with a column left out."""
    leads, events, path = crm_files(tmp_path)
    text = events.read_text(encoding="utf-8").replace("/b,3", '"/b\nsecond line",3')
    events.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    mapping = load_config(path).sources
    rows = score(MODEL, "spark", leads=leads, events=events, as_of=AS_OF, mapping=mapping)
    assert rows == score(MODEL, "duckdb", leads=leads, events=events, as_of=AS_OF, mapping=mapping)
    assert len(rows) == 2
    out = tmp_path / "scores.csv"
    options = ("--config", str(path), "--engine", "spark", "--out", str(out))
    code, output = cli_score(tmp_path, leads, events, *options)
    assert code == 0 and "scored 2 leads with spark" in output
    with leads.open(newline="", encoding="utf-8") as file:
        table = list(csv.reader(file))
    cut = table[0].index("Employees (#)")
    with leads.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([v for i, v in enumerate(row) if i != cut] for row in table)
    expected, actual = errors(spark, leads, events, mapping)
    assert "missing required column 'Employees (#)' for lead field employees" in actual
    assert actual == expected


def test_the_cli_names_a_missing_column_and_a_mapping_typo(tmp_path: Path) -> None:
    """Through `scorelang score --engine spark`: the error, never a traceback."""
    leads, events = write(tmp_path, "id,revenue\nl1,2\n", EVENTS)
    code, output = cli_score(tmp_path, leads, events, "--engine", "spark")
    assert code == 1 and "leads.csv: missing required column 'employees'" in output
    leads, events = write(tmp_path, LEADS, EVENTS)
    typo = config(tmp_path, '[sources.columns]\nemployes = "Employees"\n')
    code, output = cli_score(tmp_path, leads, events, "--engine", "spark", "--config", str(typo))
    assert code == 1 and "maps 'employes'" in output and "employees" in output


def test_the_cli_notes_dropped_rows(tmp_path: Path) -> None:
    leads, events = write(tmp_path, LEADS, DROPPED)
    model = tmp_path / "bad.score"
    model.write_text(SOURCE, encoding="utf-8")
    arguments = ["score", str(model), "--leads", str(leads), "--events", str(events)]
    result = CliRunner().invoke(app, [*arguments, "--as-of", "2026-01-01", "--engine", "spark"])
    assert result.exit_code == 0, result.output
    assert "note: read 1 lead, 1 event (ignored: 2 events of unknown leads" in " ".join(
        result.output.split()
    )
