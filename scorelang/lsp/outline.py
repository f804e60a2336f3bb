"""The document outline: model, lead and events, consts, segments, scores with their rules,
tiers with their bands, matrices, flags and tests."""

from __future__ import annotations

from lsprotocol import types

from ..compiler import ast
from ..compiler.fmt import rule_text
from .convert import to_range

K = types.SymbolKind


def outline(module: ast.Module) -> list[types.DocumentSymbol]:
    return [s for s in map(_decl, module.decls) if s is not None]


def _symbol(
    name: str,
    kind: K,
    node: ast.Node,
    selection: ast.Node | None = None,
    detail: str | None = None,
    children: list[types.DocumentSymbol] | None = None,
) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=name or "?",
        kind=kind,
        range=to_range(node.span),
        selection_range=to_range((selection or node).span),
        detail=detail,
        children=children or None,
    )


def _decl(decl: ast.Decl) -> types.DocumentSymbol | None:
    match decl:
        case ast.ModelDecl():
            return _symbol(decl.name.text, K.Module, decl, decl.name, decl.description)
        case ast.ImportDecl():
            return _symbol(f"import {decl.path.value}", K.File, decl)
        case ast.LeadDecl():
            fields = [_field(f, K.Field) for f in decl.fields]
            return _symbol("lead", K.Struct, decl, children=fields)
        case ast.EventDecl():
            props = [_field(p, K.Property) for p in decl.properties]
            return _symbol(decl.name.text, K.Event, decl, decl.name, "event", props)
        case ast.ConstDecl():
            return _symbol(decl.name.text, K.Constant, decl, decl.name, "const")
        case ast.SegmentDecl():
            return _symbol(decl.name.text, K.Boolean, decl, decl.name, "segment")
        case ast.ScoreDecl():
            rules = [_rule(r) for r in decl.rules]
            return _symbol(decl.name.text, K.Class, decl, decl.name, decl.description, rules)
        case ast.CompositeDecl():
            return _symbol(decl.name.text, K.Class, decl, decl.name, decl.description)
        case ast.TierDecl() | ast.PercentileTierDecl():
            bands = [_symbol(b.label.text, K.EnumMember, b, b.label) for b in decl.bands]
            return _symbol(decl.name.text, K.Enum, decl, decl.name, "tier", bands)
        case ast.MatrixDecl():
            return _symbol(decl.name.text, K.Enum, decl, decl.name, "matrix")
        case ast.FlagDecl():
            return _symbol(decl.name.text, K.Boolean, decl, decl.name, "flag")
        case ast.TestDecl():
            return _symbol(decl.name.value, K.Method, decl, decl.name, "test")
    return None


def _field(field: ast.FieldDecl, kind: K) -> types.DocumentSymbol:
    type_ = f"{field.type.name}{'?' if field.type.optional else ''}"
    return _symbol(field.name.text, kind, field, field.name, type_)


def _rule(rule: ast.Rule) -> types.DocumentSymbol:
    if isinstance(rule, ast.GroupRule):
        children = [_rule(r) for r in rule.rules]
        return _symbol(f"group {rule.name.value}", K.Namespace, rule, children=children)
    if isinstance(rule, ast.ClampRule):
        return _symbol(f"clamp {rule.low.text}..{rule.high.text}", K.Operator, rule)
    name = rule.label.value if rule.label else rule_text(rule)
    return _symbol(name, K.Function, rule, detail=rule_text(rule) if rule.label else None)
