"""The Python evaluator on accounts: roll-ups, empty roll-ups, missing accounts, account
event sets, the caps order and rounding at account level, percentile tiers over accounts,
lead outputs reading their account's after it is scored, and account test blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_source
from scorelang.targets.python import PythonEvaluator

from scorelang.testing import run_tests

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)

MODEL = """model abm
account {
  id: string key
  industry: string?
  employees: int?
}
lead {
  id: string key
  account_id: string? account
  department: string?
  title: string?
  seats: int?
}
event page_view { url: string }
event email_click { campaign: string }

score fit { when title == "VP": +10  when department == "it": +5 }
flag engaged = fit >= 10

account score intent {
  when industry in ["saas"]: +20
  when count(leads where engaged) >= 2: +30
  when count_distinct(leads.department where fit >= 5) >= 2: +25
  when count(page_view within 30d) >= 3: +10
  each email_click within 30d: +2.5 max 6
  group "size" max 15 {
    when employees > 100: +10
    when employees > 1000: +10
  }
  when industry == "gov": reset
  clamp 0..60
}
account score seats_total = sum(leads.seats)
account score seats_max = max(leads.seats)
account score seats_avg = avg(leads.seats)
account score fit_top2 = avg(top 2 leads.fit)
account score departments = count_distinct(leads.department)
account score vips = count(leads where title == "VP")
account tier heat from intent { hot >= 50  warm >= 20  cold }
account tier rank from intent by percentile { top top 34%  rest }
account flag target = heat == "hot" and rank == "top"

score engagement {
  each page_view: +1
  when account.heat == "hot": +10
  when account.industry == "saas": +3
  when account.target: +7
}
score total = fit + engagement + account.seats_total / 10
"""


def _model() -> ir.Model:
    compilation = compile_source(MODEL, "abm.score")
    assert compilation.model is not None, compilation.diagnostics
    return compilation.model


def _event(lead: str, kind: str, days: float, **props: object) -> dict[str, object]:
    return {
        "lead_id": lead,
        "event_type": kind,
        "occurred_at": AS_OF - timedelta(days=days),
        **props,
    }


ACCOUNTS = [
    {"id": "a1", "industry": "saas", "employees": 5000},
    {"id": "a2", "industry": "retail", "employees": 50},
    {"id": "empty", "industry": "saas", "employees": None},
    {"id": "gov", "industry": "gov", "employees": 200},
]
LEADS = [
    {"id": "l1", "account_id": "a1", "department": "it", "title": "VP", "seats": 10},
    {"id": "l2", "account_id": "a1", "department": "sales", "title": "VP", "seats": None},
    {"id": "l3", "account_id": "a1", "department": "it", "title": "dev", "seats": 3},
    {"id": "l4", "account_id": "a2", "department": None, "title": None, "seats": 7},
    {"id": "l5", "account_id": "nowhere", "title": "VP"},
    {"id": "l6", "account_id": None},
    {"id": "l7", "account_id": "gov", "title": "VP"},
]
EVENTS = [
    _event("l1", "page_view", 1, url="/"),
    _event("l2", "page_view", 2, url="/"),
    _event("l3", "page_view", 40, url="/"),  # outside 30d
    _event("l3", "page_view", 3, url="/pricing"),
    _event("l3", "page_view", -1, url="/future"),  # after as_of: does not exist
    _event("l1", "email_click", 1, campaign="c"),
    _event("l2", "email_click", 1, campaign="c"),
    _event("l3", "email_click", 1, campaign="c"),  # 3 x 2.5 = 7.5, max 6
    _event("l4", "page_view", 1, url="/"),
    _event("l5", "page_view", 1, url="/"),  # a lead without an account
]


@pytest.fixture(scope="module")
def scored() -> tuple[dict[str, dict], dict[str, dict]]:
    model = _model()
    result = PythonEvaluator(model).score_accounts(ACCOUNTS, LEADS, EVENTS, AS_OF)
    leads = {r.key: r.as_row(model) for r in result.leads}
    accounts = {r.key: r.as_row(model, ir.ACCOUNT) for r in result.accounts}
    return leads, accounts


def test_rollups_over_an_accounts_leads(scored) -> None:
    _, accounts = scored
    a1 = accounts["a1"]
    assert a1["seats_total"] == 13  # the missing seats of l2 ignored
    assert a1["seats_max"] == 10
    assert a1["seats_avg"] == 6.5  # (10 + 3) / 2: missing values do not count
    assert a1["fit_top2"] == 12.5  # the two largest of 15, 10, 0
    assert a1["departments"] == 2
    assert a1["vips"] == 2


def test_empty_rollups(scored) -> None:
    _, accounts = scored
    empty = accounts["empty"]
    assert (empty["seats_total"], empty["departments"], empty["vips"]) == (0, 0, 0)
    assert (empty["seats_max"], empty["seats_avg"], empty["fit_top2"]) == (None, None, None)
    # an account without leads scores from its own fields
    assert empty["intent"] == 20 and empty["intent__r1"] == 20
    a2 = accounts["a2"]
    assert a2["departments"] == 0 and a2["fit_top2"] == 0  # l4 has fit 0


def test_account_events_and_caps_order(scored) -> None:
    _, accounts = scored
    a1 = accounts["a1"]
    # saas 20 + two engaged leads 30 + it and sales 25 + 3 page views in 30d 10
    # + clicks 7.5 capped at 6 + size group 20 capped at 15 = 106, clamped to 60
    assert a1["intent__r1"] == 20 and a1["intent__r2"] == 30 and a1["intent__r3"] == 25
    assert a1["intent__r4"] == 10 and a1["intent__r5"] == 6
    assert a1["intent"] == 60
    assert accounts["gov"]["intent"] == 0 and accounts["gov"]["intent__r8"] is True
    assert accounts["a2"]["intent"] == 0  # one page view: not 3


def test_tiers_and_percentiles_over_accounts(scored) -> None:
    _, accounts = scored
    assert [accounts[k]["heat"] for k in ("a1", "a2", "empty", "gov")] == [
        "hot",
        "cold",
        "warm",
        "cold",
    ]
    # 4 accounts scoring 60, 0, 20, 0: top 34% holds those fewer than 1.36 accounts beat
    assert [accounts[k]["rank"] for k in ("a1", "a2", "empty", "gov")] == [
        "top",
        "rest",
        "top",
        "rest",
    ]
    assert accounts["a1"]["target"] is True and accounts["empty"]["target"] is False


def test_leads_read_their_accounts_outputs(scored) -> None:
    leads, _ = scored
    l1 = leads["l1"]
    assert l1["engagement"] == 1 + 10 + 3 + 7
    assert l1["total"] == 15 + 21 + 1.3
    l4 = leads["l4"]
    assert l4["engagement"] == 1 and l4["total"] == 1.7


def test_leads_without_an_account_read_missing_values(scored) -> None:
    leads, _ = scored
    for key in ("l5", "l6"):
        row = leads[key]
        assert row["engagement__r2"] == 0 and row["engagement__r4"] == 0
        assert row["total"] is None  # fit + engagement + missing / 10 is missing
    assert leads["l5"]["engagement"] == 1


def test_lead_view_and_account_view_columns(scored) -> None:
    model = _model()
    leads, accounts = scored
    assert list(leads["l1"]) == list(model.output_columns)
    assert list(accounts["a1"]) == list(model.account_output_columns)
    assert "intent" not in model.output_columns and "fit" not in model.account_output_columns


def test_score_many_without_accounts_gives_every_lead_no_account() -> None:
    model = _model()
    evaluator = PythonEvaluator(model)
    rows = [r.as_row(model) for r in evaluator.score_many(LEADS[:1], EVENTS, AS_OF)]
    assert rows[0]["engagement"] == 1 and rows[0]["total"] is None
    with_accounts = evaluator.score_many(LEADS, EVENTS, AS_OF, accounts=ACCOUNTS)
    assert with_accounts[0].scores["engagement"] == 21


def test_account_rounding() -> None:
    source = MODEL + "account score third = sum(leads.seats) / 3\n"
    compilation = compile_source(source, "abm.score")
    model = compilation.model
    result = PythonEvaluator(model).score_accounts(ACCOUNTS, LEADS, EVENTS, AS_OF)
    assert result.accounts[0].scores["third"] == 4.33


def test_account_test_blocks_run() -> None:
    source = MODEL + (
        'test "committee" {\n'
        '  account { id: "a1", industry: "saas", employees: 150 }\n'
        '  lead { id: "l1", title: "VP", department: "it" }\n'
        '  events { page_view { url: "/" } at -1d }\n'
        '  lead { id: "l2", title: "VP", department: "sales" }\n'
        "  expect account intent == 60\n"
        '  expect account heat == "hot"\n'
        '  expect lead "l1" engagement == 21\n'
        '  expect lead "l2" tier fit == 10\n'
        "}\n"
        'test "wrong" {\n'
        '  account { id: "a1" }\n'
        '  lead { id: "l1" }\n'
        "  expect account intent == 5\n"
        "  expect fit == 0\n"
        "}\n"
    )
    compilation = compile_source(source, "abm.score")
    assert compilation.model is not None, compilation.diagnostics
    outcomes = run_tests(compilation.model)
    assert [o.passed for o in outcomes] == [True, False]
    (failure,) = outcomes[1].failures
    assert (failure.text, failure.expected, failure.actual) == ("account intent == 5", 5, 0.0)


def test_a_model_with_an_account_but_no_account_outputs_keys_both_views() -> None:
    source = "model m\naccount { id: string key }\nlead { id: string key  a: string? account }\n"
    source += "score s { when account.id is present: +1 }\n"
    model = compile_source(source, "m.score").model
    assert model is not None
    scored = PythonEvaluator(model).score_accounts([{"id": "x"}], [{"id": "l", "a": "x"}], ())
    assert scored.accounts[0].as_row(model, ir.ACCOUNT) == {"id": "x"}
    assert scored.leads[0].as_row(model) == {"id": "l", "s": 1.0, "s__r1": 1.0}
