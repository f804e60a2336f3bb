"""SL011: the same threshold on the same value written out again and again."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ... import ast
from ...diagnostics import Severity
from ...fmt import format_expr
from ..context import LintContext, flat_rules, walk
from ..rule import Finding, Rule

TRIVIAL = {0.0, 1.0}


def conditions(module: ast.Module) -> Iterator[ast.Expr]:
    """Where a literal is a business threshold: rule conditions, segments and flags."""
    for decl in module.decls:
        if isinstance(decl, ast.SegmentDecl | ast.FlagDecl):
            yield decl.condition
        elif isinstance(decl, ast.ScoreDecl):
            for rule in flat_rules(decl.rules):
                if isinstance(rule, ast.WhenRule):
                    yield rule.condition
                elif isinstance(rule, ast.EachRule):
                    yield rule.events


def thresholds(expr: ast.Expr) -> Iterator[tuple[str, ast.Number]]:
    """(what is compared, the number it is compared with) for each comparison."""
    for node in walk(expr):
        if isinstance(node, ast.Compare):
            pairs = ((node.left, node.right), (node.right, node.left))
            yield from ((format_expr(a), b) for a, b in pairs if isinstance(b, ast.Number))
        elif isinstance(node, ast.Between):
            bounds = (node.low, node.high)
            yield from ((format_expr(node.value), b) for b in bounds if isinstance(b, ast.Number))


def check(ctx: LintContext) -> Iterator[Finding]:
    uses: dict[tuple[str, float], list[ast.Number]] = defaultdict(list)
    for expr in conditions(ctx.module):
        for subject, number in thresholds(expr):
            if number.value not in TRIVIAL:
                uses[subject, number.value].append(number)
    for (subject, _), numbers in uses.items():
        if len(numbers) >= ctx.config.magic_number_repeats:
            lines = ", ".join(str(n.span.line) for n in numbers[1:])
            yield Finding(
                numbers[0].span,
                f"{subject} is compared with {numbers[0].text} {len(numbers)} times (also on lines {lines})",
                f"name the threshold once: `const some_threshold = {numbers[0].text}`",
            )


RULE = Rule(
    code="SL011",
    name="magic-number",
    severity=Severity.INFO,
    summary="The same number is compared with the same value in several places instead of a const.",
    rationale="When a threshold such as a company size appears in several rules, changing it "
    "in one place and not the others is an easy, silent mistake.",
    check=check,
)
