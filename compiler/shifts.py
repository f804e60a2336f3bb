"""`previous(OUTPUT, D)` and `change(SCORE, D)`: an output's value for the same lead at
`as_of - D`.

A call lowers to the output's reference with a `shift` of D seconds (compiler/ir.py,
"Shifts"); `change` to the score minus that, rounded to the cent like every score (the
difference of two cent values, without binary noise). The plan evaluates an earlier value
with the model itself, so that value must not read an earlier value in turn (a shift of a
shift): `report_nested_shifts` refuses it once the outputs are lowered (E450), and
`report_shift_cycle` a cycle of outputs through such a call (E451), which the plain cycle
codes would otherwise report.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator

from . import ast, ir
from .checked import (
    OUTPUT_KINDS,
    Checked,
    DurationValue,
    ExprChecker,
    Scope,
    T,
    Value,
    literal,
    type_word,
)
from .fmt import format_expr
from .output_graph import Output, output_graph
from .symbols import ARTICLES, KIND_WORDS

SHIFT_FUNCTIONS = ("previous", "change")
SCORE_KINDS = ("score", "composite")


def shifted(checker: ExprChecker, node: ast.Call, scope: Scope) -> Checked:
    """The value of `previous(...)` or `change(...)`, or None after one diagnostic."""
    name = node.function
    if scope.expect:
        checker.error(
            "E455",
            f"{name}() cannot be used in a test expectation",
            node,
            f"declare an output with it, e.g. `score velocity = {name}(engagement, 7d)`, "
            "and expect that",
        )
        return None
    if not scope.outputs:
        checker.error(
            "E215",
            f"{name}() reads an output, and outputs cannot be used in {scope.context}",
            node,
            "use it in a composite score or a flag",
        )
        return None
    if not node.args or len(node.args) > 2:
        checker.error(
            "E308",
            f"{name}() takes 2 arguments, got {len(node.args)}",
            node,
            f"e.g. {name}(engagement, 7d)",
        )
        return None
    if not _reads_an_output(checker, node, scope):
        return None
    value = checker.value(node.args[0], scope)  # the scope's kinds; records the reference
    seconds = _seconds(checker, node, scope)
    if value is None or seconds is None:
        return None
    earlier = dataclasses.replace(value.expr, shift=seconds)
    if name == "previous":
        return Value(earlier, value.type, value.choices)
    difference = ir.Arith("-", value.expr, earlier)
    return Value(ir.Func("round", (difference, literal(2)), T.NUMBER), T.NUMBER)


def _reads_an_output(checker: ExprChecker, node: ast.Call, scope: Scope) -> bool:
    """Whether the call's first argument names an output it can read; False after a
    diagnostic."""
    name, target = node.function, node.args[0]
    symbol = checker.symbols.names.get(target.name) if isinstance(target, ast.Name) else None
    if isinstance(target, ast.Name) and symbol is None:
        checker.check(target, scope)  # the unknown name's own diagnostic and suggestions
        return False
    if symbol is not None and symbol.kind in OUTPUT_KINDS:
        if name == "change" and symbol.kind not in SCORE_KINDS:
            kind = KIND_WORDS[symbol.kind]
            checker.error(
                "E454",
                f"change() needs a score; `{symbol.name}` is a {kind}",
                node,
                f"compare it with its earlier value: `{symbol.name} != previous({symbol.name}, 7d)`",
            )
            return False
        return True
    wanted = "a score" if name == "change" else "a score, tier, matrix or flag"
    found = (
        f"; `{symbol.name}` is {ARTICLES.get(symbol.kind, 'a')} {KIND_WORDS[symbol.kind]}"
        if symbol is not None
        else ", not an expression"
    )
    checker.error(
        "E453",
        f"{name}() reads {wanted} by its name{found}",
        target,
        "only outputs have earlier values: lead fields have no history, and event sets "
        "already look back with `within` and `between ... ago`",
    )
    return False


def _seconds(checker: ExprChecker, node: ast.Call, scope: Scope) -> float | None:
    """How far back the call looks: a positive duration."""
    if len(node.args) < 2:
        checker.error(
            "E452",
            f"{node.function}() needs how far back to look",
            node,
            f"add a duration, e.g. {node.function}({format_expr(node.args[0])}, 7d)",
        )
        return None
    argument = node.args[1]
    checked = checker.check(argument, scope)
    if isinstance(checked, DurationValue) and checked.seconds > 0:
        return checked.seconds
    if isinstance(checked, DurationValue):
        checker.error(
            "E452",
            f"{node.function}() looks back a positive duration",
            argument,
            "0d would be the value now; write e.g. 1d or 7d",
        )
    elif checked is not None:
        checker.error(
            "E304",
            f"expected a duration, found {type_word(checked)}",
            argument,
            "how far back, with a unit: s, min, h, d or w, e.g. 7d",
        )
    return None


# ---- over the whole model ------------------------------------------------------------------


def calls_reading(decl: ast.Node, output: str) -> Iterator[ast.Call]:
    """The previous/change calls in `decl` that read `output`."""
    for node in ast.walk(decl):
        if (
            isinstance(node, ast.Call)
            and node.function in SHIFT_FUNCTIONS
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].name == output
        ):
            yield node


def _reads_now(decl: ast.Node, output: str) -> bool:
    """Whether `decl` reads `output` at its own instant (not only through previous/change)."""
    if isinstance(decl, ast.TierDecl | ast.PercentileTierDecl | ast.MatrixDecl):
        return True
    called = {id(call.args[0]) for call in calls_reading(decl, output)}
    return any(
        isinstance(node, ast.Name) and node.name == output and id(node) not in called
        for node in ast.walk(decl)
    )


def report_shift_cycle(checker: ExprChecker, cycle: tuple[Output, ...]) -> bool:
    """Reports a cycle of outputs that goes through a previous/change call (E451), at the
    call; False when every step of the cycle reads at its own instant (a plain cycle)."""
    for reader, read in itertools.pairwise(cycle):
        decl = checker.symbols.names[reader.name].decl
        calls = list(calls_reading(decl, read.name))
        if not calls or _reads_now(decl, read.name):
            continue
        if reader.name == read.name:
            message = f"`{reader.name}` reads its own earlier value"
        else:
            path = " -> ".join(o.name for o in cycle)
            message = (
                f"`{reader.name}` reads `{read.name}` at an earlier instant, and `{read.name}` "
                f"reads `{reader.name}` in turn ({path})"
            )
        checker.error(
            "E451",
            message,
            calls[0],
            "an earlier value is computed by the model itself and cannot read an earlier "
            "value in turn; read the scores it is built from",
        )
        return True
    return False


def report_nested_shifts(checker: ExprChecker, model: ir.Model) -> None:
    """E450 at each previous/change call whose output itself reads an earlier value,
    directly or through what it reads (a shift of a shift). The outputs in a cycle are
    reported already (E451, or the plain cycle codes)."""
    order, cycles = output_graph(model).walk()
    cyclic = {output.name for cycle in cycles for output in cycle}
    expressions = {c.name: c.expr for c in model.composites} | {
        f.name: f.condition for f in model.flags
    }
    moving: set[str] = set()  # outputs whose value reads an earlier value
    for output in order:
        refs = [
            n
            for n in ir.subexpressions(expressions.get(output.name))
            if isinstance(n, ir.ScoreRef | ir.TierRef | ir.MatrixRef | ir.FlagRef)
        ]
        earlier = dict.fromkeys(r.name for r in refs if ir.is_shifted(r))
        now = {r.name for r in refs if not ir.is_shifted(r)} | (
            set(output.reads) if output.name not in expressions else set()
        )
        if earlier or now & moving:
            moving.add(output.name)
        for name in earlier:
            if name not in moving or output.name in cyclic:
                continue
            decl = checker.symbols.names[output.name].decl
            for call in calls_reading(decl, name):
                checker.error(
                    "E450",
                    f"{call.function}() reads `{name}` at an earlier instant, but `{name}` "
                    "itself reads an earlier value (through previous or change)",
                    call,
                    "an earlier value cannot read an earlier value in turn: read the scores "
                    f"`{name}` is built from (two weeks back is previous(SCORE, 14d))",
                )
