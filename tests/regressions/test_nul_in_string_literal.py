"""Found while writing tests/test_injection.py: a NUL character in a string literal
(`"a\\x00b"`, a valid Python-style escape) compiles, scores in Python and DuckDB, but Postgres
fails with `unterminated quoted string` (libpq ends the query text at the NUL, and Postgres
text cannot hold NUL at all). Either the checker refuses the literal, or every engine agrees."""

from __future__ import annotations

from pathlib import Path

from scorelang.compiler.frontend import compile_source
from strategies import differences, score_everywhere, write_csv

SOURCE = """model nul
lead { id: string key
  name: string? }
event note { text: string? }
score s {
  when name == "a\\x00b": +1
}
"""


def test_nul_literal_is_refused_or_scored_alike(tmp_path: Path, pg_url: str) -> None:
    compilation = compile_source(SOURCE)
    if compilation.model is None:
        assert any("NUL" in d.message or "\\x00" in d.message for d in compilation.diagnostics)
        return
    leads = write_csv(tmp_path / "leads.csv", [{"id": "l1", "name": "ab"}], ["id", "name"])
    event = {"lead_id": "l1", "event_type": "note", "occurred_at": "2025-12-31T00:00:00Z"}
    events = write_csv(tmp_path / "events.csv", [event], ["lead_id", "event_type", "occurred_at"])
    rows = score_everywhere(compilation.model, leads, events, pg_url)
    assert not differences(compilation.model, rows)
