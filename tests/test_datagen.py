"""The sample data generator: deterministic, typed like the model, realistic enough that the
model's own literals and thresholds show up, and loadable by every engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_source

from scorelang import datagen
from scorelang.data import read_records

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
SOURCE = """
model odd "Names the vocabulary does not know"
lead {
  code: int key
  ratio: number
  tag: string?
  active: bool
  joined: timestamp
}
event ping { zone: string, weight: number?, hops: int }
event pong { zone: string }
score s {
  when ratio > 1234: +1
  when tag in ["alpha-special", "beta-special"]: +1
  when tag starts with "pre:": +1
  each ping where zone == "zone-special" within 30d: +1 max 5
  when count(pong within 7d) >= 2: +1
  when no activity within 60d: -1
}
"""
TYPES = {ir.Type.STRING: str, ir.Type.INT: int, ir.Type.NUMBER: float, ir.Type.BOOL: bool}


@pytest.fixture(scope="module")
def model() -> ir.Model:
    compilation = compile_source(SOURCE, "odd.score")
    assert compilation.model is not None, compilation.diagnostics
    return compilation.model


@pytest.fixture(scope="module")
def data(model) -> datagen.Dataset:
    return datagen.generate(model, 400, seed=3, as_of=AS_OF)


def test_same_seed_same_data_other_seed_other_data(model, data):
    assert datagen.generate(model, 400, seed=3, as_of=AS_OF) == data
    assert datagen.generate(model, 400, seed=4, as_of=AS_OF) != data


def test_values_have_the_declared_types_and_required_ones_are_present(model, data):
    for lead in data.leads:
        for f in model.lead_fields:
            value = lead[f.name]
            if value is None:
                assert f.optional, f.name
            elif f.type is ir.Type.TIMESTAMP:
                assert isinstance(value, datetime) and value <= AS_OF
            else:
                assert type(value) is TYPES[f.type], (f.name, value)
    declared = {t.name: t for t in model.event_types}
    for event in data.events:
        props = declared[event["event_type"]].properties
        assert set(event) == {"lead_id", "event_type", "occurred_at", *(p.name for p in props)}
        for p in props:
            assert (event[p.name] is None and p.optional) or type(event[p.name]) is TYPES[p.type]


def test_keys_are_unique_and_optional_values_are_sometimes_missing(data):
    assert len({lead["code"] for lead in data.leads}) == 400
    assert 0 < sum(lead["tag"] is None for lead in data.leads) < 400
    assert any(e["weight"] is None for e in data.events if e["event_type"] == "ping")


def test_activity_is_skewed_some_leads_idle_some_events_after_as_of(data):
    per_lead: dict[object, int] = {}
    for event in data.events:
        per_lead[event["lead_id"]] = per_lead.get(event["lead_id"], 0) + 1
    idle = 400 - len(per_lead)
    assert 0.05 * 400 < idle < 0.25 * 400
    assert max(per_lead.values()) > 3 * sorted(per_lead.values())[len(per_lead) // 2]
    late = [e for e in data.events if e["occurred_at"] > AS_OF]
    assert 0 < len(late) < 0.05 * len(data.events)
    quiet = {e["lead_id"] for e in data.events if (AS_OF - e["occurred_at"]).days < 60}
    assert len(quiet) < len(per_lead)  # some leads went quiet two months ago


def test_the_models_literals_and_thresholds_appear(data):
    tags = {lead["tag"] for lead in data.leads}
    assert {"alpha-special", "beta-special"} <= tags
    assert any(t and t.startswith("pre:") for t in tags)
    assert any(e.get("zone") == "zone-special" for e in data.events)
    ratios = [lead["ratio"] for lead in data.leads]
    assert any(900 < r <= 1234 for r in ratios) and any(r > 1234 for r in ratios)


def test_realistic_vocabulary_for_known_names():
    source = """
    model m
    lead { id: string key, email: string, job_title: string?, employees: int? }
    event page_view { url: string }
    score s { when visited "/pricing": +1 }
    """
    model = compile_source(source).model
    assert model is not None
    data = datagen.generate(model, 100, seed=1, as_of=AS_OF)
    assert all("@" in lead["email"] and "." in lead["email"] for lead in data.leads)
    assert all(e["url"].startswith("/") for e in data.events)
    assert any(e["url"] == "/pricing" for e in data.events)
    employees = [lead["employees"] for lead in data.leads if lead["employees"] is not None]
    assert min(employees) >= 1 and max(employees) > 1000


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_written_files_load_with_every_value_intact(model, fmt, tmp_path):
    data = datagen.generate(model, 60, seed=9, as_of=AS_OF)
    leads_path, events_path = datagen.write(data, tmp_path, fmt)
    leads, events = read_records(model, leads_path, events_path)
    assert sorted(leads, key=lambda lead: lead["code"]) == sorted(
        data.leads, key=lambda lead: lead["code"]
    )
    assert len(events) == len(data.events)


def test_batches_hold_the_same_leads_and_events(model):
    """Batches are generate()'s rows in the same order of leads; events sorted per batch."""
    whole = datagen.generate(model, 250, seed=4, as_of=AS_OF)
    batches = list(datagen.generate_batches(model, 250, seed=4, as_of=AS_OF, batch=100))
    assert [len(b.leads) for b in batches] == [100, 100, 50]
    assert [lead for b in batches for lead in b.leads] == whole.leads

    def key(event):
        return (event["occurred_at"], str(event["lead_id"]), sorted(map(str, event.items())))

    assert sorted((e for b in batches for e in b.events), key=key) == sorted(whole.events, key=key)
    (one,) = datagen.generate_batches(model, 250, seed=4, as_of=AS_OF, batch=250)
    assert one == whole


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_batches_are_written_as_they_come(model, fmt, tmp_path):
    batches = datagen.generate_batches(model, 90, seed=2, as_of=AS_OF, batch=40)
    leads_path, events_path = datagen.write(batches, tmp_path, fmt)
    leads, events = read_records(model, leads_path, events_path)
    whole = datagen.generate(model, 90, seed=2, as_of=AS_OF)
    assert sorted(leads, key=lambda lead: lead["code"]) == sorted(
        whole.leads, key=lambda lead: lead["code"]
    )
    assert len(events) == len(whole.events)


def test_the_command_line_entry(tmp_path, capsys):
    path = tmp_path / "odd.score"
    path.write_text(SOURCE)
    out = tmp_path / "data"
    assert datagen.main([str(path), "--leads", "20", "--seed", "5", "--out", str(out)]) == 0
    assert "wrote 20 leads" in capsys.readouterr().out
    assert (out / "leads.csv").read_text().splitlines()[0] == "code,ratio,tag,active,joined"
    header = (out / "events.csv").read_text().splitlines()[0]
    assert header == "lead_id,event_type,occurred_at,zone,weight,hops"


def test_the_command_line_rejects_a_broken_model(tmp_path, capsys):
    path = tmp_path / "bad.score"
    path.write_text("model m\nlead { id: strin key }\n")
    assert datagen.main([str(path), "--out", str(tmp_path)]) == 1
    assert "strin" in capsys.readouterr().err


def test_writing_batches_holds_one_batch_at_a_time(model, tmp_path):
    """10M leads are written in chunks: no batch is alive while the next is generated."""
    import gc
    import weakref

    alive: list[weakref.ref] = []
    most = 0

    def tracked():
        nonlocal most
        for batch in datagen.generate_batches(model, 500, seed=3, as_of=AS_OF, batch=100):
            gc.collect()
            most = max(most, sum(ref() is not None for ref in alive))
            alive.append(weakref.ref(batch))
            yield batch

    for fmt in ("csv", "parquet"):
        alive.clear()
        datagen.write(tracked(), tmp_path / fmt, fmt)
        assert len(alive) == 5 and most == 0
