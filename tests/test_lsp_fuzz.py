"""The language server's features on hostile input: the front end's fuzz corpus (mutated
examples and generated models, grammar-derived text, arbitrary text) goes through every
feature at random positions; none may raise. The server calls exactly these functions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lsprotocol import types
from strategies import SCHEMA, settings_for
from test_fuzz_frontend import CI_EXAMPLES, EXAMPLES, GRAMMAR, SOURCES, TOKEN, mutated

from scorelang.lsp import actions, completion, convert, hover, outline, testlens
from scorelang.lsp.analysis import analyse
from scorelang.lsp.locate import nodes_at

TEXTS = (
    mutated(SOURCES)
    | from_lark(GRAMMAR, start="start").map(lambda tail: SCHEMA + "\n" + tail)
    | st.text(max_size=300).map(lambda tail: SCHEMA + tail)
)


def every_feature(text: str, positions: list[tuple[int, int]]) -> None:
    previous = analyse(SCHEMA, "fuzz.score")
    analysis = analyse(text, "fuzz.score", previous)
    convert.diagnostics(analysis)
    lines = text.split("\n")
    everything = types.Range(types.Position(0, 0), types.Position(len(lines), 0))
    actions.code_actions(analysis, "file:///fuzz.score", everything)
    if analysis.root is not None:
        outline.outline(analysis.root)
    results = testlens.outcomes(analysis.compilation.model)
    testlens.code_lenses(results, "file:///fuzz.score")
    testlens.inlay_hints(results, analysis.path)
    for line_index, column_index in positions:
        line = line_index % (len(lines) + 1) + 1
        column = column_index % (len(lines[line - 1]) + 2 if line <= len(lines) else 3) + 1
        hover.hover(analysis, line, column)
        completion.complete(analysis, line, column)
        analysis.bindings.at(analysis.path, line, column)
        if analysis.root is not None:
            nodes_at(analysis.root, line, column)


@settings_for(CI_EXAMPLES // 2)
@given(
    text=TEXTS, positions=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 200)), max_size=8)
)
def test_no_input_breaks_a_feature(text: str, positions: list[tuple[int, int]]) -> None:
    every_feature(text, positions)


def test_every_token_of_the_examples() -> None:
    """Hover and completion at the start and end of every token of every example."""
    for text in EXAMPLES:
        positions = []
        for number, line in enumerate(text.split("\n")):
            for match in TOKEN.finditer(line):
                positions += [(number, match.start()), (number, match.end())]
        every_feature(text, positions)
