"""The Python API checks records as the loader checks files, and takes the public
ScoringModel and ISO 8601 text wherever it takes a model and an instant."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import scorelang
from scorelang import engines
from scorelang.data import load_duckdb, read_records
from scorelang.explain import explain, explain_lead

EXAMPLE = Path(__file__).parent.parent / "examples" / "b2b_saas"
AS_OF = "2026-01-01T00:00:00Z"
MODEL = scorelang.load(EXAMPLE / "model.score")
LEAD = {"id": "l1", "email": "ann@acme.io", "created_at": "2025-06-01", "employees": "200"}


def csv_rows(name: str) -> list[dict[str, str]]:
    with (EXAMPLE / name).open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_csv_dict_rows_score_exactly_as_the_files_do() -> None:
    """csv.DictReader gives strings; they are read as CSV cells, as the loader reads them."""
    results = MODEL.score_many(csv_rows("leads.csv"), csv_rows("events.csv"), as_of=AS_OF)
    rows = engines.score(
        MODEL, "duckdb", leads=EXAMPLE / "leads.csv", events=EXAMPLE / "events.csv", as_of=AS_OF
    )
    by_key = {row["id"]: row for row in rows}
    assert len(results) == len(rows) == 150
    for result in results:
        assert result.as_row(MODEL.ir) == pytest.approx(by_key[result.key])
    assert sum(r.flags["mql"] for r in results) == 2


@pytest.mark.parametrize(
    ("lead", "message"),
    [
        ({"id": "l1", "email": "a@b.c"}, "lead 1 (id 'l1'): missing required field 'created_at'"),
        ({**LEAD, "created_at": ""}, "missing value for required field 'created_at'"),
        ({**LEAD, "employes": "3"}, "unknown key 'employes', not a lead field of the model; did you mean `employees`?"),
        ({**LEAD, "employees": "3.5"}, "lead 1 (id 'l1'), 'employees': '3.5' is not a valid int"),
        ({**LEAD, "employees": 3.5}, "'employees': 3.5 is not a valid int"),
        ({**LEAD, "employees": "1e300"}, "'employees': '1e300' is not a valid int"),
        ({**LEAD, "employees": 10**16}, "is out of range"),
        ({**LEAD, "created_at": "yesterday"}, "'created_at': 'yesterday' is not a valid timestamp"),
        ({**LEAD, "email": 12}, "'email': 12 is not a string"),
    ],
)  # fmt: skip
def test_bad_leads_are_value_errors_naming_the_problem(lead: dict, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        MODEL.score(lead, [], as_of=AS_OF)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"event_type": "page_view", "url": "/a"}, "event 1: missing 'occurred_at'"),
        ({"event_type": "page_view", "occurred_at": AS_OF}, "missing value for property 'url', required by page_view"),
        ({"event_type": "page_view", "occurred_at": AS_OF, "url": "/a", "URL": "/b"}, "unknown key 'URL'"),
        ({"event_type": "page_view", "occurred_at": "soon", "url": "/a"}, "'occurred_at': 'soon' is not a valid timestamp"),
    ],
)  # fmt: skip
def test_bad_events_are_value_errors_naming_the_problem(event: dict, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        MODEL.score(LEAD, [event], as_of=AS_OF)
    assert message in str(raised.value)


def test_score_many_needs_lead_ids_and_unique_keys() -> None:
    event = {"event_type": "demo_request", "occurred_at": AS_OF}
    with pytest.raises(ValueError, match="event 1: missing 'lead_id'"):
        MODEL.score_many([LEAD], [event], as_of=AS_OF)
    with pytest.raises(
        ValueError, match=r"lead 2 \(id 'l1'\): duplicate lead key 'l1' \(also lead 1\)"
    ):
        MODEL.score_many([LEAD, LEAD], [], as_of=AS_OF)


def test_strings_and_typed_values_score_alike() -> None:
    typed = MODEL.score(
        {**LEAD, "employees": 200, "created_at": "2025-06-01T00:00:00+00:00"},
        [{"event_type": "demo_request", "occurred_at": "2025-12-30"}],
        as_of=AS_OF,
    )
    text = MODEL.score(
        LEAD, [{"event_type": "demo_request", "occurred_at": "2025-12-30"}], as_of=AS_OF
    )
    assert typed.scores == text.scores and typed.scores["engagement"] > 0


def test_every_entry_point_takes_the_scoring_model_and_iso_text(tmp_path: Path) -> None:
    import duckdb

    leads, events = EXAMPLE / "leads.csv", EXAMPLE / "events.csv"
    rows = engines.score(MODEL, "python", leads=str(leads), events=str(events), as_of=AS_OF)
    assert rows == engines.score(MODEL.ir, "python", leads=leads, events=events, as_of=AS_OF)
    records, _events = read_records(MODEL, str(leads), str(events))
    assert len(records) == 150
    database = str(tmp_path / "w.duckdb")
    with duckdb.connect(database) as con:
        assert load_duckdb(con, MODEL, leads, events).leads == 150
    key = rows[0]["id"]
    assert (
        explain_lead(MODEL, key, leads, events, AS_OF).scores
        == explain_lead(MODEL.ir, key, leads, events, AS_OF).scores
    )
    assert explain(MODEL, LEAD, [], AS_OF).scores == MODEL.explain(LEAD, [], AS_OF).scores
    assert engines.apply(MODEL, database) == engines.apply(MODEL.ir, database)


def test_backtest_and_suggest_take_iso_text(tmp_path: Path) -> None:
    from scorelang.backtest.run import backtest
    from scorelang.backtest.suggest import suggest

    rows = csv_rows("leads.csv")
    leads = tmp_path / "leads.csv"
    with leads.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, [*rows[0], "won"])
        writer.writeheader()
        writer.writerows(row | {"won": int(row["industry"] == "software")} for row in rows)
    events = EXAMPLE / "events.csv"
    assert (
        backtest(MODEL, leads, events, "won", AS_OF).as_of
        == "all leads at 2026-01-01T00:00:00+00:00"
    )
    fitted = suggest(EXAMPLE / "model.score", leads, events, "won", AS_OF, seed=0)
    assert fitted.holdout + fitted.train == 150
