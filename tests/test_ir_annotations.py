"""What the IR carries for every target: each expression's type and whether it may be
missing (set when built, references to outputs at lowering), the entities outputs belong
to, one output graph across kinds, and aggregates found by id."""

from __future__ import annotations

import dataclasses

import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_source
from scorelang.compiler.output_graph import Output, OutputGraph, output_graph
from scorelang.targets.python.expressions import Constants, ExpressionCompiler
from scorelang.targets.sql.dialects import get_dialect
from scorelang.targets.sql.expressions import ExpressionCompiler as SqlCompiler
from scorelang.targets.sql.expressions import Scope
from sqlglot import exp

import scorelang

T = ir.Type
SCHEMA = """model t
lead { id: string key, industry: string?, employees: int?, size: number }
event page_view { url: string }
"""
OUTPUTS = """
score fit { when industry == "saas": +20  when employees > 50: +10 }
score half = fit / 2
score ratio = round(fit, 1)
tier stage from fit { hot >= 20  cold }
tier share from fit by percentile { top top 10%  rest }
matrix grid from stage, share
flag hot = stage != "cold"
flag leader = share != "rest"
flag either = hot or grid == "A1"
"""


def model(source: str) -> ir.Model:
    compilation = compile_source(SCHEMA + source, "t.score")
    assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
    return compilation.model


def lit(value: int | float | str) -> ir.Literal:
    return ir.Literal(value, {int: T.INT, float: T.NUMBER, str: T.STRING}[type(value)])


def test_inner_nodes_type_themselves_from_their_operands() -> None:
    count = ir.AggregateRef("a1", T.INT)
    assert ir.Arith("+", count, lit(1)).type is T.INT
    assert ir.Arith("/", count, lit(2)).type is T.NUMBER
    assert ir.Arith("*", count, lit(1.5)).type is T.NUMBER
    assert ir.Neg(count).type is T.INT
    assert ir.Compare(">", count, lit(1)).type is T.BOOL
    assert ir.Not(ir.FlagRef("f")).type is T.BOOL
    assert (ir.ScoreRef("s").type, ir.TierRef("t").type, ir.FlagRef("f").type) == (
        T.NUMBER,
        T.STRING,
        T.BOOL,
    )


def test_missingness_follows_the_ir_semantics() -> None:
    count, last = ir.AggregateRef("a1", T.INT), ir.AggregateRef("a2", T.TIMESTAMP)
    field = ir.LeadField("employees", T.INT)
    assert not count.may_be_missing and last.may_be_missing  # Last: no event, no time
    assert field.may_be_missing and not lit(1).may_be_missing
    assert not ir.Arith("+", count, lit(1)).may_be_missing
    assert ir.Arith("+", count, field).may_be_missing
    assert not ir.Arith("/", count, lit(2)).may_be_missing
    assert ir.Arith("/", lit(1), count).may_be_missing  # x / 0 is missing
    assert ir.Func("email_domain", (ir.LeadField("email", T.STRING),), T.STRING).may_be_missing
    assert not ir.Func("abs", (count,), T.INT).may_be_missing
    assert not ir.Compare(">", field, lit(1)).may_be_missing  # predicates: False, not missing


def test_lowering_tells_each_reference_whether_its_output_may_be_missing() -> None:
    m = model(OUTPUTS)
    refs = {
        n.name: n.may_be_missing
        for flag in m.flags
        for n in ir.subexpressions(flag.condition)
        if isinstance(n, ir.TierRef | ir.MatrixRef)
    }
    # A tier of a score always has a band; a percentile tier has none outside a batch, and
    # neither has a matrix reading one.
    assert refs == {"stage": False, "share": True, "grid": True}
    half, ratio = (c.expr for c in m.composites)
    assert half.type is T.NUMBER and not half.may_be_missing
    assert ratio.type is T.NUMBER and not ratio.may_be_missing


def test_the_python_target_guards_only_what_may_be_missing() -> None:
    def compile_condition(expr: ir.Expr) -> str:
        return ExpressionCompiler(lambda e: f"v_{e.name}", Constants()).condition(expr)  # type: ignore[attr-defined]

    never = ir.TierRef("stage", may_be_missing=False)
    maybe = ir.TierRef("share")
    assert compile_condition(ir.Compare("!=", never, lit("cold"))) == "(v_stage != 'cold')"
    assert "is not None" in compile_condition(ir.Compare("!=", maybe, lit("rest")))


def test_models_agree_with_the_python_evaluator_on_annotated_references() -> None:
    scoring = scorelang.loads(SCHEMA + OUTPUTS, "t.score")
    lead = {"id": "a", "industry": "saas", "employees": 60, "size": 1}
    result = scoring.score(lead)
    # Outside a batch a flag reading a percentile tier (here through the matrix) is False.
    assert result.flags == {"hot": True, "leader": False, "either": False}
    batch = scoring.score_many([lead, {**lead, "id": "b", "industry": None}])
    assert [(r.flags["leader"], r.flags["either"]) for r in batch] == [(True, True), (False, False)]


def test_the_sql_target_orders_strings_by_their_ir_type() -> None:
    """Postgres orders strings by code point only where the IR says they are strings."""
    scope = Scope(lead_field=exp.column, aggregate=exp.column, output=exp.column)
    compiler = SqlCompiler(get_dialect("postgres"), scope, lambda: exp.Literal.number(0))

    def sql(expr: ir.Expr) -> str:
        return compiler.condition(expr).sql(dialect="postgres")

    name, size = ir.LeadField("name", T.STRING), ir.LeadField("size", T.INT)
    assert sql(ir.Compare("<", name, lit("m"))).count('COLLATE "C"') == 2
    assert sql(ir.Between(ir.TierRef("stage"), lit("a"), lit("c"))).count('COLLATE "C"') == 3
    assert "COLLATE" not in sql(ir.Compare("<", ir.Arith("+", size, lit(1)), lit(5)))


def test_outputs_belong_to_the_lead_entity() -> None:
    m = model(OUTPUTS)
    assert [e.name for e in m.entities] == [ir.LEAD]
    assert (m.entity(ir.LEAD).key, m.entity(ir.LEAD).fields) == (m.key, m.lead_fields)
    outputs = (*m.scores, *m.composites, *m.tiers, *m.percentile_tiers, *m.matrices, *m.flags)
    assert {o.entity for o in outputs} == {ir.LEAD}


def test_one_output_graph_orders_every_kind() -> None:
    graph = output_graph(model(OUTPUTS))
    order, cycles = graph.walk()
    assert cycles == ()
    seen: set[str] = set()
    for output in order:
        assert set(output.reads) <= seen, output
        seen.add(output.name)
    assert [[o.name for o in level] for level in graph.levels()] == [
        ["fit"],
        ["half", "ratio", "stage", "share"],
        ["grid", "hot", "leader"],
        ["either"],
    ]


def test_a_cycle_across_kinds_is_found_with_its_path() -> None:
    graph = OutputGraph(
        (
            Output("fit", "score"),
            Output("total", "composite", ("fit", "bonus")),
            Output("bonus", "flag", ("stage",)),
            Output("stage", "tier", ("total",)),
        )
    )
    order, cycles = graph.walk()
    assert [[(o.kind, o.name) for o in cycle] for cycle in cycles] == [
        [("composite", "total"), ("flag", "bonus"), ("tier", "stage"), ("composite", "total")]
    ]
    assert {o.name for o in order} == {"fit", "total", "bonus", "stage"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "score a = b + 1\nscore b = a + 1",
            "composites refer to each other in a cycle: a -> b -> a",
        ),
        ("flag f = g\nflag g = not f", "flags refer to each other in a cycle: f -> g -> f"),
    ],
)
def test_a_cycle_in_a_model_is_reported_with_its_path(source: str, message: str) -> None:
    compilation = compile_source(SCHEMA + source, "t.score")
    assert compilation.model is None
    assert [d.message for d in compilation.diagnostics] == [message]


def test_aggregates_are_found_by_id() -> None:
    m = model('score s { when visited "/a": +1  when count(page_view within 7d) > 2: +1 }')
    assert [m.aggregate(a.id) for a in m.aggregates] == list(m.aggregates)
    with pytest.raises(KeyError):
        m.aggregate("a99")
    fewer = dataclasses.replace(m, aggregates=m.aggregates[:1])
    assert fewer.aggregate("a1") == m.aggregates[0]
    with pytest.raises(KeyError):
        fewer.aggregate("a2")
