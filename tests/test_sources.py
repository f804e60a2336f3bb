"""Source mappings per entity: `[sources.entities.lead]` and the older `leads_table` /
`event_lead` keys name the same thing, and both keep working."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from scorelang.compiler import ir
from scorelang.compiler.frontend import compile_file
from scorelang.targets.sql import render_ddl
from scorelang.targets.sql.builder import select_scores
from scorelang.targets.sql.relations import qualified_table
from sqlglot import exp

from scorelang.columns import check_mapping
from scorelang.config import (
    ConfigError,
    EntitySource,
    SourceMapping,
    load_config,
    with_source_schema,
)

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "b2b_saas" / "model.score"


def config(tmp_path: Path, text: str) -> SourceMapping:
    path = tmp_path / "scorelang.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path).sources


def test_the_older_keys_are_the_lead_entitys_source(tmp_path: Path) -> None:
    mapping = config(tmp_path, '[sources]\nleads_table = "crm"\nevent_lead = "contact"\n')
    assert mapping.entity(ir.LEAD) == EntitySource("crm", "contact")


def test_an_entity_table_sets_the_lead_source(tmp_path: Path) -> None:
    mapping = config(tmp_path, '[sources.entities.lead]\ntable = "crm"\nevent_key = "contact"\n')
    assert mapping.entity(ir.LEAD) == EntitySource("crm", "contact")
    assert (mapping.leads_table, mapping.event_lead) == ("crm", "contact")
    model = compile_file(MODEL).model
    assert model is not None
    sql = render_ddl(model, "duckdb", mapping=mapping)
    assert 'FROM "crm" AS "l"' in sql and '"e"."contact"' in sql


def test_the_lead_entity_may_repeat_the_older_keys_but_not_contradict_them(
    tmp_path: Path,
) -> None:
    same = '[sources]\nleads_table = "crm"\n[sources.entities.lead]\ntable = "crm"\n'
    assert config(tmp_path, same).leads_table == "crm"
    other = '[sources]\nleads_table = "crm"\n[sources.entities.lead]\ntable = "people"\n'
    with pytest.raises(ConfigError, match=r"leads_table = 'crm' contradicts entities\.lead"):
        config(tmp_path, other)


def test_entity_tables_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"entities\.lead needs a `table`"):
        config(tmp_path, '[sources.entities.lead]\nevent_key = "x"\n')
    with pytest.raises(ConfigError, match="takes `table` and `event_key`"):
        config(tmp_path, '[sources.entities.lead]\ntable = "crm"\nkey = "x"\n')
    with pytest.raises(ConfigError, match=r"not 'columns' \(the lead's columns are mapped under"):
        config(
            tmp_path, '[sources.entities.lead]\ntable = "crm"\n[sources.entities.lead.columns]\n'
        )
    with pytest.raises(ConfigError, match="not a valid identifier"):
        config(tmp_path, '[sources.entities.lead]\ntable = "drop table"\n')


def test_an_entity_the_model_does_not_declare_is_an_error(tmp_path: Path) -> None:
    mapping = config(tmp_path, '[sources.entities.leads]\ntable = "crm"\n')
    model = compile_file(MODEL).model
    assert model is not None
    with pytest.raises(ConfigError, match=r"entities.leads\] names an entity .*did you mean"):
        check_mapping(model, mapping)
    assert mapping.entity("account") == EntitySource("accounts")  # the default table


def test_a_changed_copy_keeps_the_entity_sources(tmp_path: Path) -> None:
    """The CLI copies the mapping (`--strict`, `--source-schema`): the lead's source stays,
    and a new leads_table may replace it."""
    mapping = config(tmp_path, '[sources.entities.lead]\ntable = "crm"\n')
    assert replace(mapping, strict=True).entity(ir.LEAD) == EntitySource("crm", "lead_id")
    assert with_source_schema(mapping, "raw").entity(ir.LEAD).table == "crm"
    assert replace(mapping, leads_table="people").entity(ir.LEAD).table == "people"


def test_the_builder_names_its_source_tables_through_relations() -> None:
    """The relations hook (targets/sql/relations.py): a query built with other names for
    its source tables reads those tables, and scores as the default names do."""

    @dataclass(frozen=True)
    class Renamed:
        def source(self, table: str, alias: str | None = None) -> exp.Table:
            return qualified_table(f"crm_{table}", ("staging",), alias)

        def view(self, name: str, alias: str | None = None) -> exp.Table:
            return qualified_table(name, (), alias)

    folder = MODEL.parent
    model = compile_file(MODEL).model
    as_of = datetime(2025, 6, 1, tzinfo=UTC)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging")
    for table in ("leads", "events"):
        csv = str(folder / f"{table}.csv")
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv_auto('{csv}')")
        con.execute(f"CREATE TABLE staging.crm_{table} AS SELECT * FROM {table}")
    renamed = select_scores(model, "duckdb", as_of=as_of, relations=Renamed()).sql("duckdb")
    assert '"staging"."crm_events"' in renamed and '"staging"."crm_leads"' in renamed
    default = select_scores(model, "duckdb", as_of=as_of).sql("duckdb")
    assert con.execute(renamed).fetchall() == con.execute(default).fetchall()
