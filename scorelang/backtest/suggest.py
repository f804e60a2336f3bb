"""Points fitted to outcomes: an L2-regularised logistic regression on what each rule
counted, turned back into readable points and proposed as a diff of the `.score` file.

A rule's "units" for a lead are its per-rule column divided by its points: 1 for a `when`
rule that fired, the (capped, decayed) quantity for an `each` rule. The fitted log-odds per
unit are rescaled per score so the score keeps its current total of |points| (tiers, flags
and clamps stay meaningful), then rounded to integers. Caps (`max`) are left as written.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..compiler import ast, ir
from ..compiler.diagnostics import CompileError, has_errors
from ..compiler.frontend import Compilation, compile_file, compile_source
from ..config import SourceMapping
from ..records import to_utc
from .metrics import roc_auc
from .scoring import AsOf, Progress, load_dataset, score_python

PointsRule = ir.WhenRule | ir.EachRule


@dataclass(frozen=True)
class LogisticFit:
    intercept: float
    coefficients: NDArray[np.float64]  # log-odds per unit of each column; 0 for constant columns
    varied: NDArray[np.bool_]  # columns that vary in the data (the others carry no evidence)


@dataclass(frozen=True)
class RuleFit:
    id: str
    score: str
    label: str
    current: float
    suggested: float
    coefficient: float | None  # None: the rule never varied in the training leads
    note: str | None = None


@dataclass(frozen=True)
class Suggestion:
    score: str  # the score whose AUC is compared
    rules: tuple[RuleFit, ...]
    auc_current: float
    auc_suggested: float
    train: int
    holdout: int
    seed: int
    l2: float
    diff: str  # unified diff of the changed .score files
    sources: dict[str, str]  # path -> rewritten text, for the files that changed


def _sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1 / (1 + np.exp(-np.clip(z, -35, 35)))


def fit_logistic(
    x: NDArray[np.float64], y: NDArray[np.bool_], l2: float = 1.0, iterations: int = 100
) -> LogisticFit:
    """Newton's method on standardised columns (so the penalty treats counts and 0/1
    indicators alike), the intercept unpenalised; coefficients returned per raw unit."""
    x = np.asarray(x, dtype=float)
    target = np.asarray(y, dtype=float)
    mean, sd = x.mean(axis=0), x.std(axis=0)
    varied = sd > 1e-12
    z = np.column_stack([np.ones(len(x)), (x[:, varied] - mean[varied]) / sd[varied]])
    penalty = np.full(z.shape[1], float(l2))
    penalty[0] = 1e-9  # keeps the Hessian invertible for an all-one or all-zero outcome
    weights = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = _sigmoid(z @ weights)
        gradient = z.T @ (p - target) + penalty * weights
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    coefficients = np.zeros(x.shape[1])
    coefficients[varied] = weights[1:] / sd[varied]
    intercept = float(weights[0] - (coefficients[varied] * mean[varied]).sum())
    return LogisticFit(intercept, coefficients, varied)


def points_rules(model: ir.Model) -> list[tuple[str, PointsRule]]:
    """(score name, rule) for every lead rule that awards points, in output-column order."""
    scores = model.outputs_of(ir.LEAD).scores
    return [(s.name, r) for s in scores for r in s.rules if not isinstance(r, ir.ResetRule)]


def rule_units(model: ir.Model, rows: Sequence[Mapping[str, Any]]) -> NDArray[np.float64]:
    """One column per points rule: its per-rule column divided by its points."""
    rules = points_rules(model)
    units = np.zeros((len(rows), len(rules)))
    for j, (_, rule) in enumerate(rules):
        if rule.points:
            units[:, j] = [float(row[rule.id]) / rule.points for row in rows]
    return units


def round_half_away(value: float) -> float:
    return math.copysign(math.floor(abs(value) + 0.5), value)


def propose(model: ir.Model, fit: LogisticFit) -> list[RuleFit]:
    """Coefficients rescaled per score to its current sum of |points|, rounded to integers;
    rules without evidence keep their points."""
    rules = points_rules(model)
    scale: dict[str, float] = {}
    for score in model.outputs_of(ir.LEAD).scores:
        members = [j for j, (name, _) in enumerate(rules) if name == score.name and fit.varied[j]]
        current = sum(abs(rules[j][1].points) for j in members)
        fitted = sum(abs(fit.coefficients[j]) for j in members)
        scale[score.name] = current / fitted if fitted > 0 else 0.0
    result = []
    for j, (name, rule) in enumerate(rules):
        if not fit.varied[j]:
            note = (
                "kept: it never varied in the training leads"
                if rule.points
                else "kept: +0 points carry no units"
            )
            result.append(RuleFit(rule.id, name, rule.label, rule.points, rule.points, None, note))
            continue
        suggested = round_half_away(fit.coefficients[j] * scale[name]) + 0.0
        result.append(
            RuleFit(rule.id, name, rule.label, rule.points, suggested, float(fit.coefficients[j]))
        )
    return result


def _ast_points_rules(rules: Sequence[ast.Rule]) -> list[ast.WhenRule | ast.EachRule]:
    """Rules awarding points in source order, groups flattened (the IR's order)."""
    found: list[ast.WhenRule | ast.EachRule] = []
    for rule in rules:
        if isinstance(rule, ast.GroupRule):
            found += _ast_points_rules(rule.rules)
        elif isinstance(rule, ast.EachRule) or (
            isinstance(rule, ast.WhenRule) and isinstance(rule.award, ast.Points)
        ):
            found.append(rule)
    return found


def _points_text(value: float) -> str:
    return f"{'-' if value < 0 else '+'}{abs(value):g}"


def source_points(compilation: Compilation, model: ir.Model) -> dict[str, ast.Points]:
    """The `+N`/`-N` each points rule was written with, found through the rule's span."""
    source_rules = {
        rule.span: rule
        for module in compilation.modules.values()
        for decl in module.decls
        if isinstance(decl, ast.ScoreDecl)
        for rule in _ast_points_rules(decl.rules)
    }
    found: dict[str, ast.Points] = {}
    for _, rule in points_rules(model):
        source = source_rules.get(rule.span)
        if source is None:
            raise ValueError(f"rule {rule.id!r} has no source rule to rewrite")
        award = source.points if isinstance(source, ast.EachRule) else source.award
        assert isinstance(award, ast.Points)
        found[rule.id] = award
    return found


def rewrite_points(
    compilation: Compilation, model: ir.Model, points: Mapping[str, float]
) -> dict[str, str]:
    """New text of every file whose rules' literal points change (path -> text).

    Only each changed rule's `+N`/`-N` is replaced, so comments, layout and everything else
    stay byte for byte. Points written as a const name are left alone.
    """
    written = source_points(compilation, model)
    edits: dict[str, list[tuple[int, int, str]]] = {}
    for _, rule in points_rules(model):
        new, award = points.get(rule.id, rule.points), written[rule.id]
        if isinstance(award.value, ast.Number) and new != rule.points:
            replacement = (award.span.start, award.span.end, _points_text(new))
            edits.setdefault(award.span.file, []).append(replacement)
    rewritten = {}
    for path, changes in edits.items():
        text = compilation.sources[path]
        for start, end, replacement in sorted(changes, reverse=True):
            text = text[:start] + replacement + text[end:]
        rewritten[path] = text
    return rewritten


def fitted_rules(compilation: Compilation, fit: LogisticFit) -> list[RuleFit]:
    """Proposed points; a rule written with a const keeps it (the const may be shared)."""
    assert compilation.model is not None
    written = source_points(compilation, compilation.model)
    consts = {i: p.value.name for i, p in written.items() if isinstance(p.value, ast.Name)}
    return [
        replace(
            f,
            suggested=f.current,
            note=f"kept: written as const {consts[f.id]} (fit: {f.suggested:+g})",
        )
        if f.id in consts and f.suggested != f.current
        else f
        for f in propose(compilation.model, fit)
    ]


def unified_diff(compilation: Compilation, rewritten: Mapping[str, str]) -> str:
    parts = []
    for path, new in rewritten.items():
        old = compilation.sources[path]
        parts += difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
    return "".join(parts)


def stratified_split(
    outcomes: NDArray[np.bool_], holdout: float, seed: int
) -> tuple[NDArray, NDArray]:
    """(train, holdout) indices with both outcomes in each part, the same for the same seed."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for value in (True, False):
        members = rng.permutation(np.flatnonzero(outcomes == value))
        if len(members) < 2:
            raise ValueError(
                "fitting points needs at least two converted and two not converted leads"
            )
        cut = min(max(1, round(len(members) * holdout)), len(members) - 1)
        test += list(members[:cut])
        train += list(members[cut:])
    return np.sort(np.array(train)), np.sort(np.array(test))


def suggest(
    path: Path,
    leads: Path,
    events: Path,
    outcome: str,
    as_of: AsOf | str,
    *,
    score: str | None = None,
    l2: float = 1.0,
    holdout: float = 0.3,
    seed: int = 0,
    progress: Progress | None = None,
    mapping: SourceMapping | None = None,
    accounts: Path | None = None,
) -> Suggestion:
    """Fit points on a training split and compare current and suggested points on the rest
    (`as_of`: a datetime, ISO 8601 text or a per-lead column; a model with an account reads
    the `accounts` file)."""
    as_of = to_utc(as_of) if isinstance(as_of, str) else as_of
    compilation = compile_file(path)
    if compilation.model is None or has_errors(compilation.diagnostics):
        raise CompileError(compilation.diagnostics)
    model = compilation.model
    target = score or model.score_names[-1]
    if target not in model.score_names:
        raise ValueError(f"no score named {target!r}; the model has {', '.join(model.score_names)}")
    dataset = load_dataset(model, leads, events, outcome, as_of, mapping, accounts)
    rows = score_python(
        model, dataset.leads, dataset.events, dataset.as_of, progress, dataset.accounts
    )
    train, test = stratified_split(dataset.outcomes, holdout, seed)
    units = rule_units(model, rows)
    fits = fitted_rules(compilation, fit_logistic(units[train], dataset.outcomes[train], l2))
    rewritten = rewrite_points(compilation, model, {f.id: f.suggested for f in fits})
    root = str(path)
    changed = compile_source(rewritten.get(root, compilation.sources[root]), root)
    if changed.model is None or has_errors(changed.diagnostics):
        raise CompileError(changed.diagnostics)
    # Every lead is scored again and the held-out rows kept: an account rolls up all its
    # leads, and a lead's scores do not depend on which other leads are scored with it.
    every = score_python(
        changed.model, dataset.leads, dataset.events, dataset.as_of, None, dataset.accounts
    )
    new_rows = [every[i] for i in test]
    outcomes = dataset.outcomes[test]
    return Suggestion(
        score=target,
        rules=tuple(fits),
        auc_current=roc_auc([float(rows[i][target] or 0) for i in test], outcomes),
        auc_suggested=roc_auc([float(r[target] or 0) for r in new_rows], outcomes),
        train=len(train),
        holdout=len(test),
        seed=seed,
        l2=l2,
        diff=unified_diff(compilation, rewritten),
        sources=rewritten,
    )
