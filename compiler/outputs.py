"""Outputs other than rule-based scores: composites, tiers, matrices and flags, and the one
graph of every output across kinds and entities.

Outputs may read other outputs (composites and flags even their own kind), so the graph
orders each after what it reads (the IR promises outputs in dependency order) and a cycle
is an error naming the loop. Lowering also sets, on every reference to an output, whether
that output may be missing (a percentile tier outside a batch, and what reads one).
"""

from __future__ import annotations

import dataclasses
import itertools
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import ast, ir
from .checked import COMPOSITE, FLAG, Scope
from .output_graph import KINDS, Output, OutputGraph
from .shifts import report_shift_cycle
from .suggest import did_you_mean
from .symbols import Symbol, Symbols
from .typecheck import Checker

MAX_MATRIX_ROWS = len(string.ascii_uppercase)
_CYCLE_CODES = {"composite": "E410", "flag": "E420"}


def with_missing(expr: ir.Expr, missing: Mapping[str, bool]) -> ir.Expr:
    """`expr` with each reference to an output in `missing` saying whether it may be missing
    (`read_from` gives the table for an expression of a given entity)."""

    def annotate(node: ir.Expr) -> ir.Expr:
        if isinstance(node, ir.ScoreRef | ir.TierRef | ir.MatrixRef) and node.name in missing:
            return dataclasses.replace(node, may_be_missing=missing[node.name])
        return node

    return ir.transform(expr, annotate)


@dataclass(frozen=True)
class Outputs:
    composites: tuple[ir.Composite, ...]
    tiers: tuple[ir.Tier, ...]
    percentile_tiers: tuple[ir.PercentileTier, ...]
    matrices: tuple[ir.Matrix, ...]
    flags: tuple[ir.Flag, ...]
    missing: Mapping[str, bool]  # by output: whether it may be missing (scores: never)
    entities: Mapping[str, str]  # by output: whose it is

    def read_from(self, entity: str) -> Mapping[str, bool]:
        """Whether each output may be missing where an expression of `entity` reads it: from
        a lead, an account output is missing when the lead has no account."""
        return read_from(entity, self.missing, self.entities)


def read_from(
    entity: str, missing: Mapping[str, bool], entities: Mapping[str, str]
) -> Mapping[str, bool]:
    if entity == ir.ACCOUNT:
        return missing
    return {name: value or entities.get(name) == ir.ACCOUNT for name, value in missing.items()}


def band_labels(symbol: Symbol) -> tuple[str, ...]:
    decl = symbol.decl
    assert isinstance(decl, ast.TierDecl | ast.PercentileTierDecl)
    return tuple(band.label.text for band in decl.bands)


def output_choices(symbols: Symbols) -> Callable[[Symbol], tuple[str, ...]]:
    """The strings a tier (its labels) or a matrix (its cells) can take."""

    def choices(symbol: Symbol) -> tuple[str, ...]:
        if symbol.kind in ("tier", "percentile_tier"):
            return band_labels(symbol)
        decl = symbol.decl
        if not isinstance(decl, ast.MatrixDecl):
            return ()
        rows, columns = (symbols.names.get(i.text) for i in (decl.rows, decl.columns))
        if (
            rows is None
            or columns is None
            or {rows.kind, columns.kind} - {"tier", "percentile_tier"}
        ):
            return ()
        letters = string.ascii_uppercase[: len(band_labels(rows))]
        return tuple(f"{r}{c + 1}" for r in letters for c in range(len(band_labels(columns))))

    return choices


def lower_outputs(checker: Checker, score_reads: Mapping[str, tuple[str, ...]]) -> Outputs:
    """The outputs other than rule-based scores, whose reads (`score_reads`: the outputs
    their rules name, by score) lowering gives, so the graph covers every output."""
    lowered: dict[str, object] = {}
    nodes: list[Output] = []
    for kind in KINDS:
        for symbol in checker.symbols.of_kind(kind):
            checker.references.clear()
            value = _LOWER[kind](checker, symbol) if kind in _LOWER else None
            lowered[symbol.name] = value
            reads = score_reads.get(symbol.name, ()) if kind == "score" else _reads(checker, symbol)
            nodes.append(Output(symbol.name, kind, reads, symbol.entity))
    order, cycles = OutputGraph(tuple(nodes)).walk()
    for cycle in cycles:
        _report_cycle(checker, cycle)
    entities = {o.name: o.entity for o in nodes}
    missing: dict[str, bool] = {}
    by_kind: dict[str, list] = {kind: [] for kind in KINDS}
    for output in order:
        value = _annotated(lowered[output.name], read_from(output.entity, missing, entities))
        missing[output.name] = _may_be_missing(value, missing)
        if value is not None:
            by_kind[output.kind].append(value)
    outputs = {kind: tuple(values) for kind, values in by_kind.items()}
    return Outputs(
        outputs["composite"],
        outputs["tier"],
        outputs["percentile_tier"],
        outputs["matrix"],
        _with_bands(outputs["percentile_tier"], outputs["matrix"], outputs["flag"]),
        missing,
        entities,
    )


def _reads(checker: Checker, symbol: Symbol) -> tuple[str, ...]:
    """The outputs a declaration reads: the references its lowering recorded, a tier's
    score, a matrix's tiers."""
    decl = symbol.decl
    if isinstance(decl, ast.TierDecl | ast.PercentileTierDecl):
        return (decl.source.text,)
    if isinstance(decl, ast.MatrixDecl):
        return (decl.rows.text, decl.columns.text)
    return tuple(dict.fromkeys(r.name for r in checker.references))


def _report_cycle(checker: Checker, cycle: tuple[Output, ...]) -> None:
    if report_shift_cycle(checker, cycle):
        return
    closing = cycle[-1]
    kinds = {o.kind for o in cycle}
    if len({o.entity for o in cycle}) > 1:
        path = [f"{o.entity} {o.kind.replace('_', ' ')} {o.name}" for o in cycle]
        checker.error(
            "E438",
            f"lead and account outputs refer to each other in a cycle: {' -> '.join(path)}",
            checker.symbols.names[closing.name].span,
            "a roll-up reads lead outputs computed before the account's; a lead output reading"
            " the account's comes after it, so it cannot be rolled up into it",
        )
        return
    if len(kinds) == 1:
        what, path = f"{closing.kind.replace('_', ' ')}s", [o.name for o in cycle]
    else:
        what, path = "outputs", [f"{o.kind.replace('_', ' ')} {o.name}" for o in cycle]
    checker.error(
        _CYCLE_CODES.get(closing.kind, "E420"),
        f"{what} refer to each other in a cycle: {' -> '.join(path)}",
        checker.symbols.names[closing.name].span,
    )


def _annotated(value: object, missing: Mapping[str, bool]) -> object:
    """A lowered output with its references to outputs annotated (what it reads comes first)."""
    if isinstance(value, ir.Composite):
        return dataclasses.replace(value, expr=with_missing(value.expr, missing))
    if isinstance(value, ir.Flag):
        return dataclasses.replace(value, condition=with_missing(value.condition, missing))
    return value


def _may_be_missing(value: object, missing: Mapping[str, bool]) -> bool:
    match value:
        case ir.Composite(expr=expr):
            return expr.may_be_missing
        case ir.Tier(source=source):
            return missing.get(source, False)
        case ir.PercentileTier():
            return True  # no band outside a batch
        case ir.Matrix(rows=rows, columns=columns):
            return missing.get(rows, True) or missing.get(columns, True)
    return False  # rule-based scores and flags are never missing


def _with_bands(
    percentile: tuple[ir.PercentileTier, ...],
    matrices: tuple[ir.Matrix, ...],
    flags: tuple[ir.Flag, ...],
) -> tuple[ir.Flag, ...]:
    """Each flag with the percentile tiers it reads (flags come in dependency order).

    Only references to outputs count: a function call such as `abs(x)` never names a tier."""
    needs: dict[str, frozenset[str]] = {t.name: frozenset({t.name}) for t in percentile}
    for matrix in matrices:
        needs[matrix.name] = needs.get(matrix.rows, frozenset()) | needs.get(
            matrix.columns, frozenset()
        )
    result = []
    for flag in flags:
        refs = (
            n.name
            for n in ir.subexpressions(flag.condition)
            if isinstance(n, ir.TierRef | ir.MatrixRef | ir.FlagRef)
        )
        bands = frozenset().union(*(needs.get(r, frozenset()) for r in refs))
        needs[flag.name] = bands
        result.append(dataclasses.replace(flag, needs_bands=tuple(sorted(bands))))
    return tuple(result)


def in_entity(scope: Scope, entity: str) -> Scope:
    """A declaration's scope for the entity it is declared for."""
    return scope.of_account() if entity == ir.ACCOUNT else scope


def _composite(checker: Checker, symbol: Symbol) -> ir.Composite | None:
    decl = symbol.decl
    assert isinstance(decl, ast.CompositeDecl)
    value = checker.numeric(decl.expr, in_entity(COMPOSITE, decl.entity), "a composite score")
    return value and ir.Composite(decl.name.text, decl.description, value.expr, decl.entity)


def _flag(checker: Checker, symbol: Symbol) -> ir.Flag | None:
    decl = symbol.decl
    assert isinstance(decl, ast.FlagDecl)
    condition = checker.condition(decl.condition, in_entity(FLAG, decl.entity))
    return condition and ir.Flag(decl.name.text, condition, entity=decl.entity)


def _source(
    checker: Checker,
    ident: ast.Ident,
    kinds: tuple[str, ...],
    what: str,
    code: str,
    entity: str = ir.LEAD,
) -> Symbol | None:
    symbol = checker.symbols.names.get(ident.text)
    if symbol is not None and symbol.kind in kinds:
        if symbol.entity != entity:
            checker.error(
                "E433",
                f"`{ident.text}` is {'an account' if symbol.entity == ir.ACCOUNT else 'a lead'} "
                f"{what}; this is {'an account' if entity == ir.ACCOUNT else 'a lead'} output",
                ident,
                "a tier or matrix is built from outputs of its own entity",
            )
            return None
        return symbol
    candidates = [s.name for s in checker.symbols.of_kind(*kinds)]
    found = f"; `{ident.text}` is a {symbol.kind.replace('_', ' ')}" if symbol else ""
    checker.error(
        code, f"unknown {what} `{ident.text}`{found}", ident, did_you_mean(ident.text, candidates)
    )
    return None


def _bands(
    checker: Checker, bands: tuple[ast.TierBand | ast.PercentileBand, ...], decl: ast.Node
) -> bool:
    """Shared shape rules: some band, unique labels, a bound on all but the last."""
    ok = bool(bands)
    if not bands:
        checker.error("E413", "a tier needs at least one band", decl)
    seen: set[str] = set()
    for index, band in enumerate(bands):
        bound = band.bound if isinstance(band, ast.TierBand) else band.top_percent
        last = index == len(bands) - 1
        if band.label.text in seen:
            checker.error("E421", f"band `{band.label.text}` appears twice", band.label)
            ok = False
        seen.add(band.label.text)
        if last and bound is not None:
            checker.error(
                "E413",
                "the last band catches every other lead and has no bound",
                bound,
                f"remove the bound, or add a catch-all band after `{band.label.text}`",
            )
            ok = False
        elif not last and bound is None:
            checker.error(
                "E413", f"band `{band.label.text}` needs a bound; only the last band has none", band
            )
            ok = False
    return ok


def _tier(checker: Checker, decl: ast.Node) -> ir.Tier | None:
    assert isinstance(decl, ast.TierDecl)
    source = _source(checker, decl.source, ("score", "composite"), "score", "E212", decl.entity)
    ok = _bands(checker, decl.bands, decl)
    bounds = [b.bound for b in decl.bands[:-1] if b.bound is not None]
    for previous, bound in itertools.pairwise(bounds):
        if bound.value >= previous.value:
            checker.error(
                "E412",
                f"this band is unreachable: {bound.text} is not below the previous bound {previous.text}",
                bound,
                "list bands from the highest bound down",
            )
            ok = False
    if source is None or not ok:
        return None
    bands = tuple((b.label.text, b.bound.value if b.bound else None) for b in decl.bands)
    return ir.Tier(decl.name.text, source.name, bands, decl.entity)


def _percentile(checker: Checker, decl: ast.Node) -> ir.PercentileTier | None:
    assert isinstance(decl, ast.PercentileTierDecl)
    source = _source(checker, decl.source, ("score", "composite"), "score", "E212", decl.entity)
    ok = _bands(checker, decl.bands, decl)
    previous = 0.0
    for band in decl.bands:
        top = band.top_percent
        if top is None:
            continue
        if not 0 < top.value <= 100:
            checker.error("E414", f"top {top.text}% is outside 0 < top <= 100", top)
            ok = False
        elif top.value <= previous:
            checker.error(
                "E414",
                f"top {top.text}% must be larger than the band before it ({previous:g}%)",
                top,
                "bands are cumulative: top 10%, then top 30%, ...",
            )
            ok = False
        previous = max(previous, top.value)
    if source is None or not ok:
        return None
    bands = tuple(
        (b.label.text, b.top_percent.value if b.top_percent else None) for b in decl.bands
    )
    return ir.PercentileTier(decl.name.text, source.name, bands, decl.entity)


def _matrix(checker: Checker, decl: ast.Node) -> ir.Matrix | None:
    assert isinstance(decl, ast.MatrixDecl)
    tiers = ("tier", "percentile_tier")
    rows = _source(checker, decl.rows, tiers, "tier", "E213", decl.entity)
    columns = _source(checker, decl.columns, tiers, "tier", "E213", decl.entity)
    if rows is None or columns is None:
        return None
    row_labels = band_labels(rows)
    if len(row_labels) > MAX_MATRIX_ROWS:
        checker.error(
            "E419", f"a matrix's row tier has at most {MAX_MATRIX_ROWS} bands (A..Z)", decl.rows
        )
        return None
    return ir.Matrix(
        decl.name.text, rows.name, columns.name, row_labels, band_labels(columns), decl.entity
    )


_LOWER: dict[str, Callable[[Checker, Symbol], object]] = {
    "composite": _composite,
    "flag": _flag,
    "tier": lambda checker, symbol: _tier(checker, symbol.decl),
    "percentile_tier": lambda checker, symbol: _percentile(checker, symbol.decl),
    "matrix": lambda checker, symbol: _matrix(checker, symbol.decl),
}
