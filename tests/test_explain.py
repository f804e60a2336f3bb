"""`explain`: rules, caps, groups, reset and clamp of each score, and distances to thresholds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backtest_fixtures import MODEL, write_files
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_source
from scorelang.targets.python import PythonEvaluator
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.explain import (
    explain,
    explain_lead,
    explain_result,
    explain_row,
    score_bounds,
    to_json,
)

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
LEADS = {
    "ann": {
        "id": "ann",
        "industry": "saas",
        "title": "VP",
        "created_at": AS_OF - timedelta(days=90),
    },
    "bob": {
        "id": "bob",
        "industry": "saas",
        "title": None,
        "created_at": AS_OF - timedelta(days=90),
    },
    "cy": {
        "id": "cy",
        "industry": "retail",
        "title": None,
        "created_at": AS_OF - timedelta(days=90),
    },
    "dee": {
        "id": "dee",
        "industry": "education",
        "title": None,
        "created_at": AS_OF - timedelta(days=900),
    },
}


def _views(lead: str, *urls: str) -> list[dict]:
    return [
        {
            "lead_id": lead,
            "event_type": "page_view",
            "occurred_at": AS_OF - timedelta(days=i + 1),
            "url": url,
        }
        for i, url in enumerate(urls)
    ]


EVENTS = {
    "ann": _views("ann", *["/pricing"] * 7),
    "bob": _views("bob", "/pricing", "/pricing", "/pricing", "/docs", "/docs"),
    "cy": _views("cy", "/blog"),
    "dee": [],
}


@pytest.fixture(scope="module")
def model() -> ir.Model:
    compilation = compile_source(MODEL)
    assert compilation.model is not None, compilation.diagnostics
    return compilation.model


def _explain(model: ir.Model, name: str):
    return explain(model, LEADS[name], EVENTS[name], AS_OF)


def _rule(explanation, rule_id):
    score = explanation.score(rule_id.split("__")[0])
    return next(r for r in score.rules if r.id == rule_id)


def test_rule_cap_shows_raw_and_capped_points(model):
    ann = _explain(model, "ann")
    views = _rule(ann, "engagement__r1")
    assert (views.raw_points, views.points, views.capped, views.cap) == (14.0, 10.0, True, 10.0)
    assert views.counting == "per event" and views.fired
    assert [r.id for r in ann.score("fit").rules if r.fired] == ["fit__saas", "fit__vp"]
    assert [(s.name, s.value) for s in ann.scores] == [
        ("fit", 40.0),
        ("engagement", 20.0),
        ("total", 60.0),
    ]
    stage = ann.tiers[0]
    assert (stage.band, stage.next_band, stage.points_to_next) == ("hot", None, None)
    assert ann.flag("mql").value and all(b.met for b in ann.flag("mql").bounds)


def test_group_cap_and_points_to_a_flag(model):
    bob = _explain(model, "bob")
    engagement = bob.score("engagement")
    assert [(g.label, g.cap, g.points, g.capped_points) for g in engagement.groups] == [
        ("content", 15.0, 20.0, 15.0)
    ]
    assert _rule(bob, "engagement__pricing").group == "content"
    assert engagement.after_groups == 25.0 and engagement.value == 25.0
    mql = bob.flag("mql")
    assert not mql.value
    gaps = {(b.score, b.op, b.bound): (b.met, b.points_needed) for b in mql.bounds}
    assert gaps == {("total", ">=", 40.0): (True, 0.0), ("fit", ">=", 40.0): (False, 20.0)}


def test_points_to_the_next_tier_band(model):
    cy = _explain(model, "cy")
    assert cy.score("total").value == 2.0
    stage = cy.tiers[0]
    assert (stage.band, stage.next_band, stage.points_to_next) == ("cold", "warm", 18.0)
    assert {b.score: b.points_needed for b in cy.flag("mql").bounds} == {"total": 38.0, "fit": 40.0}


def test_reset_and_clamp(model):
    dee = _explain(model, "dee")
    fit = dee.score("fit")
    assert (fit.before_clamp, fit.clamped, fit.value, fit.clamp) == (-10.0, True, 0.0, (0.0, 100.0))
    engagement = dee.score("engagement")
    assert (
        engagement.reset
        and _rule(dee, "engagement__r3").fired
        and _rule(dee, "engagement__r3").is_reset
    )


def test_bounds_are_read_with_the_score_on_the_left():
    condition = ir.And(
        (
            ir.Compare("<", ir.Literal(70, ir.Type.INT), ir.ScoreRef("total")),
            ir.Compare("==", ir.TierRef("stage"), ir.Literal("hot", ir.Type.STRING)),
            ir.Not(ir.Compare("<=", ir.ScoreRef("fit"), ir.Literal(10.5, ir.Type.NUMBER))),
        )
    )
    assert [(b.score, b.op, b.value) for b in score_bounds(condition)] == [
        ("total", ">", 70.0),
        ("fit", "<=", 10.5),
    ]


def test_a_row_explains_like_the_evaluator_with_the_same_rule_ids(model):
    result = PythonEvaluator(model).score(LEADS["bob"], EVENTS["bob"], AS_OF)
    full = explain_result(model, result)
    from_row = explain_row(model, result.as_row(model), AS_OF)
    rule_columns = model.output_columns[-len([r for s in model.scores for r in s.rules]) :]
    assert [r.id for s in full.scores for r in s.rules] == list(rule_columns)
    assert [(r.id, r.points, r.fired) for s in from_row.scores for r in s.rules] == [
        (r.id, r.points, r.fired) for s in full.scores for r in s.rules
    ]
    assert all(r.raw_points is None for s in from_row.scores for r in s.rules)
    assert from_row.flags == full.flags and from_row.tiers == full.tiers


def _files(tmp_path):
    return write_files(
        tmp_path, list(LEADS.values()), [e for events in EVENTS.values() for e in events]
    )


def test_explain_from_files_on_python_and_duckdb(model, tmp_path):
    leads, events = _files(tmp_path)
    python = explain_lead(model, "bob", leads, events, AS_OF, "python")
    duckdb = explain_lead(model, "bob", leads, events, AS_OF, "duckdb")
    assert python == _explain(model, "bob")
    assert [(r.id, r.points) for s in duckdb.scores for r in s.rules] == [
        (r.id, r.points) for s in python.scores for r in s.rules
    ]
    assert duckdb.flags == python.flags


def test_cli_text_and_json(tmp_path):
    leads, events = _files(tmp_path)
    model_path = tmp_path / "model.score"
    model_path.write_text(MODEL)
    common = [
        str(model_path),
        "--leads",
        str(leads),
        "--events",
        str(events),
        "--as-of",
        "2026-01-01T00:00:00Z",
    ]
    text = CliRunner().invoke(app, ["explain", *common, "--lead", "bob"])
    assert text.exit_code == 0, text.output
    assert "20 points of fit from mql" in text.output and "group 'content' max 15" in text.output
    data = CliRunner().invoke(app, ["explain", *common, "--lead", "ann", "--format", "json"])
    assert data.exit_code == 0, data.output
    parsed = json.loads(data.output)
    assert parsed == json.loads(
        json.dumps(to_json(_explain(compile_source(MODEL).model, "ann")), default=str)
    )
    missing = CliRunner().invoke(app, ["explain", *common, "--lead", "nobody"])
    assert missing.exit_code == 1 and "no lead with id 'nobody'" in missing.output


EXAMPLES = sorted((Path(__file__).parent.parent / "examples").iterdir())


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_every_engine_explains_every_lead_of_every_example_alike(
    example: Path, pg_url: str
) -> None:
    """Counts, points before and after caps, groups, reset and clamp: the same JSON."""
    from scorelang import load
    from scorelang.explain import explain_leads

    model = load(example / "model.score")
    files = (example / "leads.csv", example / "events.csv")
    accounts = example / "accounts.csv" if model.ir.account is not None else None
    explained = {
        engine: [
            to_json(e)
            for e in explain_leads(model, *files, AS_OF, engine, database=pg_url, accounts=accounts)
        ]
        for engine in ("python", "duckdb", "postgres")
    }
    assert len(explained["python"]) == 150
    assert explained["duckdb"] == explained["python"]
    assert explained["postgres"] == explained["python"]
    capped = [
        rule
        for lead in explained["duckdb"]
        for score in lead["scores"]
        for rule in score["rules"]
        if rule["capped"]
    ]
    assert capped or example.name != "b2b_saas"  # the caps are exercised
    assert all(abs(rule["raw_points"]) > rule["cap"] for rule in capped)


def test_a_capped_each_rule_shows_its_count_on_duckdb(tmp_path):
    """The bug: DuckDB showed `4 × +3` (capped points / 3) for 5 clicks."""
    source = MODEL.replace("each page_view: +2 max 10", "each page_view: +3 max 12")
    path = tmp_path / "model.score"
    path.write_text(source)
    leads = [{"id": "a", "industry": "saas", "title": "", "created_at": AS_OF - timedelta(days=9)}]
    events = [
        {"lead_id": "a", "event_type": "page_view", "occurred_at": AS_OF - timedelta(days=d), "url": "/x"}
        for d in range(1, 6)
    ]  # fmt: skip
    leads_path, events_path = write_files(tmp_path, leads, events)
    for engine in ("python", "duckdb"):
        result = CliRunner().invoke(
            app,
            ["explain", str(path), "--lead", "a", "--leads", str(leads_path), "--events",
             str(events_path), "--as-of", AS_OF.isoformat(), "--engine", engine],
            env={"COLUMNS": "200"},
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "per event: 5 × +3, 15 before max 12" in " ".join(result.output.split())
