"""The instants of a history: from T1 to T2 every D, both ends inclusive, in UTC."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ..compiler.parse import DURATION_SECONDS
from ..explain import duration_text

MAX_INSTANTS = 1000  # a few years of days; more is almost always a mistaken --every
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|min|h|d|w)\s*$")


class SpineError(ValueError):
    """Instants that cannot make a history (T2 before T1, a zero step, too many)."""


def parse_duration(text: str) -> timedelta:
    """`7d`, `12h`, `30min`, `2w`, `90s`: the language's durations."""
    match = DURATION.match(text)
    if match is None:
        raise SpineError(f"not a duration such as 7d, 12h, 30min or 2w: {text!r}")
    return timedelta(seconds=float(match.group(1)) * DURATION_SECONDS[match.group(2)])


def spine(
    start: datetime, end: datetime, every: timedelta, limit: int = MAX_INSTANTS
) -> list[datetime]:
    """start, start + every, ... up to and including `end` (aware UTC datetimes)."""
    if end < start:
        raise SpineError(
            f"--to {end:%Y-%m-%dT%H:%M:%SZ} is before --from {start:%Y-%m-%dT%H:%M:%SZ}"
        )
    if every <= timedelta(0):
        raise SpineError("--every must be a positive duration such as 1d")
    count = (end - start) // every + 1
    if count > limit:
        raise SpineError(
            f"--from {start:%Y-%m-%dT%H:%M:%SZ} --to {end:%Y-%m-%dT%H:%M:%SZ} --every "
            f"{duration_text(every.total_seconds())} is {count} instants, more than the limit of {limit}: use a longer "
            "--every or a shorter range (or raise --max-instants)"
        )
    return [start + n * every for n in range(count)]
