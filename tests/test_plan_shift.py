"""Shifted references (compiler/plan.py `Shift`): a reference read at the instant minus a
shift, for the same lead. The models are the examples' with shifted outputs added through
the IR (issue 17 adds the syntax): what `change` and `previous` will compile to."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scorelang.compiler import ir
from scorelang.compiler.lint.bounds import score_bounds
from scorelang.compiler.plan import Instants, Project, Scan, Shift, ShiftError, build_plan
from scorelang.targets.python.columnar import EventColumns
from scorelang.targets.python.evaluator import PythonEvaluator
from scorelang.targets.sql.builder import select_scores, select_step, step_relations
from test_plan import AS_OF, EARLIER, EXAMPLES, FOLDERS, _rules, duckdb_rows, model_of

from scorelang import engines
from scorelang.config import SourceMapping
from scorelang.data import read_records
from scorelang.engines import duckdb as duckdb_engine
from scorelang.engines import postgres as postgres_engine
from scorelang.engines.rows import to_rows
from scorelang.explain import explain_leads
from scorelang.explain import score_bounds as score_gaps
from scorelang.results import ScoreResult

WEEK = 7 * 86400.0
# Shifted references are refused in a model with an account (see the test below).
LEAD_FOLDERS = [f for f in FOLDERS if model_of(f).account is None]
# Three and a half days: an earlier instant between midnights, so windows and decay move.
HALF_WEEK = 3.5 * 86400.0


def shifted(model: ir.Model) -> ir.Model:
    """The model plus `change` (its first score that reads events minus that score a week
    before), a flag reading that score a week before, and, with a percentile tier, a flag reading its band
    half a week before (ranked among the leads at that instant)."""
    score = next(
        s.name
        for s in model.scores
        if any(isinstance(n, ir.AggregateRef) for n in ir.subexpressions(s))
    )
    change = ir.Composite(
        "change", None, ir.Arith("-", ir.ScoreRef(score), ir.ScoreRef(score, shift=WEEK))
    )
    flags = [ir.Flag("rising", ir.Compare(">", ir.ScoreRef(score), ir.ScoreRef(score, shift=WEEK)))]
    for tier in model.percentile_tiers:
        earlier = ir.TierRef(tier.name, shift=HALF_WEEK)
        top = ir.Literal(tier.bands[0][0], ir.Type.STRING)
        flags.append(ir.Flag(f"was_{tier.name}", ir.Compare("==", earlier, top)))
    return dataclasses.replace(
        model, composites=(*model.composites, change), flags=(*model.flags, *flags)
    )


# The examples whose model has no account: compiler.plan refuses a shifted reference in a
# model with an account ("not supported yet", ShiftError).
LEAD_FOLDERS = [folder for folder in FOLDERS if not (folder / "accounts.csv").exists()]


def files(folder: Path) -> dict[str, Path]:
    return {"leads": folder / "leads.csv", "events": folder / "events.csv"}


def python_rows(model: ir.Model, folder: Path, as_of: datetime) -> list[dict]:
    return engines.score(model, "python", as_of=as_of, **files(folder))


def python_paths(model: ir.Model, folder: Path) -> list[tuple[ScoreResult, ScoreResult]]:
    """Each lead scored alone and in the batch, after checking the columnar batch gives
    the records batch's results."""
    leads, events = read_records(model, *files(folder).values())
    evaluator = PythonEvaluator(model)
    batch = evaluator.score_many(leads, events, AS_OF)
    columns = EventColumns.from_records(events, evaluator._properties)
    assert evaluator.score_many(leads, columns, AS_OF) == batch
    return [
        (
            evaluator.score(lead, [e for e in events if e["lead_id"] == lead[model.key]], AS_OF),
            result,
        )
        for lead, result in zip(leads, batch, strict=True)
    ]


def by_instant(model: ir.Model, records: list[tuple], instant: datetime) -> list[dict]:
    mine = [r[:1] + r[2:] for r in records if r[1] == instant.replace(tzinfo=None)]
    return to_rows(model, model.output_columns, mine)


@pytest.mark.parametrize("folder", LEAD_FOLDERS, ids=lambda p: p.name)
def test_duckdb_reads_shifted_outputs_like_python_at_one_instant(folder: Path) -> None:
    model = shifted(model_of(folder))
    expected = python_rows(model, folder, AS_OF)
    assert engines.score(model, "duckdb", as_of=AS_OF, **files(folder)) == expected
    # The shifted values really are another instant's.
    assert any(row["change"] != 0 for row in expected)
    assert any(row["rising"] for row in expected)


@pytest.mark.parametrize("folder", LEAD_FOLDERS, ids=lambda p: p.name)
def test_one_duckdb_query_reads_shifted_outputs_at_two_instants(folder: Path) -> None:
    model = shifted(model_of(folder))
    sql = select_scores(model, "duckdb", as_of=[AS_OF, EARLIER]).sql(dialect="duckdb")
    names, records = duckdb_rows(folder, sql)
    assert names == [model.key, "as_of", *model.output_columns[1:]]
    for instant in (AS_OF, EARLIER):
        assert by_instant(model, records, instant) == python_rows(model, folder, instant)
    # Only the instants asked for, not the earlier ones the shifts read.
    assert len(records) == 2 * len(python_rows(model, folder, AS_OF))


def test_shifted_references_in_a_model_with_an_account_are_refused() -> None:
    model = shifted(model_of(EXAMPLES / "abm"))
    with pytest.raises(ShiftError, match="model with an account"):
        build_plan(model, [AS_OF])
    with pytest.raises(NotImplementedError, match="model with an account"):
        PythonEvaluator(model)


def test_a_requested_instant_may_be_another_ones_shifted_instant() -> None:
    folder = EXAMPLES / "b2b_saas"
    model = shifted(model_of(folder))
    week_before = datetime(2025, 12, 25, tzinfo=UTC)
    sql = select_scores(model, "duckdb", as_of=[AS_OF, week_before]).sql(dialect="duckdb")
    (instants,) = (
        s for s in build_plan(model, [AS_OF, week_before]).steps if isinstance(s, Instants)
    )
    assert len(instants.rows()) == 3  # AS_OF, its week before (asked for), and that one's
    _, records = duckdb_rows(folder, sql)
    for instant in (AS_OF, week_before):
        assert by_instant(model, records, instant) == python_rows(model, folder, instant)


@pytest.mark.postgres
def test_postgres_reads_shifted_outputs_like_python_at_one_and_two_instants(pg_url: str) -> None:
    folder = EXAMPLES / "advanced"
    model = shifted(model_of(folder))
    with postgres_engine.session(
        model, database=pg_url, mapping=SourceMapping(), **files(folder)
    ) as (
        pg,
        mapping,
    ):
        one = select_scores(model, "postgres", as_of=AS_OF, mapping=mapping)
        single = pg.execute(one.sql(dialect="postgres")).fetchall()
        two = select_scores(model, "postgres", as_of=[AS_OF, EARLIER], mapping=mapping)
        records = pg.execute(two.sql(dialect="postgres")).fetchall()
    assert to_rows(model, model.output_columns, sorted(single)) == python_rows(model, folder, AS_OF)
    for instant in (AS_OF, EARLIER):
        assert by_instant(model, records, instant) == python_rows(model, folder, instant)


def test_duckdb_at_the_querys_now_outputs_now_only() -> None:
    folder = EXAMPLES / "b2b_saas"
    model = shifted(model_of(folder))
    names, records = duckdb_rows(folder, select_scores(model, "duckdb").sql(dialect="duckdb"))
    assert names == list(model.output_columns)
    assert len(records) == len(python_rows(model, folder, AS_OF))


def test_python_single_lead_and_batch_agree_on_shifted_outputs() -> None:
    folder = EXAMPLES / "advanced"
    model = shifted(model_of(folder))
    paths = python_paths(model, folder)
    for alone, result in paths:
        assert alone.scores == result.scores
        assert alone.flags["rising"] == result.flags["rising"]
        # Outside a batch a percentile tier has no band, at any instant: the flag is False.
        assert alone.flags["was_rank"] is False
    assert any(result.flags["was_rank"] for _, result in paths)


def test_the_unshifted_plan_and_sql_are_unchanged() -> None:
    """A shift of 0 is no shift: the same SQL, the single-instant rewrite, no Shift step."""
    model = model_of(EXAMPLES / "b2b_saas")
    zero = ir.without_shifts(shifted(model))
    plain = dataclasses.replace(
        zero, composites=model.composites, flags=model.flags
    )  # back to the example, rebuilt through without_shifts
    for dialect in ("duckdb", "postgres", "bigquery", "snowflake", "spark"):
        assert select_scores(plain, dialect, as_of=AS_OF).sql(dialect=dialect) == select_scores(
            model, dialect, as_of=AS_OF
        ).sql(dialect=dialect)
    plan = build_plan(zero, [AS_OF])
    assert plan.shifts == () and plan.single_instant
    assert not any(isinstance(s, Shift | Instants) for s in plan.steps)
    assert all(s.instant_bounds for s in plan.steps if isinstance(s, Scan))


def test_the_plan_evaluates_shifted_instants_and_joins_them_before_their_readers() -> None:
    model = shifted(model_of(EXAMPLES / "advanced"))
    plan = build_plan(model, [AS_OF])
    assert plan.shifts == (HALF_WEEK, WEEK) and not plan.single_instant
    assert not any(s.instant_bounds for s in plan.steps if isinstance(s, Scan))
    names = [s.name for s in plan.steps]
    for step in plan.steps:
        if isinstance(step, Shift):
            reader = plan.steps[names.index(step.name) + 1]
            assert isinstance(reader, Project) and reader.inputs == (step.name,)
    read = {r for s in plan.steps if isinstance(s, Shift) for r in s.references}
    assert read == {
        ir.ScoreRef("engagement", shift=WEEK),
        ir.TierRef("rank", shift=HALF_WEEK),
    }


def test_a_shift_of_a_shift_is_refused() -> None:
    model = shifted(model_of(EXAMPLES / "b2b_saas"))
    again = ir.Flag(
        "accelerating", ir.Compare(">", ir.ScoreRef("change"), ir.ScoreRef("change", shift=WEEK))
    )
    twice = dataclasses.replace(model, flags=(*model.flags, again))
    with pytest.raises(ShiftError, match="`change` is read at an earlier instant but itself"):
        build_plan(twice, [AS_OF])
    with pytest.raises(ShiftError, match="shift of a shift"):
        select_scores(twice, "duckdb", as_of=AS_OF)
    with pytest.raises(ShiftError, match="shift of a shift"):
        PythonEvaluator(twice)
    # A flag reading a flag that reads a shifted score, shifted in turn: refused too.
    relay = ir.Flag("relay", ir.FlagRef("rising"))
    late = ir.Flag("late", ir.FlagRef("relay", shift=WEEK))
    chained = dataclasses.replace(model, flags=(*model.flags, relay, late))
    with pytest.raises(ShiftError, match="`relay`"):
        build_plan(chained)


def test_a_shift_into_the_future_is_refused() -> None:
    model = model_of(EXAMPLES / "b2b_saas")
    ahead = ir.Flag(
        "ahead", ir.Compare(">", ir.ScoreRef("fit", shift=-WEEK), ir.Literal(0, ir.Type.INT))
    )
    with pytest.raises(ShiftError, match="later instant"):
        build_plan(dataclasses.replace(model, flags=(*model.flags, ahead)))


def test_bounds_of_a_shifted_score_are_the_scores() -> None:
    model = shifted(model_of(EXAMPLES / "b2b_saas"))
    bounds = score_bounds(model)
    engagement = bounds["engagement"].final
    assert bounds["change"].final == engagement + -engagement


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_explain_reads_shifted_outputs_and_gives_no_gap_for_them(engine: str) -> None:
    folder = EXAMPLES / "b2b_saas"
    model = shifted(model_of(folder))
    explained = explain_leads(model, *files(folder).values(), AS_OF, engine)
    rows = {row[model.key]: row for row in python_rows(model, folder, AS_OF)}
    for explanation in explained:
        row = rows[explanation.key]
        assert {f.name: f.value for f in explanation.flags} == {
            f.name: row[f.name] for f in model.flags
        }
    rising = next(f for f in model.flags if f.name == "rising")
    assert score_gaps(rising.condition) == []  # the score a week ago cannot be moved now


def test_sql_reads_shifted_aggregates_at_the_earlier_instant() -> None:
    """Every rule reading its aggregates a week before scores, at AS_OF, what the model
    scores a week before AS_OF. (The Python evaluator refuses shifted aggregates yet.)"""
    folder = EXAMPLES / "b2b_saas"
    model = model_of(folder)

    def earlier(node: ir.Expr) -> ir.Expr:
        return dataclasses.replace(node, shift=WEEK) if isinstance(node, ir.AggregateRef) else node

    def rule(r: ir.PointsRule | ir.ResetRule) -> ir.PointsRule | ir.ResetRule:
        if isinstance(r, ir.EachRule):
            return dataclasses.replace(r, quantity=earlier(r.quantity))
        return dataclasses.replace(r, condition=ir.transform(r.condition, earlier))

    scores = tuple(
        dataclasses.replace(
            s,
            items=tuple(
                dataclasses.replace(i, rules=tuple(rule(r) for r in i.rules))
                if isinstance(i, ir.Group)
                else rule(i)
                for i in s.items
            ),
            resets=tuple(rule(r) for r in s.resets),
        )
        for s in model.scores
    )
    lagging = dataclasses.replace(model, scores=scores)
    assert build_plan(lagging).shifts == (WEEK,)
    rows = engines.score(lagging, "duckdb", as_of=AS_OF, **files(folder))
    assert rows == python_rows(model, folder, AS_OF - timedelta(days=7))
    assert rows != python_rows(model, folder, AS_OF)
    assert python_rows(lagging, folder, AS_OF) == rows
    for alone, result in python_paths(lagging, folder):
        assert alone.scores == result.scores


def test_each_step_of_a_shifted_plan_renders_as_its_own_select() -> None:
    """One view per step (the Shift steps too), then the requested instants: the whole
    query's rows."""
    folder = EXAMPLES / "advanced"
    model = shifted(model_of(folder))
    relations = step_relations(model, "duckdb", as_of=AS_OF)
    assert any(step.startswith("shifted_") for step, _ in relations)
    statements = []
    for step, relation in relations:
        name, select = select_step(model, "duckdb", step, as_of=AS_OF)
        assert name == relation
        statements.append(f'CREATE VIEW "{name}" AS {select.sql(dialect="duckdb")}')
    scores = ", ".join(f'"{c}"' for c in model.output_columns if c not in _rules(model))
    whole = select_scores(model, "duckdb", as_of=AS_OF).sql(dialect="duckdb")
    with duckdb_engine.session(
        model, **files(folder), database=None, mapping=SourceMapping()
    ) as con:
        for statement in statements:
            con.execute(statement)
        last = relations[-1][1]
        by_step = con.execute(f'SELECT {scores} FROM "{last}" WHERE "requested"').fetchall()
        expected = con.execute(f"SELECT {scores} FROM ({whole})").fetchall()
    assert sorted(by_step, key=str) == sorted(expected, key=str)
