"""Records given to the Python API, checked and typed the way the loader checks files.

`model.score_many(list(csv.DictReader(...)))` hands the evaluator strings; without this the
generated code compares `'12' <= 50` (a TypeError deep inside) or, worse, a lead without a
required field or with a misspelt key scores as if the field were missing. So each value is
converted as a CSV cell would be (docs/data.md: empty is missing, `3.5` is not an int,
`NaN` is not a number, timestamps are UTC), and missing required fields, unknown keys,
unreadable values and duplicate keys are one ValueError naming them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from .compiler import ir
from .config import suggestion
from .data import MAX_MAGNITUDE, MIN_MAGNITUDE
from .records import EVENT_LEAD, EVENT_TIME, EVENT_TYPE, to_utc

SHOWN = 10  # problems quoted in one error
_INT = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_BOOLS = {"true": True, "t": True, "1": True, "yes": True}
_BOOLS |= {"false": False, "f": False, "0": False, "no": False}


class _Unreadable(ValueError):
    pass


def typed(value: Any, type_: ir.Type) -> Any:
    """`value` as the model's type; a string is read as a CSV cell (empty: missing)."""
    if value is None or (isinstance(value, str) and value == ""):
        return None
    if isinstance(value, str):
        value = _parse(value.strip(), type_)
    elif type_ is ir.Type.STRING and not isinstance(value, str):
        raise _Unreadable(f"{value!r} is not a string")
    elif type_ is ir.Type.BOOL and not isinstance(value, bool):
        raise _Unreadable(f"{value!r} is not a bool")
    elif type_ in (ir.Type.INT, ir.Type.NUMBER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Unreadable(f"{value!r} is not a valid {type_.value}")
        if type_ is ir.Type.INT and not float(value).is_integer():
            raise _Unreadable(f"{value!r} is not a valid int")
        value = int(value) if type_ is ir.Type.INT else float(value)
    elif type_ is ir.Type.TIMESTAMP:
        if not isinstance(value, date):
            raise _Unreadable(f"{value!r} is not a timestamp")
        value = to_utc(value)
    if type_ in (ir.Type.INT, ir.Type.NUMBER):
        _check_range(value, type_)
    return value


def _parse(text: str, type_: ir.Type) -> Any:
    if type_ is ir.Type.STRING:
        return text
    if type_ is ir.Type.INT and _INT.fullmatch(text):
        return int(text)
    if type_ is ir.Type.NUMBER and _NUMBER.fullmatch(text):
        return float(text)
    if type_ is ir.Type.BOOL and text.lower() in _BOOLS:
        return _BOOLS[text.lower()]
    if type_ is ir.Type.TIMESTAMP:
        try:
            return to_utc(text)
        except ValueError:
            pass
    raise _Unreadable(f"{text!r} is not a valid {type_.value}")


def _check_range(value: float, type_: ir.Type) -> None:
    size = abs(value)
    if size > MAX_MAGNITUDE or (type_ is ir.Type.NUMBER and 0 < size < MIN_MAGNITUDE):
        raise _Unreadable(
            f"{value!r} is out of range (0, or between {MIN_MAGNITUDE:g} and {MAX_MAGNITUDE:g} "
            "in absolute value)"
        )
    if type_ is ir.Type.NUMBER and not math.isfinite(value):
        raise _Unreadable(f"{value!r} is not a valid number")


def check_leads(
    model: ir.Model, leads: Iterable[Mapping[str, Any]], entity: str = ir.LEAD
) -> list[dict[str, Any]]:
    """Typed lead (or `entity`: account) records, or a ValueError naming every problem
    (first few quoted)."""
    declared = model.entity(entity)
    fields, key = {f.name: f for f in declared.fields}, declared.key
    records, problems, seen = [], [], {}
    for n, lead in enumerate(leads, 1):
        where = f"{entity} {n}"
        if not isinstance(lead, Mapping):
            problems.append(f"{where}: not a mapping of field -> value: {lead!r}")
            continue
        if lead.get(key) not in (None, ""):
            where += f" ({key} {lead[key]!r})"
        record = _record(lead, fields, where, problems, f"{entity} field")
        for name, field in fields.items():
            if not field.optional and record.get(name) is None and name in lead:
                problems.append(f"{where}: missing value for required field {name!r}")
            elif not field.optional and name not in lead:
                problems.append(f"{where}: missing required field {name!r}")
        value = record.get(key)
        if value is not None and value in seen:
            problems.append(
                f"{where}: duplicate {entity} key {value!r} (also {entity} {seen[value]})"
            )
        seen.setdefault(value, n)
        records.append(record)
    _raise(problems)
    return records


def check_events(
    model: ir.Model, events: Iterable[Mapping[str, Any]], need_lead: bool
) -> list[dict[str, Any]]:
    """Typed event records; `need_lead`: each must name its lead (`score_many`)."""
    props: dict[str, ir.FieldType] = {}
    for event_type in model.event_types:
        props |= {p.name: p for p in event_type.properties}
    key_type = next(f.type for f in model.lead_fields if f.name == model.key)
    fixed = {
        EVENT_LEAD: ir.FieldType(EVENT_LEAD, key_type, optional=not need_lead),
        EVENT_TYPE: ir.FieldType(EVENT_TYPE, ir.Type.STRING),
        EVENT_TIME: ir.FieldType(EVENT_TIME, ir.Type.TIMESTAMP),
    }
    declared = {t.name: t for t in model.event_types}
    records, problems = [], []
    for n, event in enumerate(events, 1):
        where = f"event {n}"
        if not isinstance(event, Mapping):
            problems.append(f"{where}: not a mapping of key -> value: {event!r}")
            continue
        record = _record(event, fixed | props, where, problems, "event key or property")
        for name, field in fixed.items():
            if not field.optional and record.get(name) is None:
                problems.append(f"{where}: missing {name!r}")
        event_type = declared.get(record.get(EVENT_TYPE))  # undeclared types are ignored
        for prop in event_type.properties if event_type else ():
            if not prop.optional and record.get(prop.name) is None:
                problems.append(
                    f"{where}: missing value for property {prop.name!r}, required by "
                    f"{event_type.name}"
                )
        records.append(record)
    _raise(problems)
    return records


def _record(
    given: Mapping[str, Any],
    fields: Mapping[str, ir.FieldType],
    where: str,
    problems: list[str],
    kind: str,
) -> dict[str, Any]:
    record = {}
    for name, value in given.items():
        field = fields.get(name)
        if field is None:
            hint = suggestion(str(name), fields) if isinstance(name, str) else ""
            article = "an" if kind[0] in "aeiou" else "a"
            problems.append(
                f"{where}: unknown key {name!r}, not {article} {kind} of the model{hint}"
            )
            continue
        try:
            record[name] = typed(value, field.type)
        except _Unreadable as error:
            problems.append(f"{where}, {name!r}: {error}")
    return record


def _raise(problems: list[str]) -> None:
    if problems:
        more = f"\n... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise ValueError("\n".join(problems[:SHOWN]) + more)
