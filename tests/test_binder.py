"""The binder (each name's symbol, type and uses) and AST node identity (spans count)."""

from __future__ import annotations

from scorelang.compiler import ast, ir
from scorelang.compiler.binder import bind
from scorelang.compiler.frontend import compile_source
from scorelang.compiler.parse import parse
from scorelang.compiler.symbols import collect

MODEL = """lead {
  id: string key
  employees: int?
}
event signup { plan: string }
const big = 500
segment large = employees > big
score fit {
  when large: +10
  when employees > big: +5
  when signup where plan == "pro" within 7d: +3
}
flag hot = fit > 10
"""


def test_each_use_has_its_symbol_type_and_the_symbol_its_references() -> None:
    compilation = compile_source(MODEL, "m.score")
    symbols = collect([(compilation.modules["m.score"], True)])
    bindings = bind(compilation.modules, symbols)
    line = MODEL.split("\n").index("  when employees > big: +5") + 1
    employees = bindings.at("m.score", line, 8)
    assert employees is not None and employees.key == ("name", "employees")
    assert (employees.type, employees.optional, employees.definition) == (ir.Type.INT, True, False)
    assert employees.symbol is not None and employees.symbol.kind == "field"
    big = bindings.at("m.score", line, 22)
    assert big is not None and (big.key, big.type) == (("name", "big"), ir.Type.INT)
    plan = bindings.at("m.score", line + 1, 25)
    assert plan is not None and (plan.key, plan.type) == (("prop", "plan"), ir.Type.STRING)
    hot_fit = bindings.at("m.score", MODEL.count("\n"), 12)
    assert hot_fit is not None and (hot_fit.key, hot_fit.type) == (("name", "fit"), ir.Type.NUMBER)
    assert [s.line for s in bindings.references(("name", "big"))] == [6, 7, 10]
    assert [s.line for s in bindings.references(("name", "big"), False)] == [7, 10]
    assert [s.line for s in bindings.definitions(("name", "employees"))] == [3]


def test_the_same_text_at_two_places_is_two_nodes() -> None:
    """AST equality ignored spans: two rules written alike compared equal, so a table keyed
    by nodes kept one of them. Spans now count; `same_syntax` compares the writing."""
    module, _ = parse("score s {\n  when x > 1: +1\n  when x > 1: +1\n}\n", "t.score")
    assert module is not None
    first, second = module.decls[0].rules
    assert first != second and len({first, second}) == 2
    assert len({first: 1, second: 2}) == 2
    assert ast.same_syntax(first, second)
    assert ast.syntax_key(first) == ast.syntax_key(second)
    assert not ast.same_syntax(first.condition, first.award)
