"""Column and CTE names: the outputs keep the model's names; internal names never collide.

Lead fields, aggregates and internal columns share one namespace with the outputs as the
query flows through its CTEs, so each internal name is checked against everything already
taken (ignoring case where the target folds it) and against the target's length limit.
"""

from __future__ import annotations

import re
from typing import TypeVar

from sqlglot import exp

from .dialects import Dialect
from .errors import UnsupportedConstruct

Tree = TypeVar("Tree", bound=exp.Expression)

# Snowflake's reserved keywords (docs.snowflake.com, "Reserved & limited keywords"): as a
# name, each must be quoted.
SNOWFLAKE_RESERVED = frozenset(
    [
        "ACCOUNT",
        "ALL",
        "ALTER",
        "AND",
        "ANY",
        "AS",
        "ASOF",
        "BETWEEN",
        "BY",
        "CASE",
        "CAST",
        "CHECK",
        "COLUMN",
        "CONNECT",
        "CONNECTION",
        "CONSTRAINT",
        "CREATE",
        "CROSS",
        "CURRENT",
        "CURRENT_DATE",
        "CURRENT_TIME",
        "CURRENT_TIMESTAMP",
        "CURRENT_USER",
        "DATABASE",
        "DELETE",
        "DISTINCT",
        "DROP",
        "ELSE",
        "EXISTS",
        "FALSE",
        "FOLLOWING",
        "FOR",
        "FROM",
        "FULL",
        "GRANT",
        "GROUP",
        "GSCLUSTER",
        "HAVING",
        "ILIKE",
        "IN",
        "INCREMENT",
        "INNER",
        "INSERT",
        "INTERSECT",
        "INTO",
        "IS",
        "ISSUE",
        "JOIN",
        "LATERAL",
        "LEFT",
        "LIKE",
        "LOCALTIME",
        "LOCALTIMESTAMP",
        "MATCH_CONDITION",
        "MINUS",
        "NATURAL",
        "NOT",
        "NULL",
        "OF",
        "ON",
        "OR",
        "ORDER",
        "ORGANIZATION",
        "QUALIFY",
        "REGEXP",
        "REVOKE",
        "RIGHT",
        "RLIKE",
        "ROW",
        "ROWS",
        "SAMPLE",
        "SCHEMA",
        "SELECT",
        "SET",
        "SOME",
        "START",
        "TABLE",
        "TABLESAMPLE",
        "THEN",
        "TO",
        "TRIGGER",
        "TRUE",
        "TRY_CAST",
        "UNION",
        "UNIQUE",
        "UPDATE",
        "USING",
        "VALUES",
        "VIEW",
        "WHEN",
        "WHENEVER",
        "WHERE",
        "WITH",
    ]
)
# What Snowflake accepts unquoted (and stores upper-cased); `$` is allowed after the start.
_UNQUOTED = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def unquoted_ok(name: str) -> bool:
    """Whether Snowflake resolves `name` written without quotes (as NAME, upper-cased)."""
    return bool(_UNQUOTED.fullmatch(name)) and name.upper() not in SNOWFLAKE_RESERVED


def as_written(tree: Tree, dialect: Dialect) -> Tree:
    """`tree` with names spelled as the target's users write them: where the target does not
    quote every name, a name valid unquoted is unquoted, so that it resolves like the user's
    own DDL and readers need no quotes (Snowflake: stored upper-case). Unique ignoring case:
    Names allocates every name that way for such a target."""
    if dialect.quotes_every_name:
        return tree
    for identifier in tree.find_all(exp.Identifier):
        if identifier.quoted and unquoted_ok(identifier.name):
            identifier.set("quoted", False)
    return tree


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def column(name: str, table: str | None = None) -> exp.Column:
    return exp.column(ident(name), table=ident(table) if table else None)


class Names:
    """Allocates unique names; the outputs are reserved first, exactly as the model names them."""

    def __init__(
        self, dialect: Dialect, outputs: tuple[str, ...] = (), reserved: tuple[str, ...] = ()
    ):
        self.dialect = dialect
        self._taken: set[str] = {self._key(name) for name in reserved}
        for name in outputs:
            self._reserve_output(name)

    def _key(self, name: str) -> str:
        return name.lower() if self.dialect.folds_identifier_case else name

    def _reserve_output(self, name: str) -> None:
        if len(name.encode()) > self.dialect.max_identifier:
            raise UnsupportedConstruct(
                "E502",
                f"the output column `{name}` ({len(name.encode())} bytes, the limit is {self.dialect.max_identifier})",
                self.dialect.name,
                hint="give the rule a shorter label, or rename the output",
            )
        if self._key(name) in self._taken:
            raise UnsupportedConstruct(
                "E502",
                f"the output column `{name}` (another output has the same name ignoring case)",
                self.dialect.name,
                hint="rename one of them: this target does not distinguish identifiers by case",
            )
        self._taken.add(self._key(name))

    def fresh(self, prefix: str, name: str = "") -> str:
        """`prefix_name`, or with a number appended until it is new and short enough."""
        base = f"{prefix}_{name}" if name else prefix
        if len(base.encode()) > self.dialect.max_identifier - 8:
            base = prefix
        candidate, n = base, 1
        while self._key(candidate) in self._taken:
            n += 1
            candidate = f"{base}_{n}"
        self._taken.add(self._key(candidate))
        return candidate
