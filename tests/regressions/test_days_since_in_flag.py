"""Found by tests/test_differential.py: a flag using `days_since` (`flag quiet = not hot or
days_since(created_at) < 1`) crashed the Python evaluator with `NameError: name 'as_of' is
not defined`. Cause: the generated `derive` (tiers, matrices, flags) only receives the lead
fields and aggregates flags read, not the instant; it now receives `as_of` too when a flag
needs it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from strategies import AS_OF, SCHEMA, compile_model, differences, score_everywhere, write_data

SOURCE = SCHEMA + (
    "score s1 {\n  when active: +1\n}\n"
    "flag recent = days_since(created_at) < 1\n"
    "flag seen = days_since(last(page_view)) <= 2 and s1 >= 0\n"
)


def test_flags_read_the_instant(tmp_path: Path, pg_url: str) -> None:
    model = compile_model(SOURCE)
    leads = [
        {"id": "l1", "created_at": AS_OF - timedelta(hours=12)},
        {"id": "l2", "created_at": AS_OF - timedelta(days=3)},
        {"id": "l3"},
    ]
    view = {"lead_id": "l2", "event_type": "page_view", "url": "/", "occurred_at": AS_OF}
    rows = score_everywhere(model, *write_data(tmp_path, leads, [view]), pg_url)
    assert [(r["recent"], r["seen"]) for r in rows["python"]] == [
        (True, False),
        (False, True),
        (False, False),
    ]
    assert not differences(model, rows)
