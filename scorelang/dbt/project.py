"""Write a dbt project: dbt_project.yml, models/sources.yml from the source mapping, one SQL
model per scorelang view (its sources and earlier views read through `{{ source() }}` and
`{{ ref() }}`), models/schema.yml describing every output column with data tests,
models/unit_tests.yml from the models' test blocks, and the `scorelang_as_of()` macro.

The SQL is the SQL target's for "now", rendered for the adapter's dialect; only the table
references and the current time are swapped for Jinja (`scorelang_as_of()`: the var
`scorelang_as_of` when set, else the pinned `--as-of`, else CURRENT_TIMESTAMP), and any other
`{` text is kept out of Jinja's reach (`{% raw %}`). The YAML is written as JSON, which is
YAML, so every name and label is quoted correctly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from ..compiler import ir
from ..config import SourceMapping
from ..targets.sql import build_views
from .unit_tests import AS_OF_VAR, Skipped, unit_tests

# dbt adapter -> scorelang SQL dialect
ADAPTERS = {
    "duckdb": "duckdb",
    "postgres": "postgres",
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "spark": "spark",
    "databricks": "spark",
}
MATERIALIZATIONS = ("view", "table")
# An incremental model would add each build's scores to the earlier ones: it waits for
# scorelang's score history, which does not exist yet.
NO_INCREMENTAL = (
    "incremental materialization needs scorelang's score history (each lead's scores over "
    "time), which does not exist yet: use table (a snapshot per build, --as-of for a backfill) "
    "or view"
)
SOURCE = "scorelang"  # the dbt source holding the leads and events tables
AS_OF_MACRO = "scorelang_as_of"
_PLACEHOLDER = "__scorelang_jinja_{}__"
_JINJA_OPEN = re.compile(r"\{[{%#]")


def write_project(
    models: list[ir.Model],
    out: Path,
    *,
    adapter: str,
    mapping: SourceMapping,
    materialized: str = "view",
    name: str = "scorelang_scores",
    as_of: datetime | None = None,
) -> tuple[list[Path], list[Skipped]]:
    """Write the project under `out`; returns the files written and the test blocks that
    are not unit tests."""
    if materialized not in MATERIALIZATIONS:
        raise ValueError(NO_INCREMENTAL if materialized == "incremental" else materialized)
    dialect = ADAPTERS[adapter]
    for folder in ("models", "macros"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    written = [
        _write(out / "dbt_project.yml", _project(name, materialized)),
        _write(out / "macros" / f"{AS_OF_MACRO}.sql", _as_of_macro(dialect, as_of)),
        _write(out / "models" / "sources.yml", _sources(models, mapping)),
    ]
    schema_models, tests, skipped = [], [], []
    for model in models:
        created: list[str] = []
        read: set[str] = set()  # source tables the lead view reads
        for view, entity in zip(
            build_views(model, dialect, mapping=mapping), model.entities, strict=True
        ):
            sql = _templated(view.query, dialect, mapping, created)
            written.append(_write(out / "models" / f"{view.name}.sql", sql))
            created.append(view.name)
            schema_models.append(_describe(model, view.name, entity.name))
            read = read or {t.name for t in view.query.find_all(exp.Table)}
        accounts = mapping.entity(ir.ACCOUNT).table if model.account is not None else None
        model_tests, model_skipped = unit_tests(
            model, created[0], mapping, SOURCE, accounts if accounts in read else None
        )
        tests += model_tests
        skipped += model_skipped
    written.append(_write(out / "models" / "schema.yml", {"version": 2, "models": schema_models}))
    if tests:
        properties = {"version": 2, "unit_tests": tests}
        written.append(_write(out / "models" / "unit_tests.yml", properties))
    return written, skipped


def _write(path: Path, content: str | dict[str, Any]) -> Path:
    text = content if isinstance(content, str) else json.dumps(content, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def _project(name: str, materialized: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": "1.0.0",
        "config-version": 2,
        "profile": name,
        "model-paths": ["models"],
        "macro-paths": ["macros"],
        "models": {name: {"+materialized": materialized}},
    }


def _as_of_macro(dialect: str, pinned: datetime | None) -> str:
    """`scorelang_as_of()`: the instant the models score at, in the dialect's type of
    CURRENT_TIMESTAMP; the var is ISO 8601 text (no offset means UTC), checked by parsing."""
    now = exp.CurrentTimestamp().sql(dialect=dialect)
    cast = exp.cast(exp.Literal.string("INSTANT"), exp.DataType.build("TIMESTAMPTZ"))
    literal = cast.sql(dialect=dialect).replace("INSTANT", "{{ instant.isoformat(sep=' ') }}")
    default = json.dumps(pinned.isoformat()) if pinned else "none"
    return f"""{{#- Generated by scorelang dbt: the instant the scores are computed at. Set the var
    {AS_OF_VAR} (e.g. dbt build --vars '{{{AS_OF_VAR}: "2026-01-01T00:00:00Z"}}') to
    score at another instant; unit tests set it to each test block's instant. -#}}
{{% macro {AS_OF_MACRO}() -%}}
{{%- set given = var({AS_OF_VAR!r}, {default}) -%}}
{{%- if given is none -%}}
{now}
{{%- else -%}}
{{%- set utc = modules.pytz.utc -%}}
{{%- set instant = modules.datetime.datetime.fromisoformat(given | string | replace("Z", "+00:00")) -%}}
{{%- if instant.tzinfo is none -%}}{{%- set instant = instant.replace(tzinfo=utc) -%}}{{%- endif -%}}
{{%- set instant = instant.astimezone(utc) -%}}
{literal}
{{%- endif -%}}
{{%- endmacro %}}
"""


def _sources(models: list[ir.Model], mapping: SourceMapping) -> dict[str, Any]:
    """The leads and events tables with the columns the models read."""
    lead_columns: dict[str, str] = {}
    event_columns = {
        mapping.event_lead: "the lead's key",
        mapping.event_type: "the event type",
        mapping.event_time: "when the event happened",
    }
    account_columns: dict[str, str] = {}
    for model in models:
        for field in model.lead_fields:
            lead_columns.setdefault(mapping.column(field.name), f"lead field {field.name}")
        for field in model.account.fields if model.account else ():
            column = mapping.entity_column(ir.ACCOUNT, field.name)
            account_columns.setdefault(column, f"account field {field.name}")
        for event_type in model.event_types:
            for prop in event_type.properties:
                event_columns.setdefault(mapping.column(prop.name), f"event property {prop.name}")
    parts = mapping.schema_parts
    # Without a schema in scorelang.toml, the tables are in the profile's (dbt would
    # otherwise read a schema named after the source).
    source: dict[str, Any] = {
        "name": SOURCE,
        "schema": parts[-1] if parts else "{{ target.schema }}",
    }
    if len(parts) > 1:
        source["database"] = parts[-2]
    source["tables"] = [
        {"name": mapping.leads_table, "columns": _columns(lead_columns)},
        {"name": mapping.events_table, "columns": _columns(event_columns)},
    ]
    if account_columns:
        table = mapping.entity(ir.ACCOUNT).table
        source["tables"].append({"name": table, "columns": _columns(account_columns)})
    return {"version": 2, "sources": [source]}


def _columns(described: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "description": text} for name, text in described.items()]


def _templated(query: exp.Expression, dialect: str, mapping: SourceMapping, created: list[str]):
    """The query's SQL with `{{ source() }}` / `{{ ref() }}` for its tables and
    `{{ scorelang_as_of() }}` for the current time."""
    query = query.copy()
    jinja: list[str] = []
    for now in list(query.find_all(exp.CurrentTimestamp)):
        now.replace(exp.column(exp.to_identifier(_PLACEHOLDER.format(len(jinja)))))
        jinja.append(f"{{{{ {AS_OF_MACRO}() }}}}")
    sources = {mapping.leads_table, mapping.events_table, mapping.entity(ir.ACCOUNT).table}
    for table in query.find_all(exp.Table):
        if table.name in created and not table.args.get("db"):
            call = f"{{{{ ref({json.dumps(table.name)}) }}}}"
        elif table.name in sources and tuple(p.name for p in table.parts[:-1]) == (
            mapping.schema_parts
        ):
            call = f"{{{{ source({json.dumps(SOURCE)}, {json.dumps(table.name)}) }}}}"
        else:
            continue
        table.set("this", exp.to_identifier(_PLACEHOLDER.format(len(jinja))))
        table.set("db", None)
        table.set("catalog", None)
        jinja.append(call)
    text = query.sql(dialect=dialect, pretty=True)
    chunks = re.split(r"__scorelang_jinja_(\d+)__", text)
    out = []
    for i, chunk in enumerate(chunks):
        if i % 2:
            out.append(jinja[int(chunk)])
        elif _JINJA_OPEN.search(chunk):
            out.append("{% raw %}" + chunk + "{% endraw %}")
        else:
            out.append(chunk)
    return "".join(out) + "\n"


def _describe(model: ir.Model, view: str, entity: str = ir.LEAD) -> dict[str, Any]:
    """The view of one entity's outputs: its columns' descriptions from the model, and dbt
    data tests."""
    outputs = model.outputs_of(entity)
    columns: list[dict[str, Any]] = [
        {
            "name": model.entity(entity).key,
            "description": f"the {entity}'s key",
            "data_tests": ["unique", "not_null"],
        }
    ]
    for score in outputs.scores:
        columns.append({"name": score.name, "description": score.description or "a score"})
    for composite in outputs.composites:
        columns.append(
            {"name": composite.name, "description": composite.description or "a composite score"}
        )
    for tier in (*outputs.tiers, *outputs.percentile_tiers):
        columns.append(_tier(tier.name, f"tier of {tier.source}", [b for b, _ in tier.bands]))
    for matrix in outputs.matrices:
        cells = [
            f"{chr(ord('A') + r)}{c + 1}"
            for r in range(len(matrix.row_labels))
            for c in range(len(matrix.column_labels))
        ]
        columns.append(_tier(matrix.name, f"{matrix.rows} x {matrix.columns} grid", cells))
    for flag in outputs.flags:
        columns.append({"name": flag.name, "description": f"flag {flag.name}"})
    for score in outputs.scores:
        for rule in score.rules:
            kind = "reset" if isinstance(rule, ir.ResetRule) else "points"
            columns.append({"name": rule.id, "description": f"{score.name}: {rule.label} ({kind})"})
    return {
        "name": view,
        "description": " ".join((model.description or model.name).split()),
        "columns": columns,
    }


def _tier(name: str, description: str, values: Iterable[str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "data_tests": [{"accepted_values": {"values": list(values)}}],
    }
