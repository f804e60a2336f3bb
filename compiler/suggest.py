""" "Did you mean ...?" hints for unknown names: the closest known name by difflib."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str], prefix: str | None = None) -> str | None:
    """A hint naming the closest candidate, or `prefix` alone (None if both are missing)."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    if not close:
        close = [c for c in sorted(set(candidates)) if c.lower() == name.lower()]
    suggestion = f"did you mean `{close[0]}`?" if close else None
    parts = [p for p in (suggestion, prefix) if p]
    return " ".join(parts) or None
