"""The declaration table: every name a model declares, across its imported files, with the
schema (lead fields, event types, the wide event-property table) checked on the way.

Names share one namespace (a lead field, a const and a score cannot share a name) because
rules reference lead fields bare: `industry` must mean exactly one thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ast, ir
from .diagnostics import Diagnostic, Severity
from .suggest import did_you_mean

TYPES = {t.value: t for t in ir.Type}
# Columns of the events table that every event has; a property cannot reuse them.
RESERVED_PROPERTIES = ("lead_id", "event_type", "occurred_at")
# Words with a meaning of their own in expressions.
RESERVED_NAMES = ("activity", "lead")

KIND_WORDS = {
    "field": "lead field",
    "event": "event type",
    "const": "const",
    "segment": "segment",
    "score": "score",
    "composite": "score",
    "tier": "tier",
    "percentile_tier": "tier",
    "matrix": "matrix",
    "flag": "flag",
}
ARTICLES = {"event": "an"}
DECL_KINDS: dict[type, str] = {
    ast.EventDecl: "event",
    ast.ConstDecl: "const",
    ast.SegmentDecl: "segment",
    ast.ScoreDecl: "score",
    ast.CompositeDecl: "composite",
    ast.TierDecl: "tier",
    ast.PercentileTierDecl: "percentile_tier",
    ast.MatrixDecl: "matrix",
    ast.FlagDecl: "flag",
}
# What an imported file may contribute; anything else there is ignored with a warning.
IMPORTABLE = (ast.LeadDecl, ast.EventDecl, ast.ConstDecl, ast.SegmentDecl, ast.ImportDecl)


@dataclass(frozen=True)
class Symbol:
    kind: str  # a key of KIND_WORDS
    name: str
    decl: ast.Node
    span: ast.Span  # the declaring name


@dataclass(frozen=True)
class Symbols:
    """What the model declares, in source order (imports first)."""

    model: ast.ModelDecl | None
    lead_fields: tuple[ir.FieldType, ...]
    key: str | None
    event_types: tuple[ir.EventType, ...]
    properties: dict[str, ir.Type]  # the wide table: one type per property name
    names: dict[str, Symbol]
    tests: tuple[ast.TestDecl, ...]
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    def lead_field(self, name: str) -> ir.FieldType | None:
        return next((f for f in self.lead_fields if f.name == name), None)

    def event(self, name: str) -> ir.EventType | None:
        return next((e for e in self.event_types if e.name == name), None)

    def of_kind(self, *kinds: str) -> list[Symbol]:
        return [s for s in self.names.values() if s.kind in kinds]


def collect(modules: list[tuple[ast.Module, bool]]) -> Symbols:
    """Builds the table from (module, is_root) pairs, imported modules first."""
    return _Collector().run(modules)


class _Collector:
    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.names: dict[str, Symbol] = {}
        self.model: ast.ModelDecl | None = None
        self.lead: ast.LeadDecl | None = None
        self.fields: list[ir.FieldType] = []
        self.key: str | None = None
        self.events: list[ir.EventType] = []
        self.properties: dict[str, tuple[ir.Type, ast.FieldDecl]] = {}
        self.tests: list[ast.TestDecl] = []

    def error(self, code: str, message: str, span: ast.Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, hint))

    def run(self, modules: list[tuple[ast.Module, bool]]) -> Symbols:
        for module, is_root in modules:
            for decl in module.decls:
                if not is_root and not isinstance(decl, IMPORTABLE):
                    self.diagnostics.append(
                        Diagnostic(
                            "W211",
                            Severity.WARNING,
                            "only lead, events, consts and segments are imported; this declaration is ignored",
                            decl.span,
                            "move it into the importing file",
                        )
                    )
                    continue
                self.declare(decl)
        if self.lead is None:
            span = modules[-1][0].span if modules else ast.NO_SPAN
            start = ast.Span(span.file, 1, 1, 1, 2)
            self.error(
                "E400",
                "the model has no `lead { ... }` block",
                start,
                "declare the lead's fields, one marked `key`",
            )
        else:
            keys = [f for f in self.lead.fields if f.key]
            if len(keys) != 1:
                where = keys[1].span if len(keys) > 1 else self.lead.span
                self.error(
                    "E401",
                    f"the lead needs exactly one `key` field, found {len(keys)}",
                    where,
                    "mark the identifying field, e.g. `id: string key`",
                )
            else:
                self.key = keys[0].name.text
        return Symbols(
            self.model,
            tuple(self.fields),
            self.key,
            tuple(self.events),
            {name: t for name, (t, _) in self.properties.items()},
            self.names,
            tuple(self.tests),
            tuple(self.diagnostics),
        )

    def declare(self, decl: ast.Decl) -> None:
        if isinstance(decl, ast.ModelDecl):
            if self.model is not None:
                self.error(
                    "E402",
                    "a file declares at most one `model`",
                    decl.span,
                    f"the model is already named at {self.model.span}",
                )
            else:
                self.model = decl
        elif isinstance(decl, ast.LeadDecl):
            self.declare_lead(decl)
        elif isinstance(decl, ast.TestDecl):
            self.tests.append(decl)
        elif isinstance(decl, ast.ImportDecl):
            pass  # followed by the front end
        else:
            kind = DECL_KINDS[type(decl)]
            self.add_name(Symbol(kind, decl.name.text, decl, decl.name.span))
            if isinstance(decl, ast.EventDecl):
                self.declare_event(decl)

    def add_name(self, symbol: Symbol) -> None:
        if symbol.name in RESERVED_NAMES:
            self.error(
                "E204", f"`{symbol.name}` is a reserved word and cannot be declared", symbol.span
            )
            return
        previous = self.names.get(symbol.name)
        if previous is not None:
            self.error(
                "E204",
                f"`{symbol.name}` is already declared as {ARTICLES.get(previous.kind, 'a')} {KIND_WORDS[previous.kind]}",
                symbol.span,
                f"first declared at {previous.span}; names are shared by fields, events and outputs",
            )
            return
        self.names[symbol.name] = symbol

    def field_types(self, fields: tuple[ast.FieldDecl, ...], what: str) -> list[ir.FieldType]:
        seen: dict[str, ast.FieldDecl] = {}
        out = []
        for decl in fields:
            name = decl.name.text
            if name in seen:
                self.error(
                    "E205",
                    f"{what} `{name}` is declared twice",
                    decl.name.span,
                    f"first declared at {seen[name].name.span}",
                )
                continue
            seen[name] = decl
            type_ = TYPES.get(decl.type.name)
            if type_ is None:
                self.error(
                    "E203",
                    f"unknown type `{decl.type.name}`",
                    decl.type.span,
                    did_you_mean(
                        decl.type.name, TYPES, "types are string, int, number, bool, timestamp"
                    ),
                )
                continue
            out.append(ir.FieldType(name, type_, decl.type.optional))
        return out

    def declare_lead(self, decl: ast.LeadDecl) -> None:
        if self.lead is not None:
            self.error(
                "E400",
                "the model has more than one `lead` block",
                decl.span,
                f"merge it into the one at {self.lead.span}",
            )
            return
        self.lead = decl
        self.fields = self.field_types(decl.fields, "lead field")
        first = {d.name.text: d for d in reversed(decl.fields)}
        for typed in self.fields:
            field_decl = first[typed.name]
            self.add_name(Symbol("field", typed.name, field_decl, field_decl.name.span))
            if field_decl.key and field_decl.type.optional:
                self.error(
                    "E401",
                    "the `key` field cannot be optional",
                    field_decl.type.span,
                    "remove the `?`",
                )

    def declare_event(self, decl: ast.EventDecl) -> None:
        properties = self.field_types(decl.properties, "property")
        for prop_decl in decl.properties:
            if prop_decl.key:
                self.error("E401", "event properties cannot be `key`", prop_decl.span)
        by_name = {p.name: p for p in properties}
        for prop_decl in decl.properties:
            prop = by_name.get(prop_decl.name.text)
            if prop is None:
                continue
            if prop.name in RESERVED_PROPERTIES:
                self.error(
                    "E206",
                    f"`{prop.name}` is a column every event already has",
                    prop_decl.name.span,
                    "rename the property",
                )
                continue
            known = self.properties.get(prop.name)
            if known is None:
                self.properties[prop.name] = (prop.type, prop_decl)
            elif known[0] is not prop.type:
                self.error(
                    "E310",
                    f"property `{prop.name}` is {prop.type.value} here but {known[0].value} elsewhere",
                    prop_decl.type.span,
                    f"events share one wide table: declare it as {known[0].value} (see {known[1].span})",
                )
        self.events.append(ir.EventType(decl.name.text, tuple(properties)))
