"""`scorelang diff`: the same leads scored by two versions of a model, compared: score means,
tier and flag transitions, the largest movers with the rules responsible, rule changes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from scorelang.compiler.frontend import compile_source
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.impact import compare, rule_changes, score_rows
from scorelang.report.impact import MARKER, markdown

OLD = """model m
lead { id: string key, industry: string? }
event page_view { url: string }
event form_submit { form: string }

score fit {
  when industry == "saas": +30 "SaaS"
  when industry == "education": -20 "Education"
  clamp 0..100
}

score engagement {
  each page_view within 30d: +5 max 30 "Page views"
  when form_submit: +40 "Form"
  when no activity within 30d: -10
  clamp 0..100
}

score total = 0.5 * fit + 0.5 * engagement

tier stage from total {
  hot >= 40
  warm >= 15
  cold
}

flag mql = total >= 40
"""

NEW = (
    OLD.replace('+40 "Form"', '+60 "Form"')
    .replace('  when industry == "education": -20 "Education"\n', "")
    .replace('"SaaS"\n', '"SaaS"\n  when industry == "fintech": +25 "Fintech"\n')
)

LEADS = "id,industry\na,saas\nb,fintech\nc,education\nd,\n"
EVENTS = """lead_id,event_type,occurred_at,url,form
a,page_view,2025-12-30T00:00:00Z,/p,
a,form_submit,2025-12-20T00:00:00Z,,contact
b,form_submit,2025-12-29T00:00:00Z,,demo
c,page_view,2025-12-31T00:00:00Z,/docs,
"""
AS_OF = "2026-01-01T00:00:00"


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "leads.csv").write_text(LEADS)
    (tmp_path / "events.csv").write_text(EVENTS)
    return tmp_path / "leads.csv", tmp_path / "events.csv"


def models():
    old, new = compile_source(OLD, "m.score"), compile_source(NEW, "m.score")
    assert old.model is not None and new.model is not None, old.diagnostics + new.diagnostics
    return old.model, new.model


def impact_of(data):
    from datetime import datetime

    old, new = models()
    as_of = datetime.fromisoformat(AS_OF)
    return compare(old, new, score_rows(old, *data, as_of), score_rows(new, *data, as_of))


def test_rule_changes_by_id():
    old, new = models()
    changes = {(c.kind, c.id): (c.before, c.after) for c in rule_changes(old, new)}
    assert changes == {
        ("added", "fit__fintech"): (None, "Fintech: +25"),
        ("changed", "engagement__form"): ("Form: +40", "Form: +60"),
        ("removed", "fit__education"): ("Education: -20", None),
    }


def test_score_means_tiers_and_flags(data):
    impact = impact_of(data)
    assert impact.leads == 4 and impact.main_score == "total"
    # a: fit 30, eng 5+40 -> total 37.5 then 50; b: fit 0 -> 25, eng 40 -> 60: total 20 -> 42.5
    # c: fit 0 (clamped -20) both, eng 5; d: fit 0, eng -10 -> 0 both
    fit = next(s for s in impact.scores if s.name == "fit")
    assert (fit.mean_before, fit.mean_after, fit.changed) == (7.5, 13.75, 1)
    stage = impact.tiers[0]
    assert stage.counts == {("warm", "hot"): 2, ("cold", "cold"): 2}
    assert stage.moved == 2
    assert impact.flags[0].counts == {("false", "true"): 2, ("false", "false"): 2}


def test_movers_name_the_rules_responsible(data):
    movers = impact_of(data).movers
    assert [m.key for m in movers] == ["b", "a"]  # +22.5, then +10
    assert (movers[0].before, movers[0].after) == (20.0, 42.5)
    assert [(r.label, r.delta) for r in movers[0].rules] == [("Fintech", 25.0), ("Form", 20.0)]
    assert [(r.label, r.delta) for r in movers[1].rules] == [("Form", 20.0)]


def test_markdown_comment(data):
    text = markdown(impact_of(data), "`m.score`")
    assert text.startswith(MARKER + "\n## Scoring impact: `m.score`")
    assert "### Tier stage: 2 leads move (rows: before, columns: after)" in text
    assert "| warm | 2 | 0 | 0 |" in text
    assert "| mql | 0 | 2 | 2 | 0 |" in text
    assert "| b | 20 | 42.5 | +22.5 | Fintech (+25); Form (+20) |" in text
    assert "| removed | fit__education | Education: -20 | – |" in text


def test_cli_two_files(tmp_path: Path, data):
    (tmp_path / "old.score").write_text(OLD)
    (tmp_path / "new.score").write_text(NEW)
    args = [
        "diff",
        str(tmp_path / "old.score"),
        str(tmp_path / "new.score"),
        "--leads",
        str(data[0]),
    ]
    args += ["--events", str(data[1]), "--as-of", AS_OF]
    result = CliRunner().invoke(app, [*args, "--markdown"])
    assert result.exit_code == 0, result.output
    assert "| b | 20 | 42.5 | +22.5 |" in result.stdout
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and "Largest changes in total" in result.stdout


def test_cli_base_revision_from_git(tmp_path: Path, data):
    path = tmp_path / "m.score"
    path.write_text(OLD)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "m.score"], check=True)
    subprocess.run([*git, "commit", "-qm", "old"], check=True)
    path.write_text(NEW)
    out = tmp_path / "comment.md"
    args = ["diff", str(path), "--base", "HEAD", "--leads", str(data[0]), "--events", str(data[1])]
    result = CliRunner().invoke(app, [*args, "--as-of", AS_OF, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "vs `HEAD`" in out.read_text() and "fit__fintech" in out.read_text()
    bad = CliRunner().invoke(app, [*args, "--base", "no-such-rev"])
    assert bad.exit_code == 2


def test_cli_usage_and_compile_errors(tmp_path: Path, data):
    (tmp_path / "bad.score").write_text(OLD.replace("industry ==", "industri =="))
    (tmp_path / "new.score").write_text(NEW)
    common = ["--leads", str(data[0]), "--events", str(data[1])]
    assert CliRunner().invoke(app, ["diff", str(tmp_path / "new.score"), *common]).exit_code == 2
    result = CliRunner().invoke(
        app, ["diff", str(tmp_path / "bad.score"), str(tmp_path / "new.score"), *common]
    )
    assert result.exit_code == 1 and "E2" in result.stdout
