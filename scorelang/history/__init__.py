"""Score history: every lead at a spine of instants, a summary per instant, and the
transitions of tiers and flags between them (docs/history.md)."""

from ..targets.sql.history import AT, FROM, OUTPUT, REASONS, TO, moving_outputs
from .run import (
    InstantSummary,
    history_rows,
    history_summary,
    transition_rows,
    write_history,
)
from .spine import MAX_INSTANTS, SpineError, parse_duration, spine
from .transitions import transitions

__all__ = [
    "AT",
    "FROM",
    "MAX_INSTANTS",
    "OUTPUT",
    "REASONS",
    "TO",
    "InstantSummary",
    "SpineError",
    "history_rows",
    "history_summary",
    "moving_outputs",
    "parse_duration",
    "spine",
    "transition_rows",
    "transitions",
    "write_history",
]
