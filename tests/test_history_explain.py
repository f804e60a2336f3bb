"""`scorelang explain --since D`: each rule's points at as_of - D and at as_of, largest
change first, with the scores, tiers and flags at both instants; alike on every engine."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_history import files, model_of
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.explain import explain_change, explain_lead

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 1, 1, tzinfo=UTC)
WEEK = timedelta(days=7)
LEAD = "L00112"  # requested a demo and attended a webinar this week


@pytest.mark.parametrize("engine", ["python", "duckdb", "postgres"])
def test_rules_then_and_now_largest_change_first(
    engine: str, request: pytest.FixtureRequest
) -> None:
    model = model_of("b2b_saas")
    database = request.getfixturevalue("pg_url") if engine == "postgres" else None
    given = files("b2b_saas")
    change = explain_change(
        model, LEAD, *given.values(), WEEK, NOW, engine=engine, database=database
    )
    before = explain_lead(model, LEAD, *given.values(), NOW - WEEK)
    after = explain_lead(model, LEAD, *given.values(), NOW)
    assert (change.then, change.now) == (NOW - WEEK, NOW)
    points = {r.id: r.points for s in after.scores for r in s.rules if not r.is_reset}
    earlier = {r.id: r.points for s in before.scores for r in s.rules if not r.is_reset}
    assert {r.id: (r.then, r.now) for r in change.rules} == {
        id: (earlier[id], points[id]) for id in points
    }
    sizes = [abs(r.change) for r in change.rules]
    assert sizes == sorted(sizes, reverse=True)
    assert change.rules[0].label == "Requested a demo" and change.rules[0].change == 30
    assert change.rule("engagement__quiet_for_90_days").change == 20  # no longer quiet
    assert [(s.name, s.then, s.now) for s in change.scores] == [
        (s.name, before.score(s.name).value, s.value) for s in after.scores
    ]
    assert [(t.name, t.then, t.now) for t in change.tiers] == [("stage", "awareness", "evaluation")]
    assert [(f.name, f.then, f.now) for f in change.flags] == [("mql", False, False)]


runner = CliRunner()
ARGS = [
    "explain",
    str(ROOT / "examples" / "b2b_saas" / "model.score"),
    "--lead",
    LEAD,
    "--leads",
    str(ROOT / "examples" / "b2b_saas" / "leads.csv"),
    "--events",
    str(ROOT / "examples" / "b2b_saas" / "events.csv"),
    "--as-of",
    "2026-01-01T00:00:00Z",
]


def test_the_command_shows_then_now_and_the_change() -> None:
    done = runner.invoke(app, [*ARGS, "--since", "7d"], terminal_width=200)
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert "2025-12-25T00:00:00Z → 2026-01-01T00:00:00Z" in lines[0]
    demo = next(line for line in lines if "Requested a demo" in line)
    assert demo.split("│")[2:5] == [" 0    ", " 30   ", " +30    "]
    assert lines.index(demo) < next(n for n, text in enumerate(lines) if "Read the docs" in text)
    assert "tier stage: awareness → evaluation" in done.output


def test_the_command_writes_json() -> None:
    done = runner.invoke(app, [*ARGS, "--since", "3d", "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["then"] == "2025-12-29T00:00:00+00:00"
    assert data["rules"][0]["change"] == max(abs(r["change"]) for r in data["rules"])


def test_a_bad_duration_is_a_usage_error() -> None:
    done = runner.invoke(app, [*ARGS, "--since", "a week"])
    assert done.exit_code == 2 and "not a duration" in done.output
