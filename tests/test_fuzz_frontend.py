"""The front end on hostile input: whatever the text, `compile_source` returns a Compilation
(a model, or diagnostics with an error) — it never raises, hangs or overflows the stack.

Inputs: text derived from the Lark grammar itself (hypothesis' `from_lark`: every
production, random terminals); generated models (tests/strategies.py) and the example models,
mutated token-wise (delete, duplicate, swap, insert random characters, truncate); arbitrary
text; pathological nesting; and a check that compile time grows linearly with model size.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark
from scorelang.compiler.diagnostics import has_errors
from scorelang.compiler.frontend import Compilation, compile_source
from strategies import SCHEMA, model_source, settings_for

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("examples/*/*.score"))]
TOKEN = re.compile(r"\s+|\w+|\S")
LIMIT_SECONDS = 20  # a hang, not a slow run: linear growth is checked separately
CI_EXAMPLES = 150


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expire(_signum: int, _frame: object) -> None:
        raise Hang(f"compile_source ran for more than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def compile_safely(source: str) -> Compilation:
    """compile_source, failing the test (not erroring) on any exception or a hang."""
    with time_limit(LIMIT_SECONDS):
        try:
            compilation = compile_source(source, "fuzz.score")
        except Hang:
            raise
        except BaseException as error:  # RecursionError included: that is the bug we look for
            pytest.fail(f"compile_source raised {type(error).__name__}: {error}\n{source[:2000]}")
    assert isinstance(compilation, Compilation)
    assert (compilation.model is None) == has_errors(compilation.diagnostics)
    return compilation


@st.composite
def mutated(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> str:
    tokens = TOKEN.findall(draw(texts))
    for _ in range(draw(st.integers(1, 6))):
        if not tokens:
            break
        i = draw(st.integers(0, len(tokens) - 1))
        j = draw(st.integers(0, len(tokens) - 1))
        operation = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "truncate"]))
        if operation == "delete":
            del tokens[i]
        elif operation == "duplicate":
            tokens.insert(i, tokens[i])
        elif operation == "swap":
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif operation == "insert":
            tokens.insert(i, draw(st.text(min_size=1, max_size=3)))
        else:
            tokens = tokens[:i]
    return "".join(tokens)


SOURCES = st.sampled_from(EXAMPLES) | model_source()
GRAMMAR = Lark((ROOT / "grammar" / "scorelang.lark").read_text(encoding="utf-8"), parser="lalr")


@settings_for(CI_EXAMPLES // 3)
@given(source=from_lark(GRAMMAR, start="start"))
def test_grammar_derived_text_gives_diagnostics(source: str) -> None:
    """Syntactically valid files of any shape: the checker and lowering must cope."""
    compile_safely(source)


@settings_for(CI_EXAMPLES // 3)
@given(source=from_lark(GRAMMAR, start="start").map(lambda tail: SCHEMA + "\n" + tail))
def test_grammar_derived_declarations_over_a_schema_give_diagnostics(source: str) -> None:
    """The same after a real schema, so names resolve and the type checker goes deeper."""
    compile_safely(source)


@settings_for(CI_EXAMPLES)
@given(source=mutated(SOURCES))
def test_mutated_models_give_diagnostics_not_exceptions(source: str) -> None:
    compile_safely(source)


@settings_for(CI_EXAMPLES)
@given(source=st.text(max_size=300) | st.text(alphabet="{}()[]\"'/#:.,+-*%<>=!? \n", max_size=60))
def test_arbitrary_text_gives_diagnostics(source: str) -> None:
    compile_safely(SCHEMA + source)


@settings_for(CI_EXAMPLES // 3)
@given(source=model_source())
def test_generated_models_compile_cleanly(source: str) -> None:
    assert compile_safely(source).model is not None


DEPTH = 5000
HEAD = "model m\nlead { id: string key\n x: int? }\nevent e { p: int? }\n"
DEEP = {
    "parentheses": "(" * DEPTH + "x > 1" + ")" * DEPTH,
    "not": "not " * DEPTH + "x > 1",
    "no": "no " * DEPTH + "e",
    "negation": "-" * DEPTH + "x > 1",
    "and chain": " and ".join(["x > 1"] * DEPTH),
    "or chain": " or ".join(["x > 1"] * DEPTH),
    "arithmetic chain": " + ".join(["x"] * DEPTH) + " > 1",
    "nested calls": "abs(" * DEPTH + "x" + ")" * DEPTH + " > 1",
    "nested lists": "x in " + "[" * DEPTH + "1" + "]" * DEPTH,
    "unclosed": "(" * DEPTH + "x > 1",
}


@pytest.mark.parametrize("shape", list(DEEP))
def test_deep_nesting_is_handled(shape: str) -> None:
    """Accepted, or rejected with a diagnostic (E104: nested too deeply) — never a crash."""
    compilation = compile_safely(HEAD + f"score s {{\n  when {DEEP[shape]}: +1\n}}\n")
    if compilation.model is None:
        assert compilation.diagnostics[0].message


def model_with_rules(count: int) -> str:
    rules = "\n".join(
        f'  when x > {i} and (e where p == {i} within {i + 1}d): +{i % 7 + 1} "rule {i}"'
        for i in range(count)
    )
    flags = "\n".join(f"flag f{i} = s >= {i}" for i in range(count))
    return HEAD + f"score s {{\n{rules}\n}}\n{flags}\n"


def best_time(source: str, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        assert compile_safely(source).model is not None
        times.append(time.perf_counter() - start)
    return min(times)


def test_compile_time_grows_linearly() -> None:
    """8x the rules should cost about 8x the time; 24x allows noise but not quadratic growth
    (which would be 64x). Both sizes are measured in this run, so the machine does not matter."""
    small, large = best_time(model_with_rules(100)), best_time(model_with_rules(800))
    assert large / small < 24, f"100 rules: {small:.3f}s, 800 rules: {large:.3f}s"
