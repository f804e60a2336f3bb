"""The Python evaluator against the IR's semantics, one point at a time, on hand-built IR."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scorelang.compiler import ir
from scorelang.targets.python import PythonEvaluator

T = ir.Type
DAY = 86400.0
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
ALL_TYPES = ("page_view", "email_open", "download", "demo")
LEAD_FIELDS = (
    ir.FieldType("id", T.STRING),
    ir.FieldType("industry", T.STRING, True),
    ir.FieldType("employees", T.INT, True),
    ir.FieldType("email", T.STRING, True),
    ir.FieldType("title", T.STRING, True),
    ir.FieldType("created_at", T.TIMESTAMP, True),
    ir.FieldType("vip", T.BOOL, True),
)
EVENT_TYPES = (
    ir.EventType(
        "page_view", (ir.FieldType("url", T.STRING), ir.FieldType("seconds", T.NUMBER, True))
    ),
    ir.EventType("email_open", (ir.FieldType("campaign", T.STRING),)),
    ir.EventType("download", (ir.FieldType("asset", T.STRING),)),
    ir.EventType("demo", ()),
)


def lit(value: object) -> ir.Literal:
    kinds = {str: T.STRING, bool: T.BOOL, int: T.INT, float: T.NUMBER}
    return ir.Literal(value, kinds[type(value)])  # type: ignore[arg-type]


def field(name: str) -> ir.LeadField:
    return ir.LeadField(name, next(f.type for f in LEAD_FIELDS if f.name == name))


def agg(id: str, type_: T = T.INT) -> ir.AggregateRef:
    return ir.AggregateRef(id, type_)


def when(condition: ir.Expr, points: float) -> ir.WhenRule:
    """A when rule; `build` gives it its id."""
    return ir.WhenRule("", f"when {condition}", condition, points)


def within(days: float) -> ir.Window:
    return ir.Window(0.0, days * DAY)


def build(
    items: tuple = (),
    aggregates: tuple = (),
    resets: tuple = (),
    clamp: tuple[float, float] | None = None,
    **outputs: object,
) -> ir.Model:
    """A model with one rule-based score `s` plus any other outputs."""
    numbered = tuple(_renumber(items))
    score = ir.Score("s", None, numbered, tuple(_renumber(resets, len(numbered))), clamp)
    return ir.Model("m", None, "id", LEAD_FIELDS, EVENT_TYPES, aggregates, (score,), **outputs)  # type: ignore[arg-type]


def _renumber(items: tuple, start: int = 0):
    """Gives rules stable ids s__r1, s__r2, ... in source order."""
    n = start
    for item in items:
        if isinstance(item, ir.Group):
            rules = []
            for rule in item.rules:
                n += 1
                rules.append(_with_id(rule, n))
            yield ir.Group(item.label, item.cap, tuple(rules))
        else:
            n += 1
            yield _with_id(item, n)


def _with_id(rule, n: int):
    return replace(rule, id=f"s__r{n}")


def event(type_: str, ago: timedelta | float, **props: object) -> dict[str, object]:
    at = AS_OF - (ago if isinstance(ago, timedelta) else timedelta(days=ago))
    return {"lead_id": "l1", "event_type": type_, "occurred_at": at, **props}


def run(model: ir.Model, events=(), as_of=AS_OF, **lead: object):
    return PythonEvaluator(model).score({"id": "l1", **lead}, events, as_of)


def value_of(model: ir.Model, events=(), **lead: object) -> float:
    return run(model, events, **lead).scores["s"]


def counted(window: ir.Window | None = None, types=("page_view",), where=None) -> ir.Model:
    count = ir.Count("n", ir.EventFilter(types, where, window))
    return build((ir.EachRule("", "each", agg("n"), 1.0),), (count,))


# ---- windows and time ------------------------------------------------------------------


def test_within_keeps_age_zero_and_drops_exactly_d_ago_and_future_events() -> None:
    model = counted(within(7))
    assert value_of(model, [event("page_view", 0)]) == 1  # at as_of: inside
    assert value_of(model, [event("page_view", 7)]) == 0  # exactly as_of - 7d: outside
    assert value_of(model, [event("page_view", timedelta(days=7) - timedelta(microseconds=1))]) == 1
    assert value_of(model, [event("page_view", -0.001)]) == 0  # after as_of: does not exist


def test_future_events_are_ignored_by_every_aggregate() -> None:
    model = counted(None, ALL_TYPES)
    assert value_of(model, [event("page_view", -1), event("demo", -30), event("demo", 3)]) == 1


def test_between_ago_window_includes_its_lower_bound_only() -> None:
    model = counted(ir.Window(7 * DAY, 14 * DAY))
    ages = [6.99, 7, 10, 13.99, 14, 20]
    assert value_of(model, [event("page_view", a) for a in ages]) == 3


def test_event_times_are_normalised_naive_utc_iso_strings_and_other_zones() -> None:
    model = counted(within(1))
    naive = {
        **event("page_view", 0.5),
        "occurred_at": (AS_OF - timedelta(hours=12)).replace(tzinfo=None),
    }
    text = {**event("page_view", 0), "occurred_at": "2025-12-31T23:00:00Z"}
    paris = {
        **event("page_view", 0),
        "occurred_at": datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
    }
    stale = {
        **event("page_view", 0),
        "occurred_at": "2025-12-31T00:00:00",
    }  # exactly 1 day: outside
    assert value_of(model, [naive, text, paris, stale]) == 3


def test_as_of_accepts_strings_and_defaults_to_now() -> None:
    model = counted(within(1))
    recent = {"event_type": "page_view", "occurred_at": datetime.now(UTC) - timedelta(hours=1)}
    assert PythonEvaluator(model).score({"id": "x"}, [recent]).scores["s"] == 1
    assert (
        PythonEvaluator(model).score({"id": "x"}, [event("page_view", 0)], "2026-01-01").scores["s"]
        == 1
    )


def test_an_event_without_time_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="occurred_at"):
        run(counted(), [{"event_type": "page_view"}])
    with pytest.raises(ValueError, match="not an ISO 8601 timestamp"):
        run(counted(), [{"event_type": "page_view", "occurred_at": "yesterday"}])


def test_undeclared_event_types_and_properties_are_ignored() -> None:
    where = ir.Compare("==", ir.EventProp("url", T.STRING), lit("/x"))
    model = counted(None, ("page_view", "email_open"), where)
    events = [
        event("page_view", 1, url="/x"),
        event("email_open", 1, url="/x"),
        event("chat", 1, url="/x"),
    ]
    assert value_of(model, events) == 1  # email_open has no `url`, chat is not declared


# ---- missing values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (ir.Compare(">", field("employees"), lit(10)), False),
        (ir.Not(ir.Compare(">", field("employees"), lit(10))), True),
        (ir.Compare("!=", field("industry"), lit("x")), False),
        (ir.Not(ir.Compare("==", field("industry"), lit("x"))), True),
        (ir.InList(field("industry"), (lit("x"),)), False),
        (ir.InList(field("industry"), (lit("x"),), negated=True), False),
        (ir.Between(field("employees"), lit(1), lit(10)), False),
        (ir.StringTest("contains", field("title"), lit("VP")), False),
        (ir.StringTest("starts_with", field("title"), lit("VP")), False),
        (ir.Matches(field("title"), "[vV][pP]"), False),
        (ir.IsMissing(field("title")), True),
        (ir.IsMissing(field("title"), negated=True), False),
        (field("vip"), False),
        (ir.Not(field("vip")), True),
        (ir.Compare("==", field("industry"), field("title")), False),  # both missing: still False
        (ir.Compare(">", ir.Arith("+", field("employees"), lit(1)), lit(0)), False),
        (ir.Compare("<", ir.Func("len", (field("title"),), T.INT), lit(100)), False),
        (ir.InList(ir.Func("email_domain", (lit("no-at-sign"),), T.STRING), (lit(""),)), False),
        (
            ir.Or((ir.Compare("<", field("employees"), lit(1)), ir.IsMissing(field("employees")))),
            True,
        ),
    ],
)
def test_predicates_with_a_missing_operand_are_false(condition: ir.Expr, expected: bool) -> None:
    assert value_of(build((when(condition, 1.0),))) == (1 if expected else 0)


@pytest.mark.parametrize(
    ("condition", "lead"),
    [
        (ir.Compare(">", field("employees"), lit(10)), {"employees": 11}),
        (ir.InList(field("industry"), (lit("a"), lit("b")), negated=True), {"industry": "c"}),
        (ir.Between(field("employees"), lit(1), lit(10)), {"employees": 10}),
        (ir.StringTest("contains", field("title"), lit("VP")), {"title": "SVP Sales"}),
        (ir.StringTest("ends_with", field("title"), lit("Sales")), {"title": "SVP Sales"}),
        (ir.Matches(field("title"), r"\b[vV][pP]\b"), {"title": "The VP"}),
        (
            ir.Compare("==", ir.Func("email_domain", (field("email"),), T.STRING), lit("acme.io")),
            {"email": "a@b@ACME.io"},
        ),
        (
            ir.Compare("==", ir.Func("lower", (field("industry"),), T.STRING), lit("saas")),
            {"industry": "SaaS"},
        ),
        (
            ir.Compare(">", ir.Func("days_since", (field("created_at"),), T.NUMBER), lit(29.5)),
            {"created_at": "2025-12-02"},
        ),
        (
            ir.Compare("==", ir.Func("max", (field("employees"), lit(5)), T.INT), lit(7)),
            {"employees": 7},
        ),
        (field("vip"), {"vip": True}),
    ],
)
def test_predicates_on_present_values(condition: ir.Expr, lead: dict) -> None:
    assert value_of(build((when(condition, 1.0),)), **lead) == 1


def test_matches_is_case_sensitive_without_the_i_flag_and_unanchored() -> None:
    model = build((when(ir.Matches(field("title"), "VP"), 1.0),))
    assert value_of(model, title="the VP") == 1
    assert value_of(model, title="the vp") == 0


def test_arithmetic_with_missing_and_division_by_zero_give_missing() -> None:
    ratio = ir.Arith("/", ir.ScoreRef("s"), ir.Arith("-", ir.ScoreRef("s"), lit(5)))
    model = build(
        (when(ir.IsMissing(field("title")), 5.0),), composites=(ir.Composite("ratio", None, ratio),)
    )
    assert run(model).scores == {"s": 5.0, "ratio": None}
    assert run(model, title="x").scores == {"s": 0.0, "ratio": 0.0}


# ---- empty history and aggregates -----------------------------------------------------------


def test_a_lead_with_no_events_gets_the_rules_that_hold_for_it() -> None:
    aggregates = (
        ir.Count("recent", ir.EventFilter(ALL_TYPES, None, within(30))),
        ir.Sum("seconds", ir.EventFilter(("page_view",)), "seconds"),
        ir.Last("last", ir.EventFilter(("page_view",))),
        ir.Sequence("seq", ir.EventFilter(("download",)), ir.EventFilter(("demo",)), DAY),
    )
    days = ir.Func("days_since", (agg("last", T.TIMESTAMP),), T.NUMBER)
    model = build(
        (
            when(ir.Compare("==", agg("recent"), lit(0)), -10.0),
            when(ir.Compare("==", agg("seconds", T.NUMBER), lit(0)), 1.0),
            when(ir.Compare("<", days, lit(10)), 100.0),
            when(ir.Not(ir.Compare("<", days, lit(10))), 2.0),
            when(agg("seq", T.BOOL), 50.0),
        ),
        aggregates,
    )
    result = run(model)
    assert result.scores["s"] == -7
    assert [r.fired for r in result.rules] == [True, True, False, True, False]


def test_last_first_and_days_since() -> None:
    aggregates = (
        ir.Last("last", ir.EventFilter(("page_view",))),
        ir.First("first", ir.EventFilter(("page_view",))),
    )
    since_last = ir.Func("days_since", (agg("last", T.TIMESTAMP),), T.NUMBER)
    since_first = ir.Func("days_since", (agg("first", T.TIMESTAMP),), T.NUMBER)
    model = build(
        (ir.WhenRule("", "", lit(True), 0.0),),
        aggregates,
        composites=(
            ir.Composite("last_days", None, since_last),
            ir.Composite("first_days", None, since_first),
        ),
    )
    events = [event("page_view", 3.5), event("page_view", 1.25), event("page_view", 10)]
    assert run(model, events).scores == {"s": 0.0, "last_days": 1.25, "first_days": 10.0}


def test_count_distinct_skips_missing_values() -> None:
    distinct = ir.CountDistinct("assets", ir.EventFilter(("download",)), "asset")
    model = build((ir.EachRule("", "", agg("assets"), 1.0),), (distinct,))
    events = [event("download", 1, asset=a) for a in ("a", "b", "a", None)] + [event("download", 2)]
    assert value_of(model, events) == 2


def test_sum_skips_missing_values() -> None:
    total = ir.Sum("secs", ir.EventFilter(("page_view",), None, within(7)), "seconds")
    model = build((ir.EachRule("", "", agg("secs", T.NUMBER), 0.1),), (total,))
    events = [
        event("page_view", 1, seconds=30),
        event("page_view", 2, seconds=None),
        event("page_view", 3),
    ]
    events += [event("page_view", 8, seconds=1000), event("page_view", 1, seconds=12.5)]
    assert value_of(model, events) == 4.25


def test_where_on_a_missing_property_is_false() -> None:
    where = ir.Not(ir.Compare("==", ir.EventProp("seconds", T.NUMBER), lit(0)))
    model = counted(
        None, ("page_view",), ir.Compare(">", ir.EventProp("seconds", T.NUMBER), lit(5))
    )
    assert value_of(model, [event("page_view", 1), event("page_view", 1, seconds=6)]) == 1
    assert value_of(counted(None, ("page_view",), where), [event("page_view", 1)]) == 1


def test_decay_halves_points_every_half_life() -> None:
    decayed = ir.DecayedSum("d", ir.EventFilter(("page_view",)), 7 * DAY)
    model = build((ir.EachRule("", "", agg("d", T.NUMBER), 10.0),), (decayed,))
    assert value_of(model, [event("page_view", 0)]) == 10
    assert value_of(model, [event("page_view", 7)]) == 5
    assert value_of(model, [event("page_view", 14), event("page_view", 21)]) == 3.75
    assert value_of(model, [event("page_view", 2)]) == round(10 * 0.5 ** (2 / 7), 2)


def test_linear_decay_steps_per_full_period_and_never_goes_negative() -> None:
    linear = ir.LinearDecaySum("l", ir.EventFilter(("page_view",)), 25.0, 7 * DAY)
    model = build((ir.EachRule("", "", agg("l", T.NUMBER), 10.0),), (linear,))
    assert value_of(model, [event("page_view", 6.99)]) == 10
    assert value_of(model, [event("page_view", 7)]) == 7.5
    assert value_of(model, [event("page_view", 27.9)]) == 2.5
    assert value_of(model, [event("page_view", 28), event("page_view", 100)]) == 0
    result = run(model, [event("page_view", 100)])
    assert result.rules[0].fired is False


def test_once_per_counts_distinct_periods_back_from_as_of() -> None:
    periods = ir.PeriodCount("p", ir.EventFilter(("email_open",)), 7 * DAY)
    model = build((ir.EachRule("", "", agg("p"), 3.0, 6.0),), (periods,))
    assert value_of(model, [event("email_open", a) for a in (0, 1, 6.9)]) == 3
    assert value_of(model, [event("email_open", a) for a in (1, 7)]) == 6
    result = run(model, [event("email_open", a) for a in (1, 8, 20)])
    assert (result.rules[0].raw_points, result.rules[0].points) == (9.0, 6.0)


@pytest.mark.parametrize(
    ("first_ago", "second_ago", "expected"),
    [
        (timedelta(days=5), timedelta(days=3), True),
        (timedelta(days=5), timedelta(days=2), True),  # exactly the gap
        (timedelta(days=5), timedelta(days=2) - timedelta(microseconds=1), False),  # just over
        (timedelta(days=1), timedelta(days=1), True),  # same instant: ties count
        (timedelta(days=1), timedelta(days=2), False),  # B before A
        (timedelta(days=1), timedelta(days=-1), False),  # B after as_of does not exist
    ],
)
def test_sequences(first_ago: timedelta, second_ago: timedelta, expected: bool) -> None:
    seq = ir.Sequence("seq", ir.EventFilter(("download",)), ir.EventFilter(("demo",)), 3 * DAY)
    model = build((when(agg("seq", T.BOOL), 25.0),), (seq,))
    events = [event("demo", second_ago), event("download", first_ago)]  # order of input irrelevant
    assert value_of(model, events) == (25 if expected else 0)
    assert value_of(model, events[::-1]) == (25 if expected else 0)


def test_sequence_uses_the_nearest_earlier_first_event_and_each_filter() -> None:
    docs = ir.EventFilter(
        ("download",), ir.Compare("==", ir.EventProp("asset", T.STRING), lit("pricing.pdf"))
    )
    seq = ir.Sequence("seq", docs, ir.EventFilter(("demo",), None, within(30)), DAY)
    model = build((when(agg("seq", T.BOOL), 1.0),), (seq,))
    events = [event("download", 10, asset="pricing.pdf"), event("download", 4.5, asset="other")]
    assert value_of(model, [*events, event("demo", 4)]) == 0
    assert (
        value_of(model, [*events, event("download", 4.5, asset="pricing.pdf"), event("demo", 4)])
        == 1
    )
    old = [
        event("download", 40, asset="pricing.pdf"),
        event("demo", 39.5),
    ]  # demo outside its window
    assert value_of(model, old) == 0


@given(
    st.lists(st.integers(-2, 10), max_size=6),
    st.lists(st.integers(-2, 10), max_size=6),
    st.integers(0, 4),
)
def test_sequence_agrees_with_its_definition(first: list[int], second: list[int], gap: int) -> None:
    """Some a, b at or before as_of with a.at <= b.at <= a.at + gap (hours ago, brute force)."""
    seq = ir.Sequence("seq", ir.EventFilter(("download",)), ir.EventFilter(("demo",)), gap * 3600.0)
    model = build((when(agg("seq", T.BOOL), 1.0),), (seq,))
    hours = [event("download", timedelta(hours=h)) for h in first] + [
        event("demo", timedelta(hours=h)) for h in second
    ]
    expected = any(a >= 0 and b >= 0 and b <= a <= b + gap for a in first for b in second)
    assert value_of(model, hours) == (1 if expected else 0)


def test_the_same_event_may_be_both_ends_of_a_sequence() -> None:
    views = ir.EventFilter(("page_view",))
    model = build((when(agg("seq", T.BOOL), 1.0),), (ir.Sequence("seq", views, views, 0.0),))
    assert value_of(model, [event("page_view", 3)]) == 1


# ---- rules, caps and rounding ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "expected"), [(0.285, 0.29), (-0.285, -0.29), (1.005, 1.01), (2.675, 2.68)]
)
def test_scores_round_half_away_from_zero(points: float, expected: float) -> None:
    assert value_of(build((when(lit(True), points),))) == expected


def test_composites_use_rounded_scores_and_are_rounded() -> None:
    composite = ir.Composite("c", None, ir.Arith("*", ir.ScoreRef("s"), lit(0.5)))
    model = build((when(lit(True), 0.005),), composites=(composite,))
    assert run(model).scores == {"s": 0.01, "c": 0.01}  # 0.5 * 0.01 = 0.005 -> 0.01


def test_caps_apply_rule_max_then_group_max_then_reset_then_clamp() -> None:
    opens = ir.Count("opens", ir.EventFilter(("email_open",)))
    group = ir.Group(
        "email", 12.0, (ir.EachRule("", "", agg("opens"), 5.0, 10.0), when(lit(True), 4.0))
    )
    model = build((group, when(lit(True), 3.0)), (opens,), clamp=(0.0, 14.0))
    result = run(model, [event("email_open", d) for d in (1, 2, 3)])
    each = result.rules[0]
    assert (each.raw_points, each.points, each.fired) == (15.0, 10.0, True)
    detail = result.details["s"]
    assert (detail.rules_total, detail.after_groups, detail.reset, detail.value) == (
        17.0,
        15.0,
        False,
        14.0,
    )


def test_reset_zeroes_the_score_before_clamp() -> None:
    reset = ir.ResetRule("", "reset", ir.Compare("==", field("industry"), lit("student")))
    model = build((when(lit(True), 30.0),), resets=(reset,), clamp=(5.0, 100.0))
    result = run(model, industry="student")
    assert result.scores["s"] == 5.0
    assert result.details["s"].reset is True
    assert [(r.is_reset, r.fired, r.points) for r in result.rules] == [
        (False, True, 30.0),
        (True, True, 0.0),
    ]
    assert run(model, industry="saas").scores["s"] == 30.0


def test_negative_each_rule_cap_and_group_cap_is_an_upper_bound_only() -> None:
    opens = ir.Count("opens", ir.EventFilter(("email_open",)))
    group = ir.Group(
        "g", 5.0, (ir.EachRule("", "", agg("opens"), -3.0, 5.0), when(lit(True), -4.0))
    )
    result = run(build((group,), (opens,)), [event("email_open", d) for d in (1, 2)])
    assert (result.rules[0].raw_points, result.rules[0].points) == (-6.0, -5.0)
    assert result.scores["s"] == -9.0


def test_each_rule_without_cap_and_when_rule_results() -> None:
    views = ir.Count("views", ir.EventFilter(("page_view",)))
    model = build((ir.EachRule("", "", agg("views"), 2.0), when(lit(False), 7.0)), (views,))
    result = run(model, [event("page_view", 1)] * 30)
    assert result.scores["s"] == 60
    assert [(r.id, r.points, r.fired) for r in result.rules] == [
        ("s__r1", 60.0, True),
        ("s__r2", 0.0, False),
    ]


# ---- tiers, percentile tiers, matrices, flags ------------------------------------------------


def _batch_model() -> ir.Model:
    score = ir.Composite("v", None, ir.Arith("*", ir.ScoreRef("s"), lit(1)))
    tier = ir.Tier("fit", "s", (("high", 30.0), ("mid", 20.0), ("low", None)))
    pct = ir.PercentileTier("rank", "v", (("top", 20.0), ("upper", 60.0), ("rest", None)))
    grid = ir.Matrix("grid", "fit", "rank", ("high", "mid", "low"), ("top", "upper", "rest"))
    flags = (
        ir.Flag("hot", ir.Compare(">=", ir.ScoreRef("s"), lit(30))),
        # the percentile tiers each flag reads, as lowering computes them (test_lower.py)
        ir.Flag("not_top", ir.Not(ir.Compare("==", ir.TierRef("rank"), lit("top"))), ("rank",)),
        ir.Flag("cell", ir.Compare("==", ir.MatrixRef("grid"), lit("A1")), ("rank",)),
        ir.Flag("either", ir.Or((ir.FlagRef("hot"), ir.FlagRef("not_top"))), ("rank",)),
    )
    points = ir.EachRule("", "", agg("n"), 10.0)
    count = ir.Count("n", ir.EventFilter(("page_view",)))
    return build(
        (points,),
        (count,),
        composites=(score,),
        tiers=(tier,),
        percentile_tiers=(pct,),
        matrices=(grid,),
        flags=flags,
    )


def test_percentile_tiers_share_bands_on_ties_in_a_batch() -> None:
    leads = [{"id": f"l{i}"} for i in range(5)]
    views = {"l0": 1, "l1": 2, "l2": 2, "l3": 3, "l4": 4}
    events = [
        {**event("page_view", 1), "lead_id": lead} for lead, n in views.items() for _ in range(n)
    ]
    results = PythonEvaluator(_batch_model()).score_many(leads, events, AS_OF)
    assert [r.key for r in results] == ["l0", "l1", "l2", "l3", "l4"]
    assert [r.scores["s"] for r in results] == [10, 20, 20, 30, 40]
    assert [r.tiers["rank"] for r in results] == ["rest", "upper", "upper", "upper", "top"]
    assert [r.tiers["fit"] for r in results] == ["low", "mid", "mid", "high", "high"]
    assert [r.matrices["grid"] for r in results] == ["C3", "B2", "B2", "A2", "A1"]
    assert [r.flags["cell"] for r in results] == [False, False, False, False, True]
    assert [r.flags["not_top"] for r in results] == [True, True, True, True, False]


def test_percentile_outputs_outside_a_batch_are_none_and_their_flags_false() -> None:
    result = run(_batch_model(), [event("page_view", 1)] * 4)
    assert result.tiers == {"fit": "high", "rank": None}
    assert result.matrices == {"grid": None}
    # `either` reads `not_top`, which needs the batch: every flag that needs one is False
    assert result.flags == {"hot": True, "not_top": False, "cell": False, "either": False}


def test_tier_takes_the_first_band_reached() -> None:
    tier = ir.Tier("t", "s", (("a", 10.0), ("b", 5.0), ("c", None)))
    model = build(
        (
            when(ir.Compare(">", field("employees"), lit(0)), 0.0),
            ir.EachRule("", "", agg("n"), 5.0),
        ),
        (ir.Count("n", ir.EventFilter(("demo",))),),
        tiers=(tier,),
    )
    assert [run(model, [event("demo", 1)] * n).tiers["t"] for n in (0, 1, 2, 3)] == [
        "c",
        "b",
        "a",
        "a",
    ]


def test_score_many_matches_events_to_leads_by_lead_id() -> None:
    model = counted(within(7))
    events = [{**event("page_view", 1), "lead_id": lead} for lead in ("a", "b", "b", "zzz")]
    results = PythonEvaluator(model).score_many(
        [{"id": "b"}, {"id": "a"}, {"id": "c"}], events, AS_OF
    )
    assert [(r.key, r.scores["s"]) for r in results] == [("b", 2.0), ("a", 1.0), ("c", 0.0)]


# ---- generated source -------------------------------------------------------------------------


def test_generated_source_is_readable_python_naming_each_rule() -> None:
    rule = ir.WhenRule("s__pricing", 'visited "/pricing" within 7d', lit(True), 1.0)
    model = ir.Model(
        "m", None, "id", LEAD_FIELDS, EVENT_TYPES, (), (ir.Score("s", "Interest", (rule,)),)
    )
    source = PythonEvaluator(model).source
    assert '# [s__pricing] visited "/pricing" within 7d' in source
    assert "# ---- score s: Interest ----" in source
    compile(source, "generated", "exec")


def test_multi_line_labels_stay_inside_comments() -> None:
    rule = ir.WhenRule("s__r1", "when industry in [\n  'a',\n  'b'\n]: +1", lit(True), 1.0)
    model = ir.Model(
        "m", None, "id", LEAD_FIELDS, EVENT_TYPES, (), (ir.Score("s", "two\nlines", (rule,)),)
    )
    assert run(model).scores["s"] == 1


# ---- through the front end ---------------------------------------------------------------------

SOURCE = """
model forms

lead {
  id: string key
  industry: string?
  created_at: timestamp?
}

event page_view { url: string, seconds: number? }
event download { asset: string }
event demo { }

score engagement {
  each page_view: +2 once per 7d max 6 "weekly visits"
  each download: +10 decay linear 50% per 7d "downloads"
  when count_distinct(download, asset) >= 2: +5 "several assets"
  when sum(page_view within 30d, seconds) > 60: +3 "reads"
  when page_view between 7d and 14d ago: +1 "came back"
  when days_since(last(page_view)) < 1: +4 "seen today"
  when visited "/docs*" within 7d: +2 "docs"
  when download then demo within 2d: +20 "converted"
  group "lead" max 5 {
    when industry == "saas": +4
    when days_since(created_at) < 30: +4
  }
}

tier level from engagement {
  high >= 20
  low
}

tier rank from engagement by percentile {
  top top 50%
  rest
}

matrix grid from level, rank
"""


@pytest.fixture(scope="module")
def forms() -> PythonEvaluator:
    from scorelang.compiler.frontend import compile_source

    compilation = compile_source(SOURCE, "forms.score")
    assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
    return PythonEvaluator(compilation.model)


def _points(result) -> dict[str, float]:
    return {r.label: r.points for r in result.rules}


def test_compiled_rule_forms(forms: PythonEvaluator) -> None:
    events = [
        event("page_view", 0.5, url="/docs/intro", seconds=50),
        event("page_view", 2, url="/", seconds=None),
        event("page_view", 9, url="/", seconds=20),
        event("page_view", 16, url="/"),
        event("page_view", 30, url="/"),
        event("download", 3, asset="a"),
        event("download", 8, asset="b"),
        event("demo", 1),
    ]
    result = forms.score(
        {"id": "l1", "industry": "saas", "created_at": AS_OF - timedelta(days=3)}, events, AS_OF
    )
    points = _points(result)
    assert points["weekly visits"] == 6  # periods 0, 1, 2, 4 -> 4 awards of 2, capped at 6
    assert points["downloads"] == 15  # 10 * 1 + 10 * 0.5
    assert points["several assets"] == 5
    assert points["reads"] == 3  # 50 + 20 (30d has age exactly 30d: outside)
    assert points["came back"] == 1
    assert points["seen today"] == 4
    assert points["docs"] == 2
    assert points["converted"] == 20
    assert result.details["engagement"].rules_total == 64
    assert result.scores["engagement"] == 61  # the group's 8 capped at 5
    assert (result.tiers, result.matrices) == ({"level": "high", "rank": None}, {"grid": None})


def test_compiled_model_with_no_events_and_in_a_batch(forms: PythonEvaluator) -> None:
    quiet = forms.score({"id": "q"}, [], AS_OF)
    assert quiet.scores["engagement"] == 0
    assert not any(r.fired for r in quiet.rules)
    leads = [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}]
    events = [{**event("download", 1, asset="x"), "lead_id": lead} for lead in ("b", "d")]
    events.append({**event("page_view", 0, url="/"), "lead_id": "c"})
    results = forms.score_many(leads, events, AS_OF)
    assert [r.scores["engagement"] for r in results] == [0, 10, 6, 10]
    assert [r.tiers["rank"] for r in results] == ["rest", "top", "rest", "top"]  # g * 100 < 50 * 4
    assert [r.matrices["grid"] for r in results] == ["B2", "B1", "B2", "B1"]


def test_flags_may_read_lead_fields_and_aggregates() -> None:
    views = ir.Count("views", ir.EventFilter(("page_view",)))
    flags = (
        ir.Flag("saas", ir.Compare("==", field("industry"), lit("saas"))),
        ir.Flag("busy", ir.And((ir.Compare(">", agg("views"), lit(1)), ir.FlagRef("saas")))),
    )
    model = build((when(lit(True), 1.0),), (views,), flags=flags)
    assert run(model, [event("page_view", 1)] * 2, industry="saas").flags == {
        "saas": True,
        "busy": True,
    }
    assert run(model, [event("page_view", 1)] * 2).flags == {"saas": False, "busy": False}


def test_score_many_needs_the_lead_of_every_event() -> None:
    with pytest.raises(ValueError, match="lead_id"):
        PythonEvaluator(counted()).score_many(
            [{"id": "a"}], [{"event_type": "page_view", "occurred_at": AS_OF}]
        )
