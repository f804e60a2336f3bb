"""Completion from the text before the cursor and the last model that parsed: what may
come next where the cursor is (a declaration, a rule, a name, a property, a duration)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types

from ..compiler.functions import FUNCTIONS
from ..compiler.symbols import KIND_WORDS, TYPES
from .analysis import Analysis

Kind = types.CompletionItemKind
Snippet = types.InsertTextFormat.Snippet

DECLARATIONS = {
    "model": 'model ${1:name} "${2:description}"',
    "import": 'import "${1:shared.score}"',
    "lead": "lead {\n  ${1:id}: string key\n  $0\n}",
    "account": "account {\n  ${1:id}: string key\n  $0\n}",
    "account score": 'account score ${1:name} "${2:description}" {\n  $0\n  clamp 0..100\n}',
    "event": "event ${1:name} { ${2:property}: ${3:string} }",
    "const": "const ${1:name} = ${2:value}",
    "segment": "segment ${1:name} = ${2:condition}",
    "score": 'score ${1:name} "${2:description}" {\n  $0\n  clamp 0..100\n}',
    "score (composite)": 'score ${1:name} "${2:description}" = ${3:expression}',
    "tier": "tier ${1:name} from ${2:score} {\n  ${3:hot} >= ${4:60}\n  ${5:cold}\n}",
    "tier (percentile)": "tier ${1:name} from ${2:score} by percentile {\n  ${3:a} top ${4:10}%\n  ${5:rest}\n}",
    "matrix": "matrix ${1:name} from ${2:row_tier}, ${3:column_tier}",
    "flag": "flag ${1:name} = ${2:condition}",
    "test": 'test "${1:what it shows}" {\n  lead { $2 }\n  events {\n    $3\n  }\n  expect $0\n}',
}
RULES = {
    "when": 'when ${1:condition}: +${2:10} "${3:label}"',
    "when (reset)": 'when ${1:condition}: reset "${2:label}"',
    "each": 'each ${1:event} within ${2:30d}: +${3:1} max ${4:10} "${5:label}"',
    "each (decay)": 'each ${1:event}: +${2:1} decay ${3:14d} max ${4:20} "${5:label}"',
    "each (linear decay)": 'each ${1:event}: +${2:1} decay linear ${3:25}% per ${4:7d} max ${5:20} "${6:label}"',
    "each (once per)": 'each ${1:event}: +${2:1} once per ${3:1d} max ${4:10} "${5:label}"',
    "group": 'group "${1:name}" max ${2:30} {\n  $0\n}',
    "clamp": "clamp ${1:0}..${2:100}",
}
EACH_OPTIONS = {
    "max": "max ${1:10}",
    "decay": "decay ${1:14d}",
    "decay linear": "decay linear ${1:25}% per ${2:7d}",
    "once per": "once per ${1:1d}",
}
TEST_ITEMS = {
    "account": "account { $0 }",
    "lead": "lead { $0 }",
    "events": "events {\n  $0\n}",
    "as_of": 'as_of "${1:2026-01-01T00:00:00Z}"',
    "expect": "expect $0",
}
OPERATORS = (
    "and", "or", "not", "no", "in", "not in", "between", "contains", "starts with", "ends with",
    "matches", "is missing", "is present", "where", "within", "ago", "then", "activity",
    "visited", "true", "false",
)  # fmt: skip
DURATIONS = ("1h", "1d", "7d", "14d", "30d", "60d", "90d", "180d", "1w")
# Where a duration goes: `within _`, `decay _`, `per _`, `between 7d and _`.
_DURATION_BEFORE = re.compile(
    r"\b(within|decay|per|between\s+\d+(\.\d+)?(min|s|h|d|w)\s+and)\s+\d*$"
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Context:
    block: str  # the enclosing top-level declaration's keyword, "" at the top level
    inner: str  # the first word of the line that opened the innermost `{`
    depth: int  # open braces
    line_start: bool  # only blanks before the cursor on its line
    before: str  # the line's text before the cursor


def context(source: str, line: int, column: int) -> Context:
    lines = source.splitlines() or [""]
    upto = [*lines[: line - 1], lines[line - 1][: column - 1] if line <= len(lines) else ""]
    block, openers = "", []
    for raw in upto:
        code = _code(raw)
        words = _WORD.findall(code) or [""]
        # `account score a {` holds rules as `score a {` does
        word = words[1] if words[0] == "account" and len(words) > 1 else words[0]
        if not openers and word:
            block = word
        for char in code:
            if char == "{":
                openers.append(word)
            elif char == "}" and openers:
                openers.pop()
    before = upto[-1]
    if not openers and not _code(before).strip():
        block = ""
    return Context(block, openers[-1] if openers else "", len(openers), not before.strip(), before)


def _code(line: str) -> str:
    """A line without its strings and comment (braces there do not count)."""
    return re.sub(r'"([^"\\]|\\.)*"?', '""', line).split("#")[0]


def complete(analysis: Analysis, line: int, column: int) -> list[types.CompletionItem]:
    ctx = context(analysis.source, line, column)
    before = _code(ctx.before)
    if ctx.depth == 0 and ctx.line_start:
        return _snippets(DECLARATIONS, Kind.Keyword)
    if ctx.block == "score" and ctx.line_start:
        return _snippets(RULES, Kind.Snippet)
    if ctx.block == "test" and ctx.line_start and ctx.depth == 1:
        return _snippets(TEST_ITEMS, Kind.Keyword)
    if _DURATION_BEFORE.search(before):
        return [_item(d, Kind.Unit, "duration") for d in DURATIONS]
    symbols = analysis.symbols
    if symbols is None:
        return _keywords()
    if before.rstrip().endswith("lead.") or re.search(r"\blead\.\w*$", before):
        return _fields(analysis)
    if ctx.block == "test" and (ctx.depth >= 2 or re.search(r"\bexpect\b", before)):
        return _test_items(analysis, ctx, before)
    if re.search(r"\b(from|,)\s*\w*$", before) and ctx.block in ("tier", "matrix"):
        kinds = ("score", "composite") if ctx.block == "tier" else ("tier",)
        return [_item(s.name, Kind.Reference, KIND_WORDS[s.kind]) for s in symbols.of_kind(*kinds)]
    if re.search(r":\s*[\w?]*$", before) and ctx.block in ("lead", "event"):
        return [_item(t, Kind.TypeParameter, "type") for t in TYPES]
    if ctx.block == "score" and re.search(r":\s*[+-]\S+(\s+\S+)*\s+\w*$", before):
        return _snippets(EACH_OPTIONS, Kind.Keyword) + _names(analysis, ("const",))
    if (event := _where_source(before)) is not None:
        return _properties(analysis, event) + _names(analysis, ("const",))
    if label := _label_position(ctx.before):
        return _labels(analysis, label)
    kinds = {
        "segment": ("field", "const", "segment"),
        "const": (),
        "flag": tuple(KIND_WORDS),
        "score": ("field", "event", "const", "segment"),
    }.get(ctx.block, tuple(KIND_WORDS))
    if ctx.block == "score" and "=" in before.split(":")[0] and ctx.depth == 0:
        kinds = ("score", "composite")
    items = _names(analysis, kinds)
    if ctx.block != "const":
        items += [_item(f, Kind.Function, "function", f"{f}($1)") for f in FUNCTIONS]
    return items + _keywords()


def _snippets(snippets: dict[str, str], kind: Kind) -> list[types.CompletionItem]:
    return [
        types.CompletionItem(
            label=label,
            kind=kind,
            insert_text=text,
            insert_text_format=Snippet,
            filter_text=label.split()[0],
            detail=text.split("\n")[0].replace("$0", "").strip(),
        )
        for label, text in snippets.items()
    ]


def _item(label: str, kind: Kind, detail: str, snippet: str | None = None) -> types.CompletionItem:
    return types.CompletionItem(
        label=label,
        kind=kind,
        detail=detail,
        insert_text=snippet,
        insert_text_format=Snippet if snippet else None,
    )


def _keywords() -> list[types.CompletionItem]:
    return [_item(k, Kind.Keyword, "keyword") for k in OPERATORS]


_KINDS = {
    "field": Kind.Field,
    "event": Kind.Event,
    "const": Kind.Constant,
    "segment": Kind.Variable,
    "score": Kind.Value,
    "composite": Kind.Value,
    "tier": Kind.Enum,
    "percentile_tier": Kind.Enum,
    "matrix": Kind.Enum,
    "flag": Kind.Variable,
}


def _names(analysis: Analysis, kinds: tuple[str, ...]) -> list[types.CompletionItem]:
    symbols = analysis.symbols
    assert symbols is not None
    items = []
    for symbol in symbols.of_kind(*kinds):
        detail = KIND_WORDS[symbol.kind]
        if symbol.kind == "field" and (typed := symbols.lead_field(symbol.name)):
            detail = f"lead field: {typed.type.value}{'?' if typed.optional else ''}"
        items.append(_item(symbol.name, _KINDS[symbol.kind], detail))
    return items


def _fields(analysis: Analysis) -> list[types.CompletionItem]:
    assert analysis.symbols is not None
    return [
        _item(f.name, Kind.Field, f"lead field: {f.type.value}{'?' if f.optional else ''}")
        for f in analysis.symbols.lead_fields
    ]


def _where_source(before: str) -> str | None:
    """The event type before a `where` the cursor is in (`page_view where |`), else None;
    "" for `activity`, whose properties are every event's."""
    match = re.search(r"(\w+)\s+where\b(?P<rest>[^:]*)$", before)
    if match is None:
        return None
    rest = match["rest"]
    ended = re.search(r"\b(within|and|or|then|ago)\b", rest)
    if ended and rest.count("(") <= rest.count(")"):  # parentheses hold several comparisons
        return None
    return "" if match[1] == "activity" else match[1]


def _properties(analysis: Analysis, event: str) -> list[types.CompletionItem]:
    assert analysis.symbols is not None
    events = [e for e in analysis.symbols.event_types if event in ("", e.name)]
    seen: dict[str, types.CompletionItem] = {}
    for e in events:
        for p in e.properties:
            seen.setdefault(
                p.name,
                _item(
                    p.name, Kind.Property, f"{e.name}.{p.name}: {p.type.value}{'?' * p.optional}"
                ),
            )
    return list(seen.values())


def _label_position(before: str) -> str | None:
    """The tier or matrix compared in `fit_tier == "|`, when the cursor is inside the string."""
    match = re.search(r'(\w+)\s*(==|!=|in\s*\[)[^"]*"[^"]*$', before)
    return match[1] if match else None


def _labels(analysis: Analysis, name: str) -> list[types.CompletionItem]:
    """A tier's band labels, or a matrix's cells (row letter, column number)."""
    assert analysis.symbols is not None
    symbol = analysis.symbols.names.get(name)
    if symbol is None:
        return []
    decl = symbol.decl
    if symbol.kind in ("tier", "percentile_tier"):
        return [_item(b.label.text, Kind.EnumMember, f"band of {name}") for b in decl.bands]  # type: ignore[attr-defined]
    if symbol.kind == "matrix":
        rows = analysis.symbols.names.get(decl.rows.text)  # type: ignore[attr-defined]
        columns = analysis.symbols.names.get(decl.columns.text)  # type: ignore[attr-defined]
        if rows is None or columns is None:
            return []
        return [
            _item(f"{chr(65 + r)}{c + 1}", Kind.EnumMember, f"cell of {name}")
            for r in range(len(rows.decl.bands))  # type: ignore[attr-defined]
            for c in range(len(columns.decl.bands))  # type: ignore[attr-defined]
        ]
    return []


def _test_items(analysis: Analysis, ctx: Context, before: str) -> list[types.CompletionItem]:
    """In a test: the lead's fields in `lead { }`, event types (then their properties) in
    `events { }`, outputs after `expect`."""
    if re.search(r"\bexpect\b", before):
        return _names(analysis, ("score", "composite", "tier", "percentile_tier", "matrix", "flag"))
    if ctx.inner == "lead":
        return _fields(analysis)
    if ctx.inner == "events":
        return _names(analysis, ("event",))
    return _properties(analysis, ctx.inner)
