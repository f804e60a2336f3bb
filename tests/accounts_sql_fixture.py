"""A hand-built account model and data for the SQL target's account tests, with every roll-up,
an account event aggregate, account fields read from leads, lead outputs reading account
outputs (a second lead phase), a percentile tier over accounts, an account without leads,
a lead without an account and a lead whose account key names no account.

EXPECTED holds the rows worked out by hand (the comments show the arithmetic); the Python
evaluator must give the same.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from scorelang.compiler import ir

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
NOW = AS_OF.replace(tzinfo=None)
S, INT = ir.Type.STRING, ir.Type.INT
DAY = 86_400.0


def _lit(value: Any, kind: ir.Type) -> ir.Literal:
    return ir.Literal(value, kind)


def _cmp(op: str, left: ir.Expr, right: ir.Expr) -> ir.Compare:
    return ir.Compare(op, left, right)


def _account_ref(ref: ir.Expr) -> ir.Expr:
    """A reference from a lead to an account output: missing when the lead has no account."""
    return replace(ref, may_be_missing=True) if not isinstance(ref, ir.FlagRef) else ref


def build_model() -> ir.Model:
    month = ir.Window(0, 30 * DAY)
    views, clicks = (
        ir.EventFilter(("page_view",), None, month),
        ir.EventFilter(("email_click",), None, month),
    )
    aggregates = (
        ir.Count("views", views),
        ir.Count("account_views", views, entity=ir.ACCOUNT),
        ir.Count("account_clicks", clicks, entity=ir.ACCOUNT),
        # not a sum of its leads' values: grouped from the events joined to their accounts
        ir.CountDistinct("account_urls", ir.EventFilter(("page_view",)), "url", entity=ir.ACCOUNT),
    )
    engagement = ir.Score(
        "engagement",
        None,
        (
            ir.EachRule(
                "engagement__r1", "each page_view within 30d", ir.AggregateRef("views", INT), 5, 50
            ),
            ir.WhenRule(
                "engagement__r2",
                "department == it",
                _cmp("==", ir.LeadField("department", S), _lit("it", S)),
                7.5,
            ),
        ),
        clamp=(0, 100),
    )
    fit = ir.Score(
        "fit",
        None,
        (
            ir.WhenRule(
                "fit__r1",
                "employees >= 100",
                _cmp(">=", ir.LeadField("employees", INT), _lit(100, INT)),
                10.333,
            ),
            ir.WhenRule(
                "fit__r2",
                "account.industry == saas",
                _cmp("==", ir.AccountField("industry", S), _lit("saas", S)),
                5,
            ),
        ),
    )
    total = ir.Composite(
        "total", None, ir.Arith("+", ir.ScoreRef("engagement"), ir.ScoreRef("fit"))
    )
    mql = ir.Flag("mql", _cmp(">=", ir.ScoreRef("total"), _lit(30, INT)))
    top = ir.Rollup("avg", ir.ScoreRef("engagement"), None, 2)
    engaged = _cmp(">=", ir.ScoreRef("engagement"), _lit(20, INT))
    intent = ir.Score(
        "intent",
        None,
        (
            ir.WhenRule(
                "intent__r1",
                "industry in [software, saas]",
                ir.InList(ir.AccountField("industry", S), (_lit("software", S), _lit("saas", S))),
                20,
            ),
            ir.WhenRule(
                "intent__r2",
                "count(leads where mql) >= 2",
                _cmp(">=", ir.Rollup("count", None, ir.FlagRef("mql")), _lit(2, INT)),
                30,
            ),
            ir.WhenRule(
                "intent__r3",
                "avg(top 2 leads.engagement) >= 35",
                _cmp(">=", top, _lit(35, INT)),
                20,
            ),
            ir.WhenRule(
                "intent__r4",
                "count_distinct(leads.department where engagement >= 20) >= 2",
                _cmp(
                    ">=",
                    ir.Rollup("count_distinct", ir.LeadField("department", S), engaged),
                    _lit(2, INT),
                ),
                25,
            ),
            ir.WhenRule(
                "intent__r5",
                "count(page_view within 30d) >= 3",
                _cmp(">=", ir.AggregateRef("account_views", INT), _lit(3, INT)),
                10,
            ),
            ir.EachRule(
                "intent__r6",
                "each email_click within 30d",
                ir.AggregateRef("account_clicks", INT),
                2,
                10,
            ),
            ir.WhenRule(
                "intent__r7",
                "count_distinct(page_view, url) >= 2",
                _cmp(">=", ir.AggregateRef("account_urls", INT), _lit(2, INT)),
                1,
            ),
        ),
        clamp=(0, 100),
        entity=ir.ACCOUNT,
    )
    pipeline = ir.Composite(
        "pipeline", None, ir.Rollup("sum", ir.ScoreRef("total")), entity=ir.ACCOUNT
    )
    average = ir.Composite(
        "average", None, ir.Rollup("avg", ir.ScoreRef("total")), entity=ir.ACCOUNT
    )
    best = ir.Composite("best", None, ir.Rollup("max", ir.ScoreRef("fit")), entity=ir.ACCOUNT)
    heat = ir.Tier("heat", "intent", (("hot", 60), ("warm", 30), ("cold", None)), entity=ir.ACCOUNT)
    rank = ir.PercentileTier("rank", "intent", (("top", 40), ("rest", None)), entity=ir.ACCOUNT)
    target = ir.Flag(
        "target",
        ir.And(
            (
                _cmp(">=", ir.ScoreRef("intent"), _lit(60, INT)),
                _cmp("==", ir.TierRef("heat"), _lit("hot", S)),
            )
        ),
        entity=ir.ACCOUNT,
    )
    boost = ir.Score(
        "boost",
        None,
        (
            ir.WhenRule(
                "boost__r1",
                "account.heat == hot",
                _cmp("==", _account_ref(ir.TierRef("heat")), _lit("hot", S)),
                10,
            ),
            ir.WhenRule("boost__r2", "account.target", ir.FlagRef("target"), 1),
        ),
    )
    final = ir.Composite("final", None, ir.Arith("+", ir.ScoreRef("total"), ir.ScoreRef("boost")))
    return ir.Model(
        name="abm_sql",
        description="accounts in SQL",
        key="id",
        lead_fields=(
            ir.FieldType("id", S),
            ir.FieldType("account_id", S, True),
            ir.FieldType("department", S, True),
            ir.FieldType("employees", INT, True),
        ),
        event_types=(
            ir.EventType("page_view", (ir.FieldType("url", S),)),
            ir.EventType("email_click", (ir.FieldType("campaign", S),)),
        ),
        aggregates=aggregates,
        scores=(engagement, fit, intent, boost),
        composites=(total, pipeline, average, best, final),
        tiers=(heat,),
        percentile_tiers=(rank,),
        flags=(mql, target),
        account=ir.Entity(
            ir.ACCOUNT,
            "id",
            (
                ir.FieldType("id", S),
                ir.FieldType("name", S),
                ir.FieldType("industry", S, True),
                ir.FieldType("employees", INT, True),
            ),
        ),
        account_link="account_id",
    )


ACCOUNTS = [
    {"id": "A1", "name": "Acme", "industry": "saas", "employees": 500},
    {"id": "A2", "name": "Bolt", "industry": "retail", "employees": None},
    {"id": "A3", "name": "Cog", "industry": None, "employees": 10},  # no leads
]
LEADS = [
    {"id": "l1", "account_id": "A1", "department": "it", "employees": 200},
    {"id": "l2", "account_id": "A1", "department": "sales", "employees": 50},
    {"id": "l3", "account_id": "A1", "department": None, "employees": None},
    {"id": "l4", "account_id": "A2", "department": "it", "employees": None},
    {"id": "l5", "account_id": None, "department": "it", "employees": None},
    {"id": "l6", "account_id": "ZZ", "department": "hr", "employees": None},  # unknown account
]


def _event(lead: str, kind: str, days: float, **props: Any) -> dict[str, Any]:
    row = {"lead_id": lead, "event_type": kind, "occurred_at": NOW - timedelta(days=days)}
    return row | {"url": None, "campaign": None} | props


EVENTS = [
    *(_event("l1", "page_view", 1 + i, url="/p") for i in range(8)),
    _event("l1", "email_click", 2, campaign="c"),
    *(_event("l2", "page_view", 3 + i, url="/p") for i in range(5)),
    _event("l2", "page_view", 40, url="/old"),  # outside 30 days
    *(_event("l4", "page_view", 5 + i, url="/p") for i in range(3)),
    *(_event("l4", "email_click", 1 + i, campaign="c") for i in range(2)),
    *(_event("l5", "page_view", 1 + i, url="/p") for i in range(10)),
    *(_event("l6", "page_view", 1 + i, url="/p") for i in range(2)),
    _event("ghost", "page_view", 1, url="/p"),  # a lead that does not exist
    _event("l1", "page_view", -1, url="/future"),  # after as_of
]

# engagement: min(5 * views, 50) + 7.5 for department it, clamped to 0..100
# fit: 10.333 for employees >= 100 (rounded: 10.33) + 5 for an account in saas
# total = engagement + fit; mql = total >= 30
EXPECTED_LEADS = {
    # id: engagement, fit, total, mql, boost, final
    "l1": (47.5, 15.33, 62.83, True, 11.0, 73.83),
    "l2": (25.0, 5.0, 30.0, True, 11.0, 41.0),
    "l3": (0.0, 5.0, 5.0, False, 11.0, 16.0),
    "l4": (22.5, 0.0, 22.5, False, 0.0, 22.5),
    "l5": (57.5, 0.0, 57.5, True, 0.0, 57.5),
    "l6": (10.0, 0.0, 10.0, False, 0.0, 10.0),
}
# A1: 20 (saas) + 30 (2 mql) + 20 (top 2 engagement 47.5, 25: 36.25) + 25 (it, sales engaged)
#     + 10 (13 views) + 2 (1 click) + 1 (urls /p and /old) = 108, clamped to 100
# A2: 10 (3 views) + 4 (2 clicks) = 14; A3: nothing, empty roll-ups
EXPECTED_ACCOUNTS = {
    # id: intent, pipeline, average, best, heat, rank, target
    "A1": (100.0, 97.83, 32.61, 15.33, "hot", "top", True),
    "A2": (14.0, 22.5, 22.5, 0.0, "cold", "top", False),
    "A3": (0.0, 0.0, None, None, "cold", "rest", False),
}


def python_rows(
    model: ir.Model,
    accounts: list[dict[str, Any]] = ACCOUNTS,
    leads: list[dict[str, Any]] = LEADS,
    events: list[dict[str, Any]] = EVENTS,
    as_of: datetime = AS_OF,
) -> tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]]]:
    """The Python evaluator's lead rows and account rows, by key."""
    from scorelang.targets.python.evaluator import PythonEvaluator

    scored = PythonEvaluator(model).score_accounts(accounts, leads, events, as_of)
    lead_rows = [r.as_row(model) for r in scored.leads]
    account_rows = [r.as_row(model, ir.ACCOUNT) for r in scored.accounts]
    assert model.account is not None
    return (
        {r[model.key]: r for r in lead_rows},
        {r[model.account.key]: r for r in account_rows},
    )
