"""CREATE VIEW statements for `apply`: the builder's views, placed in a schema if asked."""

from __future__ import annotations

import dataclasses

from sqlglot import exp

from ..compiler import ir
from ..config import SourceMapping
from ..data import DataError, table
from ..targets.sql import build_views
from ..targets.sql.builder import target_of, views_schema
from ..targets.sql.names import as_written, column


def create_views(
    model: ir.Model, dialect: str, mapping: SourceMapping, schema: str | None
) -> list[tuple[str, str]]:
    """(qualified view name, SQL) per view, in dependency order. A view that reads an earlier
    one is pointed at it in `schema`, so nothing depends on the session's search path."""
    statements: list[tuple[str, str]] = []
    created: set[str] = set()
    views = build_views(model, dialect, as_of=None, mapping=mapping)
    schema = views_schema(dialect, mapping, schema)
    target = target_of(dialect, mapping)
    for view in views:
        query = view.query.copy()
        if schema:
            for source in query.find_all(exp.Table):
                if source.name in created and not source.args.get("db"):
                    qualified = table(source.name, schema)
                    source.set("db", qualified.args.get("db"))
                    source.set("catalog", qualified.args.get("catalog"))
        name = table(view.name, schema)
        create = exp.Create(this=name, kind="VIEW", replace=True, expression=query)
        as_written(create, target)  # `name` too: it is part of `create`
        statements.append((name.sql(dialect=dialect), create.sql(dialect=dialect)))
        created.add(view.name)
    return statements


def event_time_probe(mapping: SourceMapping, dialect: str) -> str:
    """A query with no rows and one column, the events' time: the cursor tells its type."""
    source = table(mapping.events_table, mapping.schema)
    return exp.select(column(mapping.event_time)).from_(source).limit(0).sql(dialect=dialect)


def knowing_event_time(mapping: SourceMapping, zoned: bool | None) -> SourceMapping:
    """The mapping with the event-time column's type read from the database (`zoned` None: not
    a timestamp, or not readable, and the mapping is left as it is): a view for "now" can then
    bound its windows by instants. A declared type the database contradicts is an error."""
    if zoned is None:
        return mapping
    if mapping.event_time_zoned not in (None, zoned):
        where = ".".join((*mapping.schema_parts, mapping.events_table, mapping.event_time))
        raise DataError(
            f"scorelang.toml declares event_time_zoned = {str(not zoned).lower()}, but {where} "
            f"is a timestamp {'with' if zoned else 'without'} time zone in the database"
        )
    return dataclasses.replace(mapping, event_time_zoned=zoned)
