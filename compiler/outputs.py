"""Outputs other than rule-based scores: composites, tiers, matrices and flags.

Composites and flags may reference their own kind, so each is ordered so that it follows
what it uses (the IR promises outputs in dependency order); a cycle is an error naming
the loop.
"""

from __future__ import annotations

import dataclasses
import itertools
import string
from collections.abc import Callable
from dataclasses import dataclass

from . import ast, ir
from .checked import COMPOSITE, FLAG
from .suggest import did_you_mean
from .symbols import Symbol, Symbols
from .typecheck import Checker

MAX_MATRIX_ROWS = len(string.ascii_uppercase)


@dataclass(frozen=True)
class Outputs:
    composites: tuple[ir.Composite, ...]
    tiers: tuple[ir.Tier, ...]
    percentile_tiers: tuple[ir.PercentileTier, ...]
    matrices: tuple[ir.Matrix, ...]
    flags: tuple[ir.Flag, ...]


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


def lower_outputs(checker: Checker) -> Outputs:
    symbols = checker.symbols
    composites = _ordered(checker, "composite", "E410", lambda s: _composite(checker, s))
    tiers = tuple(t for s in symbols.of_kind("tier") if (t := _tier(checker, s.decl)) is not None)
    percentile = tuple(
        t
        for s in symbols.of_kind("percentile_tier")
        if (t := _percentile(checker, s.decl)) is not None
    )
    matrices = tuple(
        m for s in symbols.of_kind("matrix") if (m := _matrix(checker, s.decl)) is not None
    )
    flags = _ordered(checker, "flag", "E420", lambda s: _flag(checker, s))
    return Outputs(
        composites, tiers, percentile, matrices, _with_bands(percentile, matrices, flags)
    )


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


def _ordered(
    checker: Checker, kind: str, cycle_code: str, lower_one: Callable[[Symbol], object]
) -> tuple:
    """Lowers every declaration of `kind`, then orders them after the ones they reference."""
    lowered: dict[str, object] = {}
    depends: dict[str, list[str]] = {}
    for symbol in checker.symbols.of_kind(kind):
        checker.references.clear()
        lowered[symbol.name] = lower_one(symbol)
        depends[symbol.name] = [r.name for r in checker.references if r.kind == kind]
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = [*path[path.index(name) :], name]
            symbol = checker.symbols.names[name]
            checker.error(
                cycle_code,
                f"{symbol.kind}s refer to each other in a cycle: {' -> '.join(cycle)}",
                symbol.span,
            )
            return
        state[name] = "active"
        for dependency in depends[name]:
            visit(dependency, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in depends:
        visit(name, [])
    return tuple(lowered[name] for name in order if lowered[name] is not None)


def _composite(checker: Checker, symbol: Symbol) -> ir.Composite | None:
    decl = symbol.decl
    assert isinstance(decl, ast.CompositeDecl)
    value = checker.numeric(decl.expr, COMPOSITE, "a composite score")
    return value and ir.Composite(decl.name.text, decl.description, value.expr)


def _flag(checker: Checker, symbol: Symbol) -> ir.Flag | None:
    decl = symbol.decl
    assert isinstance(decl, ast.FlagDecl)
    condition = checker.condition(decl.condition, FLAG)
    return condition and ir.Flag(decl.name.text, condition)


def _source(
    checker: Checker, ident: ast.Ident, kinds: tuple[str, ...], what: str, code: str
) -> Symbol | None:
    symbol = checker.symbols.names.get(ident.text)
    if symbol is not None and symbol.kind in kinds:
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
    source = _source(checker, decl.source, ("score", "composite"), "score", "E212")
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
    return ir.Tier(decl.name.text, source.name, bands)


def _percentile(checker: Checker, decl: ast.Node) -> ir.PercentileTier | None:
    assert isinstance(decl, ast.PercentileTierDecl)
    source = _source(checker, decl.source, ("score", "composite"), "score", "E212")
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
    return ir.PercentileTier(decl.name.text, source.name, bands)


def _matrix(checker: Checker, decl: ast.Node) -> ir.Matrix | None:
    assert isinstance(decl, ast.MatrixDecl)
    tiers = ("tier", "percentile_tier")
    rows = _source(checker, decl.rows, tiers, "tier", "E213")
    columns = _source(checker, decl.columns, tiers, "tier", "E213")
    if rows is None or columns is None:
        return None
    row_labels = band_labels(rows)
    if len(row_labels) > MAX_MATRIX_ROWS:
        checker.error(
            "E419", f"a matrix's row tier has at most {MAX_MATRIX_ROWS} bands (A..Z)", decl.rows
        )
        return None
    return ir.Matrix(decl.name.text, rows.name, columns.name, row_labels, band_labels(columns))
