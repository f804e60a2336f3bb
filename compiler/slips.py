"""Common slips named as what they are, where they were made.

Lark reports where parsing stopped, which for these is not where the author slipped: a rule
without `:` parses on (`10 +5` is arithmetic) and fails at the next line's `when`; `7 days`
fails at the `7`, with a list of tokens; `: 5` fails without saying that points need a sign;
`-3 max -12` fails at the `-` without saying that a `max` is a size, whatever the sign.
Each check reads the source around the failure and, when it recognises the slip, gives the
message and the source range to underline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark.exceptions import UnexpectedToken

# Unit words an author may write -> the language's unit (DURATION: s, min, h, d, w).
UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "min"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "w"),
}
_SPELLED = re.compile(r"(\d+(?:\.\d+)?)[ \t]*([A-Za-z]+)\b")
_RULE_START = re.compile(r"(?<![\w\"])(when|each)\b")
# Strings and regex literals, blanked (same length) so that a `:` inside them is not seen.
_LITERAL = re.compile(r'"(?:\\.|[^"\\\n])*"|/(?:\\.|[^/\\\n])+/[a-z]*')
_TRAILING_POINTS = re.compile(
    r"([+-])[ \t]*(\d+(?:\.\d+)?|[A-Za-z_]\w*)[ \t]*(\"[^\"\n]*\")?[ \t]*$"
)
_NEXT_ITEM = {"WHEN", "EACH", "GROUP", "CLAMP", "RBRACE"}


@dataclass(frozen=True)
class Slip:
    message: str
    start: int  # offsets into the source
    end: int


def find_slip(error: UnexpectedToken, source: str) -> Slip | None:
    checks = (spelled_duration, unsigned_points, signed_max, missing_colon)
    return next((slip for check in checks if (slip := check(error, source))), None)


def spelled_duration(error: UnexpectedToken, source: str) -> Slip | None:
    """`within 7 days`: a duration is one word."""
    if error.token.type != "NUMBER" or "DURATION" not in error.expected:
        return None
    match = _SPELLED.match(source, error.token.start_pos or 0)
    if match is None or match[2].lower() not in UNITS:
        return None
    fixed = f"{match[1]}{UNITS[match[2].lower()]}"
    return Slip(
        f"a duration is one word: write {fixed}, not {match[0]!r} (units: s, min, h, d, w)",
        match.start(),
        match.end(),
    )


def unsigned_points(error: UnexpectedToken, source: str) -> Slip | None:
    """`when x: 5`: points need a sign."""
    if error.token.type not in ("NUMBER", "NAME") or "SIGN" not in error.expected:
        return None
    start = error.token.start_pos or 0
    if not source[:start].rstrip().endswith(":"):
        return None
    text = str(error.token)
    return Slip(f"points need a sign: write +{text} or -{text}", start, start + len(text))


def signed_max(error: UnexpectedToken, source: str) -> Slip | None:
    """`-3 max -12`: the bound of a `max` is a size; the sign comes from the points."""
    start = error.token.start_pos or 0
    if error.token.type not in ("SIGN", "MINUS", "PLUS") or not re.search(
        r"\bmax\s*$", source[:start]
    ):
        return None
    number = re.match(r"[+-]\s*(\d+(?:\.\d+)?)", source[start:])
    size = number[1] if number else "M"
    return Slip(
        f"a `max` takes a positive bound: write `max {size}`; on negative points it keeps the "
        f"rule's total at -{size} or above",
        start,
        start + (number.end() if number else 1),
    )


def missing_colon(error: UnexpectedToken, source: str) -> Slip | None:
    """`when x > 10 +5`, reported at the next rule: the `:` is missing before the points."""
    position = error.token.start_pos or 0
    starts = [m for m in _RULE_START.finditer(source, 0, position) if m.start(1) < position]
    if not starts:
        return None
    rule = starts[-1].start(1)
    next_line = source.count("\n", rule, position) > 0
    if not next_line and error.token.type not in _NEXT_ITEM:
        return None  # a slip inside the condition, before any `:` was due
    text = _LITERAL.sub(lambda m: '"' + " " * (len(m[0]) - 2) + '"', source[rule:position])
    statement = text.rstrip()
    if ":" in statement:
        return None
    line_start = statement.rfind("\n") + 1
    points = _TRAILING_POINTS.search(statement, line_start)
    if points:
        start = rule + points.start()
        return Slip(
            f"missing ':' between the condition and the points '{points[1]}{points[2]}' "
            "(a rule is `when CONDITION: POINTS`)",
            start,
            start + 1,
        )
    end = rule + len(statement)
    return Slip(
        "missing ':' after the condition (a rule is `when CONDITION: POINTS`)", end, end + 1
    )
