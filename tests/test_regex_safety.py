"""Regexes: constructs outside the portable RE2 subset are compile errors naming the construct,
and patterns that make backtracking engines explode evaluate in linear time everywhere.

Time is bounded by running the evaluation in a subprocess with a timeout (a hang or a
backtracking blow-up is a failure), never by asserting how long something took.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scorelang.compiler.frontend import compile_source
from strategies import differences, score_everywhere, settings_for, write_csv

TESTS = Path(__file__).resolve().parent
REJECTED = {
    r"(a)\1": "backreference",
    r"(?=a)b": "lookahead",
    r"(?!a)b": "negative lookahead",
    r"(?<=a)b": "lookbehind",
    r"(?<!a)b": "negative lookbehind",
    r"(?>a)": "atomic group",
    r"a*+": "possessive",
    r"(?P<x>a)(?P=x)": "named group",
    r"\k<x>": "named backreference",
    r"(?i)a": "inline flags",
    r"\p{L}": "Unicode classes",
}


def compile_pattern(pattern: str, flags: str = ""):
    return compile_source(
        "model m\nlead { id: string key\n name: string? }\n"
        f"score s {{\n  when name matches /{pattern}/{flags}: +1\n}}\n"
    )


@pytest.mark.parametrize("pattern", list(REJECTED))
def test_non_portable_constructs_are_named_errors(pattern: str) -> None:
    compilation = compile_pattern(pattern)
    assert compilation.model is None
    [diagnostic] = compilation.diagnostics
    assert diagnostic.code == "E311"
    assert REJECTED[pattern] in diagnostic.message
    assert diagnostic.span.line == 5


# Each takes exponential time in a backtracking engine (Python's `re`) on the subject below.
CATASTROPHIC = [r"(a+)+$", r"(a|aa)+$", r"(a*)*b", r"^(a|a?)+$", r"(\w+\s?)+$"]
SUBJECT = "a" * 40 + "!"
# A child process scores one lead on every engine and prints the scores; killed after TIMEOUT.
PROGRAM = """
import sys, tempfile
from pathlib import Path
sys.path.insert(0, {tests!r})
from strategies import compile_model, score_everywhere, write_csv
model = compile_model({source!r})
folder = Path(tempfile.mkdtemp())
leads = write_csv(folder / "leads.csv", [{{"id": "l1", "name": {subject!r}}}], ["id", "name"])
event = {{"lead_id": "l1", "event_type": "e", "occurred_at": "2025-12-31T00:00:00Z"}}
events = write_csv(folder / "events.csv", [event], ["lead_id", "event_type", "occurred_at"])
rows = score_everywhere(model, leads, events, {pg_url!r})
print(sorted({{engine: r[0]["s"] for engine, r in rows.items()}}.items()))
"""
TIMEOUT = 60  # generous: a process start, three engines; backtracking would take far longer


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_run_in_linear_time(pattern: str, pg_url: str) -> None:
    source = (
        "model m\nlead { id: string key\n name: string? }\nevent e { }\n"
        f"score s {{\n  when name matches /{pattern}/: +1\n  when e: +2\n}}\n"
    )
    program = PROGRAM.format(tests=str(TESTS), source=source, subject=SUBJECT, pg_url=pg_url)
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    scored = 2.0  # the event rule only: no pattern matches a subject ending in "!"
    assert done.stdout.strip() == str(
        [("duckdb", scored), ("postgres", scored), ("python", scored)]
    )


# ---- random patterns: refused with E311, or matched alike by every engine --------------------

PATTERN_PIECES = [
    *"ab.é日^$|*+?()[]{}\\-,",
    *["\\d", "\\w", "\\s", "\\b", "\\B", "\\.", "\\\\", "\\1", "(?=", "(?!", "(?:", "(?i)"],
    *["{2}", "{1,3}", "[^a]", "[a-z]", "\\x41", "\\u00e9", "\\n", "\\/", "\\p{L}", "\\Z"],
]
SUBJECTS = ["a", "ab", "aab", "b a", "é日", "A", "a.b", "", "\n", "ab1", "x-y,z", "AB"]


@settings_for(30)
@given(
    pieces=st.lists(st.sampled_from(PATTERN_PIECES), min_size=1, max_size=6),
    flags=st.sampled_from(["", "i"]),
)
def test_random_patterns_are_refused_or_agree(
    pieces: list[str], flags: str, tmp_path_factory: pytest.TempPathFactory, pg_url: str
) -> None:
    pattern = "".join(pieces).replace("/", "\\/")
    if pattern.endswith("\\") and not pattern.endswith("\\\\"):
        pattern += "\\"  # a lone trailing backslash would escape the closing slash
    source = (
        "model m\nlead { id: string key\n name: string? }\nevent e { }\n"
        f"score s {{\n  when name matches /{pattern}/{flags}: +1\n}}\n"
    )
    compilation = compile_source(source)
    if compilation.model is None:
        assert {d.code for d in compilation.diagnostics} <= {"E311", "E312", "E100", "E101", "E103"}
        return
    folder = tmp_path_factory.mktemp("re")
    leads = [{"id": f"l{i}", "name": s} for i, s in enumerate(SUBJECTS)]
    rows = score_everywhere(
        compilation.model,
        write_csv(folder / "leads.csv", leads, ["id", "name"]),
        write_csv(folder / "events.csv", [], ["lead_id", "event_type", "occurred_at"]),
        pg_url,
    )
    assert not differences(compilation.model, rows), (pattern, differences(compilation.model, rows))
