"""Helpers the generated evaluators call. Each applies the IR's missing-value semantics:
a missing operand gives missing (None), never an exception."""

from __future__ import annotations

import string
from bisect import bisect_left
from datetime import datetime, timedelta

import re2

from ...compiler.ir import round_score
from ...records import EVENT_TYPE, event_time, optional_utc

__all__ = [
    "ASCII_LOWER",
    "ASCII_UPPER",
    "DAY",
    "MICROSECOND",
    "NO_AGE",
    "Regex",
    "absolute",
    "add",
    "days_since",
    "div",
    "email_domain",
    "event_kind_age",
    "length",
    "lower",
    "maximum",
    "minimum",
    "mul",
    "neg",
    "optional_utc",
    "round_half_away",
    "round_score",
    "sequence",
    "sub",
    "upper",
]

# lower/upper map A-Z and a-z only: engines and database locales disagree beyond ASCII
# (`ß`, dotted `İ`, final sigma), and every backend must give the same answer.
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
MICROSECOND = timedelta(microseconds=1)
DAY = timedelta(days=1)
NO_AGE = 1 << 62  # larger than any age in microseconds: "no event yet" for Last


def event_kind_age(event: object, as_of: datetime) -> tuple[object, int]:
    """The slow path of the event loop: an event's type and age in microseconds, normalising
    its time (naive, ISO string) or failing with a clear error."""
    try:
        kind = event[EVENT_TYPE]  # type: ignore[index]
    except (KeyError, TypeError):
        raise ValueError(f"event record without {EVENT_TYPE!r}: {event!r}") from None
    return kind, (as_of - event_time(event)) // MICROSECOND


class Regex:
    """An RE2 pattern compiled once, at model load (`/i` is already folded into it).

    Answers are memoised per value: lead fields repeat a lot across leads, and a call into
    re2's Python binding costs microseconds, about as much as scoring the rest of a lead.
    """

    __slots__ = ("_answers", "_regex")
    _LIMIT = 4096

    def __init__(self, pattern: str) -> None:
        self._regex = re2.compile(pattern)
        self._answers: dict[str, bool] = {}

    def found_in(self, value: str) -> bool:
        """Unanchored search: does the pattern occur in `value`?"""
        answer = self._answers.get(value)
        if answer is None:
            if len(self._answers) >= self._LIMIT:
                self._answers.clear()
            answer = self._answers[value] = self._regex.search(value) is not None
        return answer


def add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def mul(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a * b


def div(a: float | None, b: float | None) -> float | None:
    """`x / 0` is missing, like NULLIF(b, 0) in SQL."""
    return None if a is None or b is None or b == 0 else a / b


def neg(a: float | None) -> float | None:
    return None if a is None else -a


def absolute(a: float | None) -> float | None:
    return None if a is None else abs(a)


def lower(s: str | None) -> str | None:
    return None if s is None else s.translate(ASCII_LOWER)


def upper(s: str | None) -> str | None:
    return None if s is None else s.translate(ASCII_UPPER)


def length(s: str | None) -> int | None:
    return None if s is None else len(s)


def email_domain(s: str | None) -> str | None:
    """The lower-cased part after the last `@`; missing without one."""
    if s is None:
        return None
    at = s.rfind("@")
    return None if at < 0 else s[at + 1 :].translate(ASCII_LOWER)


def days_since(ts: datetime | None, as_of: datetime) -> float | None:
    """Real days from `ts` to `as_of`, from exact microseconds."""
    return None if ts is None else (as_of - ts) / DAY


def minimum(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else min(values)  # type: ignore[type-var]


def maximum(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else max(values)  # type: ignore[type-var]


def round_half_away(value: float | None, digits: int) -> float | None:
    """`round(x, n)` of the language: half away from zero after absorbing binary noise at 9
    decimals, the same steps as `round_score`."""
    return None if value is None else round_score(value, int(digits))


def sequence(first_ages: list[int], second_ages: list[int], gap: int) -> bool:
    """Whether some a (age in first_ages) and b (in second_ages) have a.at <= b.at <= a.at + gap.

    In ages (as_of - at, microseconds) that is b_age <= a_age <= b_age + gap: for each b the
    nearest a not after it decides. Equal times (a.at == b.at) count.
    """
    if not first_ages or not second_ages:
        return False
    first_ages.sort()
    count = len(first_ages)
    for b_age in second_ages:
        i = bisect_left(first_ages, b_age)
        if i < count and first_ages[i] - b_age <= gap:
            return True
    return False
