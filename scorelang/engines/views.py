"""CREATE VIEW statements for `apply`: the builder's views, placed in a schema if asked."""

from __future__ import annotations

from sqlglot import exp

from ..compiler import ir
from ..config import SourceMapping
from ..data import table
from ..targets.sql import build_views


def create_views(
    model: ir.Model, dialect: str, mapping: SourceMapping, schema: str | None
) -> list[tuple[str, str]]:
    """(qualified view name, SQL) per view, in dependency order. A view that reads an earlier
    one is pointed at it in `schema`, so nothing depends on the session's search path."""
    statements: list[tuple[str, str]] = []
    created: set[str] = set()
    for view in build_views(model, dialect, as_of=None, mapping=mapping):
        query = view.query.copy()
        if schema:
            for source in query.find_all(exp.Table):
                if source.name in created and not source.args.get("db"):
                    qualified = table(source.name, schema)
                    source.set("db", qualified.args.get("db"))
                    source.set("catalog", qualified.args.get("catalog"))
        name = table(view.name, schema)
        create = exp.Create(this=name, kind="VIEW", replace=True, expression=query)
        statements.append((name.sql(dialect=dialect), create.sql(dialect=dialect)))
        created.add(view.name)
    return statements
