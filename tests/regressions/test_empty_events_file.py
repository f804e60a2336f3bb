"""Found by tests/test_differential.py: an events file with a header and no rows crashed
every engine with `TypeError: unsupported operand type(s) for -: 'int' and 'NoneType'` in
scorelang.data.load_duckdb (COUNT_IF over zero rows is NULL, not 0)."""

from __future__ import annotations

from pathlib import Path

from strategies import SCHEMA, compile_model, differences, score_everywhere, write_data

SOURCE = SCHEMA + "score s1 {\n  when active == true: +5\n  when no activity within 7d: -1\n}\n"


def test_no_events_at_all_scores_every_lead(tmp_path: Path, pg_url: str) -> None:
    model = compile_model(SOURCE)
    leads, events = write_data(tmp_path, [{"id": "l1", "active": True}, {"id": "l2"}], [])
    rows = score_everywhere(model, leads, events, pg_url)
    assert [r["s1"] for r in rows["python"]] == [4.0, -1.0]
    assert not differences(model, rows)
