"""Golden snippets of every hook (method) the Dialect base declares, per dialect, checked in
under tests/golden/dialects/ and reviewed in diffs; the differential tests execute them all
inside whole models. Rewrite them after an intended change with
`SCORELANG_UPDATE_GOLDEN=1 python -m pytest tests/test_dialect_hooks.py`.

A hook without a sample here fails `test_every_hook_has_a_golden_sample`; the capability
flags are proved on the engines by tests/test_dialect_conformance.py.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from scorelang.targets.sql.dialects import DIALECTS, Dialect, get_dialect
from scorelang.targets.sql.names import ident
from sqlglot import exp

GOLDEN = Path(__file__).resolve().parent / "golden" / "dialects"
UPDATE = os.environ.get("SCORELANG_UPDATE_GOLDEN") == "1"
PATTERN = r"\b(vp|head)[a-z]*"


def col(name: str) -> exp.Column:
    return exp.column(ident(name))


def positive(value: exp.Expression) -> exp.Expression:
    return exp.GT(this=value, expression=exp.Literal.number(0))


# Each hook (the name before the parenthesis) with sample arguments.
SAMPLES: dict[str, Callable[[Dialect], exp.Expression | str]] = {
    "double()": lambda d: d.double(),
    "pinned_instant(2026-01-01)": lambda d: d.pinned_instant(datetime(2026, 1, 1)),
    "pinned_type()": lambda d: d.pinned_type(),
    "cast_double(x)": lambda d: d.cast_double(col("x")),
    "epoch_us(t)": lambda d: d.epoch_us(col("t")),
    "epoch_us(pinned)": lambda d: d.epoch_us(d.pinned_instant(datetime(2026, 1, 1))),
    "source_epoch_us(t)": lambda d: d.source_epoch_us(col("t")),
    "count_if(x > 0)": lambda d: d.count_if(positive(col("x"))),
    "only_when(SUM, x, x > 0)": lambda d: d.only_when(
        lambda v: exp.Sum(this=v), col("x"), positive(col("x"))
    ),
    "once(now)": lambda d: d.once(d.epoch_us(exp.CurrentTimestamp())),
    "now_as(zoned)": lambda d: d.now_as(zoned=True),
    "now_as(naive)": lambda d: d.now_as(zoned=False),
    "minus_micros(t, 1 day)": lambda d: d.minus_micros(col("t"), 86_400_000_000),
    "micros_interval(1 s)": lambda d: d.micros_interval(1_000_000),
    "at_nine_places(x, ROUND 2)": lambda d: d.at_nine_places(
        col("x"), lambda nine: exp.Round(this=nine, decimals=exp.Literal.number(2))
    ),
    "printed(x)": lambda d: d.printed(col("x")),
    "fence(step)": lambda d: d.fence(exp.select(col("x")).from_(exp.to_table("step"))),
    "floor_div(x, 86400)": lambda d: d.floor_div(col("x"), exp.Literal.number(86_400)),
    "least(x, y)": lambda d: d.least([col("x"), col("y")]),
    "greatest(x, y)": lambda d: d.greatest([col("x"), col("y")]),
    "ordered_string(s)": lambda d: d.ordered_string(col("s")),
    "ascii_case(s, lower)": lambda d: d.ascii_case(col("s"), upper=False),
    "ascii_case(s, upper)": lambda d: d.ascii_case(col("s"), upper=True),
    "lowered_domain(email)": lambda d: d.lowered_domain(col("email")),
    f"regex_search(s, /{PATTERN}/)": lambda d: d.regex_search(col("s"), PATTERN),
    "regex_search(s, /x*/)": lambda d: d.regex_search(col("s"), "x*"),
    f"regex_text(/{PATTERN}/)": lambda d: d.regex_text(PATTERN),
}


def hooks() -> list[str]:
    """The public methods the Dialect base declares."""
    return [
        name
        for name, member in inspect.getmembers(Dialect, inspect.isfunction)
        if not name.startswith("_") and member.__qualname__.startswith("Dialect.")
    ]


def rendered(dialect: str) -> str:
    target = get_dialect(dialect)
    parts = []
    for sample, build in SAMPLES.items():
        result = build(target)
        sql = result if isinstance(result, str) else result.sql(dialect=dialect)
        parts.append(f"-- {sample}\n{sql}\n")
    return "\n".join(parts)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_hooks_render_as_reviewed(dialect: str) -> None:
    golden = GOLDEN / f"{dialect}.sql"
    text = rendered(dialect)
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"no golden file {golden}: run with SCORELANG_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


def test_every_hook_has_a_golden_sample() -> None:
    sampled = {sample.split("(")[0] for sample in SAMPLES}
    assert not set(hooks()) - sampled, f"hooks without a golden sample: {set(hooks()) - sampled}"
    assert not sampled - set(hooks()), f"samples of no hook: {sampled - set(hooks())}"


def test_the_meta_test_sees_a_new_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    def json_text(self: Dialect, value: exp.Expression) -> exp.Expression:
        return value

    json_text.__qualname__ = "Dialect.json_text"
    monkeypatch.setattr(Dialect, "json_text", json_text, raising=False)
    with pytest.raises(AssertionError, match="json_text"):
        test_every_hook_has_a_golden_sample()
