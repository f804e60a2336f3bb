"""Deployable DDL: CREATE OR REPLACE VIEW for each view, laid out by a Jinja2 template.

The template only frames the file (header comments, statement separators); every
statement is a sqlglot tree rendered for the target.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

import jinja2
from sqlglot import exp

from ...compiler import ir
from ...compiler.sources import DEFAULT_SOURCES, SourceMapping, schema_parts
from .builder import View, build_views, target_of, views_schema
from .names import as_written
from .relations import Relations, SchemaRelations

TEMPLATE = "sql_views.sql.j2"


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("scorelang.targets", "templates"),
        keep_trailing_newline=True,
        trim_blocks=True,
        autoescape=False,  # SQL, not HTML; every name and literal is quoted by sqlglot
    )
    return environment.get_template(TEMPLATE)


def render_ddl(
    model: ir.Model,
    dialect: str,
    *,
    as_of: datetime | None = None,
    mapping: SourceMapping = DEFAULT_SOURCES,
    schema: str | None = None,
) -> str:
    """One file creating the model's views (in `schema` when given), pretty-printed."""
    relations = placed_relations(dialect, mapping, schema)
    views = build_views(model, dialect, as_of=as_of, mapping=mapping, relations=relations)
    when = (
        as_of.isoformat()
        if as_of
        else "the current time when the view is queried (CURRENT_TIMESTAMP, UTC)"
    )
    return render_views(model, dialect, views, relations, mapping, when)


def placed_relations(dialect: str, mapping: SourceMapping, schema: str | None) -> Relations:
    """Names for views created in `schema` (BigQuery: else the sources' dataset)."""
    placed = views_schema(dialect, mapping, schema)
    return SchemaRelations(mapping, schema_parts(placed) if placed is not None else ())


def render_views(
    model: ir.Model,
    dialect: str,
    views: list[View],
    relations: Relations,
    mapping: SourceMapping,
    as_of: str,
) -> str:
    """CREATE OR REPLACE VIEW for each view, in order, framed by the template; `as_of` says
    in the header which instants the views evaluate."""
    target = target_of(dialect, mapping)
    statements = [
        as_written(
            exp.Create(
                kind="VIEW",
                replace=True,
                this=relations.view(view.name),
                expression=view.query,
            ),
            target,
        ).sql(dialect=dialect, pretty=True)
        for view in views
    ]
    lead = mapping.entity(ir.LEAD)
    return _template().render(
        model_name=model.name,
        description=" ".join((model.description or "").split()),
        dialect=dialect,
        as_of=as_of,
        leads=".".join((*mapping.schema_parts, lead.table)),
        events=".".join((*mapping.schema_parts, mapping.events_table)),
        statements=statements,
    )
