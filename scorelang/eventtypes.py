"""Which declared event type an undeclared one resembles: `'Page View' (17) looks like page_view`.

Events of undeclared types are dropped (an event log may be shared by several models), so a
type spelled as a CRM spells it would silently lower scores; naming each one with its count
and the declared type it resembles makes the drop visible and the fix obvious.
"""

from __future__ import annotations

import difflib
import re

SHOWN = 5  # undeclared types named in a note; the rest are counted


def normalised(name: str) -> str:
    """`Page View`, `page-view` and `PageView` all read as `pageview`."""
    return re.sub(r"[\W_]+", "", name).casefold()


def resembles(name: str, declared: list[str]) -> str | None:
    """The declared type `name` is most likely a spelling of, if any."""
    by_form = {normalised(d): d for d in declared}
    if normalised(name) in by_form:
        return by_form[normalised(name)]
    close = difflib.get_close_matches(normalised(name), list(by_form), n=1, cutoff=0.75)
    return by_form[close[0]] if close else None


def describe(counts: tuple[tuple[str, int, str | None], ...]) -> str:
    """`'Page View' (17) looks like page_view, 'click' (3)` from (type, count, resembles)
    triples, most frequent first."""
    parts = [
        f"{name!r} ({count})" + (f" looks like {like}" if like else "")
        for name, count, like in counts[:SHOWN]
    ]
    if len(counts) > SHOWN:
        rest = sum(count for _name, count, _like in counts[SHOWN:])
        parts.append(f"{len(counts) - SHOWN} more types ({rest})")
    return ", ".join(parts)
