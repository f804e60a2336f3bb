"""Write a dbt project: dbt_project.yml, models/sources.yml from the source mapping, one SQL
model per scorelang view (its sources and earlier views read through `{{ source() }}` and
`{{ ref() }}`) and models/schema.yml describing every output column with data tests.

The SQL is the SQL target's, rendered for the adapter's dialect; only the table references
are swapped for Jinja, and any other `{` text is kept out of Jinja's reach (`{% raw %}`).
The YAML is written as JSON, which is YAML, so every name and label is quoted correctly.
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
SOURCE = "scorelang"  # the dbt source holding the leads and events tables
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
) -> list[Path]:
    """Write the project under `out`; returns the files written."""
    dialect = ADAPTERS[adapter]
    (out / "models").mkdir(parents=True, exist_ok=True)
    written = [
        _write(out / "dbt_project.yml", _project(name, materialized)),
        _write(out / "models" / "sources.yml", _sources(models, mapping)),
    ]
    schema_models = []
    for model in models:
        created: list[str] = []
        for view in build_views(model, dialect, as_of=as_of, mapping=mapping):
            sql = _templated(view.query, dialect, mapping, created)
            written.append(_write(out / "models" / f"{view.name}.sql", sql))
            created.append(view.name)
        schema_models.append(_describe(model, created[-1]))
    written.append(_write(out / "models" / "schema.yml", {"version": 2, "models": schema_models}))
    return written


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
        "models": {name: {"+materialized": materialized}},
    }


def _sources(models: list[ir.Model], mapping: SourceMapping) -> dict[str, Any]:
    """The leads and events tables with the columns the models read."""
    lead_columns: dict[str, str] = {}
    event_columns = {
        mapping.event_lead: "the lead's key",
        mapping.event_type: "the event type",
        mapping.event_time: "when the event happened",
    }
    for model in models:
        for field in model.lead_fields:
            lead_columns.setdefault(mapping.column(field.name), f"lead field {field.name}")
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
    return {"version": 2, "sources": [source]}


def _columns(described: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "description": text} for name, text in described.items()]


def _templated(query: exp.Expression, dialect: str, mapping: SourceMapping, created: list[str]):
    """The query's SQL with `{{ source() }}` / `{{ ref() }}` for its tables."""
    query = query.copy()
    jinja: list[str] = []
    sources = {mapping.leads_table, mapping.events_table}
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


def _describe(model: ir.Model, view: str) -> dict[str, Any]:
    """The view's columns: descriptions from the model, and dbt data tests."""
    columns: list[dict[str, Any]] = [
        {
            "name": model.key,
            "description": "the lead's key",
            "data_tests": ["unique", "not_null"],
        }
    ]
    for score in model.scores:
        columns.append({"name": score.name, "description": score.description or "a score"})
    for composite in model.composites:
        columns.append(
            {"name": composite.name, "description": composite.description or "a composite score"}
        )
    for tier in (*model.tiers, *model.percentile_tiers):
        columns.append(_tier(tier.name, f"tier of {tier.source}", [b for b, _ in tier.bands]))
    for matrix in model.matrices:
        cells = [
            f"{chr(ord('A') + r)}{c + 1}"
            for r in range(len(matrix.row_labels))
            for c in range(len(matrix.column_labels))
        ]
        columns.append(_tier(matrix.name, f"{matrix.rows} x {matrix.columns} grid", cells))
    for flag in model.flags:
        columns.append({"name": flag.name, "description": f"flag {flag.name}"})
    for score in model.scores:
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
