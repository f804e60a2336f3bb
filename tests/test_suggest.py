"""Points fitted from outcomes: the regression, the rescaling, and a diff that compiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from backtest_fixtures import MODEL, write_files
from scorelang.compiler.diagnostics import has_errors
from scorelang.compiler.frontend import compile_source
from scorelang.targets.python import PythonEvaluator
from typer.testing import CliRunner

from scorelang.backtest.suggest import (
    LogisticFit,
    fit_logistic,
    fitted_rules,
    points_rules,
    propose,
    rewrite_points,
    rule_units,
    stratified_split,
    suggest,
    unified_diff,
)
from scorelang.cli import app

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def test_logistic_regression_recovers_known_coefficients():
    rng = np.random.default_rng(1)
    x = np.column_stack(
        [rng.random(40_000) < 0.5, rng.integers(0, 6, 40_000), np.ones(40_000)]
    ).astype(float)
    logit = -1.0 + 2.0 * x[:, 0] - 0.5 * x[:, 1]
    y = rng.random(40_000) < 1 / (1 + np.exp(-logit))
    fit = fit_logistic(x, y, l2=0.01)
    assert fit.coefficients[:2] == pytest.approx([2.0, -0.5], abs=0.08)
    assert fit.intercept == pytest.approx(-1.0, abs=0.1)
    assert list(fit.varied) == [True, True, False] and fit.coefficients[2] == 0


def test_l2_shrinks_coefficients():
    rng = np.random.default_rng(2)
    x = (rng.random((500, 1)) < 0.5).astype(float)
    y = rng.random(500) < np.where(x[:, 0] == 1, 0.8, 0.2)
    loose, tight = fit_logistic(x, y, l2=0.0), fit_logistic(x, y, l2=500.0)
    assert abs(tight.coefficients[0]) < abs(loose.coefficients[0]) / 2


def test_split_is_stratified_and_reproducible():
    outcomes = np.array([True] * 10 + [False] * 30)
    train, test = stratified_split(outcomes, 0.3, seed=4)
    assert sorted([*train, *test]) == list(range(40))
    assert (outcomes[test].sum(), len(test)) == (3, 12)
    again = stratified_split(outcomes, 0.3, seed=4)
    assert list(again[0]) == list(train)
    with pytest.raises(ValueError, match="two converted"):
        stratified_split(np.array([True, False, False]), 0.3, 0)


@pytest.fixture(scope="module")
def compilation():
    result = compile_source(MODEL, "model.score")
    assert result.model is not None, result.diagnostics
    return result


def test_points_are_rescaled_per_score_and_rounded(compilation):
    model = compilation.model
    ids = [r.id for _, r in points_rules(model)]
    assert ids == [
        "fit__saas",
        "fit__vp",
        "fit__r3",
        "engagement__r1",
        "engagement__r2",
        "engagement__pricing",
        "engagement__docs",
    ]
    # fit: |20| + |20| + |-10| = 50 points shared 3 : 1 : -1 -> 30, 10, -10
    coefficients = np.array([1.5, 0.5, -0.5, 0.2, 0.0, 0.0, 0.1])
    varied = np.array([True, True, True, True, False, False, True])
    fits = {f.id: f for f in propose(model, LogisticFit(0.0, coefficients, varied))}
    assert [fits[i].suggested for i in ids[:3]] == [30.0, 10.0, -10.0]
    # engagement: 2 + 10 (the rules with evidence) shared 2 : 1 -> 8, 4
    assert (fits["engagement__r1"].suggested, fits["engagement__docs"].suggested) == (8.0, 4.0)
    assert fits["engagement__r2"].suggested == 50.0 and fits["engagement__r2"].coefficient is None


def test_rule_units_divide_out_the_points(compilation):
    model = compilation.model
    lead = {"id": "x", "industry": "saas", "title": "VP", "created_at": AS_OF}
    views = [
        {
            "lead_id": "x",
            "event_type": "page_view",
            "occurred_at": AS_OF - timedelta(days=d),
            "url": "/a",
        }
        for d in range(1, 8)
    ]
    row = PythonEvaluator(model).score(lead, views, AS_OF).as_row(model)
    units = rule_units(model, [row])
    assert list(units[0]) == [
        1.0,
        1.0,
        0.0,
        5.0,
        0.0,
        0.0,
        0.0,
    ]  # seven views capped at max 10 = 5 units


def test_rewrite_changes_only_point_literals_and_compiles(compilation):
    model = compilation.model
    new = {"fit__saas": 7.0, "fit__r3": 4.0, "engagement__r1": 3.0, "engagement__docs": -2.0}
    rewritten = rewrite_points(compilation, model, new)
    text = rewritten["model.score"]
    old_lines, new_lines = MODEL.splitlines(), text.splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert changed == [
        ('  when industry == "saas": +20 "saas"', '  when industry == "saas": +7 "saas"'),
        ('  when industry == "education": -10', '  when industry == "education": +4'),
        ("  each page_view: +2 max 10", "  each page_view: +3 max 10"),
        (
            '    when page_view where url == "/docs": +10 "docs"',
            '    when page_view where url == "/docs": -2 "docs"',
        ),
    ]
    recompiled = compile_source(text, "model.score")
    assert recompiled.model is not None and not has_errors(recompiled.diagnostics)
    points = {r.id: r.points for _, r in points_rules(recompiled.model)}
    assert points == {**{r.id: r.points for _, r in points_rules(model)}, **new}
    diff = unified_diff(compilation, rewritten)
    assert diff.startswith("--- a/model.score\n+++ b/model.score\n")
    assert diff.count("\n-  ") == diff.count("\n+  ") == 4
    assert rewrite_points(compilation, model, {}) == {}


def _history(tmp_path):
    """VPs convert far more often than anyone else; SaaS makes no difference."""
    rng = np.random.default_rng(9)
    leads, events = [], []
    for i in range(400):
        vp, saas = bool(rng.random() < 0.4), bool(rng.random() < 0.5)
        views = int(rng.integers(0, 6))
        leads.append(
            {
                "id": f"l{i:03d}",
                "industry": "saas" if saas else "retail",
                "title": "VP" if vp else "",
                "created_at": datetime(2025, 1, 1, tzinfo=UTC),
                "won": int(rng.random() < (0.6 if vp else 0.08)),
            }
        )
        events += [
            {
                "lead_id": f"l{i:03d}",
                "event_type": "page_view",
                "occurred_at": AS_OF - timedelta(days=d + 1),
                "url": "/x",
            }
            for d in range(views)
        ]
    model_path = tmp_path / "model.score"
    model_path.write_text(MODEL)
    return (model_path, *write_files(tmp_path, leads, events))


def test_suggest_from_history(tmp_path):
    model_path, leads, events = _history(tmp_path)
    result = suggest(
        model_path, leads, events, "won", AS_OF, score="fit", l2=1.0, holdout=0.3, seed=0
    )
    fits = {f.id: f for f in result.rules}
    assert fits["fit__vp"].suggested > 25 and abs(fits["fit__saas"].suggested) < 10
    assert fits["fit__r3"].coefficient is None  # nobody is in education
    assert (result.train, result.holdout) == (280, 120)
    assert result.auc_suggested >= result.auc_current
    assert result.auc_suggested > 0.75
    recompiled = compile_source(result.sources[str(model_path)], str(model_path))
    assert recompiled.model is not None and not has_errors(recompiled.diagnostics)
    again = suggest(model_path, leads, events, "won", AS_OF, score="fit", seed=0)
    assert again == result


def test_cli_writes_the_diff(tmp_path):
    model_path, leads, events = _history(tmp_path)
    diff = tmp_path / "points.diff"
    args = [
        "suggest",
        str(model_path),
        "--leads",
        str(leads),
        "--events",
        str(events),
        "--outcome",
        "won",
    ]
    result = CliRunner().invoke(
        app, [*args, "--as-of", "2026-01-01", "--score", "fit", "--diff", str(diff)]
    )
    assert result.exit_code == 0, result.output
    assert "held-out" in result.output and diff.read_text().startswith("--- a/")
    no_time = CliRunner().invoke(app, args)
    assert no_time.exit_code == 2 and "--as-of" in no_time.output


def test_points_written_as_a_const_are_kept():
    source = MODEL.replace('+20 "vp"', '+senior "vp"').replace(
        "event page_view", "const senior = 20\n\nevent page_view"
    )
    compilation = compile_source(source, "model.score")
    assert compilation.model is not None, compilation.diagnostics
    assert rewrite_points(compilation, compilation.model, {"fit__vp": 35.0}) == {}
    coefficients = np.array([1.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    varied = np.array([True, True, False, False, False, False, False])
    fits = {f.id: f for f in fitted_rules(compilation, LogisticFit(0.0, coefficients, varied))}
    assert fits["fit__vp"].suggested == 20.0 and "const senior (fit: +30)" in (
        fits["fit__vp"].note or ""
    )
    assert fits["fit__saas"].suggested == 10.0


def _noise(tmp_path, seed):
    """Outcomes independent of every rule: fitted points may rank held-out leads worse."""
    rng = np.random.default_rng(seed)
    leads, events = [], []
    for i in range(120):
        leads.append(
            {
                "id": f"l{i:03d}",
                "industry": "saas" if rng.random() < 0.5 else "retail",
                "title": "VP" if rng.random() < 0.4 else "",
                "created_at": datetime(2025, 1, 1, tzinfo=UTC),
                "won": int(rng.random() < 0.3),
            }
        )
        events += [
            {"lead_id": f"l{i:03d}", "event_type": "page_view",
             "occurred_at": AS_OF - timedelta(days=d + 1), "url": "/x"}
            for d in range(int(rng.integers(0, 6)))
        ]  # fmt: skip
    model_path = tmp_path / "model.score"
    model_path.write_text(MODEL)
    return (model_path, *write_files(tmp_path, leads, events))


def test_a_worse_fit_is_not_presented_as_a_suggestion(tmp_path):
    model_path, leads, events = _noise(tmp_path, seed=6)
    result = suggest(model_path, leads, events, "won", AS_OF, score="fit", seed=0)
    assert result.auc_suggested < result.auc_current and result.diff  # the trial is worse
    diff = tmp_path / "points.diff"
    args = ["suggest", str(model_path), "--leads", str(leads), "--events", str(events),
            "--outcome", "won", "--as-of", "2026-01-01", "--score", "fit", "--diff", str(diff)]  # fmt: skip
    outcome = CliRunner().invoke(app, args)
    output = " ".join(outcome.output.split())
    assert outcome.exit_code == 3
    assert (
        f"current {result.auc_current:.3f}, suggested {result.auc_suggested:.3f}" in output
        and "no suggestion: the fitted points do not rank the held-out leads better" in output
    )
    assert "Points" not in output and "+++" not in output and not diff.exists()


def test_the_held_out_comparison_comes_first(tmp_path):
    model_path, leads, events = _history(tmp_path)
    args = ["suggest", str(model_path), "--leads", str(leads), "--events", str(events),
            "--outcome", "won", "--as-of", "2026-01-01", "--score", "fit"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output.index("held-out") < result.output.index("Points")
    assert result.output.index("Points") < result.output.index("--- a/")
