"""Every lint rule fires on a model written to trigger it and stays quiet on the clean one;
configuration, suppression comments, bounds and the `lint` command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scorelang.compiler import lint as linter
from scorelang.compiler.diagnostics import Severity
from scorelang.compiler.frontend import compile_source
from scorelang.compiler.lint.config import ConfigError, parse_lint_table
from typer.testing import CliRunner

from scorelang.cli import app

CLEAN = """model clean "No lint findings"

lead { id: string key, industry: string?, employees: int?, email: string }

event page_view { url: string }
event email_open { campaign: string }
event form_submit { form: string }

score fit {
  when industry == "saas": +20
  when employees > 50: +10
  when industry == "education": -30
  clamp 0..100
}

score engagement {
  when count(email_open within 30d) >= 3: +5
  each page_view within 30d: +1 decay 14d max 20
  when form_submit where form == "demo": +40
  when no activity within 30d: -10
  clamp 0..100
}

score total = 0.5 * fit + 0.5 * engagement

tier stage from total {
  hot >= 40
  warm >= 20
  cold
}

flag mql = total >= 40
"""

FIT_END = '  when industry == "education": -30\n  clamp 0..100\n}\n'
ENGAGEMENT_END = "  when no activity within 30d: -10\n  clamp 0..100\n}\n"


def with_fit(rules: str) -> str:
    return CLEAN.replace(FIT_END, FIT_END.replace("  clamp", rules + "  clamp"))


def with_engagement(rules: str) -> str:
    return CLEAN.replace(ENGAGEMENT_END, ENGAGEMENT_END.replace("  clamp", rules + "  clamp"))


def run(source: str, config: linter.LintConfig | None = None, sample=None) -> list:
    compilation = compile_source(source, "m.score")
    assert compilation.model is not None, compilation.diagnostics
    module = next(iter(compilation.modules.values()))
    ctx = linter.LintContext(
        module, compilation.model, config or linter.LintConfig(), compilation.modules, sample
    )
    return linter.lint(ctx)


def codes(source: str, **kw) -> list[str]:
    return [d.code for d in run(source, **kw)]


def test_clean_model_has_no_findings():
    assert run(CLEAN) == []


def test_registry_is_complete_and_documented():
    root = Path(__file__).parent.parent
    assert [r.code for r in linter.RULES] == [f"SL{i:03d}" for i in range(1, 13)]
    for rule in linter.RULES:
        page = (root / rule.doc_path).read_text()
        assert page.startswith(f"# {rule.code}: {rule.name}"), rule.code
        assert "Avoid" in page and "Prefer" in page
        assert rule.code in (root / "docs/lint.md").read_text()


def test_sl001_every_email_open():
    found = run(with_engagement("  each email_open: +1\n"))
    assert [d.code for d in found] == ["SL001"]  # not also SL012
    assert found[0].span.line == 21 and found[0].severity is Severity.WARNING
    assert codes(with_engagement("  each email_open: +1 max 5\n")) == []


def test_sl002_engagement_without_decay():
    source = CLEAN + "\nscore buzz {\n  when form_submit within 7d: +5\n  clamp 0..100\n}\n"
    found = run(source)
    assert [d.code for d in found] == ["SL002"] and found[0].message.startswith("score buzz")
    assert codes(source.replace("+5\n", "+5\n  when days_since(last(activity)) > 90: -5\n")) == []
    assert (
        codes(CLEAN + "\nscore lead_fit {\n  when employees > 5: +5\n}\n") == []
    )  # no event rules


def test_sl003_no_negative_rule():
    source = CLEAN.replace('  when industry == "education": -30\n', "").replace(
        "  when no activity within 30d: -10\n", "  when no activity within 30d: reset\n"
    )
    found = run(source)
    assert [d.code for d in found] == ["SL003"]
    assert found[0].severity is Severity.INFO and found[0].span.line == 1


def test_sl004_inflation_over_the_clamp():
    found = run(
        CLEAN.replace(
            "  clamp 0..100\n}\n\nscore engagement", "  clamp 0..10\n}\n\nscore engagement"
        )
    )
    assert "SL004" in [d.code for d in found]
    assert "can reach 30" in next(d for d in found if d.code == "SL004").message
    assert "SL004" not in codes(
        CLEAN.replace(
            "  clamp 0..100\n}\n\nscore engagement", "  clamp 0..20\n}\n\nscore engagement"
        )
    )


def test_sl005_unreachable_tier_band():
    found = run(CLEAN.replace("hot >= 40", "hot >= 60"))
    assert [d.code for d in found] == ["SL005"]
    assert "at most 47.5" in found[0].message  # 0.5 * 30 + 0.5 * 65
    assert codes(CLEAN.replace("hot >= 40", "hot >= 47.5")) == []


def test_sl006_duplicate_condition():
    found = run(with_fit("  when employees > 50: +5\n"))
    assert [d.code for d in found] == ["SL006"] and "line 11" in found[0].message
    assert codes(with_fit("  when employees > 500: +5\n")) == []


def test_sl007_duplicate_label():
    source = with_fit('  when employees > 500: +5 "Big"\n  when employees > 5000: +5 "big"\n')
    assert codes(source) == ["SL007"]
    assert codes(source.replace('"big"', '"Huge"')) == []


def test_sl008_unused_const_segment_and_event():
    source = CLEAN.replace(
        "event form_submit { form: string }\n",
        'event form_submit { form: string }\nevent webinar { name: string }\nconst big = 500\nconst saas = "saas"\n'
        "segment enterprise = employees > 1000\n",
    ).replace('when industry == "saas"', "when industry == saas")
    found = run(source.replace("no activity within", "no page_view within"))
    assert [(d.code, d.message) for d in found] == [
        ("SL008", "event type webinar is never used"),
        ("SL008", "const big is never used"),
        ("SL008", "segment enterprise is never used"),
    ]


def test_sl008_activity_uses_every_event_type():
    source = CLEAN.replace(
        "event form_submit { form: string }\n",
        "event form_submit { form: string }\nevent webinar { name: string }\n",
    )
    assert codes(source) == []
    assert codes(source.replace("no activity within 30d", "no page_view within 30d")) == ["SL008"]


def test_sl009_flag_no_sample_lead_reaches():
    rows = [{"id": "a", "mql": False}, {"id": "b", "mql": False}]
    found = run(CLEAN, sample=rows)
    assert [d.code for d in found] == ["SL009"] and "2 leads" in found[0].message
    assert codes(CLEAN, sample=[*rows, {"id": "c", "mql": True}]) == []
    assert codes(CLEAN) == []  # data rules need data


def test_sl010_window_longer_than_retention():
    config = parse_lint_table({"retention": "14d"}, linter.KNOWN)
    found = run(CLEAN, config=config)
    assert [d.code for d in found] == ["SL010"] * 3  # email_open, page_view, activity: 30d
    sequence = with_engagement("  when form_submit then page_view within 20d: +5\n")
    assert codes(sequence, config=config) == ["SL010"] * 3  # a sequence gap is no lookback
    assert codes(CLEAN, config=parse_lint_table({"retention": "365d"}, linter.KNOWN)) == []


def test_sl011_magic_number_repeated():
    source = with_fit("  when employees > 500: +5\n  when employees between 500 and 900: +1\n")
    assert codes(source) == []
    found = run(source.replace("900", "2000") + "flag big = employees > 500\n")
    assert [(d.code, d.message) for d in found] == [
        ("SL011", "employees is compared with 500 3 times (also on lines 14, 35)")
    ]
    other_subjects = source.replace("900", "2000") + "flag big = len(email) > 500\n"
    assert codes(other_subjects) == []


def test_sl012_each_without_max():
    found = run(with_engagement('  each page_view where url == "/docs": +1\n'))
    assert [d.code for d in found] == ["SL012"]
    grouped = with_engagement(
        '  group "docs" max 10 {\n    each page_view where url == "/docs": +1\n  }\n'
    )
    assert codes(grouped) == []


def test_suppression_comments():
    rule = '  each page_view where url == "/docs": +1'
    assert codes(with_engagement(rule + "  # scorelang: ignore[SL012]\n")) == []
    assert codes(with_engagement("  # scorelang: ignore[SL001, SL012]\n" + rule + "\n")) == []
    assert codes(with_engagement("  # scorelang: ignore\n" + rule + "\n")) == []
    assert codes(with_engagement(rule + "  # scorelang: ignore[SL001]\n")) == ["SL012"]


def test_config_enable_disable_and_severity():
    source = with_engagement('  each page_view where url == "/docs": +1\n')
    assert (
        codes(source, config=parse_lint_table({"disable": ["each-without-max"]}, linter.KNOWN))
        == []
    )
    assert codes(source, config=parse_lint_table({"enable": ["SL001"]}, linter.KNOWN)) == []
    loud = run(source, config=parse_lint_table({"severity": {"SL012": "error"}}, linter.KNOWN))
    assert loud[0].severity is Severity.ERROR


@pytest.mark.parametrize(
    "table",
    [
        {"disable": ["SL999"]},
        {"severity": {"SL001": "loud"}},
        {"retention": "a year"},
        {"colour": 1},
        {"disable": "SL001"},
    ],
)
def test_config_errors(table):
    with pytest.raises(ConfigError):
        parse_lint_table(table, linter.KNOWN)


def test_config_file_is_found_upwards(tmp_path: Path):
    (tmp_path / "scorelang.toml").write_text('[lint]\nretention = "2w"\ndisable = ["SL003"]\n')
    (tmp_path / "models").mkdir()
    path = linter.find_config(tmp_path / "models")
    assert path == tmp_path / "scorelang.toml"
    config = linter.load_config(path)
    assert config.retention_seconds == 14 * 86400 and config.disable == {"SL003"}


def test_cli_lint_formats_and_exit_codes(tmp_path: Path):
    path = tmp_path / "m.score"
    path.write_text(with_engagement('  each page_view where url == "/docs": +1\n'))
    runner = CliRunner()
    result = runner.invoke(app, ["lint", "--format", "concise", str(path)])
    assert result.exit_code == 1
    assert (
        result.stdout
        == f"{path}:21:3: SL012 `each` rule without `max`: one very active lead can take the whole score\n"
    )
    assert runner.invoke(app, ["lint", "--fail-level", "error", str(path)]).exit_code == 0
    (tmp_path / "scorelang.toml").write_text('[lint]\ndisable = ["SL012"]\n')
    assert runner.invoke(app, ["lint", str(path)]).exit_code == 0
    (tmp_path / "scorelang.toml").write_text('[lint]\ndisable = ["SL0"]\n')
    assert runner.invoke(app, ["lint", str(path)]).exit_code == 2
    assert runner.invoke(app, ["lint", str(tmp_path / "missing.score")]).exit_code == 2


def test_cli_lint_with_data(tmp_path: Path):
    path = tmp_path / "m.score"
    path.write_text(CLEAN)
    (tmp_path / "leads.csv").write_text(
        "id,industry,employees,email\na,saas,10,a@x.io\nb,,,b@y.io\n"
    )
    (tmp_path / "events.csv").write_text(
        "lead_id,event_type,occurred_at,url,campaign,form\na,page_view,2025-12-30T00:00:00Z,/p,,\n"
    )
    args = ["lint", "--format", "concise", str(path), "--leads", str(tmp_path / "leads.csv")]
    args += ["--events", str(tmp_path / "events.csv"), "--as-of", "2026-01-01T00:00:00"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "SL009 no lead in the sample data (2 leads) reaches flag mql" in result.stdout


def test_cli_check(tmp_path: Path):
    path = tmp_path / "m.score"
    path.write_text(CLEAN.replace('when industry == "saas"', 'when industri == "saas"'))
    result = CliRunner().invoke(app, ["check", "--format", "json", str(path)])
    assert result.exit_code == 1
    assert '"severity": "error"' in result.stdout
    path.write_text(CLEAN)
    assert CliRunner().invoke(app, ["check", str(path)]).exit_code == 0


def test_lint_follows_imports_for_usage(tmp_path: Path):
    (tmp_path / "shared.score").write_text('const saas = "saas"\nconst unused = 3\n')
    source = 'import "shared.score"\n' + CLEAN.replace(
        'when industry == "saas"', "when industry == saas"
    )
    (tmp_path / "m.score").write_text(source)
    result = CliRunner().invoke(app, ["lint", "--format", "concise", str(tmp_path / "m.score")])
    assert result.exit_code == 0 and result.stdout == ""  # findings are for the linted file only


def test_cli_lint_reports_compile_errors_instead(tmp_path: Path):
    path = tmp_path / "m.score"
    path.write_text(CLEAN.replace("when employees > 50", "when employes > 50"))
    result = CliRunner().invoke(app, ["lint", "--format", "concise", str(path)])
    assert result.exit_code == 1 and " E2" in result.stdout and "SL" not in result.stdout


def test_pre_commit_hooks_run_real_commands():
    text = (Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text()
    ids = re.findall(r"^- id: (\S+)$", text, re.MULTILINE)
    entries = re.findall(r"^  entry: (.+)$", text, re.MULTILINE)
    assert ids == ["scorelang-fmt", "scorelang-check", "scorelang-lint", "scorelang-test"]
    assert len(entries) == len(ids)
    for entry in entries:
        program, *args = entry.split()
        assert program == "scorelang"
        assert CliRunner().invoke(app, [*args, "--help"]).exit_code == 0, entry


def test_an_unknown_lint_key_suggests_the_known_one():
    with pytest.raises(
        ConfigError, match=r"unknown key\(s\) retension \(did you mean `retention`\?\)"
    ):
        parse_lint_table({"retension": "30d"}, linter.KNOWN)
