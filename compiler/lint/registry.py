"""Every lint rule, in code order; add a rule by adding a module to `rules/` and a line here."""

from __future__ import annotations

from .rule import Rule
from .rules import (
    sl001_email_opens,
    sl002_no_decay,
    sl003_no_negative,
    sl004_inflation,
    sl005_unreachable_band,
    sl006_duplicate_rule,
    sl007_duplicate_label,
    sl008_unused,
    sl009_unreached_flag,
    sl010_retention,
    sl011_magic_number,
    sl012_each_without_max,
)

RULES: tuple[Rule, ...] = tuple(
    m.RULE
    for m in (
        sl001_email_opens,
        sl002_no_decay,
        sl003_no_negative,
        sl004_inflation,
        sl005_unreachable_band,
        sl006_duplicate_rule,
        sl007_duplicate_label,
        sl008_unused,
        sl009_unreached_flag,
        sl010_retention,
        sl011_magic_number,
        sl012_each_without_max,
    )
)
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
# Configuration may name a rule by its code or by its name.
KNOWN: dict[str, str] = {**{r.code: r.code for r in RULES}, **{r.name: r.code for r in RULES}}
