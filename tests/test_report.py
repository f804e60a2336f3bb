"""Output formats: each one against a golden file (tests/golden_report/), plus the properties
CI tools rely on (valid JSON / SARIF structure, escaped workflow commands, exit levels).

Regenerate the golden files after an intended change with SCORELANG_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from scorelang.compiler.ast import Span
from scorelang.compiler.diagnostics import Diagnostic, Severity

from scorelang.report import FORMATS, FailLevel, fails, render

GOLDEN = Path(__file__).parent / "golden_report"
EXTENSIONS = {"full": "txt", "concise": "txt", "json": "json", "github": "txt", "sarif": "sarif"}

SOURCE = """model demo
lead { id: string key, industry: string? }
event email_open { campaign: string }
score engagement {
  when industri == "saas": +10
  each email_open: +1
}
"""

DIAGNOSTICS = [
    Diagnostic(
        "SL001",
        Severity.WARNING,
        "points for every single email open",
        Span("models/demo.score", 6, 3, 6, 22),
        "award a threshold, e.g. `when count(email_open within 30d) >= 3: +5`",
    ),
    Diagnostic(
        "E201",
        Severity.ERROR,
        "unknown name industri",
        Span("models/demo.score", 5, 8, 5, 16),
        "did you mean industry?",
    ),
    Diagnostic(
        "SL003",
        Severity.INFO,
        "no rule in the model has negative points, 100%: check",
        Span("models/demo.score", 1, 1, 1, 11),
    ),
]
SOURCES = {"models/demo.score": SOURCE}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_golden(name: str):
    text = render(DIAGNOSTICS, SOURCES, name, docs_url="https://example.test/repo/blob/main/")
    path = GOLDEN / f"{name}.{EXTENSIONS[name]}"
    if os.environ.get("SCORELANG_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_full_shows_caret_under_span_and_help():
    text = render(DIAGNOSTICS, SOURCES, "full")
    lines = text.splitlines()
    at = lines.index('5 |   when industri == "saas": +10')
    assert lines[at - 3 : at - 1] == [
        "error[E201]: unknown name industri",
        "  --> models/demo.score:5:8",
    ]
    assert lines[at + 1] == "  |        ^^^^^^^^"
    assert "  = help: did you mean industry?" in lines
    assert lines[-1] == "1 error, 1 warning, 1 info"


def test_output_is_ordered_by_position():
    concise = render(DIAGNOSTICS, SOURCES, "concise").splitlines()
    assert [line.split(": ")[1].split()[0] for line in concise] == ["SL003", "E201", "SL001"]


def test_json_schema_fields():
    document = json.loads(render(DIAGNOSTICS, SOURCES, "json"))
    assert document["version"] == 1
    assert document["summary"] == {"error": 1, "warning": 1, "info": 1}
    first = document["diagnostics"][0]
    assert set(first) == {
        "code",
        "severity",
        "message",
        "hint",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "docs",
    }
    assert first["docs"] == "docs/rules/SL003.md"


def test_github_escapes_properties_and_data():
    line = render(DIAGNOSTICS, SOURCES, "github").splitlines()[0]
    assert line.startswith(
        "::notice file=models/demo.score,line=1,col=1,endLine=1,endColumn=11,title=SL003::"
    )
    assert "points%2C 100%25%3A" not in line and "points, 100%25: check" in line
    weird = Diagnostic("E1", Severity.ERROR, "a\nb", Span("a,b:c.score", 1, 1, 1, 2))
    assert (
        render([weird], {}, "github")
        == "::error file=a%2Cb%3Ac.score,line=1,col=1,endLine=1,endColumn=2,title=E1::a%0Ab\n"
    )


def test_sarif_structure():
    document = json.loads(render(DIAGNOSTICS, SOURCES, "sarif", docs_url="https://x.test/"))
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["E201", "SL001", "SL003"]
    assert rules[1]["helpUri"] == "https://x.test/docs/rules/SL001.md"
    assert rules[1]["name"] == "email-open-points"
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert {r["level"] for r in run["results"]} == {"error", "warning", "note"}


@pytest.mark.parametrize(
    ("level", "expected"),
    [(FailLevel.error, False), (FailLevel.warning, True), (FailLevel.info, True)],
)
def test_fail_levels(level: FailLevel, expected: bool):
    assert fails([d for d in DIAGNOSTICS if d.severity is not Severity.ERROR], level) is expected


def test_no_diagnostics():
    assert render([], {}, "full") == "no problems found\n"
    assert render([], {}, "concise") == ""
    assert json.loads(render([], {}, "sarif"))["runs"][0]["results"] == []
