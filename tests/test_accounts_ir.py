"""The IR of accounts: entities, outputs per entity, the two views' columns, roll-up types,
and the output graph across entities."""

from __future__ import annotations

from scorelang.compiler import ir
from scorelang.compiler.output_graph import output_graph

T = ir.Type


def _model() -> ir.Model:
    fit = ir.Score("fit", None, (ir.WhenRule("fit__r1", "x", ir.Literal(True, T.BOOL), 5),))
    intent = ir.Score(
        "intent",
        None,
        (
            ir.WhenRule(
                "intent__r1",
                "fit",
                ir.Compare(">=", ir.Rollup("sum", ir.ScoreRef("fit")), ir.Literal(10, T.INT)),
                20,
            ),
        ),
        entity=ir.ACCOUNT,
    )
    heat = ir.Tier("heat", "intent", (("hot", 10.0), ("cold", None)), entity=ir.ACCOUNT)
    engagement = ir.Score(
        "engagement",
        None,
        (
            ir.WhenRule(
                "engagement__r1",
                "hot",
                ir.Compare("==", ir.TierRef("heat"), ir.Literal("hot", T.STRING)),
                10,
            ),
        ),
    )
    return ir.Model(
        name="m",
        description=None,
        key="id",
        lead_fields=(ir.FieldType("id", T.STRING), ir.FieldType("account_id", T.STRING, True)),
        event_types=(),
        aggregates=(),
        scores=(fit, intent, engagement),
        tiers=(heat,),
        account=ir.Entity(ir.ACCOUNT, "id", (ir.FieldType("id", T.STRING),)),
        account_link="account_id",
    )


def test_entities_and_views_split_outputs_by_entity():
    model = _model()
    assert [e.name for e in model.entities] == [ir.LEAD, ir.ACCOUNT]
    assert model.score_names == ("fit", "engagement")
    assert model.output_columns == ("id", "fit", "engagement", "fit__r1", "engagement__r1")
    assert model.account_output_columns == ("id", "intent", "heat", "intent__r1")
    assert model.entity_of_output("heat") == ir.ACCOUNT
    assert model.outputs_of(ir.ACCOUNT).score_names == ("intent",)


def test_a_model_without_account_has_no_account_view():
    model = ir.Model("m", None, "id", (ir.FieldType("id", T.STRING),), (), (), ())
    assert [e.name for e in model.entities] == [ir.LEAD]
    assert model.account_output_columns == ()


def test_rollup_types_and_missingness():
    value = ir.LeadField("employees", T.INT)
    assert (ir.Rollup("sum", value).type, ir.Rollup("sum", value).may_be_missing) == (T.INT, False)
    assert (ir.Rollup("max", value).type, ir.Rollup("max", value).may_be_missing) == (T.INT, True)
    assert ir.Rollup("avg", value, top=3).type is T.NUMBER
    assert ir.Rollup("count", None).type is T.INT
    assert not ir.Rollup("count_distinct", ir.LeadField("d", T.STRING)).may_be_missing


def test_levels_interleave_entities():
    levels = output_graph(_model()).levels()
    assert [[(o.name, o.entity) for o in level] for level in levels] == [
        [("fit", ir.LEAD)],
        [("intent", ir.ACCOUNT)],
        [("heat", ir.ACCOUNT)],
        [("engagement", ir.LEAD)],
    ]
