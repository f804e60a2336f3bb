"""Lowering to the IR: the brief's example, and each construct's IR shape."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_source

T = ir.Type
DAY = 86400.0

BRIEF_EXAMPLE = (Path(__file__).parent / "fixtures" / "brief_example.score").read_text(
    encoding="utf-8"
)

SCHEMA = """model t
lead { id: string key, industry: string?, employees: int?, vip: bool }
event page_view { url: string }
event form_submit { form: string, amount: number? }
"""
ALL_TYPES = ("page_view", "form_submit")


def model(source: str, base: str = SCHEMA) -> ir.Model:
    compilation = compile_source(base + source, "t.score")
    assert compilation.diagnostics == [], [str(d) for d in compilation.diagnostics]
    assert compilation.model is not None
    return compilation.model


def lit(value: str | int | float | bool) -> ir.Literal:
    types = {str: T.STRING, int: T.INT, float: T.NUMBER, bool: T.BOOL}
    return ir.Literal(value, types[type(value)])


def within(days: float) -> ir.Window:
    return ir.Window(0.0, days * DAY)


def pv(where: ir.Expr | None = None, window: ir.Window | None = None) -> ir.EventFilter:
    return ir.EventFilter(("page_view",), where, window)


def count_positive(id: str) -> ir.Expr:
    return ir.Compare(">", ir.AggregateRef(id, T.INT), lit(0))


@pytest.fixture(scope="module")
def brief() -> ir.Model:
    return model(BRIEF_EXAMPLE, base="")


def test_brief_example_header_and_schema(brief: ir.Model) -> None:
    assert (brief.name, brief.description, brief.key) == (
        "b2b_saas",
        "Lead score for the B2B SaaS funnel",
        "id",
    )
    assert brief.lead_fields[4] == ir.FieldType("employees", T.INT, optional=True)
    assert [e.name for e in brief.event_types][:2] == ["page_view", "form_submit"]
    assert brief.event_types[3].properties[1] == ir.FieldType("link", T.STRING, optional=True)


def test_brief_example_aggregates(brief: ir.Model) -> None:
    everything = tuple(e.name for e in brief.event_types)
    url_is_pricing = ir.Compare("==", ir.EventProp("url", T.STRING), lit("/pricing"))
    assert brief.aggregates == (
        ir.Count("a1", pv(url_is_pricing, within(7))),
        ir.Count("a2", ir.EventFilter(("email_open",), None, within(30))),
        ir.Count("a3", ir.EventFilter(("email_click",), None, within(30))),
        ir.Count(
            "a4",
            ir.EventFilter(
                ("form_submit",),
                ir.Compare("==", ir.EventProp("form", T.STRING), lit("contact-us")),
            ),
        ),
        ir.Count("a5", ir.EventFilter(("webinar_attend",), None, within(90))),
        ir.Sequence(
            "a6", ir.EventFilter(("content_download",)), ir.EventFilter(("demo_request",)), 3 * DAY
        ),
        ir.DecayedSum("a7", pv(), 14 * DAY),
        *(
            ir.Count(f"a{8 + i}", ir.EventFilter(everything, None, within(d)))
            for i, d in enumerate((30, 60, 90, 180))
        ),
    )


def test_brief_example_fit_rules(brief: ir.Model) -> None:
    fit = brief.scores[0]
    assert (fit.name, fit.description, fit.clamp, fit.resets) == (
        "fit",
        "Firmographic and demographic fit",
        (0, 100),
        (),
    )
    assert [r.id for r in fit.rules] == [f"fit__r{i}" for i in range(1, 7)]
    assert fit.rules[0] == ir.WhenRule(
        "fit__r1",
        'when industry in ["software", "saas", "fintech"]: +20',
        ir.InList(
            ir.LeadField("industry", T.STRING), (lit("software"), lit("saas"), lit("fintech"))
        ),
        20.0,
    )
    assert fit.rules[1].condition == ir.Between(
        ir.LeadField("employees", T.INT), lit(50), lit(1000)
    )
    assert fit.rules[3].condition == ir.Matches(  # `/i` spelt out: ASCII letters only
        ir.LeadField("job_title", T.STRING),
        r"\b([vV][pP]|[hH][eE][aA][dD]|[dD][iI][rR][eE][cC][tT][oO][rR]|[cC][hH][iI][eE][fF])\b",
    )
    domain = ir.Func("email_domain", (ir.LeadField("email", T.STRING),), T.STRING)
    assert fit.rules[4].condition == ir.InList(
        domain, tuple(map(lit, ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com")))
    )
    assert fit.rules[4].points == -20.0


def test_brief_example_engagement_rules(brief: ir.Model) -> None:
    engagement = brief.scores[1]
    rules = engagement.rules
    assert [r.id for r in rules] == [f"engagement__r{i}" for i in range(1, 12)]
    assert rules[0].condition == count_positive("a1")
    assert rules[1].condition == ir.Compare(">=", ir.AggregateRef("a2", T.INT), lit(3))
    assert rules[2] == ir.EachRule(
        "engagement__r3",
        "each email_click within 30d: +2 max 10",
        ir.AggregateRef("a3", T.INT),
        2.0,
        10.0,
    )
    assert rules[5].condition == ir.AggregateRef("a6", T.BOOL)
    assert rules[6] == ir.EachRule(
        "engagement__r7",
        "each page_view: +1 decay 14d max 20",
        ir.AggregateRef("a7", T.NUMBER),
        1.0,
        20.0,
    )
    assert rules[7].condition == ir.Compare("==", ir.AggregateRef("a8", T.INT), lit(0))
    assert engagement.resets == (
        ir.ResetRule(
            "engagement__r11",
            "when no activity within 180d: reset",
            ir.Compare("==", ir.AggregateRef("a11", T.INT), lit(0)),
        ),
    )
    assert rules[1].label == "when count(email_open within 30d) >= 3: +5"


def test_brief_example_outputs(brief: ir.Model) -> None:
    assert brief.composites == (
        ir.Composite(
            "total",
            None,
            ir.Arith(
                "+",
                ir.Arith("*", lit(0.4), ir.ScoreRef("fit")),
                ir.Arith("*", lit(0.6), ir.ScoreRef("engagement")),
            ),
        ),
    )
    assert brief.tiers == (
        ir.Tier(
            "stage",
            "total",
            (("decision", 76.0), ("evaluation", 51.0), ("interest", 26.0), ("awareness", None)),
        ),
    )
    assert brief.flags == (
        ir.Flag(
            "mql",
            ir.And(
                (
                    ir.Compare(">=", ir.ScoreRef("total"), lit(70)),
                    ir.Compare(">=", ir.ScoreRef("fit"), lit(40)),
                )
            ),
        ),
    )
    assert brief.output_columns[:6] == ("id", "fit", "engagement", "total", "stage", "mql")


def test_brief_example_test_case(brief: ir.Model) -> None:
    [case] = brief.tests
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    assert case.name == "VP at a SaaS company who just looked at pricing"
    assert case.as_of == as_of
    assert dict(case.lead) == {
        "id": "l1",
        "email": "ann@acme.io",
        "job_title": "VP Sales",
        "industry": "saas",
        "employees": 200,
        "created_at": datetime(2025, 11, 2, tzinfo=UTC),
    }
    assert case.events == (
        ir.TestEvent("page_view", datetime(2025, 12, 30, tzinfo=UTC), (("url", "/pricing"),)),
    )
    assert [(e.text, e.condition) for e in case.expectations] == [
        ("fit == 50", ir.Compare("==", ir.ScoreRef("fit"), lit(50))),
        ("engagement == 15.91", ir.Compare("==", ir.ScoreRef("engagement"), lit(15.91))),
        ("total == 29.55", ir.Compare("==", ir.ScoreRef("total"), lit(29.55))),
        ('tier stage == "interest"', ir.Compare("==", ir.TierRef("stage"), lit("interest"))),
        ("not mql", ir.Not(ir.FlagRef("mql"))),
    ]


# ---- constructs one at a time ------------------------------------------------------------


def test_windows_and_where_filters() -> None:
    m = model(
        """score s {
  when page_view between 7d and 30d ago: +1
  when form_submit where (form == "a" or amount > 10) within 12h: +1
  when visited "/docs/*": +1
}"""
    )
    form = ir.EventProp("form", T.STRING)
    amount = ir.EventProp("amount", T.NUMBER)
    assert m.aggregates == (
        ir.Count("a1", pv(None, ir.Window(7 * DAY, 30 * DAY))),
        ir.Count(
            "a2",
            ir.EventFilter(
                ("form_submit",),
                ir.Or((ir.Compare("==", form, lit("a")), ir.Compare(">", amount, lit(10)))),
                ir.Window(0.0, 12 * 3600.0),
            ),
        ),
        ir.Count(
            "a3", pv(ir.StringTest("starts_with", ir.EventProp("url", T.STRING), lit("/docs/")))
        ),
    )


def test_identical_aggregates_are_shared() -> None:
    m = model(
        "score s {\n  when page_view within 7d: +1\n  when count(page_view within 7d) > 2: +1\n  when no page_view within 7d: -1\n}"
    )
    assert m.aggregates == (ir.Count("a1", pv(None, within(7))),)
    assert [r.condition.left for r in m.scores[0].rules] == [ir.AggregateRef("a1", T.INT)] * 3


def test_event_aggregate_functions() -> None:
    m = model(
        """score s {
  when count_distinct(page_view, url) >= 2: +1
  when sum(form_submit within 30d, amount) > 100: +1
  when days_since(last(form_submit)) < 7: +1
  when first(activity) is present: +1
}"""
    )
    assert m.aggregates == (
        ir.CountDistinct("a1", pv(), "url"),
        ir.Sum("a2", ir.EventFilter(("form_submit",), None, within(30)), "amount"),
        ir.Last("a3", ir.EventFilter(("form_submit",))),
        ir.First("a4", ir.EventFilter(ALL_TYPES)),
    )
    assert m.scores[0].rules[2].condition == ir.Compare(
        "<", ir.Func("days_since", (ir.AggregateRef("a3", T.TIMESTAMP),), T.NUMBER), lit(7)
    )


def test_sequences_keep_each_side_filter() -> None:
    m = model(
        'score s { when page_view within 30d then form_submit where form == "demo" within 2h: +5 }'
    )
    demo = ir.Compare("==", ir.EventProp("form", T.STRING), lit("demo"))
    assert m.aggregates == (
        ir.Sequence("a1", pv(None, within(30)), ir.EventFilter(("form_submit",), demo), 7200.0),
    )


@pytest.mark.parametrize(
    ("options", "quantity"),
    [
        ("", ir.Count("a1", pv())),
        ("decay 7d", ir.DecayedSum("a1", pv(), 7 * DAY)),
        ("decay linear 25% per 1w", ir.LinearDecaySum("a1", pv(), 25.0, 7 * DAY)),
        ("once per 1d", ir.PeriodCount("a1", pv(), DAY)),
    ],
)
def test_each_weightings(options: str, quantity: ir.AggregateNode) -> None:
    m = model(f"score s {{ each page_view: -2 {options} max 8 }}")
    assert m.aggregates == (quantity,)
    [rule] = m.scores[0].rules
    assert (rule.points, rule.cap, rule.quantity.id) == (-2.0, 8.0, "a1")


def test_groups_resets_clamps_and_rule_ids() -> None:
    m = model(
        """const bonus = 4
score s "S" {
  when vip: +bonus "VIP!"
  group "web" max 10 {
    when industry == "saas": +5 "vip"
    each page_view: +1
    when no activity within 30d: reset
  }
  when employees > 100: +2 "Big company"
  when employees > 1000: +3 "big  company"
  clamp -5..50
}"""
    )
    score = m.scores[0]
    assert score.clamp == (-5.0, 50.0)
    assert [type(i).__name__ for i in score.items] == ["WhenRule", "Group", "WhenRule", "WhenRule"]
    group = score.items[1]
    assert (group.label, group.cap, [r.id for r in group.rules]) == (
        "web",
        10.0,
        ["s__vip_2", "s__r3"],
    )
    assert [r.id for r in score.rules] == [
        "s__vip",
        "s__vip_2",
        "s__r3",
        "s__big_company",
        "s__big_company_2",
        "s__r4",
    ]
    assert score.items[0].points == 4.0
    assert score.resets[0].label == "when no activity within 30d: reset"


def test_composites_are_ordered_after_what_they_use() -> None:
    m = model("score a { when vip: +1 }\nscore c = b / 2\nscore b = min(a, 10) + abs(-a)")
    assert [c.name for c in m.composites] == ["b", "c"]
    assert m.composites[1].expr == ir.Arith("/", ir.ScoreRef("b"), lit(2))
    assert m.score_names == ("a", "b", "c")


def test_tiers_percentiles_matrices_and_flags() -> None:
    m = model(
        """score fit { when vip: +1 }
tier grade from fit { a >= 10 b >= 5 c }
tier rank from fit by percentile { top top 10% mid top 50% rest }
matrix grid from grade, rank
flag hot = grid in ["A1", "B1"] or warm
flag warm = grade == "a" and page_view within 7d
"""
    )
    assert m.percentile_tiers == (
        ir.PercentileTier("rank", "fit", (("top", 10.0), ("mid", 50.0), ("rest", None))),
    )
    assert m.matrices == (
        ir.Matrix("grid", "grade", "rank", ("a", "b", "c"), ("top", "mid", "rest")),
    )
    assert [f.name for f in m.flags] == ["warm", "hot"]
    assert m.flags[1].condition == ir.Or(
        (ir.InList(ir.MatrixRef("grid"), (lit("A1"), lit("B1"))), ir.FlagRef("warm"))
    )
    assert m.flags[0].condition.operands[1] == count_positive("a1")


def test_segments_and_consts_are_inlined() -> None:
    m = model(
        """const targets = ["saas", "fintech"]
const floor = 50
segment target = industry in targets and employees >= floor
score s { when target and not vip: +1 }"""
    )
    [rule] = m.scores[0].rules
    assert rule.condition == ir.And(
        (
            ir.And(
                (
                    ir.InList(ir.LeadField("industry", T.STRING), (lit("saas"), lit("fintech"))),
                    ir.Compare(">=", ir.LeadField("employees", T.INT), lit(50)),
                )
            ),
            ir.Not(ir.LeadField("vip", T.BOOL)),
        )
    )


def test_functions_have_their_types() -> None:
    m = model(
        'score s { when len(upper(industry)) > round(employees / 3, 1) and lower(industry) == "x": +1 }'
    )
    condition = m.scores[0].rules[0].condition
    left = condition.operands[0]
    assert left.left == ir.Func(
        "len", (ir.Func("upper", (ir.LeadField("industry", T.STRING),), T.STRING),), T.INT
    )
    assert left.right == ir.Func(
        "round", (ir.Arith("/", ir.LeadField("employees", T.INT), lit(3)), lit(1)), T.NUMBER
    )


def test_test_blocks_coerce_values_and_resolve_times() -> None:
    m = model(
        """score s { when vip: +1 }
test "t" {
  lead { id: "x", employees: 12, vip: true }
  as_of "2026-03-01T12:00:00+02:00"
  events {
    form_submit { form: "demo", amount: 3 } at -1h
    page_view { url: "/" } at "2026-02-01"
  }
  expect s == 1
}"""
    )
    [case] = m.tests
    assert case.as_of == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert case.lead == (("id", "x"), ("employees", 12), ("vip", True))
    assert case.events == (
        ir.TestEvent(
            "form_submit", datetime(2026, 3, 1, 9, tzinfo=UTC), (("form", "demo"), ("amount", 3.0))
        ),
        ir.TestEvent("page_view", datetime(2026, 2, 1, tzinfo=UTC), (("url", "/"),)),
    )
    assert isinstance(case.lead[1][1], int) and isinstance(case.events[0].properties[1][1], float)


def test_default_model_name_for_text_without_a_file() -> None:
    compilation = compile_source("lead { id: int key }\n")
    assert compilation.model is not None
    assert (compilation.model.name, compilation.model.key, compilation.model.scores) == (
        "model",
        "id",
        (),
    )
