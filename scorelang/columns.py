"""Which file column holds each declared field and property, and where that name came from.

A typo in a mapping, or a column a CRM export left out, would otherwise read as a field that
is missing on every lead: scores that look right and are not. So a `[sources.columns]` key
that names nothing in the model is an error with a suggestion, and an absent column is an
error naming the field, the expected column and the origin of that name, unless the config
opts in (`allow_missing_columns`) to reading it as all-missing, which the run then reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .compiler import ir
from .config import DEFAULT_SOURCES, ConfigError, SourceMapping, suggestion

# The events' structural columns: the name the model uses -> the mapping key that renames it.
STRUCTURAL = {"lead_id": "event_lead", "event_type": "event_type", "occurred_at": "event_time"}


def declared_names(model: ir.Model) -> list[str]:
    """Lead fields, then event property names: what [sources.columns] may map."""
    props = [p.name for t in model.event_types for p in t.properties]
    return list(dict.fromkeys([f.name for f in model.lead_fields] + props))


def account_fields(model: ir.Model) -> tuple[ir.FieldType, ...]:
    """The account's fields (none for a model without an account)."""
    return model.account.fields if model.account is not None else ()


def nullable_names(model: ir.Model) -> set[str]:
    """Fields and properties whose column may be absent when allowed: optional everywhere."""
    required = {f.name for f in model.lead_fields if not f.optional}
    required |= {p.name for t in model.event_types for p in t.properties if not p.optional}
    lead = set(declared_names(model)) - required
    return lead | {f.name for f in account_fields(model) if f.optional}


def check_mapping(model: ir.Model, mapping: SourceMapping, extra: Iterable[str] = ()) -> None:
    """A ConfigError when the mapping names a field or property the model does not declare
    (nor one of the `extra` lead columns a command reads, such as a backtest's outcome)."""
    where = mapping.origin or "the SourceMapping"
    known = [*declared_names(model), *extra]
    problems = []
    for key in mapping.columns:
        if key in known:
            continue
        if key in STRUCTURAL and key not in known:
            hint = f"; the events' {key} column is set by {STRUCTURAL[key]} under [sources]"
        elif key in (f.name for f in account_fields(model)):
            hint = "; account fields are mapped under [sources.entities.account.columns]"
        else:
            hint = suggestion(key, known)
        problems.append(
            f"{where}: [sources.columns] maps {key!r}, which is not a lead field or event "
            f"property of model {model.name}{hint}"
        )
    fields = [f.name for f in account_fields(model)]
    for key in mapping.entity(ir.ACCOUNT).columns if fields else ():
        if key not in fields:
            problems.append(
                f"{where}: [sources.entities.account.columns] maps {key!r}, which is not an "
                f"account field of model {model.name}{suggestion(key, fields)}"
            )
    allowed = mapping.allow_missing_columns
    nullable = nullable_names(model)
    every = [*known, *fields]
    for name in () if isinstance(allowed, bool) else allowed:
        if name not in nullable:
            kind = "a required field or property" if name in every else "not a field or property"
            hint = "" if name in every else suggestion(name, every)
            problems.append(
                f"{where}: allow_missing_columns names {name!r}, which is {kind} of model "
                f"{model.name}; only nullable (`?`) ones can be all-missing{hint}"
            )
    declared = [entity.name for entity in model.entities]
    for name in mapping.entities:
        if name not in declared:
            problems.append(
                f"{where}: [sources.entities.{name}] names an entity model {model.name} does "
                f"not declare (it declares {', '.join(declared)}){suggestion(name, declared)}"
            )
    if problems:
        raise ConfigError("\n".join(problems))


def model_columns(model: ir.Model, mapping: SourceMapping, extra: Iterable[str]) -> SourceMapping:
    """The mapping checked with `extra` names allowed, then without their keys: what loading
    the model's own columns needs."""
    check_mapping(model, mapping, extra)
    declared = set(declared_names(model))
    return replace(mapping, columns={k: v for k, v in mapping.columns.items() if k in declared})


def origin(mapping: SourceMapping, name: str, structural: bool, kind: str = "lead") -> str:
    """Where the expected column name of `name` came from, for an error message (`kind`:
    lead, event or account)."""
    where = mapping.origin or "the SourceMapping"
    if structural:
        key = STRUCTURAL[name]
        if getattr(mapping, key) != getattr(DEFAULT_SOURCES, key):
            return f"{key} in {where}"
        return f"the default; set {key} under [sources] in scorelang.toml to rename it"
    section = "[sources.entities.account.columns]" if kind == ir.ACCOUNT else "[sources.columns]"
    columns = mapping.entity(ir.ACCOUNT).columns if kind == ir.ACCOUNT else mapping.columns
    if name in columns:
        return f"{section} in {where}"
    return f"the default: the name in the model; map it under {section} in scorelang.toml"


def absent_column(
    mapping: SourceMapping, name: str, source: str, required: bool, kind: str, present: list[str]
) -> str:
    """The message for a column the model needs and the file lacks (`kind`: lead, event or
    account)."""
    structural = kind == "event" and name in STRUCTURAL
    what = (
        f"the events' {name}"
        if structural
        else f"{kind} {'property' if kind == 'event' else 'field'} {name}"
    )
    found = ", ".join(repr(c) for c in present)
    close = suggestion(source, present)
    text = (
        f"missing {'required ' if required else ''}column {source!r} for {what} "
        f"(column name from {origin(mapping, name, structural, kind)}){close} (the file has: {found})"
    )
    if not required:
        text += (
            f"; to score every row as missing {name}, add {name!r} to allow_missing_columns "
            "under [sources]"
        )
    return text
