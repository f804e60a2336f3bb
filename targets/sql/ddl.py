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
from ...config import DEFAULT_SOURCES, SourceMapping, schema_parts
from .aggregates import qualified_table
from .builder import build_views, target_of, views_schema
from .names import as_written

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
    views = build_views(model, dialect, as_of=as_of, mapping=mapping)
    placed = views_schema(dialect, mapping, schema)
    parts = schema_parts(placed) if placed is not None else ()
    target = target_of(dialect, mapping)
    statements = [
        as_written(
            exp.Create(
                kind="VIEW",
                replace=True,
                this=qualified_table(view.name, parts),
                expression=view.query,
            ),
            target,
        ).sql(dialect=dialect, pretty=True)
        for view in views
    ]
    qualified = ".".join(mapping.schema_parts)
    return _template().render(
        model_name=model.name,
        description=" ".join((model.description or "").split()),
        dialect=dialect,
        as_of=as_of.isoformat()
        if as_of
        else "the current time when the view is queried (CURRENT_TIMESTAMP, UTC)",
        leads=f"{qualified}.{mapping.leads_table}" if qualified else mapping.leads_table,
        events=f"{qualified}.{mapping.events_table}" if qualified else mapping.events_table,
        statements=statements,
    )
