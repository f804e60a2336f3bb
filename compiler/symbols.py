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
RESERVED_NAMES = ("activity", "lead", "leads")

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
IMPORTABLE = (
    ast.LeadDecl,
    ast.AccountDecl,
    ast.EventDecl,
    ast.ConstDecl,
    ast.SegmentDecl,
    ast.ImportDecl,
)


@dataclass(frozen=True)
class Symbol:
    kind: str  # a key of KIND_WORDS
    name: str
    decl: ast.Node
    span: ast.Span  # the declaring name

    @property
    def entity(self) -> str:
        """Whose output this is (`account score ...`: the account's); lead for the rest."""
        return getattr(self.decl, "entity", ir.LEAD)


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
    # The account, when declared: its fields (a namespace of their own, named bare inside
    # account outputs and as `account.x` from a lead), its key, and the lead's link field.
    account: ast.AccountDecl | None = None
    account_fields: tuple[ir.FieldType, ...] = ()
    account_key: str | None = None
    account_link: str | None = None

    def lead_field(self, name: str) -> ir.FieldType | None:
        return next((f for f in self.lead_fields if f.name == name), None)

    def account_field(self, name: str) -> ir.FieldType | None:
        return next((f for f in self.account_fields if f.name == name), None)

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
        self.account: ast.AccountDecl | None = None
        self.account_fields: list[ir.FieldType] = []
        self.account_key: str | None = None

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
            self.key = self.key_of(self.lead, "lead")
        link = self.check_account()
        return Symbols(
            self.model,
            tuple(self.fields),
            self.key,
            tuple(self.events),
            {name: t for name, (t, _) in self.properties.items()},
            self.names,
            tuple(self.tests),
            tuple(self.diagnostics),
            self.account,
            tuple(self.account_fields),
            self.account_key,
            link,
        )

    def key_of(self, decl: ast.LeadDecl | ast.AccountDecl, what: str) -> str | None:
        keys = [f for f in decl.fields if f.key]
        if len(keys) != 1:
            where = keys[1].span if len(keys) > 1 else decl.span
            self.error(
                "E401",
                f"the {what} needs exactly one `key` field, found {len(keys)}",
                where,
                "mark the identifying field, e.g. `id: string key`",
            )
            return None
        return keys[0].name.text

    def check_account(self) -> str | None:
        """The account's declarations checked together, once all are known: its field names
        against the shared namespace, the lead's link, and outputs that need an account.
        Returns the link field."""
        links = [f for f in self.lead.fields if f.link] if self.lead else []
        for extra in links[1:]:
            self.error(
                "E435",
                "the lead links to its account through one field; this is a second",
                extra.name.span,
                f"keep `account` on `{links[0].name.text}` only",
            )
        if self.account is None:
            needing = [f.name.span for f in links[:1]] + [
                s.span for s in self.names.values() if s.entity == ir.ACCOUNT
            ]
            for span in needing:
                self.error(
                    "E437",
                    "this needs an `account { ... }` declaration",
                    span,
                    "declare the account's fields, one marked `key`",
                )
            return None
        for typed in self.account_fields:
            clash = self.names.get(typed.name)
            if clash is not None and clash.kind != "field":
                span = next(f.name.span for f in self.account.fields if f.name.text == typed.name)
                self.error(
                    "E204",
                    f"account field `{typed.name}` is named like the {KIND_WORDS[clash.kind]} at {clash.span}",
                    span,
                    "account outputs name account fields bare: rename one of them",
                )
        if not links:
            return None
        link = links[0]
        key = next((f for f in self.account_fields if f.name == self.account_key), None)
        typed = next((f for f in self.fields if f.name == link.name.text), None)
        if key is not None and typed is not None and typed.type is not key.type:
            self.error(
                "E436",
                f"`{typed.name}` is {typed.type.value} but the account's key `{key.name}` is {key.type.value}",
                link.type.span,
                f"declare it as {key.type.value}",
            )
        return link.name.text

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
        elif isinstance(decl, ast.AccountDecl):
            self.declare_account(decl)
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

    def declare_account(self, decl: ast.AccountDecl) -> None:
        if self.account is not None:
            self.error(
                "E439",
                "the model has more than one `account` block",
                decl.span,
                f"merge it into the one at {self.account.span}",
            )
            return
        self.account = decl
        self.account_fields = self.field_types(decl.fields, "account field")
        self.account_key = self.key_of(decl, "account")
        for field_decl in decl.fields:
            if field_decl.key and field_decl.type.optional:
                self.error(
                    "E401",
                    "the `key` field cannot be optional",
                    field_decl.type.span,
                    "remove the `?`",
                )
            if field_decl.link:
                self.error(
                    "E435",
                    "`account` marks the lead field holding its account's key, not an account field",
                    field_decl.span,
                    "move the mark to a field of the lead block",
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
