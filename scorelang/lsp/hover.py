"""Hovers: what a name is (type, value, condition, rules), a rule in words, and the
reference of a keyword or built-in function."""

from __future__ import annotations

from ..compiler import ast
from ..compiler.binder import Binding
from ..compiler.fmt import format_expr, rule_text
from ..compiler.symbols import KIND_WORDS
from . import reference
from .analysis import Analysis
from .locate import nodes_at, word_at


def hover(analysis: Analysis, line: int, column: int) -> str | None:
    binding = analysis.bindings.at(analysis.path, line, column)
    if binding is not None:
        text = describe(analysis, binding)
        if text:
            return text
    root = analysis.root
    path = nodes_at(root, line, column) if root is not None else []
    word = word_at(analysis.source, line, column)
    documented = reference.describe(word)
    if documented and not any(isinstance(n, ast.String | ast.Comment) for n in path):
        return documented
    rules = [n for n in path if isinstance(n, ast.WhenRule | ast.EachRule)]
    if rules:
        groups = [n for n in path if isinstance(n, ast.GroupRule)]
        score = next((n for n in path if isinstance(n, ast.ScoreDecl)), None)
        return rule_in_words(analysis, rules[-1], groups[-1] if groups else None, score)
    return None


def describe(analysis: Analysis, binding: Binding) -> str | None:
    """What the binder says a name is, in words."""
    symbols = analysis.symbols
    if symbols is None or (binding.type is None and binding.symbol is None):
        return None
    kind, name = binding.key
    typed = f"{binding.type.value if binding.type else ''}{'?' if binding.optional else ''}"
    nullability = "may be missing" if binding.optional else "always present"
    if kind == "prop":
        owners = [e for e in symbols.event_types for p in e.properties if p.name == name]
        events = ", ".join(f"`{e.name}`" for e in owners)
        return f"```score\n{name}: {typed}\n```\nevent property of {events}; {nullability}"
    symbol = binding.symbol
    if symbol is None:
        return None
    decl = symbol.decl
    title = KIND_WORDS[symbol.kind]
    if symbol.kind == "field":
        key_note = ", the lead's key" if symbols.key == name else ""
        return f"```score\n{name}: {typed}\n```\nlead field{key_note}; {nullability}"
    if isinstance(decl, ast.EventDecl):
        props = ", ".join(f"{p.name}: {_type(p)}" for p in symbols.event(name).properties)
        return f"```score\nevent {name} {{ {props} }}\n```\nevent type"
    if isinstance(decl, ast.ConstDecl | ast.SegmentDecl | ast.FlagDecl | ast.CompositeDecl):
        word = "score" if isinstance(decl, ast.CompositeDecl) else symbol.kind
        return f"```score\n{word} {name} = {format_expr(_body(decl))}\n```\n{title}"
    if isinstance(decl, ast.ScoreDecl):
        return _score(decl)
    if isinstance(decl, ast.TierDecl | ast.PercentileTierDecl):
        return _tier(decl)
    if isinstance(decl, ast.MatrixDecl):
        return (
            f"```score\nmatrix {name} from {decl.rows.text}, {decl.columns.text}\n```\n"
            f"cells name the row tier's band by letter (A, B, ...) and the column's by number"
        )
    return None


def _body(decl: ast.ConstDecl | ast.SegmentDecl | ast.FlagDecl | ast.CompositeDecl) -> ast.Expr:
    if isinstance(decl, ast.ConstDecl):
        return decl.value
    return decl.expr if isinstance(decl, ast.CompositeDecl) else decl.condition


def _type(typed: object) -> str:
    return f"{typed.type.value}{'?' if typed.optional else ''}"  # type: ignore[attr-defined]


def _score(decl: ast.ScoreDecl) -> str:
    lines = [f"score {decl.name.text}" + (f' "{decl.description}"' if decl.description else "")]
    lines += _rule_lines(decl.rules, "  ")
    return "```score\n" + "\n".join(lines) + "\n```"


def _rule_lines(rules: tuple[ast.Rule, ...], indent: str) -> list[str]:
    lines = []
    for rule in rules:
        if isinstance(rule, ast.GroupRule):
            lines.append(f'{indent}group "{rule.name.value}" max {_value(rule.max)}')
            lines += _rule_lines(rule.rules, indent + "  ")
        elif isinstance(rule, ast.ClampRule):
            lines.append(f"{indent}clamp {rule.low.text}..{rule.high.text}")
        else:
            lines.append(indent + rule_text(rule))
    return lines


def _tier(decl: ast.TierDecl | ast.PercentileTierDecl) -> str:
    by = " by percentile" if isinstance(decl, ast.PercentileTierDecl) else ""
    lines = [f"tier {decl.name.text} from {decl.source.text}{by}"]
    for band in decl.bands:
        if isinstance(band, ast.PercentileBand):
            bound = f" top {band.top_percent.text}%" if band.top_percent else ""
        else:
            bound = f" >= {band.bound.text}" if band.bound else ""
        lines.append(f"  {band.label.text}{bound}")
    return "```score\n" + "\n".join(lines) + "\n```"


def _value(value: ast.Number | ast.Name) -> str:
    return value.text if isinstance(value, ast.Number) else value.name


def rule_in_words(
    analysis: Analysis,
    rule: ast.WhenRule | ast.EachRule,
    group: ast.GroupRule | None,
    score: ast.ScoreDecl | None,
) -> str:
    """What a rule gives, in a sentence or two: points, caps, decay."""
    if isinstance(rule, ast.WhenRule) and isinstance(rule.award, ast.Reset):
        sentences = ["When the condition holds, the whole score is 0 (a reset wins over points)."]
    else:
        points = rule.award if isinstance(rule, ast.WhenRule) else rule.points
        verb = "Adds" if points.sign > 0 else "Subtracts"
        amount = _points_value(analysis, points.value)
        if isinstance(rule, ast.WhenRule):
            sentences = [f"{verb} {amount} points once when the condition holds."]
        else:
            sentences = [f"{verb} {amount} points per matching event."]
            sentences += [_option_in_words(analysis, o) for o in rule.options]
    if group is not None:
        sentences.append(
            f'In group "{group.name.value}": the group\'s rules together give at most '
            f"{_points_value(analysis, group.max)} points."
        )
    clamp = next((r for r in score.rules if isinstance(r, ast.ClampRule)), None) if score else None
    if clamp is not None:
        sentences.append(
            f"The score {score.name.text} is then clamped to {clamp.low.text}..{clamp.high.text}."
        )
    return "\n\n".join(sentences)


def _option_in_words(analysis: Analysis, option: ast.EachOption) -> str:
    match option:
        case ast.MaxOption(value=value):
            return f"The rule gives at most {_points_value(analysis, value)} points in total."
        case ast.DecayOption(half_life=half_life):
            return f"Each event's points halve every {half_life.text} of its age (half-life)."
        case ast.LinearDecayOption(percent=percent, period=period):
            return (
                f"Each event's points drop by {percent.text}% for every full {period.text} "
                "of its age, down to 0."
            )
        case ast.OncePerOption(period=period):
            return (
                f"Counts at most once per {period.text} period (periods counted back from as_of)."
            )
    return ""


def _points_value(analysis: Analysis, value: ast.Number | ast.Name) -> str:
    """A number, or a const's name with its value."""
    if isinstance(value, ast.Number):
        return value.text
    symbol = analysis.symbols.names.get(value.name) if analysis.symbols else None
    if symbol is not None and isinstance(symbol.decl, ast.ConstDecl):
        return f"{value.name} (= {format_expr(symbol.decl.value)})"
    return value.name
