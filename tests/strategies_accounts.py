"""Hypothesis strategies for accounts: random account models as SOURCE TEXT over
tests/strategies.py's schema (its leads gain an account link and a department), and random
accounts, leads and events.

A model has the lead scores of tests/strategies.py, then an account score whose rules mix
account fields, every roll-up (sum, max, avg, avg of the top N, count, count_distinct; with
and without `where`) over lead outputs and fields, and event sets over the account's
contacts' events; maybe an account composite, tier, percentile tier and flag; and maybe a
lead score reading its account's fields and outputs (a second lead phase). Data has
accounts without leads, leads without an account or with an unknown one, and empty
departments, so empty roll-ups and missing accounts happen often.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from strategies import (
    LEAD_CONDITIONS,
    SCHEMA,
    SMALL_INTS,
    SMALL_NUMBERS,
    TEXT,
    dataset,
    each_rule,
    event_condition,
    number_literal,
    quote,
    score_block,
)

ACCOUNT_SCHEMA = """
account {
  id: string key
  industry: string?
  size: int?
  arr: number?
}
"""
LEAD_LINK = "  id: string key\n  account_id: string? account\n  department: string?\n"
ACCOUNT_KEYS = ("A1", "A2", "Ä3", "a'4")
INDUSTRIES = ("saas", "retail", "SaaS", "")
DEPARTMENTS = ("it", "sales", "ops", "")


def schema() -> str:
    """tests/strategies.py's schema with an account, and leads linked to it."""
    linked = SCHEMA.replace("  id: string key\n", LEAD_LINK, 1)
    assert linked != SCHEMA
    return linked + ACCOUNT_SCHEMA


# Event conditions an account can read: over its contacts' events, not a lead's fields.
ACCOUNT_EVENTS = event_condition().filter(lambda text: "created_at" not in text)


@st.composite
def lead_condition(draw: st.DrawFn, outputs: list[str], flags: list[str]) -> str:
    """A roll-up's `where`: over a lead's fields and outputs."""
    form = draw(st.integers(0, 3))
    if form == 0 and flags:
        return draw(st.sampled_from(flags))
    if form == 1:
        op = draw(st.sampled_from([">=", "<", "=="]))
        return f"{draw(st.sampled_from(outputs))} {op} {number_literal(draw(SMALL_NUMBERS))}"
    if form == 2:
        return f"department == {quote(draw(st.sampled_from(DEPARTMENTS)))}"
    return draw(LEAD_CONDITIONS)


@st.composite
def rollup(draw: st.DrawFn, outputs: list[str], flags: list[str]) -> str:
    """A roll-up over the account's leads, numeric."""
    where = f" where ({draw(lead_condition(outputs, flags))})" if draw(st.booleans()) else ""
    value = draw(st.sampled_from([*outputs, "employees", "revenue"]))
    form = draw(st.integers(0, 5))
    if form == 0:
        return f"count(leads{where})"
    if form == 1:
        field = draw(st.sampled_from(["department", "name", "employees", "active"]))
        return f"count_distinct(leads.{field}{where})"
    if form == 2:
        return f"avg(top {draw(st.integers(1, 3))} leads.{value}{where})"
    func = ("sum", "max", "avg")[form - 3]
    return f"{func}(leads.{value}{where})"


@st.composite
def account_condition(draw: st.DrawFn, outputs: list[str], flags: list[str]) -> str:
    form = draw(st.integers(0, 4))
    if form == 0:
        return f"industry {draw(st.sampled_from(['==', '!=']))} {quote(draw(st.sampled_from(INDUSTRIES)))}"
    if form == 1:
        field = draw(st.sampled_from(["size", "arr"]))
        return f"{field} {draw(st.sampled_from(['>=', '<']))} {number_literal(draw(SMALL_NUMBERS))}"
    if form == 2:
        return draw(ACCOUNT_EVENTS)
    op = draw(st.sampled_from([">=", ">", "<", "=="]))
    return f"{draw(rollup(outputs, flags))} {op} {number_literal(draw(SMALL_NUMBERS))}"


@st.composite
def account_score(draw: st.DrawFn, outputs: list[str], flags: list[str]) -> str:
    rules = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 3)) == 0:
            rules.append(draw(each_rule()))
        else:
            points = (
                f"{draw(st.sampled_from('+-'))}{draw(st.sampled_from(['5', '2.5', '0.333', '10']))}"
            )
            rules.append(f"when {draw(account_condition(outputs, flags))}: {points}")
    if draw(st.booleans()):
        rules.append(f"clamp 0..{draw(st.sampled_from([10, 50, 100]))}")
    return "account score acc {\n  " + "\n  ".join(rules) + "\n}"


@st.composite
def account_model_source(draw: st.DrawFn) -> str:
    """The schema, lead scores (maybe a lead flag), account outputs over them, and maybe a
    lead score reading its account."""
    scores = ["s1", "s2"][: draw(st.integers(1, 2))]
    parts = [schema(), *(draw(score_block(name)) for name in scores)]
    flags = []
    if draw(st.booleans()):
        parts.append(f"flag hot = {draw(st.sampled_from(scores))} >= {draw(SMALL_INTS)}")
        flags.append("hot")
    parts.append(draw(account_score(scores, flags)))
    account_outputs = ["acc"]
    if draw(st.booleans()):
        parts.append(f"account score pipe = {draw(rollup(scores, flags))} + acc / 2")
        account_outputs.append("pipe")
    heat = draw(st.booleans())
    if heat:
        parts.append("account tier heat from acc { hot >= 10  warm >= 0  cold }")
    if draw(st.booleans()):
        top = draw(st.sampled_from([25, 50]))
        parts.append(f"account tier rank from acc by percentile {{ top top {top}%  rest }}")
    if draw(st.booleans()):
        parts.append(f"account flag big = {draw(st.sampled_from(account_outputs))} >= 5")
    if draw(st.booleans()):
        rules = [
            f"when account.acc >= {number_literal(draw(SMALL_NUMBERS))}: +3",
            f"when account.industry == {quote(draw(st.sampled_from(INDUSTRIES)))}: +1.5",
        ]
        if heat:
            rules.append('when account.heat == "hot": +7')
        parts.append("score near {\n  " + "\n  ".join(rules) + "\n}")
    return "\n\n".join(parts) + "\n"


@dataclass(frozen=True)
class GeneratedAccounts:
    source: str
    accounts: list[dict[str, Any]]
    leads: list[dict[str, Any]]
    events: list[dict[str, Any]]


@st.composite
def account_row(draw: st.DrawFn, key: str) -> dict[str, Any]:
    return {
        "id": key,
        "industry": draw(st.none() | st.sampled_from(INDUSTRIES) | TEXT),
        "size": draw(st.none() | st.integers(0, 5000)),
        "arr": draw(st.none() | st.sampled_from([0.0, 2.5, 1e6, 0.005, -3.0])),
    }


@st.composite
def generated_accounts(draw: st.DrawFn) -> GeneratedAccounts:
    """0-4 accounts; each lead linked to one of them, to none, or to an unknown key."""
    keys = draw(st.lists(st.sampled_from(ACCOUNT_KEYS), max_size=4, unique=True))
    accounts = [draw(account_row(k)) for k in keys]
    leads, events = draw(dataset())
    links = st.none() | st.just("ZZ") | (st.sampled_from(keys) if keys else st.nothing())
    for lead in leads:
        lead["account_id"] = draw(links)
        lead["department"] = draw(st.none() | st.sampled_from(DEPARTMENTS))
    return GeneratedAccounts(draw(account_model_source()), accounts, leads, events)
