"""Names across entities: account fields (bare inside account outputs, `account.x` from a
lead), `leads` outside a roll-up, and fields or outputs of one entity named where the
other's expressions are checked.

Account fields are a namespace of their own (an account and its leads both have an `id`, a
`name`, an `industry`), looked up before the shared one inside account outputs; outputs
stay one namespace across entities, each output belonging to the entity it was declared
for.
"""

from __future__ import annotations

import dataclasses

from . import ast, ir
from .checked import OUTPUT_KINDS, ROLLUP, Checked, ExprChecker, Scope, Value
from .suggest import did_you_mean
from .symbols import KIND_WORDS, Symbol

QUALIFIERS = ("account", "leads")
NOT_MINE = object()  # bare() leaves the name to the shared namespace


def bare(checker: ExprChecker, node: ast.Name, scope: Scope) -> object:
    """A bare name this module resolves (`leads`, an account field inside an account
    output), or NOT_MINE for the shared namespace."""
    if node.name == "leads":
        leads_outside(checker, node, scope)
        return None
    if scope.entity != ir.ACCOUNT or scope.props is not None:
        return NOT_MINE
    typed = checker.symbols.account_field(node.name)
    if typed is None:
        return NOT_MINE
    if not scope.lead:
        checker.not_here("account fields", node, scope)
        return None
    return Value(ir.AccountField(typed.name, typed.type), typed.type)


def leads_outside(checker: ExprChecker, node: ast.Node, scope: Scope) -> None:
    if scope.entity == ir.ACCOUNT and not scope.expect:
        message = "an account reads its leads through a roll-up"
    else:
        message = "`leads` is only read inside an account output's roll-ups"
    checker.error(
        "E432",
        message,
        node,
        "e.g. `count(leads where mql)`, `sum(leads.fit)`, `avg(top 3 leads.engagement)`",
    )


def same_entity(checker: ExprChecker, symbol: Symbol, node: ast.Node, scope: Scope) -> bool:
    """Whether an output, lead field or segment may be named bare here: each entity's
    expressions name their own; the other's are reached through `account.` or a roll-up."""
    kind, name = symbol.kind, symbol.name
    if kind in OUTPUT_KINDS and symbol.entity == scope.entity:
        return True
    if kind not in OUTPUT_KINDS and (kind not in ("field", "segment") or scope.entity == ir.LEAD):
        return True
    if scope.expect:
        checker.error(
            "E440",
            f"`{name}` is {'an account' if symbol.entity == ir.ACCOUNT else 'a lead'} output",
            node,
            f"write `expect account {name} ...`"
            if symbol.entity == ir.ACCOUNT
            else f'write `expect lead "<key>" {name} ...` (or `expect {name} ...` in a lead test)',
        )
    elif scope.entity == ir.LEAD:
        checker.error(
            "E433",
            f"`{name}` is an account output; a lead reads its account's as `account.{name}`",
            node,
        )
    else:
        example = (
            f"sum(leads.{name})"
            if kind in ("score", "composite")
            else f"count(leads where {name} ...)"
        )
        checker.error(
            "E433",
            f"`{name}` is a lead {KIND_WORDS[kind]}; an account reads its leads' through a roll-up",
            node,
            f"e.g. `{example}`",
        )
    return False


def lead_field_here(checker: ExprChecker, node: ast.QualifiedName, scope: Scope) -> bool:
    if scope.entity == ir.LEAD:
        return True
    checker.error(
        "E433",
        f"`lead.{node.name}` inside an account output; an account reads its leads through a roll-up",
        node,
        f"e.g. `count(leads where {node.name} ...)`",
    )
    return False


def qualified(checker: ExprChecker, node: ast.QualifiedName, scope: Scope) -> Checked:
    """`account.x` (the lead's account's field or output) and `leads.x` outside a roll-up."""
    if node.qualifier == "leads":
        leads_outside(checker, node, scope)
        return None
    symbols = checker.symbols
    if symbols.account is None:
        checker.error(
            "E437",
            f"`account.{node.name}` needs an `account {{ ... }}` declaration",
            node,
            "declare the account's fields, one marked `key`, and mark the lead's link field `account`",
        )
        return None
    if scope.props is not None:
        checker.error(
            "E309",
            f"`account.{node.name}` is not an event property; only those are used after `where`",
            node,
            "move the account condition out of the event set, joined with `and`",
        )
        return None
    if scope.entity == ir.ACCOUNT or scope.context == ROLLUP.context:
        checker.error(
            "E433",
            "inside an account output, the account's own fields and outputs are named bare,"
            " outside its roll-ups",
            node,
            f"write `{node.name}`",
        )
        return None
    if scope.expect:
        checker.error(
            "E440",
            "an expectation reads one entity's outputs",
            node,
            f"write `expect account {node.name} ...`",
        )
        return None
    symbol = symbols.names.get(node.name)
    is_output = symbol is not None and symbol.kind in OUTPUT_KINDS and symbol.entity == ir.ACCOUNT
    if symbols.account_field(node.name) is None and not is_output:
        outputs = [s.name for s in symbols.of_kind(*OUTPUT_KINDS) if s.entity == ir.ACCOUNT]
        fields = [f.name for f in symbols.account_fields]
        checker.error(
            "E430",
            f"the account has no field or output `{node.name}`",
            node,
            did_you_mean(node.name, [*fields, *outputs]),
        )
        return None
    name_span = dataclasses.replace(
        node.span,
        line=node.span.end_line,
        column=node.span.end_column - len(node.name),
        start=node.span.end - len(node.name),
    )
    # A lead's score rules name no outputs of the lead, but may read its account's.
    account_scope = dataclasses.replace(scope.of_account(), outputs=scope.outputs or OUTPUT_KINDS)
    return checker.check(ast.Name(node.name, span=name_span), account_scope)
