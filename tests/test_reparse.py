"""Parsing again after an edit (compiler/reparse.py) gives exactly what parsing the whole
text gives: nodes, spans, comments and diagnostics, and through the front end the same
model and diagnostics, on the examples, the front end's fuzz corpus and the LSP benchmark."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from scorelang.compiler.frontend import compile_source
from scorelang.compiler.parse import parse_module
from scorelang.compiler.reparse import reparse
from strategies import settings_for
from test_fuzz_frontend import CI_EXAMPLES, EXAMPLES, SOURCES, mutated

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from bench_lsp import model as bench_model  # noqa: E402

PIECES = ("", "x", "1", " ", "\n", '"', "}", "{", "when a: +1\n", "# note\n", "+", ")", "and")


def assert_same_as_a_full_parse(before: str, after: str) -> None:
    base, problems = parse_module(before, "m.score")
    if problems:
        return  # only a module without syntax errors is reused
    assert reparse(base, after) == parse_module(after, "m.score")
    incremental = compile_source(after, "m.score", previous={"m.score": base})
    full = compile_source(after, "m.score")
    assert incremental.diagnostics == full.diagnostics
    assert incremental.model == full.model
    assert incremental.modules == full.modules


def test_random_edits_of_the_examples() -> None:
    rng = random.Random(21)
    for source in EXAMPLES:
        for _ in range(60):
            start = rng.randrange(len(source))
            end = min(len(source), start + rng.randrange(5))
            edited = source[:start] + rng.choice(PIECES) + source[end:]
            assert_same_as_a_full_parse(source, edited)


def test_the_benchmark_edits() -> None:
    previous = bench_model(300)
    for edit in range(1, 6):
        text = bench_model(300, edit)
        assert_same_as_a_full_parse(previous, text)
        previous = text


def test_an_unchanged_text_is_the_previous_module() -> None:
    base, _ = parse_module(EXAMPLES[0], "m.score")
    assert reparse(base, EXAMPLES[0])[0] is base


@settings_for(CI_EXAMPLES // 3)
@given(data=st.data())
def test_edits_from_the_fuzz_corpus(data: st.DataObject) -> None:
    before = data.draw(SOURCES)
    after = data.draw(mutated(st.just(before)))
    assert_same_as_a_full_parse(before, after)
