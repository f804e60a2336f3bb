"""`scorelang explain --account`: the account's rules and points, and for each roll-up the
contacts it counted and what each contributed; `--lead` on a model with an account reads
the lead's account."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file, compile_source
from typer.testing import CliRunner

from scorelang.cli import app
from scorelang.explain import explain_account, explain_lead

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
MODEL = """model m
account { id: string key  industry: string? }
lead { id: string key  account_id: string? account  department: string?  seats: int? }
event page_view { url: string }
score fit { when seats > 5: +10  when department == "it": +5 }
account score intent {
  when industry == "saas": +20 "SaaS"
  when count(leads where fit >= 10) >= 2: +30 "Two big buyers"
  when avg(top 2 leads.fit) >= 12: +10 "Top two"
  each page_view within 30d: +1 max 5 "Visits"
}
account score seats_total = sum(leads.seats)
score company { when account.intent >= 50: +7 }
"""
ACCOUNTS = "id,industry\na1,saas\na2,\n"
LEADS = "id,account_id,department,seats\nl1,a1,it,10\nl2,a1,sales,8\nl3,a1,it,\nl4,a2,,3\nl5,,,\n"
EVENTS = (
    "lead_id,event_type,occurred_at,url\n"
    "l1,page_view,2025-12-30T00:00:00Z,/\nl3,page_view,2025-12-29T00:00:00Z,/\n"
    "l4,page_view,2025-12-29T00:00:00Z,/\n"
)


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (
        ("model.score", MODEL),
        ("accounts.csv", ACCOUNTS),
        ("leads.csv", LEADS),
        ("events.csv", EVENTS),
    ):
        paths[name] = tmp_path / name
        paths[name].write_text(text)
    return paths


def _model(files: dict[str, Path]) -> ir.Model:
    model = compile_file(files["model.score"]).model
    assert model is not None
    return model


def test_explain_account_shows_rules_and_each_rollups_contacts(files) -> None:
    explained = explain_account(
        _model(files),
        "a1",
        files["accounts.csv"],
        files["leads.csv"],
        files["events.csv"],
        AS_OF,
    )
    intent = explained.account.score("intent")
    assert intent.value == 62  # 20 + 30 + 10 + 2 visits
    assert {r.id: r.points for r in intent.rules if r.fired} == {
        "intent__saas": 20,
        "intent__two_big_buyers": 30,
        "intent__top_two": 10,
        "intent__visits": 2,
    }
    assert explained.leads == ("l1", "l2", "l3")
    by_text = {line.text: line for line in explained.rollups}
    assert set(by_text) == {
        "count(leads where fit >= 10)",
        "avg(top 2 leads.fit)",
        "sum(leads.seats)",
    }
    count = by_text["count(leads where fit >= 10)"]
    assert count.value == 2 and count.read_by == ("intent__two_big_buyers",)
    assert [(c.lead, c.counted) for c in count.contributions] == [
        ("l1", True),
        ("l2", True),
        ("l3", False),
    ]
    top = by_text["avg(top 2 leads.fit)"]  # fits 15, 10, 5: the top two average 12.5
    assert top.value == 12.5
    assert [(c.lead, c.value, c.used) for c in top.contributions] == [
        ("l1", 15.0, True),
        ("l2", 10.0, True),
        ("l3", 5.0, False),
    ]
    seats = by_text["sum(leads.seats)"]  # l3's seats are missing: ignored
    assert (seats.value, seats.read_by) == (18, ("seats_total",))
    assert [c.used for c in seats.contributions] == [True, True, False]


def test_explain_lead_of_a_model_with_an_account_reads_its_account(files) -> None:
    args = (files["leads.csv"], files["events.csv"], AS_OF)
    explained = explain_lead(_model(files), "l1", *args, accounts=files["accounts.csv"])
    assert explained.score("company").value == 7
    assert [s.name for s in explained.scores] == ["fit", "company"]


def test_the_cli_explains_an_account(files) -> None:
    common = [
        "explain",
        str(files["model.score"]),
        "--accounts",
        str(files["accounts.csv"]),
        "--leads",
        str(files["leads.csv"]),
        "--events",
        str(files["events.csv"]),
        "--as-of",
        "2026-01-01T00:00:00Z",
    ]
    text = CliRunner().invoke(app, [*common, "--account", "a1"])
    assert text.exit_code == 0, text.output
    assert "account a1" in text.output and "intent = 62" in text.output
    assert "avg(top 2 leads.fit) = 12.5" in text.output and "(not in the top)" in text.output
    data = CliRunner().invoke(app, [*common, "--account", "a2", "--format", "json"])
    parsed = json.loads(data.output)
    assert parsed["account"]["key"] == "a2" and parsed["leads"] == ["l4"]
    missing = CliRunner().invoke(app, [*common, "--account", "zz"])
    assert missing.exit_code != 0 and "no account with id 'zz'" in missing.output
    both = CliRunner().invoke(app, [*common, "--account", "a1", "--lead", "l1"])
    assert both.exit_code != 0 and "give --lead KEY or --account KEY" in both.output


def test_explaining_an_account_of_a_model_without_one_is_a_clear_error(files, tmp_path) -> None:
    lead_only = compile_source("lead { id: string key }\nscore s { clamp 0..1 }\n", "x.score")
    assert lead_only.model is not None
    with pytest.raises(Exception, match="declares no account"):
        explain_account(
            lead_only.model, "a1", files["accounts.csv"], files["leads.csv"], files["events.csv"]
        )
