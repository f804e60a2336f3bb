"""Found in review: "a flag reading a percentile tier is False outside a batch" had two
copies that drifted. The Python one matched names over every subexpression, so a function
call (`abs(size)`) matched a percentile tier named `abs`, and `model.score` returned
`big = False` for a lead whose size is 20. The rule is now computed once, at lowering
(`ir.Flag.needs_bands`), from references to outputs only, and both targets read it."""

from __future__ import annotations

from datetime import UTC, datetime

import scorelang

SOURCE = """
model m
lead { id: string key  size: number }
score s { when size > 0: +1 }
tier abs from s by percentile { top top 50%  rest }
tier band from s { high >= 1  low }
matrix grid from abs, band
flag big = abs(size) > 3
flag ranked = abs == "top"
flag via_matrix = grid == "A1"
flag via_flag = ranked or big
"""
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_function_call_is_not_a_tier_reference() -> None:
    model = scorelang.loads(SOURCE)
    result = model.score({"id": "a", "size": 20}, [], as_of=AS_OF)
    assert result.flags["big"] is True


def test_bands_needed_follow_tiers_matrices_and_flags() -> None:
    flags = {f.name: f for f in scorelang.loads(SOURCE).ir.flags}
    assert flags["big"].needs_bands == ()
    assert flags["ranked"].needs_bands == ("abs",)
    assert flags["via_matrix"].needs_bands == ("abs",)
    assert flags["via_flag"].needs_bands == ("abs",)
