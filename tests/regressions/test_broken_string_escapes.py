"""Found by the grammar-driven fuzzer (tests/test_fuzz_frontend.py, hypothesis' from_lark):
`model A "<CR>"` crashed compile_source with lark's VisitError (`unterminated string
literal`), and so did the broken escapes `"\\x"`, `"\\u12"` and `"\\N{NOPE}"`; the mutation
fuzzer found the same with a raw NUL inside a string (`source code string cannot contain
null bytes`). Cause: the STRING token admits any backslash escape and raw control characters,
and the parser decoded it with `ast.literal_eval` unguarded. Such a literal is now E105 at
the string; a lone surrogate (`"\\ud800"`, not encodable as UTF-8, so no database could take
it) is too. The fuzzer's DeprecationWarning `invalid escape sequence '\\;'` showed that an
unknown escape (`"\\;"`, `"\\d"`) was kept as backslash + character, as Python does today and
will refuse later: the same model would change meaning with the Python version. It is E105
too; an escaped backslash (`"\\\\;"`) is the way to write one."""

from __future__ import annotations

import pytest
from scorelang.compiler.frontend import compile_source

BROKEN = ['"\\x"', '"\\u12"', '"\\N{NOPE}"', '"a\rb"', '"a\0b"', '"\\ud800"', '"a\\;"', '"\\d+"']


@pytest.mark.parametrize("literal", BROKEN)
def test_broken_string_literals_are_e105(literal: str) -> None:
    compilation = compile_source(
        f"model m\nlead {{ id: string key\n name: string? }}\n"
        f"score s {{\n  when name == {literal}: +1\n}}\n"
    )
    assert compilation.model is None
    [diagnostic] = compilation.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("E105", 5, 16)
    assert "this string holds" in diagnostic.message


def test_valid_escapes_still_work() -> None:
    compilation = compile_source(
        'model m\nlead { id: string key\n name: string? }\nscore s {\n  when name == "\\u00e9\\t\\"\\\\;": +1\n}\n'
    )
    assert compilation.model is not None
    [rule] = compilation.model.scores[0].rules
    assert rule.condition.right.value == 'é\t"\\;'
