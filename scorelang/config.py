"""Where a model's source data lives: table and column names, from `scorelang.toml`.

Every name ends up as a sqlglot identifier (quoted unless a plain name), so a name cannot
inject SQL; names that could not be a portable identifier at all are rejected here, with the
offending key.

    [sources]
    schema = "raw"                 # optional
    leads_table = "crm_leads"
    events_table = "web_events"
    event_lead = "lead_id"
    event_type = "event_type"
    event_time = "occurred_at"
    event_time_zoned = true        # optional: the event-time column's type (see below)
    snowflake_exact_case = false   # optional: true for Snowflake tables created with quoted names

    allow_missing_columns = ["job_title"]  # optional: nullable fields read as all-missing
    strict = false                 # optional: true makes any dropped input row an error
    encoding = "utf-8"             # optional: CSV encoding (utf-8, utf-16, latin-1)
    delimiter = ","                # optional: CSV delimiter

    [sources.columns]              # lead field or event property -> column
    employees = "employee_count"
    id = "Contact ID"              # any header text: spaces, punctuation, non-ASCII

    [sources.entities.lead]        # optional: the same as leads_table and event_lead
    table = "crm_leads"
    event_key = "lead_id"

Column names are header text, so any text without control characters is accepted (a quoted
identifier in the SQL, quotes doubled); table and schema names must be portable identifiers.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path

from .compiler.sources import (
    DEFAULT_SOURCES,
    ConfigError,
    EntitySource,
    SourceMapping,
    check_column_name,
    check_identifier,
    schema_parts,
)
from .compiler.suggest import did_you_mean

__all__ = [  # the source mapping lives below the targets (compiler.sources); re-exported
    "CONFIG_FILE",
    "DEFAULT_SOURCES",
    "Config",
    "ConfigError",
    "EntitySource",
    "SourceMapping",
    "check_column_name",
    "check_identifier",
    "load_config",
    "schema_parts",
    "suggestion",
    "unknown_keys",
    "with_source_schema",
]

CONFIG_FILE = "scorelang.toml"


def suggestion(name: str, known: Iterable[str]) -> str:
    """`; did you mean `x`?` for the closest known name, or nothing."""
    hint = did_you_mean(name, known)
    return f"; {hint}" if hint else ""


def unknown_keys(given: Iterable[str], known: Iterable[str], where: str) -> str | None:
    """A message for the keys of `given` not in `known`, each with a suggestion."""
    known = sorted(known)
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return None
    named = ", ".join(f"{key!r}{suggestion(key, known)}" for key in unknown)
    return f"unknown key(s) in {where}: {named} (expected {', '.join(known)})"


def with_source_schema(mapping: SourceMapping, schema: str | None) -> SourceMapping:
    """The mapping with its schema overridden (the CLI's --source-schema), when one is given."""
    return mapping if schema is None else dataclasses.replace(mapping, schema=schema)


@dataclass(frozen=True)
class Config:
    sources: SourceMapping = field(default_factory=SourceMapping)


def load_config(path: Path | None = None) -> Config:
    """Read `path` (or ./scorelang.toml when it exists); defaults when there is none."""
    if path is None:
        path = Path(CONFIG_FILE)
        if not path.is_file():
            return Config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    sections = ("lint", "sources")  # [lint] belongs to `scorelang lint`
    unknown = sorted(set(data) - set(sections))
    if unknown:
        named = ", ".join(f"[{name}]{suggestion(name, sections)}" for name in unknown)
        raise ConfigError(f"{path}: unknown section(s) {named}; expected [sources] or [lint]")
    sources = dict(data.get("sources", {}))
    known = {f.name for f in fields(SourceMapping)} - {"origin"}
    problem = unknown_keys(sources, known, "[sources]")
    if problem:
        raise ConfigError(f"{path}: {problem}")
    try:
        return Config(SourceMapping(**sources, origin=str(path)))
    except ConfigError as error:
        raise ConfigError(f"{path}: [sources] {error}") from None
