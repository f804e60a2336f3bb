"""Found while making rounding cheaper (a sweep of half-cent values against ir.round_score):
DuckDB and Postgres turned a double into DECIMAL(38, 9) differently from Python, which rounds
the decimal the double prints as. DuckDB's cast is round(x * 1e9) in double arithmetic, so
8916382.325 (stored as 8916382.32499999925...) became 8916382.32 where Python says .33;
Postgres' float8 -> numeric keeps 15 significant digits, so 6692067293974.005 became
6692067293974.00 where Python says .01. Fix: the dialects' at_nine_places (Postgres casts the
double's text, DuckDB too above 1e6); the sweep is in tests/test_sql_build.py."""

from __future__ import annotations

from pathlib import Path

from strategies import SCHEMA, compile_model, differences, score_everywhere, write_data

SOURCE = SCHEMA + (
    "score millions {\n  when active == true: +8916382.325\n}\n"
    "score trillions {\n  when active == true: +6692067293974.005\n}\n"
)


def test_half_cents_of_large_scores_round_as_in_python(tmp_path: Path, pg_url: str) -> None:
    model = compile_model(SOURCE)
    leads, events = write_data(tmp_path, [{"id": "l1", "active": True}], [])
    rows = score_everywhere(model, leads, events, pg_url)
    (python,) = rows["python"]
    assert (python["millions"], python["trillions"]) == (8916382.33, 6692067293974.01)
    assert not differences(model, rows)
