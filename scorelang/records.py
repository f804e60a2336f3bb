"""How lead and event records look to the Python evaluator, and timestamp normalisation.

A lead is a Mapping field -> value; an event is a Mapping with the keys below plus one key
per property. Every timestamp becomes an aware UTC datetime so that ages and comparisons are
instants: naive datetimes are read as UTC, ISO 8601 strings are accepted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .compiler import ir

if TYPE_CHECKING:
    from .api import ScoringModel

EVENT_LEAD = "lead_id"
EVENT_TYPE = "event_type"
EVENT_TIME = "occurred_at"


def to_utc(value: datetime | date | str) -> datetime:
    """An aware UTC datetime for `value`; a ValueError naming the value when it is none."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    elif not isinstance(value, datetime):
        raise ValueError(f"not a timestamp: {value!r} ({type(value).__name__})")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def optional_utc(value: datetime | date | str | None) -> datetime | None:
    """`to_utc` for nullable fields: missing stays missing."""
    return None if value is None else to_utc(value)


def event_time(event: object) -> datetime:
    """The normalised time of one event record, with a clear error when it has none."""
    try:
        value = event[EVENT_TIME]  # type: ignore[index]
    except (KeyError, TypeError):
        raise ValueError(f"event record without {EVENT_TIME!r}: {event!r}") from None
    if value is None:
        raise ValueError(f"event record with a missing {EVENT_TIME!r}: {event!r}")
    return to_utc(value)


def as_of_or_now(as_of: datetime | date | str | None) -> datetime:
    """The evaluation instant: the given one normalised, or now (UTC)."""
    return datetime.now(UTC) if as_of is None else to_utc(as_of)


def model_ir(model: ir.Model | ScoringModel) -> ir.Model:
    """The checked model behind either form the API accepts: a ScoringModel or its IR."""
    return model if isinstance(model, ir.Model) else model.ir


def optional_path(path: str | Path | None) -> Path | None:
    return None if path is None else Path(path)
