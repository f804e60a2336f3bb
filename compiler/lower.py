"""The checked declarations to the IR model: scores and their rules here, the other outputs
in `compiler.outputs`, test blocks in `compiler.testcases`.

Rule identities are part of the output contract (one column per rule): a labelled rule is
`<score>__<slug of label>`, an unlabelled one `<score>__r<position>` (1-based, counting
the rules inside groups, in source order); a slug already taken gets `_2`, `_3`, ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from . import ast, ir
from .checked import RULE, Scope, Value
from .diagnostics import Diagnostic, Severity
from .fmt import rule_text
from .outputs import in_entity, lower_outputs, output_choices, with_missing
from .shifts import report_nested_shifts
from .symbols import Symbols
from .testcases import lower_tests
from .typecheck import Checker

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def lower(
    symbols: Symbols, sources: dict[str, str], root: str, default_name: str
) -> tuple[ir.Model | None, list[Diagnostic]]:
    """The model, or None when any error was found; every diagnostic either way.
    `default_name` names a model without a `model` declaration (the root file's stem)."""
    checker = Checker(symbols, output_choices=output_choices(symbols))
    for symbol in symbols.of_kind("const"):
        checker.const(symbol)
    for symbol in symbols.of_kind("segment"):
        checker.segment(symbol)
    scores, reads = [], {}
    for symbol in symbols.of_kind("score"):
        checker.references.clear()
        scores.append(_ScoreLowering(checker, sources, symbol.decl).run())
        reads[symbol.name] = tuple(dict.fromkeys(r.name for r in checker.references))
    outputs = lower_outputs(checker, reads)
    scores = [_score_with_missing(s, outputs.read_from(s.entity)) for s in scores]
    tests = _with_missing(lower_tests(checker, sources), outputs.missing)
    name = _model_name(symbols, root, default_name, checker)
    _check_rule_ids(scores, symbols, checker)
    model = ir.Model(
        name=name,
        description=symbols.model.description if symbols.model else None,
        key=symbols.key,
        lead_fields=symbols.lead_fields,
        event_types=symbols.event_types,
        aggregates=checker.aggregate_nodes(),
        scores=tuple(scores),
        composites=outputs.composites,
        tiers=outputs.tiers,
        percentile_tiers=outputs.percentile_tiers,
        matrices=outputs.matrices,
        flags=outputs.flags,
        tests=tests,
        account=symbols.account_key
        and ir.Entity(ir.ACCOUNT, symbols.account_key, symbols.account_fields),
        account_link=symbols.account_link,
    )
    report_nested_shifts(checker, model)
    diagnostics = [*symbols.diagnostics, *checker.diagnostics]
    if any(d.severity is Severity.ERROR for d in diagnostics) or symbols.key is None:
        return None, diagnostics
    return model, diagnostics


def _score_with_missing(score: ir.Score, missing: Mapping[str, bool]) -> ir.Score:
    """A score whose rules know which outputs they read may be missing (a lead's account's
    outputs; lead outputs inside an account's roll-ups)."""

    def rule(r: ir.PointsRule | ir.ResetRule) -> ir.PointsRule | ir.ResetRule:
        if isinstance(r, ir.EachRule):
            return r
        return replace(r, condition=with_missing(r.condition, missing))

    items = tuple(
        replace(i, rules=tuple(rule(r) for r in i.rules)) if isinstance(i, ir.Group) else rule(i)
        for i in score.items
    )
    return replace(score, items=items, resets=tuple(rule(r) for r in score.resets))


def _with_missing(
    tests: tuple[ir.TestCase, ...], missing: Mapping[str, bool]
) -> tuple[ir.TestCase, ...]:
    """Test cases whose expectations know which outputs may be missing."""
    return tuple(
        replace(
            test,
            expectations=tuple(
                replace(e, condition=with_missing(e.condition, missing)) for e in test.expectations
            ),
        )
        for test in tests
    )


def _model_name(symbols: Symbols, root: str, default_name: str, checker: Checker) -> str:
    if symbols.model is not None:
        return symbols.model.name.text
    if not IDENTIFIER.fullmatch(default_name):
        checker.error(
            "E403",
            f"the file name `{default_name}` is not a valid model name",
            ast.Span(root, 1, 1, 1, 2),
            "add `model my_model` at the top, or rename the file (letters, digits, _)",
        )
    return default_name


def _check_rule_ids(scores: list[ir.Score], symbols: Symbols, checker: Checker) -> None:
    """Rule ids become result columns: they must not collide with a declared name."""
    for score in scores:
        for rule in score.rules:
            if rule.id in symbols.names:
                checker.error(
                    "E415",
                    f"rule id `{rule.id}` collides with a declared name",
                    rule.span,
                    "give the rule a different label",
                )


@dataclass
class _ScoreLowering:
    checker: Checker
    sources: dict[str, str]
    decl: ast.ScoreDecl
    position: int = 0
    ids: set[str] = field(default_factory=set)
    labels: dict[str, ast.Span] = field(default_factory=dict)
    resets: list[ir.ResetRule] = field(default_factory=list)
    clamp: ast.ClampRule | None = None

    @property
    def scope(self) -> Scope:
        return in_entity(RULE, self.decl.entity)

    def run(self) -> ir.Score:
        items: list[ir.PointsRule | ir.Group] = []
        for rule in self.decl.rules:
            if isinstance(rule, ast.ClampRule):
                self._clamp(rule)
            elif isinstance(rule, ast.GroupRule):
                group = self._group(rule)
                if group is not None:
                    items.append(group)
            else:
                lowered = self._rule(rule)
                if isinstance(lowered, ir.ResetRule):
                    self.resets.append(lowered)
                elif lowered is not None:
                    items.append(lowered)
        clamp = (self.clamp.low.value, self.clamp.high.value) if self.clamp else None
        return ir.Score(
            self.decl.name.text,
            self.decl.description,
            tuple(items),
            tuple(self.resets),
            clamp,
            self.decl.entity,
        )

    def _clamp(self, rule: ast.ClampRule) -> None:
        if self.clamp is not None:
            self.checker.error(
                "E409", "a score has at most one clamp", rule, f"the first is at {self.clamp.span}"
            )
        elif rule.low.value > rule.high.value:
            self.checker.error(
                "E408",
                f"clamp {rule.low.text}..{rule.high.text} is reversed",
                rule,
                f"write `clamp {rule.high.text}..{rule.low.text}`",
            )
        else:
            self.clamp = rule

    def _group(self, rule: ast.GroupRule) -> ir.Group | None:
        cap = self._positive(rule.max, "a group's max")
        inner: list[ir.PointsRule] = []
        for child in rule.rules:
            if isinstance(child, ast.ClampRule | ast.GroupRule):
                kind = "clamp" if isinstance(child, ast.ClampRule) else "group"
                self.checker.error(
                    "E422",
                    f"a {kind} cannot be inside a group",
                    child,
                    "move it to the score itself",
                )
                continue
            lowered = self._rule(child)
            if isinstance(lowered, ir.ResetRule):
                self.resets.append(lowered)
            elif lowered is not None:
                inner.append(lowered)
        return ir.Group(rule.name.value, cap, tuple(inner)) if cap is not None else None

    def _identity(self, rule: ast.WhenRule | ast.EachRule) -> tuple[str, str]:
        self.position += 1
        if rule.label is None:
            label, base = rule_text(rule), f"r{self.position}"
        else:
            label = rule.label.value
            if label in self.labels:
                self.checker.error(
                    "E415",
                    f"the label {label!r} is already used in score `{self.decl.name.text}`",
                    rule.label,
                    f"first used at {self.labels[label]}; labels name rules, so make it unique",
                )
            self.labels.setdefault(label, rule.label.span)
            base = slug(label) or f"r{self.position}"
        candidate, n = base, 1
        while candidate in self.ids:
            n += 1
            candidate = f"{base}_{n}"
        self.ids.add(candidate)
        return f"{self.decl.name.text}__{candidate}", label

    def _rule(self, rule: ast.Rule) -> ir.PointsRule | ir.ResetRule | None:
        rule_id, label = self._identity(rule)
        if isinstance(rule, ast.WhenRule):
            condition = self.checker.condition(rule.condition, self.scope)
            if isinstance(rule.award, ast.Reset):
                return condition and ir.ResetRule(rule_id, label, condition, span=rule.span)
            points = self._points(rule.award)
            if condition is None or points is None:
                return None
            return ir.WhenRule(rule_id, label, condition, points, span=rule.span)
        return self._each(rule, rule_id, label)

    def _each(self, rule: ast.EachRule, rule_id: str, label: str) -> ir.EachRule | None:
        events = self.checker.event_set(rule.events, self.scope)
        points = self._points(rule.points)
        cap: float | None = None
        weighting: ast.EachOption | None = None
        ok = True
        for option in rule.options:
            if isinstance(option, ast.MaxOption):
                if cap is not None:
                    self.checker.error("E406", "`max` is given twice", option)
                    ok = False
                cap = self._positive(option.value, "`max`")
                ok = ok and cap is not None
            elif weighting is not None:
                self.checker.error(
                    "E406",
                    "an `each` rule takes one of `decay`, `decay linear` and `once per`",
                    option,
                    "keep the weighting you mean and drop the other",
                )
                ok = False
            else:
                weighting = option
        if events is None or points is None or not ok:
            return None
        quantity = self._quantity(events.filter, weighting)
        if quantity is None:
            return None
        ref = self.checker.intern(quantity, self.decl.entity)
        return ir.EachRule(rule_id, label, ref, points, cap, span=rule.span)

    def _quantity(
        self, events: ir.EventFilter, option: ast.EachOption | None
    ) -> ir.AggregateNode | None:
        if option is None:
            return ir.Count("", events)
        if isinstance(option, ast.DecayOption):
            half_life = self._positive_duration(option.half_life)
            return half_life and ir.DecayedSum("", events, half_life)
        if isinstance(option, ast.OncePerOption):
            period = self._positive_duration(option.period)
            return period and ir.PeriodCount("", events, period)
        assert isinstance(option, ast.LinearDecayOption)
        period = self._positive_duration(option.period)
        if not 0 < option.percent.value <= 100:
            self.checker.error(
                "E407", "a linear decay percentage is above 0 and at most 100", option.percent
            )
            return None
        return period and ir.LinearDecaySum("", events, option.percent.value, period)

    def _positive_duration(self, duration: ast.Duration) -> float | None:
        if duration.seconds <= 0:
            self.checker.error("E407", "this duration must be positive", duration)
            return None
        return duration.seconds

    def _number(self, node: ast.Number | ast.Name) -> float | None:
        checked = self.checker.numeric(node, RULE, "points")
        if isinstance(checked, Value) and isinstance(checked.expr, ir.Literal):
            return float(checked.expr.value)
        if checked is not None:
            self.checker.error("E416", "this must be a number or a const holding one", node)
        return None

    def _points(self, points: ast.Points) -> float | None:
        value = self._number(points.value)
        return None if value is None else points.sign * value

    def _positive(self, node: ast.Number | ast.Name, what: str) -> float | None:
        value = self._number(node)
        if value is not None and value <= 0:
            self.checker.error("E407", f"{what} must be positive", node)
            return None
        return value
