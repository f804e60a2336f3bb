"""How the SQL names the relations it reads: an entity's or the events' source table, or a
view of the model. The builder asks a `Relations` for each name instead of spelling it, so a
dbt project can name them `{{ source() }}` / `{{ ref() }}` instead of schema-qualified tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlglot import exp

from ...compiler.sources import SourceMapping
from .names import ident


def qualified_table(
    table: str | None, schema: tuple[str, ...], alias: str | None = None
) -> exp.Table:
    """`[catalog.][schema.]table`, every part a quoted identifier (no table: the schema)."""
    parts = [ident(p) for p in schema]
    return exp.Table(
        this=ident(table) if table else None,
        db=parts[-1] if parts else None,
        catalog=parts[-2] if len(parts) > 1 else None,
        alias=exp.TableAlias(this=ident(alias)) if alias else None,
    )


class Relations(Protocol):
    """Names the relations a query reads."""

    def source(self, table: str, alias: str | None = None) -> exp.Table:
        """A source table (an entity's or the events') as the mapping names it."""
        ...

    def view(self, name: str, alias: str | None = None) -> exp.Table:
        """Another view of the model (`<model>_scores`, later one per plan step)."""
        ...


@dataclass(frozen=True)
class SchemaRelations:
    """The default: source tables in the mapping's schema, views in `views_schema`."""

    mapping: SourceMapping
    views_schema: tuple[str, ...] = ()

    def source(self, table: str, alias: str | None = None) -> exp.Table:
        return qualified_table(table, self.mapping.schema_parts, alias)

    def view(self, name: str, alias: str | None = None) -> exp.Table:
        return qualified_table(name, self.views_schema, alias)
