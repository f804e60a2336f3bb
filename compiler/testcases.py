"""Test blocks to `ir.TestCase`: literal values coerced to the declared field and property
types, times resolved against the test's `as_of`, expectations checked over the outputs.

Times are ISO strings (`"2026-03-01T09:00:00Z"`; no zone means UTC) or durations relative
to `as_of` (`-2d` is two days before it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from . import ast, ir
from .checked import EXPECT
from .suggest import did_you_mean
from .typecheck import Checker

DEFAULT_AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
TestValue = ir.TestValue
TIME_HINT = (
    'write an ISO time such as "2026-01-01T09:00:00Z" or a time relative to as_of such as -2d'
)


def lower_tests(checker: Checker, sources: dict[str, str]) -> tuple[ir.TestCase, ...]:
    return tuple(_TestLowering(checker, sources, test).run() for test in checker.symbols.tests)


class _TestLowering:
    def __init__(self, checker: Checker, sources: dict[str, str], test: ast.TestDecl):
        self.checker = checker
        self.sources = sources
        self.test = test
        self.as_of = DEFAULT_AS_OF

    def run(self) -> ir.TestCase:
        test = self.test
        if test.as_of is not None:
            self.as_of = self._absolute_time(test.as_of) or DEFAULT_AS_OF
        if test.account is not None:
            return self._account_test()
        lead = self._lead(test.lead, test.name)
        events = self._events(test.events)
        expectations = tuple(x for x in map(self._expect, test.expects) if x is not None)
        return ir.TestCase(test.name.value, lead, events, self.as_of, expectations, span=test.span)

    def _lead(
        self, pairs: tuple[ast.Pair, ...], where: ast.Node
    ) -> tuple[tuple[str, TestValue], ...]:
        fields = {f.name: f for f in self.checker.symbols.lead_fields}
        lead = self._pairs(pairs, fields, "E207", "the lead has no field")
        key = self.checker.symbols.key
        if key is not None and key in fields and key not in dict(lead):
            self.checker.error(
                "E423",
                f"the test's lead needs its key field `{key}`",
                where,
                f'add e.g. `{key}: "t1"` to the lead block',
            )
        return lead

    def _events(self, events: tuple[ast.TestEvent, ...]) -> tuple[ir.TestEvent, ...]:
        return tuple(e for e in map(self._event, events) if e is not None)

    def _account_test(self) -> ir.TestCase:
        """An account record and its leads, each lead linked to the account unless its block
        gives its own link value."""
        test, symbols = self.test, self.checker.symbols
        assert test.account is not None
        if symbols.account is None or symbols.account_link is None:
            self.checker.error(
                "E437",
                "an account test needs an `account { ... }` declaration and a lead field marked `account`",
                test.name,
            )
            return ir.TestCase(test.name.value, (), (), self.as_of, (), span=test.span)
        fields = {f.name: f for f in symbols.account_fields}
        account = self._pairs(test.account, fields, "E430", "the account has no field")
        key = symbols.account_key
        if key is not None and key not in dict(account):
            self.checker.error(
                "E423",
                f"the test's account needs its key field `{key}`",
                test.name,
                f'add e.g. `{key}: "a1"` to the account block',
            )
        leads: list[ir.TestLead] = []
        for block in test.leads:
            record = dict(self._lead(block.record, block if block.record else test.name))
            record.setdefault(symbols.account_link, dict(account).get(key or ""))
            leads.append(ir.TestLead(tuple(record.items()), self._events(block.events)))
        keys = [dict(lead.record).get(symbols.key or "") for lead in leads]
        for block, lead_key in zip(test.leads, keys, strict=True):
            if lead_key is not None and keys.count(lead_key) > 1:
                self.checker.error(
                    "E205", f"two leads of this test have the key {lead_key!r}", block
                )
                break
        expectations = tuple(
            x for x in (self._expect(e, keys) for e in test.expects) if x is not None
        )
        return ir.TestCase(
            test.name.value,
            (),
            (),
            self.as_of,
            expectations,
            span=test.span,
            account=account,
            leads=tuple(leads),
        )

    def _pairs(
        self,
        pairs: tuple[ast.Pair, ...],
        declared: dict[str, ir.FieldType],
        code: str,
        unknown: str,
    ) -> tuple[tuple[str, TestValue], ...]:
        out: dict[str, TestValue] = {}
        for pair in pairs:
            name = pair.key.text
            if name in out:
                self.checker.error("E205", f"`{name}` is given twice", pair.key)
            elif name not in declared:
                self.checker.error(
                    code, f"{unknown} `{name}`", pair.key, did_you_mean(name, declared)
                )
            else:
                out[name] = self._coerce(pair.value, declared[name])
        return tuple(out.items())

    def _event(self, event: ast.TestEvent) -> ir.TestEvent | None:
        declared = self.checker.symbols.event(event.type.text)
        if declared is None:
            names = [e.name for e in self.checker.symbols.event_types]
            self.checker.error(
                "E201",
                f"unknown event type `{event.type.text}`",
                event.type,
                did_you_mean(event.type.text, names),
            )
            return None
        props = {p.name: p for p in declared.properties}
        values = self._pairs(event.properties, props, "E202", f"`{declared.name}` has no property")
        at = self._time(event.at)
        return ir.TestEvent(declared.name, at, values) if at is not None else None

    def _expect(
        self, expect: ast.Expect, lead_keys: list[TestValue] | None = None
    ) -> ir.Expectation | None:
        """An expectation over the lead's outputs, the account's (`expect account`), or in an
        account test a given lead's (`expect lead "k"`; a bare `expect` when it has one lead).
        `lead_keys`: the keys of an account test's leads (None in a lead test)."""
        lead = expect.lead and expect.lead.value
        problem = None
        if (expect.account or lead is not None) and lead_keys is None:
            problem = "`expect account` and `expect lead` are for tests with an account block"
        elif lead is not None and lead not in {str(k) for k in lead_keys or ()}:
            problem = f"this test has no lead with the key {lead!r}"
        elif lead_keys is not None and not expect.account and lead is None and len(lead_keys) != 1:
            problem = f"this test has {len(lead_keys)} leads: say which one this reads"
        if problem is not None:
            self.checker.error(
                "E440", problem, expect, 'write `expect account ...` or `expect lead "<key>" ...`'
            )
            return None
        entity = ir.ACCOUNT if expect.account else ir.LEAD
        scope = EXPECT.of_account() if expect.account else EXPECT
        condition = self.checker.condition(expect.condition, scope)
        span = expect.span
        text = self.sources.get(span.file, "")[span.start : span.end].removeprefix("expect").strip()
        return condition and ir.Expectation(
            condition, text, span=expect.span, entity=entity, lead=lead
        )

    # ---- values ------------------------------------------------------------------------

    def _coerce(self, node: ast.Expr, declared: ir.FieldType) -> TestValue:
        type_ = declared.type
        if type_ is ir.Type.TIMESTAMP:
            return self._time(node)
        number = _signed_number(node)
        if type_ is ir.Type.STRING and isinstance(node, ast.String):
            return node.value
        if type_ is ir.Type.BOOL and isinstance(node, ast.Bool):
            return node.value
        if type_ is ir.Type.NUMBER and number is not None:
            return number[0]
        if type_ is ir.Type.INT and number is not None and number[1]:
            return int(number[0])
        self.checker.error(
            "E315",
            f"`{declared.name}` is {type_.value}; this value is not",
            node,
            'write e.g. 200 for int, 2.5 for number, "text" for string, true for bool',
        )
        return None

    def _time(self, node: ast.Expr) -> datetime | None:
        if isinstance(node, ast.Neg) and isinstance(node.operand, ast.Duration):
            return self.as_of - timedelta(seconds=node.operand.seconds)
        if isinstance(node, ast.Duration):
            return self.as_of + timedelta(seconds=node.seconds)
        return self._absolute_time(node)

    def _absolute_time(self, node: ast.Expr) -> datetime | None:
        if isinstance(node, ast.String):
            try:
                parsed = datetime.fromisoformat(node.value.replace("Z", "+00:00"))
            except ValueError:
                parsed = None
            if parsed is not None:
                return (
                    parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
                )
        self.checker.error("E315", "expected a time", node, TIME_HINT)
        return None


def _signed_number(node: ast.Expr) -> tuple[float, bool] | None:
    """The value of a number literal, possibly negated, and whether it is whole."""
    sign = 1
    if isinstance(node, ast.Neg):
        sign, node = -1, node.operand
    if not isinstance(node, ast.Number):
        return None
    return sign * node.value, not any(c in node.text for c in ".eE")
