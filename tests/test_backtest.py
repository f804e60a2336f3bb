"""Backtest metrics on data whose right answer is known, and no leakage past the scoring time."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from backtest_fixtures import MODEL, write_files
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_source
from typer.testing import CliRunner

from scorelang.backtest import metrics
from scorelang.backtest.conditions import evaluate, prepare
from scorelang.backtest.run import analyse, backtest
from scorelang.backtest.scoring import AsOfColumn, ScoredLeads, parse_outcome, score_leads
from scorelang.cli import app

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


# ---- metrics --------------------------------------------------------------------------------


def test_perfect_separation_gives_auc_one():
    labels = [0, 0, 0, 1, 1]
    assert metrics.roc_auc([1, 2, 3, 10, 11], labels) == 1.0
    assert metrics.roc_auc([11, 10, 3, 2, 1], labels) == 0.0


def test_ties_count_half():
    assert metrics.roc_auc([5, 5, 5, 5], [0, 1, 0, 1]) == 0.5
    # one converter tied with one of two non-converters: (1 + 0.5) / 2
    assert metrics.roc_auc([1, 2, 2], [0, 0, 1]) == 0.75
    assert list(metrics.average_ranks([10, 20, 20, 30])) == [1.0, 2.5, 2.5, 4.0]


def test_random_scores_give_about_half():
    rng = np.random.default_rng(7)
    labels = rng.random(20_000) < 0.2
    assert metrics.roc_auc(rng.random(20_000), labels) == pytest.approx(0.5, abs=0.02)


def test_auc_needs_both_outcomes():
    with pytest.raises(ValueError, match="both"):
        metrics.roc_auc([1, 2], [1, 1])


def test_deciles_add_up():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 100, 1003)
    labels = rng.random(1003) < scores / 150
    deciles = metrics.deciles(scores, labels)
    assert [d.rank for d in deciles] == list(range(1, 11))
    assert sum(d.count for d in deciles) == 1003
    assert sum(d.positives for d in deciles) == labels.sum()
    assert deciles[-1].cumulative_gain == pytest.approx(1.0)
    base = labels.mean()
    # lift weighted by decile size averages to 1
    assert sum(d.lift * d.count for d in deciles) / 1003 == pytest.approx(1.0)
    assert all(d.conversion == pytest.approx(d.lift * base) for d in deciles)
    assert all(a.min_score >= b.max_score for a, b in itertools.pairwise(deciles))
    assert deciles[0].lift > 1.5 > deciles[-1].lift


def test_deciles_of_few_leads():
    deciles = metrics.deciles([3, 2, 1], [1, 0, 0])
    assert [(d.count, d.positives) for d in deciles] == [(1, 1), (1, 0), (1, 0)]


def test_classification_and_fire_stats():
    c = metrics.classification([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])
    assert (c.predicted, c.true_positives) == (3, 2)
    assert c.precision == pytest.approx(2 / 3) and c.recall == pytest.approx(2 / 3)
    assert c.f1 == pytest.approx(2 / 3)
    s = metrics.fire_stats([1, 1, 0, 0], [1, 0, 0, 0])
    assert (s.fired, s.fire_rate, s.conversion_fired, s.conversion_not_fired, s.lift) == (
        2,
        0.5,
        0.5,
        0.0,
        2.0,
    )
    never = metrics.fire_stats([0, 0], [1, 0])
    assert never.conversion_fired is None and never.lift is None


def test_conversion_by_group_keeps_band_order():
    rates = metrics.conversion_by_group(
        ["warm", "hot", "hot", None], [0, 1, 0, 1], ["hot", "warm", "cold"]
    )
    assert [(r.label, r.count, r.positives) for r in rates] == [
        ("hot", 2, 1),
        ("warm", 1, 0),
        ("cold", 0, 0),
        ("-", 1, 1),
    ]
    assert rates[0].lift == 1.0 and rates[2].conversion is None


def test_threshold_choices():
    scores = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], dtype=float)
    labels = scores >= 70
    candidates = metrics.candidate_thresholds(scores)
    best = metrics.best_f1_threshold(candidates, lambda t: scores >= t, labels)
    assert best is not None and best.value == 70 and best.classification.f1 == 1.0
    volume = metrics.volume_threshold(candidates, lambda t: scores >= t, labels, 0.2)
    assert volume is not None and volume.value == 90 and volume.rate == pytest.approx(0.2)
    assert len(metrics.candidate_thresholds(np.arange(1000), limit=50)) <= 50


def test_histogram_counts_every_lead():
    h = metrics.histogram([0, 1, 2, 3, 10], [1, 0, 1, 0, 1], bins=4)
    assert sum(h.positives) == 3 and sum(h.negatives) == 2 and h.edges[0] == 0 and h.edges[-1] == 10


# ---- flag conditions over outputs ----------------------------------------------------------------


def test_conditions_follow_missing_value_semantics():
    outputs = prepare({"total": [80.0, 50.0, 90.0], "stage": ["hot", None, "warm"]})
    hot = ir.Compare("==", ir.TierRef("stage"), ir.Literal("hot", ir.Type.STRING))
    not_hot = ir.Compare("!=", ir.TierRef("stage"), ir.Literal("hot", ir.Type.STRING))
    high = ir.Compare(">=", ir.ScoreRef("total"), ir.Literal(70, ir.Type.INT))
    assert list(evaluate(hot, outputs)) == [True, False, False]
    assert list(evaluate(not_hot, outputs)) == [False, False, True]  # missing tier: False
    assert list(evaluate(ir.Not(hot), outputs)) == [False, True, True]
    assert list(evaluate(ir.And((high, not_hot)), outputs)) == [False, False, True]
    assert list(
        evaluate(ir.And((high, hot)), outputs, {id(high): np.array([True, True, True])})
    ) == [True, False, False]
    half = ir.Arith("/", ir.ScoreRef("total"), ir.Literal(0, ir.Type.INT))
    assert list(evaluate(ir.IsMissing(half), outputs)) == [True, True, True]


# ---- whole backtests on a compiled model -------------------------------------------------------------


def _model() -> ir.Model:
    compilation = compile_source(MODEL)
    assert compilation.model is not None, compilation.diagnostics
    return compilation.model


def test_analyse_on_known_rows():
    model = _model()
    rows, outcomes = [], []
    for i in range(40):
        converted = i % 4 == 0
        fit = 40.0 if converted else 0.0
        rows.append(
            {
                "id": f"l{i}",
                "fit": fit,
                "engagement": float(i % 3),
                "total": fit + i % 3,
                "stage": "hot" if fit else "cold",
                "mql": fit >= 40,
                "fit__saas": 20.0 if converted else 0.0,
                "fit__vp": 20.0 if converted else 0.0,
                "fit__r3": 0.0,
                "engagement__r1": float(i % 3),
                "engagement__r2": 0.0,
                "engagement__pricing": 0.0,
                "engagement__docs": 0.0,
                "engagement__r3": False,
            }
        )
        outcomes.append(converted)
    assert set(rows[0]) == set(model.output_columns)
    result = analyse(
        model,
        ScoredLeads(rows, np.array(outcomes), [AS_OF] * 40),
        outcome="won",
        as_of="fixed",
        target_rate=0.1,
    )
    assert result.score("fit").auc == 1.0 and result.score("total").auc == 1.0
    assert result.leads == 40 and result.positives == 10
    stage = next(g for g in result.groups if g.name == "stage")
    assert [(r.label, r.conversion) for r in stage.rates if r.count] == [
        ("hot", 1.0),
        ("cold", 0.0),
    ]
    mql = result.flags[0]
    assert mql.classification.f1 == 1.0
    assert {s.score for s in mql.suggestions} == {"total", "fit"}
    volume = next(s for s in mql.suggestions if s.score == "total").volume
    assert volume is not None and volume.rate <= 0.25
    saas = next(r for r in result.rules if r.id == "fit__saas")
    assert (saas.stats.fire_rate, saas.stats.conversion_fired, saas.stats.conversion_not_fired) == (
        0.25,
        1.0,
        0.0,
    )


def test_one_outcome_only_is_a_clear_error():
    model = _model()
    with pytest.raises(ValueError, match="both converted and not converted"):
        analyse(model, ScoredLeads([], np.array([], dtype=bool), []), outcome="won", as_of="x")


def test_outcome_values():
    assert [parse_outcome(v) for v in (True, 0, 1.0, "yes", " TRUE ", "0", "n")] == [
        True,
        False,
        True,
        True,
        True,
        False,
        False,
    ]
    assert (
        parse_outcome("maybe") is None and parse_outcome(None) is None and parse_outcome(2) is None
    )


def test_as_of_column_spec():
    assert AsOfColumn.parse("scored_at") == AsOfColumn("scored_at", 0.0)
    assert AsOfColumn.parse("created_at + 14d") == AsOfColumn("created_at", 14 * 86400.0)
    assert AsOfColumn.parse("scored_at - 3d") == AsOfColumn("scored_at", -3 * 86400.0)
    for bad in ("created_at + ", "created_at + -3d", "created_at * 3d", "created at"):
        with pytest.raises(ValueError):
            AsOfColumn.parse(bad)


def test_events_after_the_scoring_time_are_never_used(tmp_path):
    """Each lead is scored 14 days after creation; a demo request after that instant would add
    50 points (and make the lead an MQL) if it leaked into the backtest."""
    model = _model()
    created = datetime(2025, 6, 1, tzinfo=UTC)
    leads = [
        {"id": "a", "industry": "saas", "title": "VP", "created_at": created, "won": 1},
        {
            "id": "b",
            "industry": "retail",
            "title": "",
            "created_at": created + timedelta(days=30),
            "won": 0,
        },
    ]
    events = [
        {
            "lead_id": "a",
            "event_type": "page_view",
            "occurred_at": created + timedelta(days=3),
            "url": "/pricing",
        },
        {
            "lead_id": "a",
            "event_type": "page_view",
            "occurred_at": created + timedelta(days=15),
            "url": "/x",
        },
        {
            "lead_id": "b",
            "event_type": "page_view",
            "occurred_at": created + timedelta(days=31),
            "url": "/docs",
        },
    ]
    events += [
        {"lead_id": k, "event_type": "demo_request", "occurred_at": t, "url": None}
        for k, t in (
            ("a", created + timedelta(days=14, seconds=1)),
            ("b", created + timedelta(days=45)),
        )
    ]
    leads_path, events_path = write_files(tmp_path, leads, events)
    spec = AsOfColumn.parse("created_at + 14d")
    scored = score_leads(model, leads_path, events_path, "won", spec)
    by_key = {row["id"]: row for row in scored.rows}
    assert by_key["a"]["engagement__r1"] == 2.0  # one page view before day 14, not the one after
    assert by_key["b"]["engagement__r1"] == 2.0
    assert by_key["a"]["engagement__r2"] == 0.0  # the demo request came one second too late
    assert (by_key["a"]["engagement"], by_key["b"]["engagement"]) == (12.0, 12.0)
    assert scored.as_of == [created + timedelta(days=14), created + timedelta(days=44)]
    # the same data scored at a late instant does see everything: the test data can leak
    late = score_leads(model, leads_path, events_path, "won", datetime(2026, 1, 1, tzinfo=UTC))
    assert {row["id"]: row["engagement"] for row in late.rows} == {"a": 64.0, "b": 62.0}


def test_backtest_end_to_end_on_python_and_duckdb(tmp_path):
    model = _model()
    rng = np.random.default_rng(11)
    leads, events = [], []
    for i in range(60):
        saas = bool(rng.random() < 0.5)
        leads.append(
            {
                "id": f"l{i:02d}",
                "industry": "saas" if saas else "retail",
                "title": "VP" if i % 3 == 0 else "",
                "created_at": datetime(2025, 1, 1, tzinfo=UTC),
                "won": int(saas and rng.random() < 0.7),
            }
        )
        for day in range(int(rng.integers(0, 4))):
            events.append(
                {
                    "lead_id": f"l{i:02d}",
                    "event_type": "page_view",
                    "occurred_at": datetime(2025, 12, 1 + day, tzinfo=UTC),
                    "url": "/pricing",
                }
            )
    leads_path, events_path = write_files(tmp_path, leads, events)
    results = [
        backtest(model, leads_path, events_path, "won", AS_OF, engine=e, target_rate=0.2)
        for e in ("python", "duckdb")
    ]
    assert results[0] == results[1]
    assert results[0].score("fit").auc > 0.7  # only SaaS leads convert; the VP points are noise


def test_cli_backtest_with_per_lead_time_and_html(tmp_path):
    leads = [
        {"id": f"l{i}", "industry": "saas" if i % 2 else "retail", "title": "VP" if i % 3 == 0 else "",
         "created_at": datetime(2025, 3, 1 + i, tzinfo=UTC), "won": "yes" if i % 2 else "no"}
        for i in range(20)
    ]  # fmt: skip
    events = [
        {
            "lead_id": "l1",
            "event_type": "page_view",
            "occurred_at": datetime(2025, 3, 3, tzinfo=UTC),
            "url": "/pricing",
        }
    ]
    leads_path, events_path = write_files(tmp_path, leads, events)
    model_path = tmp_path / "model.score"
    model_path.write_text(MODEL)
    report = tmp_path / "report.html"
    args = [
        "backtest",
        str(model_path),
        "--leads",
        str(leads_path),
        "--events",
        str(events_path),
        "--outcome",
        "won",
    ]
    result = CliRunner().invoke(
        app,
        [
            *args,
            "--as-of-column",
            "created_at + 14d",
            "--html",
            str(report),
            "--target-mql-rate",
            "0.1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "each lead at its created_at + 14d" in result.output and "ROC AUC" in result.output
    assert "<svg" in report.read_text()
    missing_time = CliRunner().invoke(app, args)
    assert missing_time.exit_code == 2 and "--as-of-column" in missing_time.output
    bad_outcome = CliRunner().invoke(app, [*args[:-1], "industry", "--as-of", "2026-01-01"])
    assert (
        bad_outcome.exit_code == 1
        and "column 'industry' must be 0/1 or true/false" in bad_outcome.output
    )


def _gate_files(tmp_path):
    leads = [
        {"id": f"l{i:02d}", "industry": "saas" if i % 2 else "retail", "title": "VP" if i % 3 == 0 else "",
         "created_at": datetime(2025, 1, 1, tzinfo=UTC), "won": int(i % 2 == 1 and i % 5 != 0)}
        for i in range(40)
    ]  # fmt: skip
    events = [
        {"lead_id": f"l{i:02d}", "event_type": "page_view", "occurred_at": datetime(2025, 12, 1, tzinfo=UTC), "url": "/pricing"}
        for i in range(0, 40, 3)
    ]  # fmt: skip
    model_path = tmp_path / "model.score"
    model_path.write_text(MODEL)
    leads_path, events_path = write_files(tmp_path, leads, events)
    return ["backtest", str(model_path), "--leads", str(leads_path), "--events", str(events_path),
            "--outcome", "won", "--as-of", "2026-01-01", "--target-mql-rate", "0.2"]  # fmt: skip


def _figures(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?%?", text))


def _formatted(value, out: set[str]) -> None:
    """Every way the text output formats a number, and the numbers inside strings."""
    if isinstance(value, dict):
        for item in value.values():
            _formatted(item, out)
    elif isinstance(value, list):
        for item in value:
            _formatted(item, out)
    elif isinstance(value, str):
        out |= _figures(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out |= {f"{value:.3f}", f"{value:.2f}", f"{value:.1%}", f"{value:g}", f"{value:+g}"}
        out |= {f"{abs(value):g}", f"{value:.0f}"}


def test_backtest_json_carries_every_printed_figure(tmp_path):
    arguments = _gate_files(tmp_path)
    text = CliRunner().invoke(app, arguments, env={"COLUMNS": "250"})
    data = CliRunner().invoke(app, [*arguments, "--format", "json"])
    assert text.exit_code == data.exit_code == 0, text.output + data.output
    result = json.loads(data.stdout)
    formatted: set[str] = set()
    _formatted(result, formatted)
    printed = _figures(text.output)
    assert printed - formatted == set()
    assert result["gate"] == {
        "fail_under_auc": None,
        "auc": result["scores"][-1]["auc"],
        "passed": True,
    }
    assert result["base_rate"] == result["positives"] / result["leads"]
    assert "f1" in result["flags"][0]["classification"]


def test_fail_under_auc_gates_the_exit_status(tmp_path):
    arguments = _gate_files(tmp_path)
    auc = json.loads(CliRunner().invoke(app, [*arguments, "--format", "json"]).stdout)["gate"][
        "auc"
    ]
    assert (
        CliRunner().invoke(app, [*arguments, "--fail-under-auc", f"{auc - 0.01:.3f}"]).exit_code
        == 0
    )
    failed = CliRunner().invoke(app, [*arguments, "--fail-under-auc", f"{auc + 0.01:.3f}"])
    assert failed.exit_code == 3
    assert f"gate failed: ROC AUC of total is {auc:.3f}, under --fail-under-auc" in " ".join(
        failed.output.split()
    )
    as_json = CliRunner().invoke(app, [*arguments, "--format", "json", "--fail-under-auc", "0.99"])
    assert as_json.exit_code == 3 and json.loads(as_json.stdout)["gate"]["passed"] is False
